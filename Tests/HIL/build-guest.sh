#!/usr/bin/env bash
# Builds the hardware-in-the-loop guest into .build-hil/guest: Debian's kernel, the gpio-sim
# module (built against Debian's headers), and an initramfs holding busybox, udevd, the release
# build of lanegate with every library it links, the guest's /init and config, and the udev rules
# `lanegate config udev-rules` makes for that config. Downloads and the module are cached in
# .build-hil, so a second run only re-packs the initramfs.
# Needs what .ci/install-deps installs (qemu-system-x86, busybox-static, cpio, linux-headers-amd64).
# LANEGATE_HIL_GPIOD=2 builds lanegate against Debian 13's libgpiod 2 instead of the installed
# libgpiod 1 (its own build folder, .build-gpiod2), into .build-hil/guest-gpiod2.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
cache="$root/.build-hil"
mkdir -p "$cache/debs"
log() { printf 'hil-build: %s\n' "$*"; }

# The kernel whose headers are installed (linux-headers-amd64 names its ABI and version).
headers="$(dpkg-query -W -f='${Depends}' linux-headers-amd64 | sed -n 's/.*linux-headers-\([0-9.]*-[0-9]*\)-amd64 (= \([^)]*\)).*/\1 \2/p')"
read -r abi version <<<"$headers"
[ -n "$abi" ] || { echo "hil-build: linux-headers-amd64 is not installed (bash .ci/install-deps)"; exit 1; }
kernel="$cache/kernel-$abi"
log "kernel $abi ($version)"

fetch() {  # package[=version] → its .deb in the cache
    local name="${1%%=*}"
    ls "$cache/debs/${name}_"*.deb >/dev/null 2>&1 || (cd "$cache/debs" && apt-get download -qq "$1" >&2 2>/dev/null)
    ls "$cache/debs/${name}_"*.deb | head -1
}

if [ ! -f "$kernel/vmlinuz" ]; then
    log "unpacking linux-image-$abi-amd64"
    rm -rf "$kernel.tmp" && mkdir -p "$kernel.tmp/pkg"
    dpkg-deb -x "$(fetch "linux-image-$abi-amd64=$version")" "$kernel.tmp/pkg"
    cp "$kernel.tmp/pkg/boot/vmlinuz-$abi-amd64" "$kernel.tmp/vmlinuz"
    mkdir -p "$kernel.tmp/modules"
    for module in usb-common usbcore xhci-hcd xhci-pci configfs e1000 virtio_ring virtio virtio_pci_modern_dev \
                  virtio_pci_legacy_dev virtio_pci virtio_blk crc16 mbcache jbd2 crc32c_generic ext4; do
        file="$(find "$kernel.tmp/pkg/lib/modules" -name "$module.ko" | head -1)"
        [ -n "$file" ] || { echo "hil-build: no $module.ko in the kernel package"; exit 1; }
        cp "$file" "$kernel.tmp/modules/"
    done
    rm -rf "$kernel.tmp/pkg" && mv "$kernel.tmp" "$kernel"
fi

# gpio-sim and the irq_sim it needs are not in Debian's kernel: build both as one module from
# the kernel's own source. irq_sim calls one unexported function; generic_handle_irq does the same.
if [ ! -f "$kernel/modules/gpio-sim-all.ko" ]; then
    series="$(echo "$abi" | cut -d. -f1-2)"
    log "building gpio-sim from linux-source-$series"
    src="$cache/gpio-sim-$abi"
    rm -rf "$src" && mkdir -p "$src"
    dpkg-deb --fsys-tarfile "$(fetch "linux-source-$series=$version")" \
        | tar -xO "./usr/src/linux-source-$series.tar.xz" \
        | tar -xJ -C "$src" --strip-components=3 \
            "linux-source-$series/drivers/gpio/gpio-sim.c" "linux-source-$series/drivers/gpio/gpiolib.h" \
            "linux-source-$series/kernel/irq/irq_sim.c"
    sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$src/irq_sim.c"
    printf 'obj-m := gpio-sim-all.o\ngpio-sim-all-y := gpio-sim.o irq_sim.o\n' > "$src/Kbuild"
    make -s -C "/usr/src/linux-headers-$abi-amd64" M="$src" modules >/dev/null 2>"$src/build.log" \
        || { cat "$src/build.log"; exit 1; }
    cp "$src/gpio-sim-all.ko" "$kernel/modules/"
