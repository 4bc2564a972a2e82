#!/bin/bash
# SPDX-License-Identifier: MIT
#
# boot.sh: the system test. Boots a real Debian system (tests/system/mkimage.sh:
# systemd, udev, the distribution's kernel and headers) with two emulated NPUs
# and the packages of `make deb`, and does what a user would.
#
#   boot.sh test       boot 1 installs the packages (DKMS builds the module),
#                      boot 2 checks udev, permissions, the tools, sensors,
#                      containers with CDI (podman), removal and the journal; prints one line per check and,
#                      last, "N passed, N failed, N skipped"; exit 1 on a failure
#   boot.sh run CMD    boot the installed system, run the shell command CMD
#                      as root, print its output, exit with its status
#
# Each run has a directory build/system/runs/<time>-<mode>-<pid>/ (build/system/last
# points to the newest) with console-<phase>.log (ttyS0: kernel and systemd)
# and output-<phase>.log (ttyS1: tests/system/guest.sh). The installed disk
# is kept in build/system/installed-<release>.raw for `run`, keyed by the
# image and the packages. NPU_SYSTEM_RELEASE=bookworm boots Debian 12 (6.1)
# instead of trixie.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/config.sh
. "$top/tests/vm/config.sh"

die() { echo "system: error: $*" >&2; exit 1; }
log() { echo "system: $*" >&2; }

mode=${1:-}
cmd=
case $mode in
test) [ $# -eq 1 ] || die "usage: $0 test | run CMD" ;;
run)
	[ $# -eq 2 ] && [ -n "$2" ] || die "usage: make system-run CMD='shell command'"
	cmd=$2
	;;
*) die "usage: $0 test | run CMD" ;;
esac

limit=${NPU_SYSTEM_BOOT_TIMEOUT:-1200}
release=${NPU_SYSTEM_RELEASE:-trixie}
qemu=$("$top/hw/qemu/qemu-path.sh") || die "building QEMU failed (hw/qemu/build-qemu.sh)"
[ -x "$qemu" ] || die "QEMU binary '$qemu' is not executable"

debs=()
for p in npu-dkms libnpuhal1 npu-tools python3-npu; do
	f=$(ls "$top"/build/deb/${p}_*.deb 2>/dev/null | sort -V | tail -n 1) || true
	[ -n "$f" ] || die "no build/deb/${p}_*.deb: run 'make deb'"
	debs+=("$f")
done

t0=$(date +%s)
img=$("$here/mkimage.sh" | tail -n 1) || die "making the $release image failed"
[ $(($(date +%s) - t0)) -lt 5 ] || log "TIME image $(($(date +%s) - t0))s"
kver=$(cat "$img/kver")

sysdir=$top/build/system
run=$sysdir/runs/$(date +%Y%m%d-%H%M%S)-$mode-$$
mkdir -p "$run"
ln -sfn "runs/${run##*/}" "$sysdir/last"
# Keep the 10 newest runs (a run's disk is removed when it ends).
find "$sysdir/runs" -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort | head -n -10 | xargs -r rm -rf

qpid=
trap '[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true; rm -f "$run"/*.raw' EXIT
trap 'echo "system: interrupted" >&2; exit 130' INT TERM HUP

# boot PHASE DISK: one boot of DISK; guest.sh runs PHASE from a second disk.
# shellcheck disable=SC2206 # one argument per word
devices=($NPU_VM_DEVICES)
boot() {
	local phase=$1 disk=$2 pay=$run/payload-$1 start rc=0
	mkdir -p "$pay"
	cp "$here/guest.sh" "$top/tests/vm/scan-kernel-log.sh" "${debs[@]}" "$pay/"
	# python3-npu's pytest suite (check 8), run against the installed package.
	cp -r "$top/python/tests" "$pay/python-tests"
	cp "$top/docs/python.md" "$pay/python-tests/"
	find "$pay/python-tests" -name __pycache__ -prune -exec rm -rf {} +
	echo "$phase" >"$pay/phase"
	printf '%s\n' "$cmd" >"$pay/cmd"
	mke2fs -q -t ext4 -L npu-payload -d "$pay" "$run/payload-$phase.raw" 64M >/dev/null || die "mke2fs of the payload failed"
	rm -rf "$pay"
	: >"$run/output-$phase.log"
	log "boot $phase: $release, kernel $kver (limit ${limit}s; log $run/output-$phase.log)"
	start=$(date +%s)
	# no_timer_check: a loaded host can make TCG miss the boot's timer check
	# (see tests/vm/vm.sh).
	timeout --kill-after=10 "$limit" "$qemu" \
		-M q35 -accel tcg -m "$NPU_VM_MEM" -smp "$NPU_VM_SMP" \
		-nographic -no-reboot -nodefaults \
		-L /usr/share/seabios -L /usr/share/qemu \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "root=LABEL=npu-system rw console=ttyS0,115200 panic=-1 loglevel=7 no_timer_check systemd.show_status=error $NPU_VM_APPEND" \
		-drive "file=$disk,if=ide,format=raw" \
		-drive "file=$run/payload-$phase.raw,if=ide,format=raw" \
		"${devices[@]}" \
		-serial "file:$run/console-$phase.log" -serial "file:$run/output-$phase.log" \
		-monitor none </dev/null >"$run/qemu-$phase.log" 2>&1 &
	qpid=$!
	wait "$qpid" || rc=$?
	qpid=
	rm -f "$run/payload-$phase.raw"
	log "TIME boot-$phase $(($(date +%s) - start))s (QEMU status $rc)"
	grep -aq '^NPUSYS: DONE' "$run/output-$phase.log" && return 0
	log "boot $phase did not finish; last lines of the console:"
	tail -n 25 "$run/console-$phase.log" | tr -d '\r' >&2
	return 1
}

