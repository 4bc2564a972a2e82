#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Host-side reliability driver: hot-unplug, AER, link down over QMP.

Boots the test VM (tests/vm/vm.sh run) with one NPU behind a pcie-root-port
and a QMP socket, and runs the guest agent `/tests/recovery_test agent
PHASE:CYCLES ...` (tests/guest/recovery_test.c). The agent keeps both PEs
busy with self-checking jobs and WAITs without timeout, then prints
"NPUREL: READY phase n"; this script then acts on the VM:

  unplug    device_del (waits for DEVICE_DELETED), then device_add once the
            agent printed "GONE unplug n"
  aer       pcie_aer_inject_error through human-monitor-command: correctable,
            uncorrectable non-fatal and fatal errors in turn
  link_qmp  qom-set fault-arm LINK_DOWN (the agent recovers by remove+rescan)

and the agent checks the outcome (every waiter released with an error or
ENODEV, no lost job, the card back and working). unbind, flr and link cycles
run inside the guest alone. Afterwards the whole console log must be free of
kernel warnings, BUGs and oopses.

Output: TAP, then "N passed, N failed" last. Exit status 0 only if all passed.
Time limit: --timeout seconds (default 900) for the whole run.

  tests/reliability/qmp_reliability.py                  # full run
  tests/reliability/qmp_reliability.py --quick          # CI: fewer cycles
  NPU_QEMU=path NPU_VM_SKIP_BUILD=1 tests/reliability/qmp_reliability.py
