#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Boots the test VM: QEMU (TCG, q35) with the emulated NPUs, Debian's stock
# kernel, and an initramfs with busybox, npu.ko, the guest tests and tools.
#
#   vm.sh test       run every guest test; print per-test results and, last,
#                    "N passed, N failed, N skipped"; exit 1 on any failure
#                    (a skip not listed in tests/vm/config.sh is a failure)
#   vm.sh shell      interactive busybox shell on the console, module loaded
#   vm.sh run CMD    run the shell command CMD as root in the guest, print its
#                    output, exit with its exit status
#   vm.sh demo       list the NPUs and run a demo program
#
# Each boot gets a directory build/vm/runs/<time>-<mode>-<pid>/ (build/vm/last
# points to the newest) with console.log (ttyS0: the kernel log), output.log
# (ttyS1: what the guest's /init and the tests printed) and qemu.log.
# Settings: tests/vm/config.sh. NPU_QEMU=path skips building QEMU;
# NPU_VM_SKIP_BUILD=1 skips `make all` (the Makefile sets it after building).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/config.sh
. "$here/config.sh"

die() { echo "vm: error: $*" >&2; exit 1; }
log() { echo "vm: $*" >&2; }

usage() {
	echo "usage: $0 test | shell | run 'COMMAND' | demo" >&2
	exit 2
}

[ $# -ge 1 ] || usage
mode=$1
cmd=
case $mode in
test | shell | demo) [ $# -eq 1 ] || usage ;;
run)
	[ $# -eq 2 ] && [ -n "$2" ] || die "vm.sh run needs a command, e.g. make vm-run CMD='ls /dev'"
	cmd=$2
	;;
*) usage ;;
esac

KVER=${KVER:-$("$top/scripts/kver.sh")} || die "no usable kernel; run 'make setup'"
# NPU_VM_KERNEL (with NPU_KVER and NPU_VM_MODROOT) boots another kernel, e.g.
# the debug kernel of scripts/debug-kernel.sh.
kernel=${NPU_VM_KERNEL:-/boot/vmlinuz-$KVER}
[ -r "$kernel" ] || die "cannot read $kernel; run 'make setup'"

# ---- build what the VM needs --------------------------------------------------
if [ -z "${NPU_VM_SKIP_BUILD:-}" ]; then
	make -C "$top" --no-print-directory -s all >&2 || die "'make all' failed (module or guest tests)"
fi
qemu=$("$top/hw/qemu/qemu-path.sh") || die "building QEMU failed (hw/qemu/build-qemu.sh)"
[ -x "$qemu" ] || die "QEMU binary '$qemu' is not executable"

# ---- this run's directory, initramfs and settings ---------------------------
vmdir=$top/build/vm
run=$vmdir/runs/$(date +%Y%m%d-%H%M%S)-$mode-$$
mkdir -p "$run/root/vm"
ln -sfn "runs/${run##*/}" "$vmdir/last"
# Keep the 30 newest runs, and any other that is still running (it holds its
# initrd until QEMU exits) unless that is a day old.
find "$vmdir/runs" -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort | head -n -30 |
	while read -r old; do
		if [ -z "$(find "$old" -maxdepth 1 -name initrd.cpio -mmin -1440)" ]; then
			rm -rf "$old"
		fi
	done

