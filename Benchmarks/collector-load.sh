#!/usr/bin/env bash
# Store-and-forward load: spool → HTTP → collector storage on loopback.
# 1. One gateway drains a backlog of ~100 k events (six replays of the benchmark trace), in
#    bundles and then one batch per request, with the bytes loopback carried for each.
# 2. Five gateways send at once (~234 k events) to one collector.
# Prints events/s for each. Takes a few minutes, most of it making the spools.
# LANEGATE_LOAD_STORE=postgres runs step 2 against two collectors on one PostgreSQL server
# of its own (Debian's postgresql-15, fsync on), gateways split between them, and adds the
# acknowledgement latency, the bytes stored per event and a gateway-day query's time.
#
# Sizes and binaries come from the environment, so that Tests/check.sh can smoke-run it in
# seconds: LANEGATE_LOAD_VEHICLES (2500), LANEGATE_LOAD_REPLAYS (6 for gw-1, a third of that
# for the others), LANEGATE_LOAD_BIN (default: build release and use .build/release).
# LANEGATE_LOAD_DICTIONARY (always) is the gateways' `zstd_dictionary`: `always` spools the
# backlog as a gateway that had been talking to this collector before its outage would, `never`
# as one before dictionaries.
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
store=${LANEGATE_LOAD_STORE:-sqlite}
dictionary=${LANEGATE_LOAD_DICTIONARY:-always}
work=$(mktemp -d)
collector= collector2= pgdir=
pg() {  # a PostgreSQL program, as user postgres under root (the server refuses to run as root)
    local program=$1; shift
    # From the server's directory: user postgres may not enter the caller's (root's mktemp).
    if [ "$(id -u)" -eq 0 ]; then (cd "$pgdir" && runuser -u postgres -- "$pgbin/$program" "$@"); else "$pgbin/$program" "$@"; fi
}
cleanup() {
    [ -n "$collector" ] && kill "$collector" 2>/dev/null
    [ -n "$collector2" ] && kill "$collector2" 2>/dev/null
    [ -n "$pgdir" ] && { pg pg_ctl -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
    rm -rf "$work"
}
trap cleanup EXIT
port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768-): collectors restart on it
port2=$(( port + 1 ))
url=http://127.0.0.1:$port

