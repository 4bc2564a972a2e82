#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `make fresh-check`: a newcomer's first two commands on a bare Debian 12.
# Makes a minimal bookworm root with mmdebstrap (apt, no compiler, kernel or
# QEMU), copies the checkout's tracked files into it, and runs there, in
# order and in the same root, what README.md tells a newcomer to run:
#   apt-get install make; make demo; make test
# Each of the three commands counts as one test; the last line is
# "N passed, N failed". Logs: build/fresh-root/{demo,test}.log.
#
# Needs root (chroot, mounts) and Debian's archive. The root is made anew on
# every run (that is the point), so this costs a cold QEMU build and the
# package downloads: about 15 minutes on two cores. NPU_FRESH_KEEP=1 keeps
# the root afterwards for a look inside.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$top/build/fresh-root
root=$work/root
mirror=${NPU_FRESH_MIRROR:-http://deb.debian.org/debian}

die() { echo "fresh-root: error: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
log() { echo "fresh-root: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, chroot and mounts)"
if ! command -v mmdebstrap >/dev/null; then
	log "installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		mmdebstrap >/dev/null || die "apt-get install mmdebstrap failed"
fi

# The commands run through scripts/chroot-run.sh, whose mounts vanish with
# each command, so only the directory is left to remove.
cleanup() { [ -n "${NPU_FRESH_KEEP:-}" ] || rm -rf "$root"; }
trap cleanup EXIT
rm -rf "$root"
mkdir -p "$work"

start=$(date +%s)
log "making a minimal bookworm root in $root"
# minbase: essential packages and apt only; mmdebstrap's progress goes to the log.
mmdebstrap --variant=minbase --quiet bookworm "$root" \
	"deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
	"deb ${mirror%/debian}/debian-security bookworm-security main" \
	>"$work/mmdebstrap.log" 2>&1 || { tail -n 20 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
for tool in cc gcc make qemu-system-x86_64; do
	! chroot "$root" sh -c "command -v $tool" >/dev/null ||
		die "the fresh root already has $tool: it would not test a bare system"
done
ls "$root"/boot/vmlinuz-* >/dev/null 2>&1 && die "the fresh root already has a kernel"
log "root ready in $(($(date +%s) - start)) s"

# The checkout's tracked files as they are now (uncommitted edits included),
# nothing built: what a clone gives a newcomer.
mkdir -p "$root/root/npu-stack"
git -C "$top" ls-files -z | tar -C "$top" --null -T - -cf - |
	tar -C "$root/root/npu-stack" -xf -
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# Runs one README command in the root, with a clean environment like a
# newcomer's login shell, and counts it.
pass=0 fail=0
in_root() {
	local name=$1
	shift
	local t0 rc=0
	t0=$(date +%s)
	log "running '$*' in the fresh root (log: $work/$name.log)"
	"$top/scripts/chroot-run.sh" "$root" sh -c "cd /root/npu-stack && $*" \
		</dev/null >"$work/$name.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name ($(($(date +%s) - t0)) s): $*"
		pass=$((pass + 1))
	else
		echo "FAIL $name (exit status $rc after $(($(date +%s) - t0)) s): $*"
		tail -n 30 "$work/$name.log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
	return "$rc"
}

# README.md: "on a bare system, `apt-get install make` first".
if in_root apt "apt-get update -q && apt-get install -y -q make"; then
	# The README's two commands, in that order; make test only if demo worked,
	# since it would otherwise set the system up itself and hide the failure.
	if in_root demo make demo; then
		grep -q 'npu0pe0' "$work/demo.log" ||
			{ echo "FAIL demo: its output lists no /dev/npu0pe0"; fail=$((fail + 1)); }
		if in_root test make test; then
			last=$(tail -n 1 "$work/test.log")
			echo "fresh-root: make test in the root: $last"
		fi
	else
		echo "FAIL test: not run, make demo failed"
		fail=$((fail + 1))
	fi
fi
echo "fresh-root: done in $(($(date +%s) - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
