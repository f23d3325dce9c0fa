#!/usr/bin/env bash
# The ring against its references on this machine: boost::lockfree::spsc_queue (both ways,
# interleaved: ring-vs-boost.sh), then the package-benchmark suites for the ring and the
# Mutex<Deque> it replaced, so every figure comes from the same hardware and load.
set -euo pipefail
cd "$(dirname "$0")"
bash ring-vs-boost.sh
swift package benchmark --filter 'SPSC ring.*|Mutex<Deque>.*' --format markdown