fi

udev="$cache/udev"
if [ ! -x "$udev/bin/udevadm" ]; then
    log "unpacking udev"
    rm -rf "$udev" && dpkg-deb -x "$(fetch udev)" "$udev"
fi

# The same flags as packaging/build-deb.sh, which then reuses this build.
build=(-c release --static-swift-stdlib -debug-info-format none --product lanegate)
guest="$cache/guest"
gpiod_root=""
if [ "${LANEGATE_HIL_GPIOD:-1}" = 2 ]; then
    gpiod_root="$(bash Tests/HIL/fetch-libgpiod2.sh)"
    gpiod_lib="$gpiod_root/usr/lib/x86_64-linux-gnu"
    build+=(--scratch-path "$root/.build-gpiod2" -Xcc "-I$gpiod_root/usr/include" -Xlinker "-L$gpiod_lib")
    export LANEGATE_GPIOD_LIBRARY=gpiod2  # Package.swift links it by this name
    export LD_LIBRARY_PATH="$gpiod_lib"  # for ldd below; the guest gets the library at /usr/lib
    guest="$cache/guest-gpiod2"
fi
log "building lanegate (release, static Swift runtime${gpiod_root:+, libgpiod 2})"
swift build "${build[@]}" > "$cache/swift-build.log" 2>&1 || { tail -40 "$cache/swift-build.log"; exit 1; }
binary="$(swift build "${build[@]}" --show-bin-path)/lanegate"
[ -x "$binary" ] || { echo "hil-build: no release lanegate"; exit 1; }

log "packing the initramfs"
stage="$cache/stage"
rm -rf "$stage" && mkdir -p "$stage"/{bin,usr/bin,lib/modules,lib/systemd,etc/lanegate,etc/udev/rules.d,proc,sys,dev,run,tmp,var/lib/lanegate}
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$kernel"/modules/*.ko "$stage/lib/modules/"
strip -o "$stage/usr/bin/lanegate" "$binary"
cp "$udev/bin/udevadm" "$stage/bin/udevadm"
ln -s /bin/udevadm "$stage/lib/systemd/systemd-udevd"
for program in "$stage/usr/bin/lanegate" "$stage/bin/udevadm"; do
    ldd "$program" | grep -o '/[^ ]*' | while read -r library; do
        target="${library#"$gpiod_root"}"
        mkdir -p "$stage$(dirname "$target")"
        cp -L "$library" "$stage$target"
    done
done
install -m 0755 Tests/HIL/guest/init "$stage/init"
cp Tests/HIL/guest/lanegate.toml "$stage/etc/lanegate/lanegate.toml"
"$binary" config udev-rules Tests/HIL/guest/lanegate.toml > "$stage/etc/udev/rules.d/70-lanegate.rules"
printf 'root:x:0:0:root:/root:/bin/sh\nlanegate:x:990:990:lanegate:/var/lib/lanegate:/bin/false\n' > "$stage/etc/passwd"
printf 'root:x:0:\nlanegate:x:990:\n' > "$stage/etc/group"

mkdir -p "$guest"
cp "$kernel/vmlinuz" "$guest/vmlinuz"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$guest/initrd.gz"
rm -f "$guest/spool.img" && truncate -s 64M "$guest/spool.img" && mkfs.ext4 -q -F "$guest/spool.img"
log "guest ready in $guest: vmlinuz, initrd.gz ($(du -h "$guest/initrd.gz" | cut -f1)), spool.img (blank ext4)"
