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
# The phase (first line of ./phase): install (check 1), check (checks 2-9),
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
	check 1a "apt install ./npu-dkms ./libnpuhal1 ./npu-tools ./python3-npu" \
		apt-get install -y -q --no-install-recommends \
		./npu-dkms_*.deb ./libnpuhal1_*.deb ./npu-tools_*.deb ./python3-npu_*.deb
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

# 8. python3-npu's pytest suite as npuuser, one check per test (8.1, 8.2, ...),
# then 8 itself: pytest's exit status and the count of what ran. A test that
# finds no device fails (NPU_PYTEST_REQUIRE_DEVICE). Before 5, which removes the module.
cp -r "$D/python-tests" "$T/python-tests"
chown -R npuuser "$T/python-tests"
t0=$(date +%s)
runuser -u npuuser -- env NPU_PYTEST_REQUIRE_DEVICE=1 \
	python3 -m pytest -v -s -p no:cacheprovider --tb=short -rA "$T/python-tests" \
	>"$T/pytest.log" 2>&1
rc=$?
echo "NPUSYS: TIME pytest $(($(date +%s) - t0))s"
sed 's/^/    /' "$T/pytest.log"
n=0
for r in $(sed -n 's/^\(PASSED\|FAILED\|ERROR\|SKIPPED\) \([^ ]*\).*/\1=\2/p' "$T/pytest.log"); do
	n=$((n + 1))
	name=${r#*=}
	case ${r%%=*} in
	PASSED) result ok "8.$n" "python3-npu: ${name##*/}" ;;
	SKIPPED) result skip "8.$n" "python3-npu: ${name##*/}" ;;
	*) result "not ok" "8.$n" "python3-npu: ${name##*/}" ;;
	esac
done
if [ $rc -eq 0 ] && [ $n -ge 20 ]; then
	result ok 8 "python3-npu: pytest passed ($n tests)"
else
	result "not ok" 8 "python3-npu: pytest exit status $rc, $n tests reported (want at least 20)"
fi

check 4 "sensors: the NPUs' temperature and power (hwmon)" sh -c '
	sensors
	n=$(sensors | grep -c "^npu-pci-")
	[ "$n" -eq 2 ] || { echo "$n npu chips in sensors, want 2"; exit 1; }
	[ "$(sensors -u | grep -c "^  temp1_input:")" -ge 2 ] || { echo "no temperature"; exit 1; }
	[ "$(sensors -u | grep -c "^  power1_input:")" -ge 2 ] || { echo "no power"; exit 1; }'

# ---- 7. containers: the CDI spec with Debian's podman and crun ------------------
# (before 5, which unloads the driver). udev wrote the spec at boot (the
# npu-tools rule); each container's root is busybox-static and our tools
# with the libraries ldd names, so no image or registry is needed.
CDI=/etc/cdi/npu-stack.org-npu.json
KIND=npu-stack.org/npu
t7=$(date +%s)
check 7a "udev wrote the CDI spec at boot: $CDI, 0644, 9 devices" sh -c '
	stat -c "%n %a %U:%G" "$1" || exit 1
	npuctl cdi list "$1" || exit 1
	[ "$(stat -c %a "$1")" = 644 ] || { echo "mode is not 0644"; exit 1; }
	out=$(npuctl cdi list --json "$1") || exit 1
	for d in npu0 npu0pe0 npu0pe1 npu0pe0-1 npu1 npu1pe0 npu1pe1 npu1pe0-1 all; do
		printf "%s\n" "$out" | grep -q "\"name\": \"$2=$d\"" || { echo "no device $d"; exit 1; }
	done
	[ "$(printf "%s\n" "$out" | grep -c "\"name\": ")" -eq 9 ] || { echo "not 9 devices"; exit 1; }
	grep -q "\"cdiVersion\": \"0.3.0\"" "$1" || { echo "cdiVersion is not 0.3.0"; exit 1; }' sh "$CDI" "$KIND"

mkdir -p /etc/kubernetes/node-feature-discovery/features.d
check 7b "npuctl labels: node-feature-discovery labels of the two cards" sh -c '
	f=/etc/kubernetes/node-feature-discovery/features.d/npu
	npuctl labels || exit 1
	cat "$f"
	for l in present=true count=2 family=warboy product=warboy-emulated \
		driver.version.major=1 firmware.version.major=1; do
		grep -qx "npu-stack.org/npu.$l" "$f" || { echo "no label npu.$l"; exit 1; }
	done
	[ "$(stat -c %a "$f")" = 644 ] || { echo "mode is not 0644"; exit 1; }'

# podman talks to no D-Bus here (the image has none): cgroupfs, events to a file.
mkdir -p /etc/containers/containers.conf.d
printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
	>/etc/containers/containers.conf.d/90-npu-system-test.conf