archives=()
mapfile -t archives < <("$here/mkinitramfs.sh" "$vmdir" "$run/payload.cpio" || echo FAILED)
[ ${#archives[@]} -eq 2 ] || die "packing the initramfs failed (tests/vm/mkinitramfs.sh)"
ntests=$(cpio --quiet -i --to-stdout etc/npu-vm/test-count <"${archives[1]}")
{
	echo "NPU_VM_MODE=$mode"
	echo "NPU_TEST_TIMEOUT=$NPU_TEST_TIMEOUT"
	echo "NPU_DEMO_PROGRAMS='$NPU_DEMO_PROGRAMS'"
	# hal_queue_test's 100,000 queued jobs take about 70 s on Debian's
	# kernels; KASAN, lockdep and kmemleak make each job several times
	# slower, and at a host load of 10 the case once passed its 600 s limit.
	# 20,000 jobs still wrap each of the four PEs' 256-entry rings about 20
	# times and keep the case well inside its limit on a loaded two-core host.
	queue_jobs=${NPU_QUEUE_TEST_JOBS:-}
	[ "${NPU_VM_KERNEL_KIND:-stock}" != debug ] || queue_jobs=${queue_jobs:-20000}
	[ -z "$queue_jobs" ] || echo "export NPU_QUEUE_TEST_JOBS=$queue_jobs"
	# The debug kernel has KASAN, whose quarantine keeps freed objects (up
	# to 1/32 of RAM) in the slab: tests that compare slab sizes allow it.
	[ "${NPU_VM_KERNEL_KIND:-stock}" != debug ] || echo "export NPU_KERNEL_KASAN=1"
} >"$run/root/vm/settings"
printf '%s\n' "$NPU_DEMO_COMMANDS" >"$run/root/vm/demo-commands"
printf '%s\n' "$cmd" >"$run/root/vm/cmd"
(cd "$run/root" && find vm | cpio --quiet -o -H newc -R 0:0) >"$run/settings.cpio"
cat "${archives[@]}" "$run/settings.cpio" >"$run/initrd.cpio"
rm -rf "$run/root" "$run/settings.cpio" "$run/payload.cpio"

console=$run/console.log
output=$run/output.log
: >"$console"
: >"$output"

# Kernel arguments: all messages on ttyS0; a panic reboots at once, which
# -no-reboot turns into QEMU exiting; iomem=relaxed lets tests read BAR0
# (sysfs resource files, devmem) while the driver owns it. no_timer_check:
# the boot's IO-APIC timer check counts ticks in a short window, which a
# TCG guest on a loaded host can miss ("IO-APIC + timer doesn't work"
# panic, seen once on the debug kernel at a host load of 10); virtual
# machines' kernels are booted with it for that reason.
# shellcheck disable=SC2206 # word splitting intended: one argument per word
devices=($NPU_VM_DEVICES)
qemu_args=(
	-M q35 -accel tcg -m "$NPU_VM_MEM" -smp "$NPU_VM_SMP"
	-nographic -no-reboot
	-L /usr/share/seabios -L /usr/share/qemu
	-kernel "$kernel" -initrd "$run/initrd.cpio"
	-append "console=ttyS0,115200 panic=-1 loglevel=7 iomem=relaxed no_timer_check $NPU_VM_APPEND"
	-nodefaults
	"${devices[@]}"
)
# NPU_VM_QMP=path: a QMP socket there, for host-side tests (tests/reliability/).
[ -z "${NPU_VM_QMP:-}" ] || qemu_args+=(-qmp "unix:$NPU_VM_QMP,server=on,wait=off")

if [ "$mode" = shell ]; then
	log "console log: $console (Ctrl-A X quits QEMU, Ctrl-A C its monitor)"
	# The console on the terminal and in console.log, QEMU's monitor muxed in;
	# signal=off: Ctrl-C goes to the guest, not to QEMU.
	status=0
	"$qemu" "${qemu_args[@]}" \
		-chardev "stdio,id=con,mux=on,signal=off,logfile=$console" \
		-serial chardev:con -mon chardev=con,mode=readline \
		-serial "file:$output" || status=$?
	rm -f "$run/initrd.cpio"
	exit $status
fi

case $mode in
test)
	limit=$((NPU_VM_BOOT_TIMEOUT + ntests * (NPU_TEST_TIMEOUT + 15)))
	[ "$limit" -le "$NPU_VM_MAX_TIMEOUT" ] || limit=$NPU_VM_MAX_TIMEOUT
	limit=${NPU_VM_TIMEOUT:-$limit}
	;;
*) limit=${NPU_VM_TIMEOUT:-$NPU_VM_RUN_TIMEOUT} ;;
esac