$bin/lanegate synth --seed 2026 --lanes 4 --vehicles "$vehicles" --tags 2000 > "$work/trace.jsonl"
$bin/lanegate synth --seed 2026 --lanes 4 --vehicles "$vehicles" --tags 2000 --print-config > "$work/template.toml"
replays() {  # gateway, count
    sed "s/id = \"synth-gw\"/id = \"$1\"/" "$work/template.toml" > "$work/$1.toml"
    printf '\n[collector]\nurl = "%s/v1/batches"\nallow_plain_http = true\nzstd_dictionary = "%s"\n' "$url" "$dictionary" >> "$work/$1.toml"
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

if [ "$store" = postgres ]; then
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    pgdir=$(mktemp -d /tmp/lgpg-bench-XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
    pg initdb -D "$pgdir/data" -U lanegate --auth=trust -E UTF8 --no-instructions >/dev/null
    pg pg_ctl -D "$pgdir/data" -l "$pgdir/server.log" -w -o "-k $pgdir -c listen_addresses='' -c max_connections=100" start >/dev/null
    pg createdb -h "$pgdir" -U lanegate lanegate
    store_option=(--store "postgres://lanegate@localhost/lanegate?host=$pgdir")
    $bin/lanegate-collector migrate "${store_option[@]}"
fi
start_one() {  # port; prints the pid
    local options=(--database "$work/events.db")
    [ "$store" = postgres ] && options=("${store_option[@]}")
    $bin/lanegate-collector "${options[@]}" --tokens "$work/tokens" --public-read --port "$1" > "$work/collector-$1.log" 2>&1 &
    echo $!
}
wait_up() {  # port
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
    echo "collector-load: the collector did not come up:"; cat "$work/collector-$1.log"; exit 1
}
start_collector() {
    rm -f "$work"/events.db*
    [ "$store" = postgres ] && pg psql -h "$pgdir" -U lanegate -d lanegate -qc "TRUNCATE batch_keys, batches, tag_visits, gateways, devices" >/dev/null
    collector=$(start_one "$port"); wait_up "$port"
    if [ "$store" = postgres ]; then collector2=$(start_one "$port2"); wait_up "$port2"; fi
}
stop_collector() {
    kill "$collector"; wait "$collector" 2>/dev/null || true; collector=
    if [ -n "$collector2" ]; then kill "$collector2"; wait "$collector2" 2>/dev/null || true; collector2=; fi
}
send() {  # gateway, concurrency[, collector port[, batches per request]]
    cp "$work/$1.orig" "$work/$1.db"; rm -f "$work/$1.db-wal" "$work/$1.db-shm"
    $bin/lanegate send "$work/$1.db" --collector "http://127.0.0.1:${3:-$port}/v1/batches" --gateway "$1" \
        --token-file "$work/$1.token" --allow-plain-http --concurrency "$2" --batches-per-request "${4:-64}"
}
loopback_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }
stored() {
    curl -sf "$url/v1/gateways" | python3 -c 'import json,sys; print(sum(g["events"] for g in json.load(sys.stdin)))'
}

# Bytes on the wire: everything loopback carried meanwhile (HTTP, TCP and IP headers, both
# ways; only the drain runs), per event delivered.
for per_request in 64 1; do
    start_collector
    echo "== one gateway, backlog drain, up to $per_request batches per request"
    before=$(loopback_bytes)
    result=$(send gw-1 8 "$port" "$per_request" | head -1)
    after=$(loopback_bytes)
    echo "$result"
    events=$(echo "$result" | sed -n 's/.*(\([0-9]*\) events.*/\1/p')
    [ "${events:-0}" -gt 0 ] && echo "on the wire (loopback): $(( (after - before) / events )) bytes per event"
    stop_collector
done

start_collector
echo "== five gateways at once ($store$([ "$store" = postgres ] && echo ", two collectors: gw-2 and gw-4 to the second"))"
begin=$(date +%s.%N)
pids=()
for g in gw-1 gw-2 gw-3 gw-4 gw-5; do
    target=$port
    [ "$store" = postgres ] && case $g in gw-2|gw-4) target=$port2 ;; esac
    send "$g" 4 "$target" > "$work/$g.out" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
end=$(date +%s.%N)
total=$(stored)
[ "$total" -gt 0 ] || { echo "collector-load: nothing was stored"; exit 1; }
echo "$total events stored in $(echo "$end - $begin" | bc) s: $(echo "$total / ($end - $begin)" | bc) events/s"
if [ "$store" = postgres ]; then
    grep -h "acknowledgement latency" "$work"/gw-*.out | sed 's/^/  /'
    bytes=$(pg psql -h "$pgdir" -U lanegate -d lanegate -Atc \
        "SELECT pg_total_relation_size('batch_keys') + (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent IN ('batches'::regclass, 'tag_visits'::regclass))")
    echo "stored on PostgreSQL: $(( bytes / total )) bytes per event (tables and indexes, $bytes bytes)"
    # A gateway's events by time range: its whole trace, first page of 10 000, then every page.
    range=$(pg psql -h "$pgdir" -U lanegate -d lanegate -Atc "SELECT min(first_utc_ns) || ' ' || max(last_utc_ns) + 1 FROM batches WHERE gateway = 'gw-1'")
    read -r from to <<< "$range"
    query="$url/v1/events?gateway=gw-1&from=$from&to=$to&limit=10000"
    times=$(for _ in 1 2 3 4 5; do curl -sf -o /dev/null -w '%{time_total}\n' "$query"; done | sort -n)
    echo "gw-1's events by time range ($(( (to - from) / 1000000000 )) s of trace): first page of 10 000 events in" \
         "$(echo "$times" | sed -n 3p) s (median of 5; fastest $(echo "$times" | head -1) s)"
fi
stop_collector
