#!/usr/bin/env bash
# Unpacks Debian 13's libgpiod 2 (libgpiod-dev and libgpiod3, as Debian built them) into
# .build-hil/libgpiod2 and prints that folder. Nothing is installed: apt reads trixie's package
# list into the cache folder alone. Its library needs glibc 2.33, so it runs on Debian 12.
# Used to build and test lanegate's libgpiod 2 path (Tests/check.sh, LANEGATE_HIL_GPIOD=2).
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="$PWD/.build-hil/libgpiod2"
root="$cache/root"
if [ ! -f "$root/usr/include/gpiod.h" ]; then
    rm -rf "$cache" && mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        > "$cache/trixie.list"
    apt=(-o Dir::Etc::SourceList="$cache/trixie.list" -o Dir::Etc::SourceParts=/dev/null
         -o Dir::State::Lists="$cache/lists" -o Dir::Cache="$cache/apt" -o APT::Sandbox::User=root)
    apt-get "${apt[@]}" -qq update >&2
    (cd "$cache/debs" && apt-get "${apt[@]}" -qq download libgpiod-dev libgpiod3 >&2)
    mkdir -p "$root.tmp"
    for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$root.tmp"; done
    # Linked as -lgpiod2, so that Debian 12's libgpiod.so earlier on the link line cannot win.
    ln -s libgpiod.so.3 "$root.tmp/usr/lib/x86_64-linux-gnu/libgpiod2.so"
    mv "$root.tmp" "$root"
    rm -rf "$cache/lists" "$cache/apt"
fi
grep -q GPIOD_LINE_BULK_MAX_LINES "$root/usr/include/gpiod.h" && { echo "fetch-libgpiod2: trixie's gpiod.h is the 1.x API" >&2; exit 1; }
echo "$root"