"""
import argparse
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVICE_ID = "npu_hp"
PORT_ID = "rp1"
QOM_PATH = "/machine/peripheral/" + DEVICE_ID
NPU_FAULT_LINK_DOWN = 1 << 6
# (HMP arguments, what it is): cycle n uses AER_KINDS[n % len(AER_KINDS)]
AER_KINDS = [
    ("-c {dev} REP_TIMER", "correctable"),
    ("{dev} COMP_TIME", "uncorrectable non-fatal"),
    ("{dev} MALF_TLP", "uncorrectable fatal"),
]


class QMPError(Exception):
    pass


class QMP:
    """Minimal QMP client: commands in order, events kept for wait_event()."""

    def __init__(self, path, deadline):
        self.sock = None
        while time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                s.close()
                time.sleep(0.2)
        if self.sock is None:
            raise QMPError("no QMP socket at %s" % path)
        self.buf = b""
        self.events = []
        self._read_message(30)  # greeting
        self.command("qmp_capabilities")

    def _read_message(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise QMPError("QMP: no answer within %ss" % timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise QMPError("QMP: connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, timeout=60, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_message(timeout)
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise QMPError("%s: %s" % (name, reply["error"].get("desc", reply["error"])))
            return reply.get("return")

    def hmp(self, cmdline):
        out = self.command("human-monitor-command", **{"command-line": cmdline}) or ""
        # pcie_aer_inject_error answers "OK id: ..." on success
        if out.strip() and not out.startswith("OK"):
            raise QMPError("HMP '%s': %s" % (cmdline, out.strip()))

    def wait_event(self, name, device, timeout):
        end = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name and ev.get("data", {}).get("device") == device:
                    del self.events[i]
                    return ev
            left = end - time.monotonic()
            if left <= 0:
                raise QMPError("no %s event for %s within %ss" % (name, device, timeout))
            try:
                ev = self._read_message(min(left, 1.0))
            except QMPError as e:
                if "no answer" in str(e):
                    continue
                raise
            if "event" in ev:
                self.events.append(ev)


def reader(pipe, lines):
    for raw in iter(pipe.readline, b""):
        lines.put(raw.decode(errors="replace").rstrip("\r\n"))
    lines.put(None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unplug", type=int, default=20, help="device_del/device_add cycles")
    ap.add_argument("--unbind", type=int, default=20, help="unbind/rebind cycles")
    ap.add_argument("--aer", type=int, default=6, help="AER injections (3 kinds in turn)")
    ap.add_argument("--flr", type=int, default=5, help="FLRs under load")
    ap.add_argument("--link", type=int, default=2, help="link-down cycles armed over QMP")
    ap.add_argument("--quick", action="store_true", help="5 unplug, 5 unbind, 3 AER, 2 FLR, 1 link")
    ap.add_argument("--phases", help="agent phases instead, e.g. 'aer:3 flr:2 aer:3'")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for the whole run")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the guest's output")
    opt = ap.parse_args()
    if opt.quick:
        opt.unplug, opt.unbind, opt.aer, opt.flr, opt.link = 5, 5, 3, 2, 1

    start = time.monotonic()
    deadline = start + opt.timeout
    tmp = tempfile.mkdtemp(prefix="npurel-")
    qmp_path = os.path.join(tmp, "qmp.sock")
    phases = ["unbind:%d" % opt.unbind, "flr:%d" % opt.flr, "aer:%d" % opt.aer,
              "link_qmp:%d" % opt.link, "unplug:%d" % opt.unplug]
    if opt.phases:
        phases = opt.phases.split()
    env = dict(os.environ)
    env["NPU_VM_DEVICES"] = ("-device pcie-root-port,id=%s,chassis=1,slot=1 "
                             "-device npu,id=%s,bus=%s,faults=on" % (PORT_ID, DEVICE_ID, PORT_ID))
    env["NPU_VM_QMP"] = qmp_path
    env["NPU_VM_RUN_TIMEOUT"] = str(opt.timeout)
    cmd = [os.path.join(TOP, "tests/vm/vm.sh"), "run",
           "/tests/recovery_test agent " + " ".join(phases)]
    print("# %s" % " ".join(cmd[:2] + ["'%s'" % cmd[2]]), flush=True)
    vm = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True)
    lines = queue.Queue()
    threading.Thread(target=reader, args=(vm.stdout, lines), daemon=True).start()

    results = []  # (ok, description)
    counts = {}
    qmp = None
    logs_dir = None
    pending_unplug = None  # cycle whose device_del is done and awaits GONE
    total_seen = False

    def fail(desc):
        results.append((False, desc))
        print("not ok %d - %s" % (len(results), desc), flush=True)

    def act(line):
        nonlocal qmp, pending_unplug
        m = re.match(r"NPUREL: READY (\w+) (\d+)", line)
        if m:
            phase, n = m.group(1), int(m.group(2))
            if qmp is None:
                qmp = QMP(qmp_path, deadline)
            if phase == "unplug":
                qmp.command("device_del", id=DEVICE_ID)
                qmp.wait_event("DEVICE_DELETED", DEVICE_ID, 90)
                pending_unplug = n
            elif phase == "aer":
                args, what = AER_KINDS[n % len(AER_KINDS)]
                qmp.hmp("pcie_aer_inject_error " + args.format(dev=DEVICE_ID))
                counts["aer " + what] = counts.get("aer " + what, 0) + 1
            elif phase == "link_qmp":
                qmp.command("qom-set", path=QOM_PATH, property="fault-count", value=1)
                qmp.command("qom-set", path=QOM_PATH, property="fault-arm",
                            value=NPU_FAULT_LINK_DOWN)
            return
        m = re.match(r"NPUREL: GONE unplug (\d+)", line)
        if m:
            if pending_unplug != int(m.group(1)):
                raise QMPError("GONE for a cycle that was not unplugged")
            qmp.command("device_add", driver="npu", id=DEVICE_ID, bus=PORT_ID, faults=True)
            pending_unplug = None
            return
        m = re.match(r"NPUREL: RESULT (\w+) (\d+) (ok|fail) (.*)", line)
        if m:
            phase, n, verdict, detail = m.groups()
            ok = verdict == "ok"
            if phase == "aer":
                what = AER_KINDS[int(n) % len(AER_KINDS)][1]
                # Uncorrectable errors must reach the root port. QEMU 7.2 forwards
                # no correctable message (pcie_aer_msg_alldev()), so for those the
                # bit in the device's Correctable Error Status is enough.
                if "no AER report" in detail and not (
                        what == "correctable" and "only in the device's error status" in detail):
                    ok = False
                detail = "%s: %s" % (what, detail)
            results.append((ok, "%s %s: %s" % (phase, n, detail)))
            counts[phase] = counts.get(phase, 0) + (1 if ok else 0)
            print("%s %d - %s cycle %s: %s" % ("ok" if ok else "not ok", len(results), phase,
                                               n, detail), flush=True)

    total_at = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("time limit of %ds reached" % opt.timeout)
                break
            if total_at is not None and time.monotonic() - total_at > 90:
                # e.g. a waiter stuck in the kernel keeps the agent from exiting
                fail("the VM did not power off within 90 s after the agent finished")
                break
            try:
                line = lines.get(timeout=min(left, 5))
            except queue.Empty:
                continue
            if line is None:
                break
            if opt.verbose or line.startswith("vm: "):
                print("# " + line, flush=True)
            m = re.search(r"console log: (\S+)$", line)
            if m:
                logs_dir = os.path.dirname(m.group(1))
            if line.startswith("NPUREL: TOTAL"):
                total_seen = True
                total_at = time.monotonic()
            try:
                act(line)
            except (QMPError, OSError) as e:
                fail("QMP: %s (after: %s)" % (e, line))
    finally:
        if vm.poll() is None:
            try:
                vm.wait(timeout=1)
            except subprocess.TimeoutExpired:
                os.killpg(vm.pid, signal.SIGTERM)
                vm.wait()
        if qmp is not None:
            qmp.sock.close()

    if not total_seen:
        fail("the guest agent did not finish (see the VM logs)")
    if logs_dir:
        console = os.path.join(logs_dir, "console.log")
        scan = subprocess.run([os.path.join(TOP, "tests/vm/scan-kernel-log.sh"), console],
                              stdout=subprocess.PIPE, universal_newlines=True)
        if scan.stdout.strip():
            fail("kernel log shows a bug: " + scan.stdout.strip().splitlines()[0])
        else:
            results.append((True, "no kernel warning, BUG or oops in the console log"))
            print("ok %d - no kernel warning, BUG or oops in %s" % (len(results), console))
    else:
        fail("no VM log directory reported by vm.sh")
    passed = sum(1 for ok, _ in results if ok)
    failed = len(results) - passed
    print("1..%d" % len(results))
    print("# cycles passed: %s; %.0f s" % (
        ", ".join("%s %d" % kv for kv in sorted(counts.items())), time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
