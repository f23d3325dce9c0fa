#!/usr/bin/env bash
# Steady resident memory of `lanegate run` with three devices streaming: two Mercury readers and
# an e-seal receiver on simulated hardware (ptys), a collector on loopback taking every batch.
# Samples VmRSS once a second and prints the peak after the first minute (start-up excluded),
# the last sample, and VmHWM, with where the memory sits (smaps_rollup) at the end.
#
# LANEGATE_RSS_SECONDS (600) sets the run; LANEGATE_RSS_BIN the binaries (default: build release
# with the static Swift runtime, as packaged), so that Tests/check.sh smoke-runs it in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${LANEGATE_RSS_SECONDS:-600}
if [ -n "${LANEGATE_RSS_BIN:-}" ]; then
    bin=$LANEGATE_RSS_BIN
else
    # As packaged (packaging/build-deb.sh's flags, so either reuses the other's build).
    swift build -c release --static-swift-stdlib -debug-info-format none >/dev/null
    bin=$(swift build -c release --static-swift-stdlib -debug-info-format none --show-bin-path)
fi
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768-)

printf 'rss-gw rss-token-0123456789abcdef\n' > "$work/tokens"
printf 'rss-token-0123456789abcdef' > "$work/token"
"$bin/lanegate-collector" --database "$work/events.db" --tokens "$work/tokens" --public-read --port "$port" \
    > "$work/collector.log" 2>&1 & pids+=($!)
# Traffic for longer than the run: vehicles keep coming, so the readers keep streaming.
"$bin/lanegate" simulate --directory "$work/sim" --lanes 2 --vehicles $(( seconds * 2 + 100 )) --time-scale 0.25 \
    > "$work/sim.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do [ -e "$work/sim/eseal" ] && break; sleep 0.1; done
cat > "$work/lanegate.toml" <<CONFIG
[gateway]
id = "rss-gw"
[collector]
url = "http://127.0.0.1:$port/v1/batches"
token_file = "$work/token"
allow_plain_http = true
[spool]
path = "$work/spool.db"
[metrics]
listen = "off"
[monitor]
socket = "$work/monitor.sock"
[[devices]]
name = "rfid-lane1"
kind = "rfid"
tty = "$work/sim/rfid-lane1"
antennas = [1, 2, 3, 4]
[[devices]]
name = "rfid-lane2"
kind = "rfid"
tty = "$work/sim/rfid-lane2"
antennas = [1, 2, 3, 4]
[[devices]]
name = "eseal"
kind = "eseal"
tty = "$work/sim/eseal"
[[lanes]]
name = "lane1"
  [[lanes.read_points]]
  name = "booth"
  antennas = [{ device = "rfid-lane1", ports = [1, 2, 3, 4] }, { device = "eseal", ports = [1] }]
[[lanes]]
name = "lane2"
  [[lanes.read_points]]
  name = "booth"
  antennas = [{ device = "rfid-lane2", ports = [1, 2, 3, 4] }]
CONFIG
"$bin/lanegate" run --config "$work/lanegate.toml" > "$work/daemon.log" 2>&1 & daemon=$!; pids+=($daemon)

peak=0 last=0 warmup=$(( seconds > 120 ? 60 : seconds / 3 ))
for t in $(seq "$seconds"); do
    sleep 1
    kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log"; echo "daemon-rss: the daemon died"; exit 1; }
    last=$(awk '/VmRSS/ { print $2 }' "/proc/$daemon/status")
    [ "$t" -gt "$warmup" ] && [ "$last" -gt "$peak" ] && peak=$last
done
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$daemon/status")
grep -q 'rfid-lane2 reading' "$work/daemon.log" && grep -q 'eseal reading' "$work/daemon.log" \
    || { cat "$work/daemon.log"; echo "daemon-rss: not every device reached reading"; exit 1; }
events=$(curl -sf "http://127.0.0.1:$port/v1/gateways" \
    | python3 -c 'import json,sys; print(sum(g["events"] for g in json.load(sys.stdin)))')
[ "$events" -gt 0 ] || { cat "$work/daemon.log"; echo "daemon-rss: no event reached the collector"; exit 1; }
printf 'daemon-rss: %d s, 3 devices, %d events at the collector\n' "$seconds" "$events"
printf 'daemon-rss: VmRSS peak after %d s %d KiB, last %d KiB; VmHWM %d KiB\n' "$warmup" "$peak" "$last" "$hwm"
grep -E '^(Rss|Pss_Anon|Pss_File|Anonymous)' "/proc/$daemon/smaps_rollup" | tr -s ' ' | sed 's/^/daemon-rss:   /'
