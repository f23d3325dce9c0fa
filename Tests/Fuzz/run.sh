#!/usr/bin/env bash
# Builds the fuzz targets and runs each over its committed seeds plus whatever it discovers:
#   FuzzBatchDecoder  — the collector's batch decoder (seeds: the golden batch, seeds/batch)
#   FuzzDeviceCodecs  — the Mercury, e-seal and LLRP parsers (seeds: golden frames, seeds/devices)
#   FuzzTraceLine     — the replay's fast path against the precise trace parser (seeds/trace)
#   FuzzLLRPReader    — what clients send the simulated LLRP reader (seeds/llrp-client)
#   FuzzPlateCodecs   — plate cameras' pushes: ISAPI multipart and XML, JSON webhooks (golden captures)
# Extra arguments go to libFuzzer, e.g. -runs=1000000 or -max_total_time=600. A crash leaves
# crash-* here and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
# Every Swift module is instrumented, not only the fuzz targets: coverage inside the decoders
# is what guides libFuzzer (without it the device codecs reach 16 edges; with it, over 500).
# No DWARF: a crash's stack still names its functions, and the build takes less time.
flags=(-c release -debug-info-format none -Xswiftc -sanitize=fuzzer,address)
for target in FuzzBatchDecoder FuzzDeviceCodecs FuzzTraceLine FuzzLLRPReader FuzzPlateCodecs; do
    swift build "${flags[@]}" --product "$target" 2>&1 | grep -E 'error|warning: .*Sources|Compiling Fuzz|Build' || true
done
bin="$(swift build "${flags[@]}" --show-bin-path)"
for target in FuzzBatchDecoder FuzzDeviceCodecs FuzzTraceLine FuzzLLRPReader FuzzPlateCodecs; do
    [ -x "$bin/$target" ] || { echo "fuzz: $target did not build"; exit 1; }
done

mkdir -p corpus/batch corpus/devices corpus/trace corpus/llrp-client corpus/plates
cp ../LaneWireTests/Golden/batch-v1.pb.zst ../LaneWireTests/Golden/batch-v1.pb ../LaneWireTests/Golden/batch-plates-v1.pb.zst \
   ../LaneWireTests/Golden/batch-v1-dictionary1.pb.zst corpus/batch/
# seeds/ holds what long runs grew (libFuzzer -set_cover_merge=1): every bounded run starts there.
[ -d seeds/batch ] && cp seeds/batch/* corpus/batch/
cp seeds/devices/* corpus/devices/
cp seeds/trace/* corpus/trace/
cp seeds/llrp-client/* corpus/llrp-client/
cp ../LaneDevicesTests/Golden/Plates/* corpus/plates/
# Two at a time: libFuzzer runs on one thread, and CI has two cores. The simulated LLRP reader
# is the slowest per input (each is a fresh client), so it runs beside the other three in turn
# (at 200,000 runs on the CI machine: 109 s against 47 + 18 + 9). Each writes its own log,
# shown in order after.
fuzz() {  # target, max_len, corpus, libFuzzer options...
    local target=$1 length=$2 corpus=$3; shift 3
    "$bin/$target" -rss_limit_mb=2048 -max_len="$length" "$@" "corpus/$corpus" > "fuzz-$target.log" 2>&1
}
status=0
fuzz FuzzLLRPReader 4096 llrp-client "$@" & reader=$!
fuzz FuzzBatchDecoder 65536 batch "$@" || status=1
fuzz FuzzDeviceCodecs 4096 devices "$@" || status=1
fuzz FuzzTraceLine 512 trace "$@" || status=1
fuzz FuzzPlateCodecs 8192 plates "$@" || status=1
wait "$reader" || status=1
for part in "FuzzBatchDecoder:batch decoder" "FuzzDeviceCodecs:device codecs (Mercury, e-seal, LLRP)" \
            "FuzzTraceLine:trace lines (fast path against parser)" "FuzzLLRPReader:what clients send the simulated LLRP reader" \
            "FuzzPlateCodecs:plate cameras' pushes (ISAPI, JSON webhooks)"; do
    echo "== fuzz: ${part#*:}"
    cat "fuzz-${part%%:*}.log"
done
[ "$status" -eq 0 ] || echo "fuzz: a target failed (its log is above; crash-* files are here)"
exit "$status"
