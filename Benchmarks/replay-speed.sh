#!/usr/bin/env bash
# Replay speed: `lanegate replay --format none` over a synthetic eight-lane booth trace, pinned
# to one core, in trace lines (raw reads) per second. Two passes over the same trace:
#   plain     the lines as `lanegate record` writes them (the scanner's fast path);
#   indented  every line led by a space, which the fast path leaves to the precise parser.
# Each figure is the median of five runs. Both passes must print the same summary (events,
# batches, wire bytes), or the script fails: the fast path may not change what a replay finds.
#
# Sizes and binaries come from the environment, so that Tests/check.sh can smoke-run it in
# seconds: LANEGATE_REPLAY_VEHICLES (2400: about 4.5 M lines), LANEGATE_REPLAY_RUNS (5),
# LANEGATE_REPLAY_BIN (default: build release and use .build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
vehicles=${LANEGATE_REPLAY_VEHICLES:-2400}
runs=${LANEGATE_REPLAY_RUNS:-5}
if [ -n "${LANEGATE_REPLAY_BIN:-}" ]; then
    bin=$LANEGATE_REPLAY_BIN
else
    swift build -c release --product lanegate >/dev/null
    bin=.build/release
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$bin/lanegate synth --seed 2026 --lanes 8 --vehicles "$vehicles" > "$work/plain.jsonl"
$bin/lanegate synth --seed 2026 --lanes 8 --vehicles "$vehicles" --print-config > "$work/lanegate.toml"
sed 's/^/ /' "$work/plain.jsonl" > "$work/indented.jsonl"
lines=$(wc -l < "$work/plain.jsonl")

pass() {  # name
    local times=()
    for _ in $(seq "$runs"); do
        local start end
        start=$(date +%s%N)
        taskset -c 0 "$bin/lanegate" replay --config "$work/lanegate.toml" --format none "$work/$1.jsonl" 2> "$work/$1.summary"
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    awk -v name="$1" -v lines="$lines" -v us="$median" -v runs="$runs" \
        'BEGIN { printf "%-9s %d lines in %.3f s (median of %d): %.2f M lines/s\n", name, lines, us / 1e6, runs, lines / us }'
}

echo "== replay speed, one core, $lines trace lines"
pass plain
pass indented
if ! diff -q "$work/plain.summary" "$work/indented.summary" >/dev/null; then
    echo "replay-speed: the two passes disagree:"
    diff "$work/plain.summary" "$work/indented.summary" || true
    exit 1
fi
sed 's/^/    /' "$work/plain.summary"
