#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs everything the build and the VM tests need on a Debian 12 (bookworm) machine.
# Idempotent: safe to run again; it only installs what is missing.
set -eu

packages="
	build-essential pkg-config git cpio xz-utils kmod python3 dpkg-dev
	ninja-build meson libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
	seabios qemu-system-data
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	busybox-static sparse libdrm-dev clang libclang-rt-14-dev
	libonnx-testdata dataset-fashion-mnist
	flex bison bc libelf-dev libssl-dev
	mmdebstrap debhelper dh-dkms lintian
	dh-python python3-all python3-setuptools pybuild-plugin-pyproject
	python3-numpy python3-pytest
	libopenblas0-pthread
"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get source needs a deb-src entry for bookworm (QEMU is built from Debian's source).
src_list=/etc/apt/sources.list.d/npu-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
   ! grep -qs '^deb-src' /etc/apt/sources.list; then
	as_root sh -c "cat > $src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	need_update=1
fi

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done

if [ -n "$missing" ] || [ -n "${need_update:-}" ]; then
	as_root apt-get update -q
fi
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
echo "setup: done"
