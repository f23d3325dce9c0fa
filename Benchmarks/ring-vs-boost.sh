#!/usr/bin/env bash
# The SPSC ring against boost::lockfree::spsc_queue, both ways: a single pop against `pop()`,
# and boost's batched `pop(T*, 512)` against `popBatch(limit: 512)`. Both sides are built here
# (the ring from its production source, -O), and the four runs alternate round by round, so
# that the machine's drift falls on all of them alike. Prints every figure, each median, and
# the ring's median over boost's.
#
# LANEGATE_RING_ITEMS (50000000) items a run, LANEGATE_RING_ROUNDS (7) rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
items=${LANEGATE_RING_ITEMS:-50000000}
rounds=${LANEGATE_RING_ROUNDS:-7}
out=.build-ring && mkdir -p "$out"
g++ -O2 -std=c++17 -pthread Benchmarks/Reference/boost_spsc.cpp -o "$out/boost_spsc"
swiftc -O -wmo -parse-as-library -module-name RingRace Sources/LaneCore/Ring/SPSCRing.swift \
    Benchmarks/Reference/ring_race.swift -o "$out/ring_race"

declare -A runs
for round in $(seq "$rounds"); do
    for mode in single batched; do
        runs[boost-$mode]+="$("$out/boost_spsc" "$mode" "$items") "
        runs[ring-$mode]+="$("$out/ring_race" "$mode" "$items") "
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for mode in single batched; do
    b=$(median <<< "${runs[boost-$mode]}") r=$(median <<< "${runs[ring-$mode]}")
    echo "ring-vs-boost: $mode pop, M items/s: boost ${runs[boost-$mode]}"
    echo "ring-vs-boost: $mode pop, M items/s: ring  ${runs[ring-$mode]}"
    awk -v b="$b" -v r="$r" -v m="$mode" \
        'BEGIN { printf "ring-vs-boost: %s pop medians: boost %.1f, ring %.1f M items/s: the ring at %.2fx\n", m, b, r, r / b }'
done