what="time limit ${limit}s"
[ "$mode" != test ] || what="$ntests guest tests, $what"
log "booting $KVER with: ${NPU_VM_DEVICES:-no NPU} ($what)"
log "console log: $console"
start=$(date +%s)
# The kernel log goes to a file; ttyS1 to another file, followed live below.
timeout --kill-after=10 "$limit" "$qemu" "${qemu_args[@]}" \
	-serial "file:$console" -serial "file:$output" -monitor none \
	</dev/null >"$run/qemu.log" 2>&1 &
qpid=$!
tpid=
trap 'kill "$qpid" $tpid 2>/dev/null || true' EXIT
trap 'echo "vm: interrupted, stopping QEMU" >&2; exit 130' INT TERM HUP

# Follow ttyS1 live. In the background, so that `wait` below, which a signal
# interrupts (a foreground pipeline would delay the trap), is all we block in.
if [ "$mode" != test ]; then
	# Only what the guest printed; the result lines are for this script.
	tail -n +1 -s 0.2 -F --pid="$qpid" "$output" 2>/dev/null | sed -u '/^NPUVM: /d' &
else
	tail -n +1 -s 0.2 -F --pid="$qpid" "$output" 2>/dev/null &
fi
tpid=$!
qrc=0
wait "$qpid" || qrc=$?
wait "$tpid" || true
trap - EXIT
elapsed=$(($(date +%s) - start))
rm -f "$run/initrd.cpio"

marker() { grep -a "^NPUVM: $1" "$output" | tr -d '\r' || true; }
booted=$(marker BOOTED | head -n 1)
done_line=$(marker DONE | head -n 1)

# Why the guest did not reach DONE, in one sentence.
why_unfinished() {
	if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
		echo "the VM exceeded its time limit of ${limit}s and was killed (NPU_VM_TIMEOUT)"
	elif grep -aq 'Kernel panic' "$console"; then
		echo "the guest kernel panicked: $(grep -a 'Kernel panic' "$console" | head -n 1 | tr -d '\r')"
	elif [ -n "$(marker STUCK)" ]; then
		echo "$(marker STUCK | head -n 1 | sed 's/^NPUVM: //'); the guest stopped the VM"
	elif [ $qrc -ne 0 ]; then
		echo "QEMU failed with status $qrc: $(tail -n 3 "$run/qemu.log" | tr '\n' ' ')"
	elif [ -z "$booted" ]; then
		echo "the guest never reached /init (see the console log)"
	else
		echo "the guest stopped before finishing (no DONE marker)"
	fi
}

show_console_tail() {
	echo "---- last 40 lines of the kernel console ($console) ----"
	tail -n 40 "$console" | tr -d '\r'
	echo "----"
}

kernel_bugs=$("$here/scan-kernel-log.sh" "$console" | tr -d '\r' | head -n 20) || true

# Once the guest is DONE, QEMU must exit 0 and have printed nothing (it
# prints nothing on a clean run): an assertion or abort in the device model
# at shutdown is seen only here, not by the guest.
qemu_problem=
if [ -n "$done_line" ]; then
	qemu_said=$(grep -av '^[[:space:]]*$' "$run/qemu.log" | tr -d '\r' | head -n 5 | tr '\n' ' ') || true
	if [ $qrc -ne 0 ]; then
		qemu_problem="QEMU exited with status $qrc after the guest finished${qemu_said:+: $qemu_said}"
	elif [ -n "$qemu_said" ]; then
		qemu_problem="QEMU printed to $run/qemu.log: $qemu_said"
	fi
fi

timing="wall ${elapsed}s"
if [ -n "$booted" ]; then
	timing="$timing, /init reached at guest uptime $(echo "$booted" | sed -n 's/.*uptime=\([0-9.]*\).*/\1/p')s"
fi

