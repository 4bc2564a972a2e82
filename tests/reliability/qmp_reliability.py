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
ENODEV, no lost job, the card back and working; for AER, which kind arrived
and that the driver's error_detected/slot_reset/resume did their part).
unbind, flr and link cycles run inside the guest alone. Afterwards: every
cycle asked for was reported, in order; the agent's "NPUREL: TOTAL" agrees
with its RESULT lines; `vm.sh run` exited 0; the whole console log is free
of kernel warnings, BUGs, oopses and failed AER recoveries.

Correctable AER errors are counted apart, as device-level checks: no
driver callback runs for them, and QEMU 7.2 does not forward them to the
root port (see recovery_test.c, aer_watch_check()).

Output: TAP, then "N passed, N failed" last. Exit status 0 only if all passed.
Time limit: --timeout seconds (default 900) for the whole run. Every run
first checks its own judge against broken agent transcripts (--self-check
runs only that, without a VM); --without-card boots no NPU, a run that must
fail (the proof that a missing card is not a pass).

  tests/reliability/qmp_reliability.py                  # full run
  tests/reliability/qmp_reliability.py --quick          # CI: fewer cycles
  NPU_QEMU=path NPU_VM_SKIP_BUILD=1 tests/reliability/qmp_reliability.py
"""
import argparse
import collections
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
from typing import Callable, List, Optional, Tuple

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVICE_ID = "npu_hp"
PORT_ID = "rp1"
QOM_PATH = "/machine/peripheral/" + DEVICE_ID
NPU_FAULT_LINK_DOWN = 1 << 6
PHASES = ("unbind", "flr", "link", "unplug", "aer", "link_qmp")
# (HMP arguments, what it is, the agent's "aer=" words that match it): cycle
# n uses AER_KINDS[n % len(AER_KINDS)]. "cor-device": QEMU 7.2 records a
# correctable error only in the device's status, it never reaches the port.
AER_KINDS = [
    ("-c {dev} REP_TIMER", "correctable", ("cor", "cor-device")),
    ("{dev} COMP_TIME", "uncorrectable non-fatal", ("nonfatal",)),
    ("{dev} MALF_TLP", "uncorrectable fatal", ("fatal",)),
]
# Console log lines that fail the run besides scan-kernel-log.sh's.
CONSOLE_FAILURES = ("device recovery failed",)


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


def parse_phases(words: List[str]) -> List[Tuple[str, int]]:
    """PHASE:CYCLES words, CYCLES >= 1; ValueError names the first bad one."""
    phases = []
    for word in words:
        m = re.fullmatch(r"(\w+):([0-9]+)", word)
        if not m or m.group(1) not in PHASES or not 1 <= int(m.group(2)) <= 10000:
            raise ValueError("unparsable phase '%s': PHASE:CYCLES with PHASE one of %s and "
                             "CYCLES 1..10000" % (word, " ".join(PHASES)))
        phases.append((m.group(1), int(m.group(2))))
    if not phases:
        raise ValueError("no phases")
    return phases


def cycle_label(phase: str, n: int) -> str:
    """What a cycle counts as in the summary."""
    if phase != "aer":
        return phase
    what = AER_KINDS[n % len(AER_KINDS)][1]
    if what == "correctable":
        return "aer correctable (device-level check only)"
    return "aer %s (driver recovery)" % what


class Judge:
    """Judges the agent's output lines and the VM's end.

    Pure (no VM, no QMP), so that --self-check can feed it broken
    transcripts and see that each one fails.
    """

    def __init__(self, phases: List[Tuple[str, int]], out: Callable[[str], None] = print):
        self.expected = [(p, n) for p, c in phases for n in range(c)]
        self.asked = collections.Counter(cycle_label(p, n) for p, n in self.expected)
        self.passed = collections.Counter()  # type: collections.Counter
        self.results = []  # type: List[Tuple[bool, str]]
        self.out = out
        self.next = 0  # index in expected of the next RESULT
        self.agent_verdicts = [0, 0]  # the agent's own ok, fail
        self.total = None  # type: Optional[Tuple[int, int, str]]

    def check(self, ok: bool, desc: str) -> None:
        self.results.append((ok, desc))
        self.out("%s %d - %s" % ("ok" if ok else "not ok", len(self.results), desc))

    def fail(self, desc: str) -> None:
        self.check(False, desc)

    def line(self, line: str) -> bool:
        """Takes RESULT and TOTAL lines; True if it was one."""
        m = re.match(r"NPUREL: RESULT (\w+) (\d+) (ok|fail) ?(.*)", line)
        if m:
            self.result(m.group(1), int(m.group(2)), m.group(3) == "ok", m.group(4))
            return True
        m = re.match(r"NPUREL: TOTAL (\d+) (\d+) ?(.*)", line)
        if m:
            if self.total is not None:
                self.fail("a second TOTAL line: %s" % line)
            self.total = (int(m.group(1)), int(m.group(2)), m.group(3).strip())
            return True
        return False

    def result(self, phase: str, n: int, ok: bool, detail: str) -> None:
        self.agent_verdicts[0 if ok else 1] += 1
        if self.next < len(self.expected) and self.expected[self.next] == (phase, n):
            self.next += 1
        else:
            want = ("%s %d" % self.expected[self.next] if self.next < len(self.expected)
                    else "no more cycles")
            self.fail("RESULT for %s cycle %d, which was not asked for here (expected %s)"
                      % (phase, n, want))
            return
        if phase == "aer":
            _, what, words = AER_KINDS[n % len(AER_KINDS)]
            # The agent names the kind that arrived; it must be the one injected.
            m = re.search(r"\baer=([\w-]+)", detail)
            seen = m.group(1) if m else None
            if ok and seen not in words:
                ok = False
                detail = "injected %s, the agent saw aer=%s: %s" % (what, seen, detail)
            else:
                detail = "%s: %s" % (what, detail)
        if ok:
            self.passed[cycle_label(phase, n)] += 1
        self.check(ok, "%s cycle %d: %s" % (phase, n, detail))

    def finish(self, vm_status: Optional[int], console_problems: Optional[List[str]]) -> None:
        """The checks once the VM has gone: cycles, TOTAL, exit status, console log."""
        done, asked = self.next, len(self.expected)
        if done < asked:
            self.fail("%d of %d cycles asked for were reported; the first missing: %s %d"
                      % (done, asked, *self.expected[done]))
        else:
            self.check(True, "all %d cycles asked for were reported" % asked)
        if self.total is None:
            self.fail("the guest agent did not finish (no NPUREL: TOTAL line; see the VM logs)")
        else:
            tp, tf, why = self.total
            ok, nok = self.agent_verdicts
            if why:
                self.fail("the agent failed: TOTAL %d %d %s" % (tp, tf, why))
            elif (tp, tf) != (ok, nok):
                self.fail("the agent's TOTAL %d passed, %d failed disagrees with its RESULT "
                          "lines (%d ok, %d fail)" % (tp, tf, ok, nok))
            else:
                self.check(True, "the agent's TOTAL agrees with its RESULT lines")
        if vm_status == 0:
            self.check(True, "vm.sh run exited 0")
        else:
            self.fail("vm.sh run exited with status %s (the agent's or the VM's failure)"
                      % vm_status)
        if console_problems is None:
            self.fail("no console log to scan (no VM log directory reported by vm.sh)")
        elif console_problems:
            self.fail("kernel log shows a bug: " + console_problems[0])
        else:
            self.check(True, "no kernel warning, BUG, oops or failed AER recovery in the "
                       "console log")

    def failed(self) -> int:
        return sum(1 for ok, _ in self.results if not ok)

    def summary(self) -> str:
        return ", ".join("%s %d/%d" % (k, self.passed[k], self.asked[k])
                         for k in sorted(self.asked))


def self_check() -> List[str]:
    """Feeds the judge broken transcripts; returns what it wrongly accepted."""
    def ok_line(phase: str, n: int, detail: str = "pe0 9 jobs: 9 OK") -> str:
        return "NPUREL: RESULT %s %d ok 0.4s %s" % (phase, n, detail)
    aer_ok = [ok_line("aer", 0, "aer=cor-device: device-level check only; pe0 ..."),
              ok_line("aer", 1, "aer=nonfatal: driver recovery: ...; pe0 ..."),
              ok_line("aer", 2, "aer=fatal: driver recovery: ...; pe0 ...")]
    good = aer_ok + [ok_line("unbind", 0), "NPUREL: TOTAL 4 0"]
    phases = [("aer", 3), ("unbind", 1)]
    # (name, lines, vm status, console problems, must pass)
    cases = [
        ("a good run", good, 0, [], True),
        ("no card", ["NPUREL: TOTAL 0 1 no card"], 1, [], False),
        ("setup failed, status 0", ["NPUREL: TOTAL 0 1 card 0: No such device"], 0, [], False),
        ("no TOTAL line", good[:-1], 0, [], False),
        ("a cycle short", aer_ok[:2] + [ok_line("unbind", 0), "NPUREL: TOTAL 3 0"], 0, [],
         False),
        ("a cycle not asked for", good[:-1] + [ok_line("flr", 0), "NPUREL: TOTAL 5 0"], 0, [],
         False),
        ("TOTAL disagrees", good[:-1] + ["NPUREL: TOTAL 4 1"], 0, [], False),
        ("VM exit status 1", good, 1, [], False),
        ("VM killed", good, None, [], False),
        ("fatal AER seen as correctable",
         aer_ok[:2] + [ok_line("aer", 2, "aer=cor-device: ...")] + good[3:], 0, [], False),
        ("AER without the kind that arrived",
         [ok_line("aer", 0)] + aer_ok[1:] + good[3:], 0, [], False),
        ("a failed cycle", good[:3] + ["NPUREL: RESULT unbind 0 fail 1.0s x",
                                       "NPUREL: TOTAL 3 1"], 1, [], False),
        ("a kernel bug", good, 0, ["WARNING: at npu_job.c"], False),
        ("no console log", good, 0, None, False),
    ]
    wrong = []
    for name, lines, status, console, must_pass in cases:
        judge = Judge(phases, out=lambda _: None)
        for line in lines:
            judge.line(line)
        judge.finish(status, console)
        if (judge.failed() == 0) != must_pass:
            wrong.append("%s: judged %s" % (name, "failed" if judge.failed() else "passed"))
    for words in (["aer:x"], ["Aer:3"], ["aer"], ["aer:0"], ["bogus:1"], ["aer:3", "flr"], []):
        try:
            parse_phases(words)
            wrong.append("phases %r accepted" % words)
        except ValueError:
            pass
    if parse_phases(["aer:3", "flr:2", "aer:3"]) != [("aer", 3), ("flr", 2), ("aer", 3)]:
        wrong.append("phases 'aer:3 flr:2 aer:3' misread")
    with tempfile.TemporaryDirectory(prefix="npurel-check-") as d:
        console = os.path.join(d, "console.log")
        for text, bad in (("[ 5.2] npu 0000:01:00.0: PCI error, channel state 2\n", False),
                          ("[ 5.2] pcieport 0000:00:01.0: AER: device recovery failed\n", True),
                          ("[ 5.2] WARNING: CPU: 0 PID: 1 at npu_job.c:10\n", True)):
            with open(console, "w") as f:
                f.write(text)
            if bool(scan_console(console)) != bad:
                wrong.append("console scan of %r: %s" % (text.strip(), "missed" if bad else
                                                           "flagged"))
        if not scan_console(os.path.join(d, "missing.log")):
            wrong.append("console scan of a missing log passed")
    return wrong


def scan_console(console: str) -> List[str]:
    """Lines of the console log that fail the run; a log it cannot scan is one."""
    scan = subprocess.run([os.path.join(TOP, "tests/vm/scan-kernel-log.sh"), console],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    problems = scan.stdout.strip().splitlines()
    if scan.returncode not in (0, 1) or (scan.returncode == 1) != bool(problems):
        return ["scan-kernel-log.sh %s exited %d: %s" % (console, scan.returncode,
                                                         scan.stderr.strip())]
    with open(console, errors="replace") as f:
        problems += [ln.strip() for ln in f if any(p in ln for p in CONSOLE_FAILURES)]
    return problems


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
    ap.add_argument("--self-check", action="store_true",
                    help="only check the judge against broken transcripts (no VM)")
    ap.add_argument("--without-card", action="store_true",
                    help="boot without the NPU: a run that must fail")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the guest's output")
    opt = ap.parse_args()
    if opt.quick:
        opt.unplug, opt.unbind, opt.aer, opt.flr, opt.link = 5, 5, 3, 2, 1

    # Cheap, and it keeps the negative tests of the judge running with every run.
    wrong = self_check()
    for i, w in enumerate(wrong, 1):
        print("not ok %d - self-check: the judge accepted a broken run: %s" % (i, w))
    if wrong or opt.self_check:
        if not wrong:
            print("ok 1 - self-check: the judge fails every broken transcript")
        print("1..%d" % max(1, len(wrong)))
        print("%d passed, %d failed" % (0 if wrong else 1, len(wrong)))
        return 1 if wrong else 0

    try:
        if opt.phases:
            phases = parse_phases(opt.phases.split())
        else:
            counts = [("unbind", opt.unbind), ("flr", opt.flr), ("aer", opt.aer),
                      ("link_qmp", opt.link), ("unplug", opt.unplug)]
            if any(c < 0 for _, c in counts):
                raise ValueError("negative cycle count")
            phases = parse_phases(["%s:%d" % (p, c) for p, c in counts if c > 0])
    except ValueError as e:
        ap.error(str(e))

    start = time.monotonic()
    deadline = start + opt.timeout
    tmp = tempfile.mkdtemp(prefix="npurel-")
    qmp_path = os.path.join(tmp, "qmp.sock")
    env = dict(os.environ)
    env["NPU_VM_DEVICES"] = "-device pcie-root-port,id=%s,chassis=1,slot=1" % PORT_ID
    if not opt.without_card:
        env["NPU_VM_DEVICES"] += " -device npu,id=%s,bus=%s,faults=on" % (DEVICE_ID, PORT_ID)
    env["NPU_VM_QMP"] = qmp_path
    env["NPU_VM_RUN_TIMEOUT"] = str(opt.timeout)
    cmd = [os.path.join(TOP, "tests/vm/vm.sh"), "run",
           "/tests/recovery_test agent " + " ".join("%s:%d" % pc for pc in phases)]
    print("# %s" % " ".join(cmd[:2] + ["'%s'" % cmd[2]]), flush=True)
    vm = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True)
    lines = queue.Queue()  # type: queue.Queue
    threading.Thread(target=reader, args=(vm.stdout, lines), daemon=True).start()

    judge = Judge(phases, out=lambda s: print(s, flush=True))
    qmp = None
    logs_dir = None
    pending_unplug = None  # cycle whose device_del is done and awaits GONE

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
                args = AER_KINDS[n % len(AER_KINDS)][0]
                qmp.hmp("pcie_aer_inject_error " + args.format(dev=DEVICE_ID))
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
        judge.line(line)

    total_at = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                judge.fail("time limit of %ds reached" % opt.timeout)
                break
            if total_at is not None and time.monotonic() - total_at > 90:
                # e.g. a waiter stuck in the kernel keeps the agent from exiting
                judge.fail("the VM did not power off within 90 s after the agent finished")
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
                total_at = time.monotonic()
            try:
                act(line)
            except (QMPError, OSError) as e:
                judge.fail("QMP: %s (after: %s)" % (e, line))
    finally:
        if vm.poll() is None:
            try:
                vm.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(vm.pid, signal.SIGTERM)
                vm.wait()
        if qmp is not None:
            qmp.sock.close()
    vm_status = vm.returncode  # negative: killed here, after a failure above

    console = os.path.join(logs_dir, "console.log") if logs_dir else None
    judge.finish(vm_status, scan_console(console) if console else None)
    print("1..%d" % len(judge.results))
    print("# cycles passed of asked: %s; %.0f s" % (judge.summary(), time.monotonic() - start))
    failed = judge.failed()
    print("%d passed, %d failed" % (len(judge.results) - failed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