installed=$sysdir/installed-$release.raw
want="$(cat "$img/key") debs=$(sha256sum "${debs[@]}" | cut -d' ' -f1 | tr '\n' ' ')"

if [ "$mode" = run ]; then
	if [ ! -f "$installed" ] || [ "$(cat "$installed.key" 2>/dev/null)" != "$want" ]; then
		cp --sparse=always "$img/disk.raw" "$run/disk.raw"
		boot install "$run/disk.raw" || die "installing the packages failed (see $run/output-install.log)"
		grep -aq '^NPUSYS: not ok' "$run/output-install.log" &&
			die "installing the packages failed: $(grep -a '^NPUSYS: not ok' "$run/output-install.log")"
		mv "$run/disk.raw" "$installed"
		echo "$want" >"$installed.key"
	fi
	cp --sparse=always "$installed" "$run/disk.raw"
	boot run "$run/disk.raw" || die "the command did not finish"
	tr -d '\r' <"$run/output-run.log" | sed '/^NPUSYS: /d'
	status=$(grep -a '^NPUSYS: EXIT' "$run/output-run.log" | tr -d '\r' | awk '{ print $3 }')
	exit "${status:-1}"
fi

# ---- test -----------------------------------------------------------------------
total=$(date +%s)
ok=0
# A debugging aid: NPU_SYSTEM_REUSE_INSTALLED=1 boots the disk the last
# install left (build/system/installed-<release>.raw) and runs checks 2-7 only.
if [ -n "${NPU_SYSTEM_REUSE_INSTALLED:-}" ] && [ -f "$installed" ] &&
	[ "$(cat "$installed.key" 2>/dev/null)" = "$want" ]; then
	cp --sparse=always "$installed" "$run/disk.raw"
	echo "NPUSYS: skip 1 - installing (NPU_SYSTEM_REUSE_INSTALLED: the last install's disk)" >"$run/output-install.log"
	ok=1
	boot check "$run/disk.raw" || true
elif cp --sparse=always "$img/disk.raw" "$run/disk.raw" && boot install "$run/disk.raw" && ! grep -aq '^NPUSYS: not ok' "$run/output-install.log"; then
	ok=1
	cp --sparse=always "$run/disk.raw" "$installed.tmp" && mv "$installed.tmp" "$installed" &&
		echo "$want" >"$installed.key"
	boot check "$run/disk.raw" || true
fi
# Both boots' kernel messages on the console (the journal check covers only
# the second): the same scan as the busybox VM's.
if [ $ok -eq 1 ]; then
	if bugs=$(cat "$run"/console-*.log | tr -d '\r' | "$top/tests/vm/scan-kernel-log.sh"); then
		echo "NPUSYS: ok 6b - the console of both boots has no kernel warning" >>"$run/output-check.log"
	else
		printf '%s\n' "$bugs" | head -n 20 | sed 's/^/    /' >&2
		echo "NPUSYS: not ok 6b - kernel warnings on the console" >>"$run/output-check.log"
	fi
fi
results=$(cat "$run"/output-install.log "$run"/output-check.log 2>/dev/null | tr -d '\r')
printf '%s\n' "$results" | sed -n 's/^NPUSYS: TIME /system: TIME /p' >&2
printf '%s\n' "$results" | sed -n 's/^NPUSYS: \(ok\|not ok\|skip\) /\1 /p'
pass=$(printf '%s\n' "$results" | grep -c '^NPUSYS: ok ' || true)
fail=$(printf '%s\n' "$results" | grep -c '^NPUSYS: not ok ' || true)
skip=$(printf '%s\n' "$results" | grep -c '^NPUSYS: skip ' || true)
if [ $ok -eq 0 ] || ! grep -aq '^NPUSYS: DONE' "$run/output-check.log" 2>/dev/null; then
	echo "not ok - a boot did not finish (see $run/)"
	fail=$((fail + 1))
fi
if [ "$fail" -ne 0 ]; then
	echo "---- details of the failures: $run/output-*.log ----"
fi
log "TIME total $(($(date +%s) - total))s (both boots)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
