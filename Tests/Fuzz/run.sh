#!/usr/bin/env bash
# Builds the batch-decoder fuzz target and runs it over the committed seed corpus (the golden
# batch) plus whatever it discovers. Extra arguments go to libFuzzer, e.g. -runs=1000000 or
# -max_total_time=600. A crash leaves crash-* here and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product FuzzBatchDecoder 2>&1 | grep -E 'error|warning: .*Sources|Compiling Fuzz|Build' || true
binary="$(swift build -c release --show-bin-path)/FuzzBatchDecoder"
[ -x "$binary" ] || { echo "fuzz: build failed"; exit 1; }
mkdir -p corpus
cp ../LaneWireTests/Golden/batch-v1.pb.zst ../LaneWireTests/Golden/batch-v1.pb corpus/
"$binary" -rss_limit_mb=2048 -max_len=65536 "$@" corpus
