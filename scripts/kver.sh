#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints the newest Debian kernel version that has both an image in /boot and
# matching headers, e.g. 6.1.0-56-amd64. Debian bumps the ABI name with
# updates, so nothing in the project hard-codes it. $NPU_KVER overrides.
set -eu
if [ -n "${NPU_KVER:-}" ]; then
	echo "$NPU_KVER"
	exit 0
fi
best=""
for img in /boot/vmlinuz-*; do
	[ -e "$img" ] || continue
	v=${img#/boot/vmlinuz-}
	[ -e "/usr/src/linux-headers-$v/Makefile" ] || continue
	best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
done
if [ -z "$best" ]; then
	echo "kver: no kernel with matching headers; run scripts/setup.sh" >&2
	exit 1
fi
echo "$best"
