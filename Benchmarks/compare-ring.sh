#!/usr/bin/env bash
# Builds and runs the C++ boost::lockfree reference, then the Swift ring benchmarks, on this
# machine, so the two figures come from the same hardware and load.
set -euo pipefail
cd "$(dirname "$0")"
g++ -O2 -std=c++17 -pthread Reference/boost_spsc.cpp -o .build-boost-spsc
./.build-boost-spsc
swift package benchmark --filter 'SPSC ring.*|Mutex<Deque>.*' --format markdown