if [ "$mode" != test ]; then
	status=0
	problem=
	if [ -z "$done_line" ]; then
		problem=$(why_unfinished)
		status=1
	else
		exit_line=$(marker EXIT | tail -n 1)
		status=${exit_line#NPUVM: EXIT }
	fi
	fail_line=$(marker MODULE-FAIL | head -n 1)
	[ -z "$fail_line" ] || log "warning: module npu failed to load: ${fail_line#NPUVM: MODULE-FAIL }"
	if [ -n "$kernel_bugs" ]; then
		log "warning: the kernel log shows a bug:"
		echo "$kernel_bugs" | sed 's/^/vm:   /' >&2
		[ "$mode" = demo ] && status=1
	fi
	if [ -n "$qemu_problem" ]; then
		log "error: $qemu_problem"
		[ "$status" -ne 0 ] || status=1
	fi
	if [ -n "$problem" ]; then
		log "error: $problem"
		show_console_tail >&2
	fi
	log "$mode finished with status $status ($timing); logs in $run"
	exit "$status"
fi

# ---- test mode: count results ---------------------------------------------
# The skips this kernel may have (tests/vm/config.sh); any other skip fails.
case ${NPU_VM_KERNEL_KIND:-stock} in
debug) expected_skips=$NPU_VM_EXPECTED_SKIPS_DEBUG ;;
stock) expected_skips=$NPU_VM_EXPECTED_SKIPS_STOCK ;;
*) die "NPU_VM_KERNEL_KIND is '$NPU_VM_KERNEL_KIND': stock or debug" ;;
esac
# Counts the TAP results of every test section (between BEGIN and END) and
# turns anything else that went wrong into failures: a skip not listed in
# expected_skips, a result count that differs from the TAP plan ("1..N"), a
# crash, a timeout. Prints a summary line per test, then
# "TOTALS pass fail skip klog-lines unfinished tests-begun module-failed".
summary=$(tr -d '\r' <"$output" | EXPECTED_SKIPS=$expected_skips awk '
BEGIN {
	# One "TEST CASE WHY" per line.
	n = split(ENVIRON["EXPECTED_SKIPS"], lines, "\n")
	for (i = 1; i <= n; i++)
		if (split(lines[i], w, " ") >= 2) expected[w[1] " " w[2]] = 1
}
function close_test(   verdict, why, nres) {
	why = ""
	nres = tpass + tnotok + tunexp + tskip
	if (timedout) why = sprintf(", killed after %ss (NPU_TEST_TIMEOUT)", timedout)
	else if (!ended) why = ", did not finish"
	else if (rc != 0 && tnotok == 0) why = sprintf(", exited with status %s", rc)
	else if (rc == 0 && nres == 0) why = ", reported no test cases"
	# A binary that stops half-way, or prints results it did not plan, has
	# not run what it declares.
	if (ended && !timedout && nres > 0) {
		if (plan == "") why = why ", no TAP plan line (1..N)"
		else if (plan != nres) why = why sprintf(", planned %d test cases but reported %d", plan, nres)
		if (nplans > 1) why = why sprintf(", %d TAP plan lines", nplans)
	}
	if (klog) why = why ", the kernel log shows a bug (see below)"
	extra = (why != "") ? 1 : 0
	# Each unexpected skip is a failed case of its own (listed below).
	if (tunexp) why = why sprintf(", %d unexpected skip%s", tunexp, tunexp > 1 ? "s" : "")
	pass += tpass; fail += tnotok + tunexp + extra; skip += tskip
	if (tnotok + tunexp + extra) verdict = "FAIL"
	else if (tpass == 0 && tskip > 0) verdict = "SKIP"	# nothing ran: never PASS
	else verdict = "PASS"
	printf "%s %s: %d passed, %d failed, %d skipped%s%s\n", verdict, cur, tpass,
		tnotok + tunexp, tskip, secs != "" ? sprintf(", %.1fs", secs) : "", why
	for (i = 1; i <= nbad; i++) print "    " bad[i]
	cur = ""
}
/^NPUVM: MODULE-FAIL / { sub(/^NPUVM: MODULE-FAIL /, ""); print "FAIL module npu failed to load: " $0; fail++; modfail = 1; next }
/^NPUVM: NO-TESTS/ { sub(/^NPUVM: NO-TESTS /, ""); print "FAIL no tests found: " $0; fail++; next }
/^NPUVM: BEGIN / {
	if (cur != "") close_test()
	cur = $3; tpass = tnotok = tunexp = tskip = 0; timedout = 0; ended = 0; klog = 0; nbad = 0
	plan = ""; nplans = 0; rcase = ""; begun++
	secs = ""; t0 = $4; sub(/uptime=/, "", t0); next
}
/^NPUVM: TIMEOUT / { if ($3 == cur) timedout = $4; next }
/^NPUVM: KLOG / {
	nklog++
	if (cur != "" && index($0, "KLOG " cur ":")) klog = 1
	else { print "FAIL kernel log: " substr($0, 13); fail++ }
	next
}
/^NPUVM: END / {
	if ($3 == cur) { ended = 1; rc = $4; sub(/rc=/, "", rc); t1 = $5; sub(/uptime=/, "", t1); secs = t1 - t0 }
	close_test(); next
}
/^NPUVM: / { next }
cur == "" { next }
/^1\.\.[0-9]+$/ { nplans++; if (plan == "") plan = substr($0, 4) + 0; next }
# kselftest names the case on its RUN line; its skip line has only the reason.
/^# +RUN +/ { rcase = $3; next }
/^ok / && /# SKIP/ {
	name = $0; sub(/^ok [0-9]+ */, "", name); sub(/ *# SKIP.*/, "", name)
	if (name == "") name = rcase
	reason = $0; sub(/^.*# SKIP */, "", reason)
	if ((cur " " name) in expected) {
		tskip++
		if (nbad < 10) bad[++nbad] = "skipped " name ": " reason " (expected, tests/vm/config.sh)"
	} else {
		tunexp++
		if (nbad < 10) bad[++nbad] = "unexpected skip " name ": " reason
	}
	rcase = ""; next
}
/^ok / { tpass++; rcase = ""; next }
/^not ok / { tnotok++; if (nbad < 10) bad[++nbad] = $0; rcase = ""; next }
END {
	unfinished = (cur != "")
	if (unfinished) close_test()
	printf "TOTALS %d %d %d %d %d %d %d\n", pass, fail, skip, nklog, unfinished, begun, modfail
}')
echo
echo "==== guest test results ($timing; logs in $run)"
echo "$summary" | sed '$d'
read -r _ pass fail skip attributed_klog test_unfinished begun module_failed <<<"$(echo "$summary" | tail -n 1)"

# One event, one failure: a VM that stopped early is counted against the test
# it was running, and a kernel bug against the test after which the guest saw
# it; only what no test explains counts on its own.
if [ -z "$done_line" ]; then
	if [ "$test_unfinished" -eq 1 ]; then
		echo "VM: $(why_unfinished) (counted above)"
	else
		echo "FAIL VM: $(why_unfinished)"
		fail=$((fail + 1))
	fi
fi
if [ -n "$kernel_bugs" ]; then
	if [ "$attributed_klog" -gt 0 ] || [ -z "$done_line" ]; then
		echo "kernel log: the guest kernel reported a bug (counted above):"
	else
		echo "FAIL kernel log: the guest kernel reported a bug:"
		fail=$((fail + 1))
	fi
	echo "$kernel_bugs" | sed 's/^/    /'
fi
# Every test binary packed into the initramfs must have begun (unless the
# module did not load, which is counted above, and no test runs).
if [ -n "$done_line" ] && [ "$module_failed" -eq 0 ] && [ "$begun" -ne "$ntests" ]; then
	echo "FAIL VM: $begun test programs ran, but the initramfs holds $ntests"
	fail=$((fail + 1))
fi
if [ -n "$qemu_problem" ]; then
	echo "FAIL VM: $qemu_problem"
	fail=$((fail + 1))
fi
if [ "$fail" -ne 0 ]; then
	show_console_tail
	echo "full kernel log: $console"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
