#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The version is written in one place, VERSION. hal/hal.mk reads it (the
# library's version, and its major number as the soname) and dh_dkms copies
# debian/changelog's into dkms.conf; the rest must be kept equal by hand, and
# this checks that it is: the driver's MODULE_VERSION (NPU_DRIVER_VERSION),
# debian/changelog's version, the library's soname in debian/control and
# debian/libnpuhal1.symbols, the Python package's __version__. Run by `make deb`
# and tests/install-check.sh.
# Prints what drifted and exits 1; prints nothing and exits 0 when all agree.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
bad=0
drift() {
	echo "version drift: $*" >&2
	bad=1
}

version=$(cat VERSION 2>/dev/null) || { echo "version drift: no VERSION file in $top" >&2; exit 1; }
if ! printf '%s\n' "$version" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+'; then
	echo "version drift: VERSION is \"$version\", not MAJOR.MINOR.PATCH" >&2
	exit 1
fi
major=${version%%.*}

drv=$(sed -n 's/^#define[[:space:]]*NPU_DRIVER_VERSION[[:space:]]*"\(.*\)".*/\1/p' driver/npu_device.h)
[ "$drv" = "$version" ] ||
	drift "driver/npu_device.h has NPU_DRIVER_VERSION \"$drv\", VERSION has $version"

hal=$(make -s --no-print-directory --eval 'print-%: ; @echo $($*)' \
	print-HAL_VERSION print-HAL_SOVERSION 2>&1 | tr '\n' ' ')
[ "$hal" = "$version $major " ] ||
	drift "hal/hal.mk's HAL_VERSION HAL_SOVERSION are \"$hal\", want \"$version $major\""

# The first line of debian/changelog: "npu-stack (VERSION) unstable; ...".
# A native package: no Debian revision, the version is VERSION itself.
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
[ "$deb" = "$version" ] ||
	drift "debian/changelog's version is \"$deb\", VERSION has $version (add an entry: dch -v $version)"

grep -q '^PACKAGE_VERSION="#MODULE_VERSION#"$' debian/npu-dkms.dkms 2>/dev/null ||
	drift "debian/npu-dkms.dkms must say PACKAGE_VERSION=\"#MODULE_VERSION#\" (dh_dkms -V fills in debian/changelog's)"

py=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' python/npu/__init__.py 2>/dev/null)
[ "$py" = "$version" ] ||
	drift "python/npu/__init__.py has __version__ \"$py\", VERSION has $version"

grep -qx "Package: libnpuhal$major" debian/control ||
	drift "debian/control has no package libnpuhal$major for soname libnpuhal.so.$major"
[ -e "debian/libnpuhal$major.symbols" ] &&
	head -n 1 "debian/libnpuhal$major.symbols" | grep -q "^libnpuhal\.so\.$major libnpuhal$major " ||
	drift "debian/libnpuhal$major.symbols must start with \"libnpuhal.so.$major libnpuhal$major #MINVER#\""

exit $bad
