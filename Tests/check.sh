#!/usr/bin/env bash
# The project's whole check, as the README names it: build with warnings treated as failures,
# run every test (again with a one-thread cooperative pool), run the ring, spool and
# pipeline tests under ThreadSanitizer, and give the fuzz targets a bounded run. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each heading says how long the step before it took and how much disk is left, so CI's log gives
# every step's time, and a build that runs out of space says so before the compiler does.
step_started=$SECONDS
free_disk() { df -h --output=avail . | tail -1 | tr -d ' '; }
step() { printf '\n== %s   [previous step: %d s; %s free]\n' "$*" $((SECONDS - step_started)) "$(free_disk)"; step_started=$SECONDS; }

# The whole check writes about 6 GB at its peak (debug, ThreadSanitizer, fuzz, guest and release
# builds, and the tests' databases); said up front, a full disk is read as such, not as a compiler crash.
if [ "$(df --output=avail -k . | tail -1)" -lt $((8 * 1024 * 1024)) ]; then
    echo "check: warning: only $(free_disk) free where the check builds; it writes about 6 GB"
fi

# Runs a test command with a time limit, its output also kept in .build/last-test-run.log. A run
# that hangs fails with its evidence instead of eating CI's whole budget: the tests that started
# and never ended, and where every thread of the test process is stuck.
bounded() {
    local limit=$1; shift
    "$@" > >(tee .build/last-test-run.log) 2>&1 &
    local pid=$! waited=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 2
        waited=$((waited + 2))
        [ "$waited" -ge "$limit" ] || continue
        echo "check: still running after $limit s: $*"
        echo "check: tests that started and never ended:"
        awk 'match($0, /Test [A-Za-z0-9_]+\(/) {
                 name = substr($0, RSTART + 5, RLENGTH - 6)
                 if ($0 ~ / started\.$/) open[name] = 1; else if ($0 ~ /(passed|failed|skipped)/) delete open[name]
             } END { for (name in open) print "    " name }' .build/last-test-run.log || true
        for test_process in $(pgrep -f 'PackageTests.xctest' || true); do
            echo "check: threads of process $test_process:"
            gdb -p "$test_process" -batch -ex 'thread apply all bt 25' 2>/dev/null | grep -E '^(Thread|#)' | cut -c1-200 | head -800 || true
        done
        pkill -KILL -f 'PackageTests.xctest' || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" || true
        return 124
    done
    wait "$pid"
}

# The other steps get a plain time limit, generous against what each takes (see the README):
# a step that hangs fails here and says which, instead of running into CI's own limit.
limit() {
    local seconds=$1; shift
    local status=0
    timeout --kill-after=30 "$seconds" "$@" || status=$?
    [ "$status" -ne 124 ] || echo "check: still running after $seconds s, stopped: $*"
    return "$status"
}

# No DWARF in the debug build: a failing test names its file and line through Swift Testing, and
# a crash or a hang's stack still names its functions. It saved a tenth of the release build; for
# this one the first run could not tell the gain from the day's noise (the README's CI table).
# Tests/HIL/run.sh builds the tests with the same flags. ThreadSanitizer's
# build keeps DWARF: its suppressions match frames that only debug info can show when inlined.
export LANEGATE_DEBUG_BUILD_FLAGS="-debug-info-format none"
step "build (Swift 6 language mode; any warning in the project's own code fails the check)"
swift build --build-tests $LANEGATE_DEBUG_BUILD_FLAGS 2>&1 | tee .build-check.log
if grep -E '^/.*/(Sources|Tests)/.*: warning:' .build-check.log | grep -v '/.build/'; then
    echo "check: the project's code has compiler warnings (above)"; exit 1
fi
rm -f .build-check.log

