#!/usr/bin/env bash
# Store-and-forward load: spool → HTTP → collector storage on loopback, with the release build.
# 1. One gateway drains a backlog of ~100 k events (six replays of the benchmark trace).
# 2. Five gateways send at once (~234 k events) to one collector.
# Prints events/s for each. Takes a few minutes, most of it making the spools.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
bin=.build/release
work=$(mktemp -d)
trap 'kill $collector 2>/dev/null || true; rm -rf "$work"' EXIT

$bin/lanegate synth --seed 2026 --lanes 4 --vehicles 2500 --tags 2000 > "$work/trace.jsonl"
$bin/lanegate synth --seed 2026 --lanes 4 --vehicles 2500 --tags 2000 --print-config > "$work/gw-1.toml"
replays() {  # gateway, count
    sed "s/id = \"synth-gw\"/id = \"$1\"/" "$work/gw-1.toml" > "$work/$1.toml"
    for _ in $(seq "$2"); do
        $bin/lanegate replay --config "$work/$1.toml" --format none --spool "$work/$1.db" "$work/trace.jsonl" 2>/dev/null
    done
    printf '%s token-%s-0123456789abcdef\n' "$1" "$1" >> "$work/tokens"
    printf 'token-%s-0123456789abcdef' "$1" > "$work/$1.token"
}
replays gw-1 6
for g in gw-2 gw-3 gw-4 gw-5; do replays "$g" 2 & done
wait
for g in gw-1 gw-2 gw-3 gw-4 gw-5; do cp "$work/$g.db" "$work/$g.orig"; done

start_collector() {
    rm -f "$work"/events.db*
    $bin/lanegate-collector --database "$work/events.db" --tokens "$work/tokens" --public-read --port 18787 > "$work/collector.log" 2>&1 &
    collector=$!
    sleep 1.5
}
send() {  # gateway
    cp "$work/$1.orig" "$work/$1.db"; rm -f "$work/$1.db-wal" "$work/$1.db-shm"
    $bin/lanegate send "$work/$1.db" --collector http://127.0.0.1:18787/v1/batches --gateway "$1" \
        --token-file "$work/$1.token" --allow-plain-http --concurrency "$2"
}

start_collector
echo "== one gateway, backlog drain"
send gw-1 8 | head -1
kill $collector; wait $collector 2>/dev/null || true

start_collector
echo "== five gateways at once"
begin=$(date +%s.%N)
for g in gw-1 gw-2 gw-3 gw-4 gw-5; do send "$g" 4 > "$work/$g.out" & done
wait
end=$(date +%s.%N)
total=$(curl -s http://127.0.0.1:18787/v1/gateways | python3 -c 'import json,sys; print(sum(g["events"] for g in json.load(sys.stdin)))')
echo "$total events stored in $(echo "$end - $begin" | bc) s: $(echo "$total / ($end - $begin)" | bc) events/s"
