#!/usr/bin/env bash
# Store-and-forward load: spool → HTTP → collector storage on loopback.
# 1. One gateway drains a backlog of ~100 k events (six replays of the benchmark trace).
# 2. Five gateways send at once (~234 k events) to one collector.
# Prints events/s for each. Takes a few minutes, most of it making the spools.
#
# Sizes and binaries come from the environment, so that Tests/check.sh can smoke-run it in
# seconds: LANEGATE_LOAD_VEHICLES (2500), LANEGATE_LOAD_REPLAYS (6 for gw-1, a third of that
# for the others), LANEGATE_LOAD_BIN (default: build release and use .build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
vehicles=${LANEGATE_LOAD_VEHICLES:-2500}
replays_first=${LANEGATE_LOAD_REPLAYS:-6}
replays_other=$(( replays_first > 2 ? replays_first / 3 : 1 ))
if [ -n "${LANEGATE_LOAD_BIN:-}" ]; then
    bin=$LANEGATE_LOAD_BIN
else
    swift build -c release >/dev/null
    bin=.build/release
fi
work=$(mktemp -d)
collector=
trap '[ -n "$collector" ] && kill "$collector" 2>/dev/null; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 20000 ))
url=http://127.0.0.1:$port

$bin/lanegate synth --seed 2026 --lanes 4 --vehicles "$vehicles" --tags 2000 > "$work/trace.jsonl"
$bin/lanegate synth --seed 2026 --lanes 4 --vehicles "$vehicles" --tags 2000 --print-config > "$work/template.toml"
replays() {  # gateway, count
    sed "s/id = \"synth-gw\"/id = \"$1\"/" "$work/template.toml" > "$work/$1.toml"
    for _ in $(seq "$2"); do
        $bin/lanegate replay --config "$work/$1.toml" --format none --spool "$work/$1.db" "$work/trace.jsonl" \
            2> "$work/$1.replay.log" || { cat "$work/$1.replay.log"; return 1; }
    done
    printf '%s token-%s-0123456789abcdef\n' "$1" "$1" >> "$work/tokens"
    printf 'token-%s-0123456789abcdef' "$1" > "$work/$1.token"
}
replays gw-1 "$replays_first"
pids=()
for g in gw-2 gw-3 gw-4 gw-5; do replays "$g" "$replays_other" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
for g in gw-1 gw-2 gw-3 gw-4 gw-5; do cp "$work/$g.db" "$work/$g.orig"; done

start_collector() {
    rm -f "$work"/events.db*
    $bin/lanegate-collector --database "$work/events.db" --tokens "$work/tokens" --public-read --port "$port" \
        > "$work/collector.log" 2>&1 &
    collector=$!
    for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && return; sleep 0.1; done
    echo "collector-load: the collector did not come up:"; cat "$work/collector.log"; exit 1
}
stop_collector() { kill "$collector"; wait "$collector" 2>/dev/null || true; collector=; }
send() {  # gateway, concurrency
    cp "$work/$1.orig" "$work/$1.db"; rm -f "$work/$1.db-wal" "$work/$1.db-shm"
    $bin/lanegate send "$work/$1.db" --collector "$url/v1/batches" --gateway "$1" \
        --token-file "$work/$1.token" --allow-plain-http --concurrency "$2"
}
stored() {
    curl -sf "$url/v1/gateways" | python3 -c 'import json,sys; print(sum(g["events"] for g in json.load(sys.stdin)))'
}

start_collector
echo "== one gateway, backlog drain"
send gw-1 8 | head -1
stop_collector

start_collector
echo "== five gateways at once"
begin=$(date +%s.%N)
pids=()
for g in gw-1 gw-2 gw-3 gw-4 gw-5; do send "$g" 4 > "$work/$g.out" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
end=$(date +%s.%N)
total=$(stored)
[ "$total" -gt 0 ] || { echo "collector-load: nothing was stored"; exit 1; }
echo "$total events stored in $(echo "$end - $begin" | bc) s: $(echo "$total / ($end - $begin)" | bc) events/s"
stop_collector