R=$T/ctr-root
mkdir -p "$R/bin" "$R/usr/bin" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/etc" "$R/programs"
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
for b in "$(command -v npuctl)" "$(command -v npu-bench)"; do
	cp "$b" "$R/usr/bin/"
	for lib in $(ldd "$b" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'); do
		cp -L --parents "$lib" "$R/"
	done
done
cp /usr/share/npu/programs/matmul_relu.npuprog "$R/programs/"
PROG=/programs/matmul_relu.npuprog
# ctr [podman run options] -- CMD: one container on the shared root, CMD run by sh.
ctr() {
	opts=
	while [ "$1" != -- ]; do opts="$opts $1"; shift; done
	shift
	# shellcheck disable=SC2086 # one option per word
	podman run --rm --network none $opts --rootfs "$R" /bin/sh -c "$*"
}

check 7c "podman --device $KIND=npu0pe1: only /dev/npu0pe1 and /dev/npu0_mgmt, FURIOSA_DEVICES=npu:0:1" sh -c '
	podman --version
	out=$(podman run --rm --network none --device "$2"=npu0pe1 --rootfs "$1" /bin/sh -c \
		"ls /dev; echo FURIOSA_DEVICES=\$FURIOSA_DEVICES") || { echo "$out"; exit 1; }
	printf "%s\n" "$out"
	[ "$(printf "%s\n" "$out" | grep "^npu" | tr "\n" " ")" = "npu0_mgmt npu0pe1 " ] ||
		{ echo "wrong NPU device files in the container"; exit 1; }
	printf "%s\n" "$out" | grep -qx "FURIOSA_DEVICES=npu:0:1"' sh "$R" "$KIND"
check 7d "in that container, npuctl list shows npu0 with PE 1 and npu0pe1 only" sh -c '
	out=$(podman run --rm --network none --device "$2"=npu0pe1 --rootfs "$1" npuctl list) ||
		{ echo "$out"; exit 1; }
	printf "%s\n" "$out"
	[ "$(printf "%s\n" "$out" | grep -c "^| npu")" -eq 1 ] || { echo "not one NPU row"; exit 1; }
	printf "%s\n" "$out" | grep -q "^| npu0 *| 1 (available) *| npu0pe1 *|$"' sh "$R" "$KIND"
check 7e "in that container, npu-bench runs a program on the PE FURIOSA_DEVICES names" sh -c '
	out=$(podman run --rm --network none --device "$2"=npu0pe1 --rootfs "$1" \
		npu-bench -n 20 -q 2 "$3" 2>&1)
	rc=$?
	printf "%s\n" "$out"
	[ $rc -eq 0 ] && printf "%s\n" "$out" | grep -q "Jobs             : 20 (0 failed)" &&
		printf "%s\n" "$out" | grep -q "^Device files     : 1 (npu0pe1)$"' sh "$R" "$KIND" "$PROG"

# 7f/7g: container A holds npu0pe0 (npu-bench for a while); B takes npu0pe1 at
# the same time; C asks for npu0pe0 and must be told who holds it.
holder=/sys/class/npu_mgmt/npu0pe0/holder
podman rm -f npu-a >/dev/null 2>&1
podman run -d --name npu-a --network none --device "$KIND=npu0pe0" --rootfs "$R" \
	npu-bench -t 40 -q 2 "$PROG" >/dev/null 2>"$T/npu-a.err"
for i in $(seq 60); do
	grep -q busy "$holder" 2>/dev/null && break
	sleep 0.5
done
echo "    npu0pe0 holder: $(cat "$holder" 2>&1)"
check 7f "two containers at once: A holds npu0pe0 while B runs on npu0pe1" sh -c '
	cat "$4"
	grep -q "busy pid=" "$3" || { echo "container A does not hold npu0pe0: $(cat "$3")"; exit 1; }
	out=$(podman run --rm --network none --device "$2"=npu0pe1 --rootfs "$1" \
		npu-bench -n 20 -q 2 /programs/matmul_relu.npuprog 2>&1)
	rc=$?
	printf "%s\n" "$out"
	[ $rc -eq 0 ] && printf "%s\n" "$out" | grep -q "Jobs             : 20 (0 failed)" || exit 1
	grep -q "busy pid=" "$3" || { echo "A let go of npu0pe0 before B ended"; exit 1; }' \
	sh "$R" "$KIND" "$holder" "$T/npu-a.err"
# A's npu-bench is pid 1 in its container; the driver names it by its pid
# here, outside, which podman reports as the container's State.Pid.
apid=$(podman inspect -f '{{.State.Pid}}' npu-a 2>/dev/null)
out=$(ctr --device "$KIND=npu0pe0" -- npu-bench -n 1 "$PROG" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
if [ $rc -eq 0 ]; then
	result "not ok" 7g "a container asking for npu0pe0 while A holds it is refused"
elif [ -n "$apid" ] && printf '%s\n' "$out" | grep -q "npu0pe0 is busy (held by pid $apid, .npu-bench.)"; then
	result ok 7g "a container asking for npu0pe0 while A holds it fails: busy, held by pid $apid (A's npu-bench as the host sees it), 'npu-bench'"
else
	result "not ok" 7g "the container asking for the held npu0pe0 failed (status $rc) without naming the holder: $(printf '%s\n' "$out" | tail -n 1)"
fi
check 7h "container A ran to its end on npu0pe0 (0 failed jobs)" sh -c '
	rc=$(timeout 120 podman wait npu-a) || { echo "podman wait failed"; exit 1; }
	podman logs npu-a
	podman rm -f npu-a >/dev/null
	[ "$rc" = 0 ] || { echo "exit status $rc"; exit 1; }'
echo "NPUSYS: TIME containers $(($(date +%s) - t7))s"

# ---- 9. metrics: npu-exporter (npu-tools' service) and Debian's Prometheus ---------
# (before 5, which unloads the driver; 9d after it).
METRICS=http://127.0.0.1:6254/metrics
fetch() {
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())' "$1"
}
# series NAME: the lines of that metric family in a scrape
series() { fetch "$METRICS" | grep "^$1[{ ]"; }
exporter_serves_both() {
	systemctl is-active npu-exporter.service ||
		{ systemctl status npu-exporter.service --no-pager; return 1; }
	series furiosa_npu_alive
	[ "$(series furiosa_npu_alive | grep -c " 1$")" -eq 2 ] || return 1
	series furiosa_npu_cycle_count | grep -q 'core="1",device="npu1"' ||
		{ echo "no cycle count of npu1 PE1"; return 1; }
}
prometheus_sees_both() {
	mkdir -p "$T/prom"
	printf '%s\n' 'global:' '  scrape_interval: 1s' 'scrape_configs:' '  - job_name: npu' \
		'    static_configs:' '      - targets: ["127.0.0.1:6254"]' >"$T/prom/prometheus.yml"
	prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
		--web.listen-address=127.0.0.1:9090 >"$T/prom/log" 2>&1 &
	pid=$!
	python3 -c 'import json, sys, time, urllib.parse, urllib.request
url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote("furiosa_npu_alive == 1")
deadline, got = time.time() + 240, None
while time.time() < deadline:
    try:
        got = json.load(urllib.request.urlopen(url, timeout=10))["data"]["result"]
        if len(got) == 2:
            break
    except Exception as err:
        got = repr(err)
    time.sleep(1)
print(json.dumps(got, indent=1))
devices = sorted(s["metric"]["device"] for s in got) if isinstance(got, list) else got
sys.exit(0 if devices == ["npu0", "npu1"] else "want npu0 and npu1, got %s" % (devices,))'
	rc=$?
	kill "$pid"
	wait "$pid" 2>/dev/null
	[ $rc -eq 0 ] || tail -n 20 "$T/prom/log"
	return $rc
}
exporter_survives_reset_and_unplug() {
	bdf=$(cat /sys/class/npu_mgmt/npu1_mgmt/busname)
	echo device >"/sys/kernel/debug/npu/$bdf/reset" || return 1
	series npu_device_resets_total | grep 'device="npu1"' | grep -q ' [1-9][0-9]*$' ||
		{ series npu_device_resets_total; echo "npu1's reset not counted"; return 1; }
	echo 1 >"/sys/bus/pci/devices/$bdf/remove" || return 1
	udevadm settle --timeout=60
	series npu_cards
	series npu_cards | grep -q "^npu_cards 1$" || return 1
	echo 1 >/sys/bus/pci/rescan
	udevadm settle --timeout=60
	series npu_cards | grep -q "^npu_cards 2$" || { echo "the card did not come back"; return 1; }
	systemctl is-active npu-exporter.service
}
check 9a "npu-exporter (systemd, DynamicUser) serves both cards at $METRICS" exporter_serves_both
check 9b "Debian's prometheus scrapes npu-exporter; PromQL over its HTTP API finds both cards" \
	prometheus_sees_both
check 9c "npu-exporter answers through a card's reset and hot-unplug, and sees it come back" \
	exporter_survives_reset_and_unplug

check 5a "modprobe -r npu with no users" sh -c 'modprobe -r npu && ! lsmod | grep "^npu "'
check 7i "the cards gone, udev removed the CDI spec" sh -c '
	udevadm settle --timeout=60
	ls -l /etc/cdi
	[ ! -e "$1" ] || { echo "$1 is still there"; exit 1; }' sh "$CDI"
check 9d "the driver unloaded, npu-exporter still answers: npu_cards 0" sh -c '
	python3 -c "import urllib.request; print(urllib.request.urlopen(\"$1\", timeout=30).read().decode())" |
		grep "^npu_cards 0$"' sh "$METRICS"
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
