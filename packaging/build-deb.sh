#!/usr/bin/env bash
# Builds lanegate_<version>_amd64.deb into .build-deb/: both programs (release, Swift runtime
# linked in statically, stripped), the systemd units, sysusers.d and tmpfiles.d files, the
# example udev rules and the example configuration under /etc (both conffiles). Library
# dependencies come from dpkg-shlibdeps. Prints the sizes. Needs dpkg-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/.build-deb"

commit="$(git rev-parse --short=10 HEAD 2>/dev/null || echo unknown)"
stamp="$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date +%Y%m%d)"
version="${LANEGATE_VERSION:-0.1.0~git$stamp.$commit}"

echo "build-deb: building release binaries (static Swift runtime)"
mkdir -p "$out"
# One build for both programs: the package's only executables, sharing nearly every module.
# No DWARF: the programs are stripped below, and without it the build takes 10 % less time and
# CPU (1,071 s against 1,193 on the 2-core CI machine). Tests/HIL/build-guest.sh uses the same flags.
build=(-c release --static-swift-stdlib -debug-info-format none)
swift build "${build[@]}" > "$out/swift-build.log" 2>&1 || { tail -40 "$out/swift-build.log"; exit 1; }
bin="$(swift build "${build[@]}" --show-bin-path)"

stage="$out/lanegate_${version}_amd64"
rm -rf "$stage" && mkdir -p "$stage/DEBIAN"
install -d "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/usr/lib/sysusers.d" "$stage/usr/lib/tmpfiles.d" \
    "$stage/etc/lanegate" "$stage/etc/udev/rules.d" "$stage/usr/share/doc/lanegate"
# The daemon may not carry ICU's data or need full Foundation: a booth PC's flash is small and
# its updates go over cellular links. FoundationEssentials is all its code needs; a stray
# `import Foundation` (or a Foundation member reached through a dependency) brings 33 MiB back.
# The collector runs on servers, and PostgresNIO imports Foundation: it is exempt.
# (grep reads all of strings' output: with -q it would quit early, strings would die of SIGPIPE,
# and under pipefail the check would pass whatever the file held.)
for program in lanegate lanegate-collector; do
    strip -o "$stage/usr/bin/$program" "$bin/$program"
    chmod 0755 "$stage/usr/bin/$program"
    [ "$program" = lanegate ] || continue
    if strings -a "$stage/usr/bin/$program" | grep 'icudt[0-9]' >/dev/null; then
        echo "build-deb: $program links ICU's data (icudt): some module uses full Foundation" >&2; exit 1
    fi
    if readelf -d "$stage/usr/bin/$program" | grep 'NEEDED.*lib\(Foundation\|_FoundationICU\)' >/dev/null; then
        echo "build-deb: $program needs a Foundation library at run time" >&2; exit 1
    fi
done
install -m 0644 systemd/lanegate.service systemd/lanegate-collector.service "$stage/lib/systemd/system/"
install -m 0644 systemd/sysusers.d/lanegate.conf "$stage/usr/lib/sysusers.d/lanegate.conf"
install -m 0644 systemd/tmpfiles.d/lanegate.conf "$stage/usr/lib/tmpfiles.d/lanegate.conf"
install -m 0640 etc/lanegate.toml "$stage/etc/lanegate/lanegate.toml"
install -m 0644 udev/70-lanegate.rules "$stage/etc/udev/rules.d/70-lanegate.rules"
install -m 0644 README.md "$stage/usr/share/doc/lanegate/README.md"
install -m 0644 udev/README.md "$stage/usr/share/doc/lanegate/udev-rules.md"

# Runtime libraries, as Debian names them: dpkg-shlibdeps wants a source tree's debian/control.
shlibs="$out/shlibs"
rm -rf "$shlibs" && mkdir -p "$shlibs/debian"
printf 'Source: lanegate\n\nPackage: lanegate\nArchitecture: amd64\n' > "$shlibs/debian/control"
depends="$(cd "$shlibs" && dpkg-shlibdeps -O "$stage/usr/bin/lanegate" "$stage/usr/bin/lanegate-collector" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies"; exit 1; }

installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: lanegate
Version: $version
Architecture: amd64
Maintainer: lanegate developers <dev@lanegate.invalid>
Section: net
Priority: optional
Installed-Size: $installed_kb
Depends: $depends, systemd (>= 252)
Homepage: https://lanegate.invalid/
Description: lane-hardware gateway for land ports of entry
 lanegate reads a booth's UHF RFID readers (Mercury serial/USB, LLRP), ISO 18185
 e-seal receivers and loop detectors (GPIO), turns their signals into timestamped
 lane events, spools them durably and forwards them to a central collector.
 lanegate-collector is that collector. Once /etc/lanegate/lanegate.toml is set up
 for the booth: systemctl enable --now lanegate.
CONTROL
printf '/etc/lanegate/lanegate.toml\n/etc/udev/rules.d/70-lanegate.rules\n' > "$stage/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"

dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/" >/dev/null
deb="$out/lanegate_${version}_amd64.deb"
echo "build-deb: $deb ($(du -h "$deb" | cut -f1))"
echo "build-deb: Depends: $depends"
for program in lanegate lanegate-collector; do
    printf 'build-deb: %-20s %s bytes stripped (%s unstripped)\n' "$program" \
        "$(stat -c %s "$stage/usr/bin/$program")" "$(stat -c %s "$bin/$program")"
done