step "libgpiod 2 (Debian 13): the GPIO shim compiles and links against it (seconds)"
gpiod2="$(bash Tests/HIL/fetch-libgpiod2.sh)"
for source in Sources/CGPIOLines/*.c; do
    cc -std=gnu11 -Wall -Wextra -Werror -fPIC -ISources/CGPIOLines/include -I"$gpiod2/usr/include" \
        -c "$source" -o ".build/gpiod2-$(basename "$source" .c).o"
done
# --no-undefined: every libgpiod 2 call the shim makes exists in Debian 13's library.
cc -shared -Wl,--no-undefined -o .build/gpiod2-shim.so .build/gpiod2-*.o \
    -L"$gpiod2/usr/lib/x86_64-linux-gnu" -lgpiod
nm -D --undefined-only .build/gpiod2-shim.so | grep -q gpiod_line_request_read_edge_events \
    || { echo "check: the shim did not take its libgpiod 2 path"; exit 1; }

step "an LLRP client nobody here wrote: sllurp from PyPI into .build/sllurp-venv (seconds)"
bash Tests/LLRP/install-sllurp.sh

step "tests"
bounded 900 swift test --skip-build

step "tests again with the cooperative pool at one thread: nothing may block it"
LIBDISPATCH_COOPERATIVE_POOL_STRICT=1 bounded 900 swift test --skip-build

# What ThreadSanitizer runs is the code Swift 6 cannot prove race-free: the lock-free ring, the
# loop and tag-visit state, and the spool's pthread lock and threads. The uplink and the collector
# are left to the compiler (the uplink has no @unchecked Sendable and no unsafe pointers): with
# them, instrumenting NIO, TLS and Hummingbird took most of this step (613 s in CI; without them,
# 99 s from a clean build on a 2-core machine). ThreadSanitizer cannot see a contended
# Synchronization.Mutex on Linux (it waits inside the uninstrumented runtime):
# Tests/TSan/suppressions.txt names the few such Mutexes the tests here contend.
step "ring, spool and pipeline under ThreadSanitizer (Tests/TSan)"
TSAN_OPTIONS="suppressions=$PWD/Tests/TSan/suppressions.txt" bounded 1500 swift test --package-path Tests/TSan --sanitize=thread \
    --filter 'RingTests|LaneSpoolTests|LoopTests|TagVisitTests'
rm -rf Tests/TSan/.build    # a gigabyte no later step uses

step "systemd units: exposure 2.0 or lower (systemd-analyze security --offline=true)"
for unit in systemd/*.service; do
    score="$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')"
    [ -n "$score" ] || { echo "check: systemd-analyze gave no score for $unit"; exit 1; }
    echo "$unit: $score"
    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "check: $unit exposure $score is above 2.0"; exit 1; }
done

step "fuzz the batch decoder, the device codecs, trace lines, the simulated LLRP reader and plate cameras' pushes (bounded runs)"
limit 1500 bash Tests/Fuzz/run.sh -runs=200000
rm -rf Tests/Fuzz/.build

step "benchmark scripts at tiny sizes, so that a broken one fails here (seconds)"
LANEGATE_LOAD_BIN=.build/debug LANEGATE_LOAD_VEHICLES=40 LANEGATE_LOAD_REPLAYS=1 limit 300 bash Benchmarks/collector-load.sh
LANEGATE_LOAD_BIN=.build/debug LANEGATE_LOAD_VEHICLES=40 LANEGATE_LOAD_REPLAYS=1 LANEGATE_LOAD_STORE=postgres limit 300 bash Benchmarks/collector-load.sh
LANEGATE_REPLAY_BIN=.build/debug LANEGATE_REPLAY_VEHICLES=20 LANEGATE_REPLAY_RUNS=1 limit 300 bash Benchmarks/replay-speed.sh
# The script that makes the shipped zstd dictionary, on a small spool, its C compiled aside.
dictionary_work=$(mktemp -d)
.build/debug/lanegate synth --seed 3 --lanes 4 --vehicles 100 > "$dictionary_work/trace.jsonl"
.build/debug/lanegate synth --seed 3 --lanes 4 --vehicles 100 --print-config > "$dictionary_work/gateway.toml"
.build/debug/lanegate replay --config "$dictionary_work/gateway.toml" --format none --spool "$dictionary_work/spool.db" \
    "$dictionary_work/trace.jsonl" 2>/dev/null
LANEGATE_DICTIONARY_OUT="$dictionary_work/dictionary_v2.c" limit 120 bash packaging/train-dictionary.sh "$dictionary_work/spool.db" 2 2>/dev/null
cc -Wall -Werror -c -ISources/CZstdDictionaries/include "$dictionary_work/dictionary_v2.c" -o "$dictionary_work/dictionary_v2.o"
rm -rf "$dictionary_work"
LANEGATE_RSS_BIN=.build/debug LANEGATE_RSS_SECONDS=12 limit 120 bash Benchmarks/daemon-rss.sh
LANEGATE_RING_ITEMS=200000 LANEGATE_RING_ROUNDS=1 limit 300 bash Benchmarks/ring-vs-boost.sh

step "lanegate demo: a simulated booth through the real drivers, daemon and collector"
limit 600 .build/debug/lanegate demo --vehicles 8

step "hardware in the loop: lanegate in a QEMU guest on real libusb, libgpiod and udev"
limit 2400 bash Tests/HIL/run.sh

step "Debian package: build, install, run as user lanegate, purge"
limit 1800 bash packaging/build-deb.sh
if [ "$(id -u)" -eq 0 ]; then
    limit 1200 bash packaging/test-deb.sh
else
    echo "check: packaging/test-deb.sh skipped: it installs and purges the package, which needs root"
fi

step "the package under a real systemd: Debian 12 booted in a container, driven by systemctl"
if [ "$(id -u)" -eq 0 ]; then
    limit 900 bash Tests/Systemd/run.sh
else
    echo "check: Tests/Systemd/run.sh skipped: booting a container needs root"
fi

echo
echo "check: all passed   [last step: $((SECONDS - step_started)) s; whole check: $SECONDS s]"
