#!/bin/sh
# SPDX-License-Identifier: MIT
#
# guest.sh: runs inside the Debian system (the npu-system.service unit starts
# it from the second disk, mounted at /run/npu-system) and powers the machine
# off when done. Its output goes to ttyS1; lines starting "NPUSYS: " are for
# tests/system/boot.sh:
#   NPUSYS: ok|not ok|skip N - what    one check's result
#   NPUSYS: EXIT status                 system-run's command finished
#   NPUSYS: DONE                        the script ran to its end
# The phase (first line of ./phase): install (check 1), check (checks 2-6),
# run (./cmd as root).
set -u
D=/run/npu-system
phase=$(head -n 1 "$D/phase")
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive
T=/tmp/npu-system
mkdir -p "$T"

result() { echo "NPUSYS: $1 $2 - $3"; }
# check N WHAT CMD...: runs CMD (its output indented), ok when it succeeds.
check() {
	n=$1 what=$2
	shift 2
	if out=$("$@" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    /'
		result ok "$n" "$what"
	else
		printf '%s\n' "$out" | sed 's/^/    /'
		result "not ok" "$n" "$what"
	fi
}
finish() {
	echo "NPUSYS: DONE"
	sync
	# SIGRTMIN+4 makes systemd start poweroff.target: a clean shutdown that
	# needs no D-Bus (the image has none; systemctl poweroff wants it).
	kill -s RTMIN+4 1 2>/dev/null || kill -38 1
	exit 0
}

echo "NPUSYS: BOOTED $phase $(uname -r) $(cut -d' ' -f1 /proc/uptime)s"

if [ "$phase" = install ]; then
	cp "$D"/*.deb "$T/"
	cd "$T" || exit 1
	t0=$(date +%s)
	# 1. as a user would: apt builds the module with DKMS for the running kernel.
	check 1a "apt install ./npu-dkms ./libnpuhal1 ./npu-tools" \
		apt-get install -y -q --no-install-recommends \
		./npu-dkms_*.deb ./libnpuhal1_*.deb ./npu-tools_*.deb
	echo "NPUSYS: TIME apt-install $(($(date +%s) - t0))s"
	check 1b "dkms status: npu installed for $(uname -r)" \
		sh -c 'dkms status; dkms status npu -k "$(uname -r)" | grep -q ": installed"'
	# The group exists once the package is in; the test's user joins it.
	check 1c "npuuser added to group npu" usermod -aG npu npuuser
	finish
fi

if [ "$phase" = run ]; then
	# As in the checks: the command sees the NPUs udev has set up.
	udevadm settle --timeout=60 || true
	status=0
	sh -c "$(cat "$D/cmd")" </dev/null 2>&1 || status=$?
	echo "NPUSYS: EXIT $status"
	finish
fi

# ---- phase check: the second boot, nobody has run modprobe --------------------
# udev settles before multi-user.target; give it a moment more under TCG.
udevadm settle --timeout=60 || true
check 2a "udev loaded npu from the PCI modalias (lsmod)" sh -c 'lsmod | grep "^npu "'
check 2b "lspci -k: Kernel driver in use: npu, on both NPUs" \
	sh -c 'lspci -k | grep -B3 -A3 -i "driver in use: npu"; test "$(lspci -k | grep -c "Kernel driver in use: npu$")" -eq 2'

nodes=$(ls /dev/npu* 2>/dev/null)
check 3a "/dev/npu* are root:npu 0660" sh -c '
	test -n "$1" || { echo "no /dev/npu*"; exit 1; }
	bad=0
	for f in $1; do
		stat -c "%n %U:%G %a" "$f"
		[ "$(stat -c %G:%a "$f")" = npu:660 ] || bad=1
	done
	exit $bad' sh "$nodes"
check 3b "npuuser (group npu): npuctl info" runuser -u npuuser -- npuctl info
check 3c "npuuser (group npu): npuctl list" runuser -u npuuser -- npuctl list
check 3d "npuuser (group npu): npu-bench matmul_relu" sh -c '
	out=$(runuser -u npuuser -- npu-bench -d "npu:0:0" -n 20 -q 2 /usr/share/npu/programs/matmul_relu.npuprog 2>&1)
	rc=$?
	printf "%s\n" "$out"
	[ $rc -eq 0 ] && printf "%s\n" "$out" | grep -q "Jobs             : 20 (0 failed)"'
# The user outside the group. npuctl reads sysfs only (world-readable), so
# its info works for anyone; opening a device file must be refused, and the
# user told why (join group npu), not given a bare errno.
echo "    outsider: npuctl info:"
runuser -u outsider -- npuctl info 2>&1 | sed 's/^/    /'
out=$(runuser -u outsider -- npu-bench -d npu:0:0 -n 1 /usr/share/npu/programs/matmul_relu.npuprog 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
if [ $rc -eq 0 ]; then
	result "not ok" 3e "outsider (not in npu): npu-bench is refused the device"
elif printf '%s\n' "$out" | grep -qi 'group.*npu\|npu.*group'; then
	result ok 3e "outsider (not in npu): npu-bench is refused, the message names group npu"
else
	result "not ok" 3e "outsider (not in npu): npu-bench is refused (status $rc) but not told to join group npu: $(printf '%s\n' "$out" | head -n 1)"
fi

check 4 "sensors: the NPUs' temperature and power (hwmon)" sh -c '
	sensors
	n=$(sensors | grep -c "^npu-pci-")
	[ "$n" -eq 2 ] || { echo "$n npu chips in sensors, want 2"; exit 1; }
	[ "$(sensors -u | grep -c "^  temp1_input:")" -ge 2 ] || { echo "no temperature"; exit 1; }
	[ "$(sensors -u | grep -c "^  power1_input:")" -ge 2 ] || { echo "no power"; exit 1; }'

check 5a "modprobe -r npu with no users" sh -c 'modprobe -r npu && ! lsmod | grep "^npu "'
check 5b "apt purge npu-dkms removes the module" sh -c '
	apt-get purge -y -q npu-dkms || exit 1
	dkms status
	left=$(find /lib/modules /var/lib/dkms -name "npu.ko*" 2>/dev/null)
	[ -z "$left" ] || { echo "left behind: $left"; exit 1; }
	! dkms status | grep -q "^npu" && ! modinfo npu 2>/dev/null'

check 6 "the journal of this boot has no kernel warning" sh -c '
	journalctl -k -b 0 --no-pager >/tmp/npu-system/kernel.log
	wc -l </tmp/npu-system/kernel.log
	sh /run/npu-system/scan-kernel-log.sh /tmp/npu-system/kernel.log'
finish
