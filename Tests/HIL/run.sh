#!/usr/bin/env bash
# The hardware-in-the-loop test: builds the QEMU guest (Tests/HIL/build-guest.sh; cached), then
# runs the host side (Tests/LanegateTests/HIL), which boots the guest, plays a booth through
# real libusb and libgpiod paths, unplugs and replugs the reader, and cuts the power.
# Every line the test prints starts with "hil:"; the guest's console is kept in the test's
# temporary directory (named in the log). LANEGATE_HIL_GPIOD=2 runs it all on Debian 13's libgpiod 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS
bash Tests/HIL/build-guest.sh
echo "hil: guest built in $((SECONDS - started)) s"
# Tests/check.sh names its build flags here, so that this is no rebuild.
swift build --build-tests ${LANEGATE_DEBUG_BUILD_FLAGS:-} > .build-hil/swift-build-tests.log 2>&1 || { tail -40 .build-hil/swift-build-tests.log; exit 1; }
guest="$PWD/.build-hil/guest"
[ "${LANEGATE_HIL_GPIOD:-1}" = 2 ] && guest+="-gpiod2"
LANEGATE_HIL="$guest" swift test --skip-build --filter HardwareInTheLoopTests
echo "hil: passed in $((SECONDS - started)) s"
