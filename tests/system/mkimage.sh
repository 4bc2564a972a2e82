#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkimage.sh: the system test's Debian disk image, made once with mmdebstrap
# and cached in $NPU_CACHE/system-image/<release>/ (rebuilt when its key, the
# release, mirror, package list and this script, changes). No loop mounts:
# the root directory becomes an ext4 image with mke2fs -d.
#
#   mkimage.sh          make the image if needed; print its directory, which
#                       holds disk.raw, vmlinuz, initrd.img and kver
#
# NPU_SYSTEM_RELEASE=trixie (default, 6.12) or bookworm (Debian 12, 6.1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
release=${NPU_SYSTEM_RELEASE:-trixie}
mirror=${NPU_SYSTEM_MIRROR:-http://deb.debian.org/debian}
size=${NPU_SYSTEM_DISK_SIZE:-4G}

die() { echo "system-image: error: $*" >&2; exit 1; }
log() { echo "system-image: $*" >&2; }

# What a user's machine has: systemd, udev, kmod, the kernel and its headers,
# DKMS and the compiler, lm-sensors, lspci, sudo; adduser for npu-dkms.
# Containers (the CDI checks): Debian's podman and crun, and busybox-static
# for the containers' root directories (podman run --rootfs: no registry, no
# image; --network none, so no netavark or slirp4netns).
pkgs="systemd-sysv udev kmod initramfs-tools linux-image-amd64 linux-headers-amd64
dkms gcc make libc6-dev adduser passwd sudo lm-sensors pciutils
podman crun busybox-static"
# python3-npu's dependencies and its tests' runner (check 8).
pkgs_python="python3 python3-numpy python3-pytest"
# Debian's Prometheus server, to scrape npu-exporter (check 9); its own
# service is masked: the check runs an instance with its own configuration.
pkgs_metrics="prometheus"
pkgs=$(echo $pkgs $pkgs_python $pkgs_metrics)

dir=$cache/system-image/$release
want="release=$release mirror=$mirror size=$size pkgs=$pkgs files=$(cd "$here" && sha256sum mkimage.sh npu-system.service npu-system-start | cut -d' ' -f1 | tr '\n' ' ')"
if [ -f "$dir/disk.raw" ] && [ "$(cat "$dir/key" 2>/dev/null)" = "$want" ]; then
	echo "$dir"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run 'make setup'"
command -v mke2fs >/dev/null || die "mke2fs is missing (e2fsprogs)"

log "making the $release image in $dir (a few minutes, once)"
rm -rf "$dir"
mkdir -p "$dir"
root=$dir/root.tmp
# npu-system.service runs the test's guest script from the second disk
# (label npu-payload, made per run by tests/system/boot.sh); that script powers
# the machine off. Without that disk the unit does nothing.
mmdebstrap --variant=apt --quiet --include="${pkgs// /,}" \
	--customize-hook='echo npu-system >"$1/etc/hostname"' \
	--customize-hook='printf "LABEL=npu-system / ext4 defaults 0 1\n" >"$1/etc/fstab"' \
	--customize-hook='chroot "$1" useradd -m -s /bin/bash npuuser' \
	--customize-hook='chroot "$1" useradd -m -s /bin/bash outsider' \
	--customize-hook='chroot "$1" passwd -d root' \
	--customize-hook="copy-in $here/npu-system.service /etc/systemd/system" \
	--customize-hook="copy-in $here/npu-system-start /usr/local/sbin" \
	--customize-hook='chroot "$1" systemctl enable npu-system.service' \
	--customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer serial-getty@ttyS0.service serial-getty@ttyS1.service getty@tty1.service prometheus.service' \
	--customize-hook='rm -f "$1"/etc/apt/sources.list.d/* "$1"/etc/apt/sources.list; apt-get -o Dir="$1" clean || true; rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
	"$release" "$root" "deb $mirror $release main" >"$dir/mmdebstrap.log" 2>&1 ||
	{ tail -n 30 "$dir/mmdebstrap.log" >&2; rm -rf "$root"; die "mmdebstrap failed (log: $dir/mmdebstrap.log)"; }

kver=$(cd "$root/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[ -n "$kver" ] && [ -e "$root/boot/initrd.img-$kver" ] || die "no kernel or initrd in the image"
[ -d "$root/usr/src/linux-headers-$kver" ] || die "no headers for $kver in the image"
# The initrd must find the root disk, on q35's AHCI (this QEMU has no
# virtio-blk): initramfs-tools' MODULES=most has ahci.
lsinitramfs "$root/boot/initrd.img-$kver" | grep '/ahci\.ko' >/dev/null || die "the initrd has no ahci"
cp "$root/boot/vmlinuz-$kver" "$dir/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$dir/initrd.img"
echo "$kver" >"$dir/kver"
mke2fs -q -t ext4 -L npu-system -d "$root" "$dir/disk.tmp" "$size" ||
	{ rm -f "$dir/disk.tmp"; die "mke2fs failed"; }
rm -rf "$root"
mv "$dir/disk.tmp" "$dir/disk.raw"
echo "$want" >"$dir/key"
log "$release: kernel $kver, image $(du -h --apparent-size "$dir/disk.raw" | cut -f1) ($(du -h "$dir/disk.raw" | cut -f1) used)"
echo "$dir"
