#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The kernel matrix's build and boot roots: a minimal Debian root per target
# kernel, made once with mmdebstrap into the cache, holding that release's
# kernel image, modules and headers and the compiler its headers want
# (trixie's headers need trixie's gcc, which Debian 12 does not have).
#
#   kernel-root.sh ensure NAME     make or refresh the root, then print its settings
#   kernel-root.sh run NAME CMD... run CMD inside the root (private /dev, /proc, /sys),
#                                  with the checkout visible at /src
#   kernel-root.sh names           list the NAMEs
#
# NAMEs (one line each in the table below):
#   trixie      Debian 13's own kernel (6.12)
#   backports   the newest kernel in trixie-backports (its version is whatever
#               linux-image-amd64 resolves to there; nothing here names it)
#
# `ensure` prints, last, shell assignments in the form debug-kernel.sh uses:
#   NPU_KVER=<release> NPU_VM_KERNEL=<vmlinuz> NPU_VM_MODROOT=<root> NPU_KROOT_KDIR=<headers in the root>
# A root is rebuilt when its key (suite list and package list) changes, and
# refreshed with apt-get upgrade when it is older than NPU_KROOT_MAX_AGE_DAYS
# (default 7), so a new backports kernel is picked up.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
mirror=${NPU_KROOT_MIRROR:-http://deb.debian.org/debian}

die() { echo "kernel-root: error: $*" >&2; exit 1; }
log() { echo "kernel-root: $*" >&2; }

# NAME  suites (comma-separated)  apt target release for the kernel packages
table="
trixie		trixie				trixie
backports	trixie,trixie-backports		trixie-backports
"
# Build tools for the module and its checks; the kernel packages come from
# the target release (see above).
tools="gcc make sparse kmod libc6-dev"
kernel_pkgs="linux-image-amd64 linux-headers-amd64"

lookup() {
	local name=$1 n s t
	while read -r n s t; do
		[ -n "$n" ] || continue
		if [ "$n" = "$name" ]; then
			suites=$s target=$t
			return 0
		fi
	done <<<"$table"
	die "unknown kernel root '$name' (known: $(names | tr '\n' ' '))"
}

names() { awk 'NF == 3 { print $1 }' <<<"$table"; }

# run_in ROOT CMD...: CMD in ROOT, the checkout at /src (scripts/chroot-run.sh).
run_in() {
	local root=$1
	shift
	"$here/chroot-run.sh" --bind "$top" "$root" "$@"
}

# Newest kernel release in ROOT with both an image and headers.
root_kver() {
	local root=$1 img v best=
	for img in "$root"/boot/vmlinuz-*; do
		[ -e "$img" ] || continue
		v=${img##*/vmlinuz-}
		[ -e "$root/usr/src/linux-headers-$v/Makefile" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

ensure() {
	local name=$1 root key want
	lookup "$name"
	root=$cache/kernel-roots/$name
	want="suites=$suites target=$target tools=$tools kernel=$kernel_pkgs mirror=$mirror"
	key=$root.key
	[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, chroot)"
	if [ ! -d "$root" ] || [ "$(cat "$key" 2>/dev/null)" != "$want" ]; then
		command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run 'make setup'"
		log "making the $name root in $root (a few minutes, once)"
		rm -rf "$root" "$key"
		mkdir -p "$cache/kernel-roots"
		local lists=() s
		for s in ${suites//,/ }; do lists+=("deb $mirror $s main"); done
		mmdebstrap --variant=minbase --quiet --include="${tools// /,}" \
			--customize-hook='chroot "$1" apt-get install -y -q --no-install-recommends -t '"$target"' '"$kernel_pkgs" \
			"${suites%%,*}" "$root.tmp" "${lists[@]}" >"$root.log" 2>&1 ||
			{ tail -n 30 "$root.log" >&2; rm -rf "$root.tmp"; die "mmdebstrap failed (log: $root.log)"; }
		mv "$root.tmp" "$root"
		echo "$want" >"$key"
	elif [ -n "$(find "$key" -mtime +"${NPU_KROOT_MAX_AGE_DAYS:-7}")" ]; then
		log "refreshing the $name root (older than ${NPU_KROOT_MAX_AGE_DAYS:-7} days)"
		run_in "$root" sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends -t $target $kernel_pkgs && apt-get autoremove -y -q" \
			>"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; die "refreshing the $name root failed"; }
		touch "$key"
	fi
	local rel
	rel=$(root_kver "$root") || die "the $name root has no kernel with headers"
	log "$name: kernel $rel"
	echo "NPU_KVER=$rel"
	echo "NPU_VM_KERNEL=$root/boot/vmlinuz-$rel"
	echo "NPU_VM_MODROOT=$root"
	echo "NPU_KROOT_KDIR=/usr/src/linux-headers-$rel"
}

case ${1:-} in
ensure)
	[ $# -eq 2 ] || die "usage: $0 ensure NAME"
	ensure "$2"
	;;
run)
	[ $# -ge 3 ] || die "usage: $0 run NAME CMD..."
	lookup "$2"
	root=$cache/kernel-roots/$2
	[ -d "$root" ] || die "no $2 root yet: run '$0 ensure $2'"
	shift 2
	run_in "$root" "$@"
	;;
names) names ;;
*)
	echo "usage: $0 ensure NAME | run NAME CMD... | names" >&2
	exit 2
	;;
esac
