#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Deterministic tests of the NPU device model, without a guest kernel.

QEMU runs with `-accel qtest`: the virtual clock only moves when a test says
`clock_step`, so timing, stalls and resets are checked exactly. The script
plays the driver: it programs config space through ports 0xcf8/0xcfc, writes
rings and SG lists into guest RAM, and reads the MSI-X pending bits (vectors
masked) to see which interrupts the device sent.

    tests/qemu/npu_qtest.py [path/to/qemu-system-x86_64]

Prints TAP; exits non-zero if a test fails. A command QEMU does not answer
within NPU_QTEST_TIMEOUT seconds (default 60) fails its test and QEMU is killed.
"""
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

# ---- constants from hw/npu_hw.h (kept in sync by test_header_constants) ----
HDR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "hw", "npu_hw.h")
# The opcodes the programs below use, from the instruction set (also checked there).
ISA_HDR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "isa", "npu_isa.h")

REG = dict(MAGIC=0x000, HW_REV=0x004, PE_COUNT=0x008, CAPS=0x00c, DRAM_SIZE=0x010,
           CLOCK_MHZ=0x018, HEARTBEAT=0x01c, DEV_CLOCK=0x020, DEV_CTRL=0x030,
           DEV_STATUS=0x034, DEV_MODE=0x038, ERR_CAUSE=0x03c, IRQ_STATUS=0x040,
           IRQ_ENABLE=0x044, TEMP_MC=0x080, POWER_UW=0x084, VOLTAGE_MV=0x088,
           CURRENT_MA=0x08c, FW_VERSION=0x100, SERIAL=0x120, UUID=0x140,
           FAULT_ARM=0x0a0, FAULT_DISARM=0x0a4, FAULT_PE_MASK=0x0a8, FAULT_COUNT=0x0ac,
           FAULT_DELAY_US=0x0b0, FAULT_FIRED=0x0b4)
PE = dict(CTRL=0x000, STATUS=0x004, DRAM_BASE=0x008, DRAM_SIZE=0x010, SQ_BASE=0x020,
          SQ_SIZE=0x028, SQ_HEAD=0x02c, SQ_TAIL=0x030, SQ_DOORBELL=0x034, CQ_BASE=0x040,
          CQ_SIZE=0x048, CQ_HEAD=0x04c, CQ_TAIL=0x050, PROGRESS=0x054)
PERF = dict(CYCLES=0x100, TASK_CYCLES=0x108, TENSOR_CYCLES=0x110, DMA_CYCLES=0x118,
            INSTRUCTIONS=0x120, COMMANDS=0x128, JOBS=0x130, ERRORS=0x138,
            DMA_TO_DEV_BYTES=0x140, DMA_FROM_DEV_BYTES=0x148, DMA_COMMANDS=0x150)
OP_NOP, OP_DMA_TO_DEV, OP_DMA_FROM_DEV, OP_EXEC, OP_FENCE = range(5)
F_EOJ = 1
ST_OK, ST_BAD_DESC, ST_DRAM_OOB, ST_DMA_FAULT, ST_TIMEOUT = range(5)
ISA_HALT, ISA_COPY, ISA_MATMUL, ISA_ADD, ISA_RELU, ISA_REQUANT = range(6)
IRQ_PE_CQ0, IRQ_PE_CQ1, IRQ_ERROR, IRQ_RESET_DONE = 1, 2, 1 << 8, 1 << 9
PE_ENABLED, PE_BUSY, PE_HALTED, PE_CQ_FULL = 1, 2, 4, 8
CAP_FUSED, CAP_FAULTS = 1, 2
DEV_READY, DEV_FATAL = 1, 2
ERR_FATAL = 5
FAULT = dict(HANG=1, DROP_IRQ=2, DMA=4, BAD_COMPLETION=8, HEARTBEAT=16, FATAL=32,
             LINK_DOWN=64, LATE=128)
BAD_JOB_ID_XOR = 0xdeadbeefdeadbeef

# ---- the machine layout chosen by these tests ----
BAR0 = 0xfe000000
BAR4 = 0xfe100000
BAR2 = 0xc0000000
RAM = 0x01000000        # scratch guest RAM for rings, SG lists and buffers
SQ, CQ, SGL, BUF = RAM, RAM + 0x40000, RAM + 0x80000, RAM + 0x100000


def pe_base(pe):
    return 0x1000 + pe * 0x1000


# Seconds one qtest command or QMP reply may take. Every command here answers
# in milliseconds, so this is only ever reached by a hung or stopped QEMU: the
# test then fails naming the command and QEMU is killed, instead of the run
# eating the whole CI budget. NPU_QTEST_TIMEOUT=<seconds> overrides it.
TIMEOUT = float(os.environ.get("NPU_QTEST_TIMEOUT", "60"))


class QtestTimeout(RuntimeError):
    """QEMU did not answer a command in time (it has been killed)."""


class Qmp:
    """A minimal QMP client on a unix socket (events are skipped)."""

    def __init__(self, path, proc, timeout):
        self.proc, self.timeout = proc, timeout
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
            if proc.poll() is not None:
                raise RuntimeError("QEMU exited (status %s) before QMP was up" % proc.returncode)
            if time.monotonic() > deadline:
                self.hung("connect to " + path)
            time.sleep(0.05)        # poll until the socket exists, up to the deadline
        self.sock.settimeout(timeout)
        self.f = self.sock.makefile("rw")
        self.readline("greeting")
        self.execute("qmp_capabilities")

    def hung(self, what):
        self.proc.kill()
        self.proc.wait()
        raise QtestTimeout("QMP %s: no answer within %gs; QEMU (pid %d) killed" %
                           (what, self.timeout, self.proc.pid))

    def readline(self, what):
        try:
            line = self.f.readline()
        except socket.timeout:
            self.hung(what)
        if not line:
            raise RuntimeError("QMP %s: QEMU closed the socket" % what)
        return json.loads(line)

    def call(self, cmd, **args):
        """Returns the whole reply: {"return": ...} or {"error": ...}."""
        self.f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            reply = self.readline(cmd)
            if "event" not in reply:
                return reply

    def execute(self, cmd, **args):
        reply = self.call(cmd, **args)
        if "error" in reply:
            raise RuntimeError("QMP %s %r: %s" % (cmd, args, reply["error"]["desc"]))
        return reply["return"]

    def close(self):
        try:
            self.f.close()
        except OSError:
            pass                    # a killed QEMU: the unflushed rest is moot
        self.sock.close()


class Qtest:
    def __init__(self, qemu, devices, qmp=False, extra=(), timeout=None):
        self.timeout = TIMEOUT if timeout is None else timeout
        fw = ["-L", "/usr/share/seabios", "-L", "/usr/share/qemu"]
        args = [qemu, "-M", "q35", "-accel", "qtest", "-qtest", "stdio", "-display", "none",
                "-nodefaults", "-m", "512M", "-qtest-log", "/dev/null"] + fw
        for dev in devices:
            args += ["-device", dev]
        args += list(extra)
        self.tmp = tempfile.TemporaryDirectory(prefix="npu-qtest-")
        if qmp:
            path = os.path.join(self.tmp.name, "qmp.sock")
            args += ["-qmp", "unix:%s,server=on,wait=off" % path]
        # stderr to a file: a pipe nobody reads could fill and stall QEMU
        self.err = open(os.path.join(self.tmp.name, "stderr"), "w+b")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err)
        self.buf = b""
        os.set_blocking(self.p.stdin.fileno(), False)
        self.qmp = None
        if qmp:
            try:
                self.qmp = Qmp(path, self.p, self.timeout)
            except BaseException:
                self.close()
                raise

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def hung(self, line):
        self.p.kill()
        self.p.wait()
        raise QtestTimeout("qtest %r: no answer within %gs; QEMU (pid %d) killed" %
                           (line, self.timeout, self.p.pid))

    def cmd(self, line):
        """Sends one command and waits, at most self.timeout seconds, for its answer."""
        deadline = time.monotonic() + self.timeout
        out = (line + "\n").encode()
        while out:
            ready = select.select([], [self.p.stdin], [], max(0, deadline - time.monotonic()))
            if not ready[1]:
                self.hung(line)
            try:
                out = out[os.write(self.p.stdin.fileno(), out):]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                self.p.wait()
                raise RuntimeError("QEMU exited (status %s) before %r: %s" %
                                   (self.p.returncode, line, self.stderr()))
        while True:
            while b"\n" not in self.buf:
                ready = select.select([self.p.stdout], [], [],
                                      max(0, deadline - time.monotonic()))
                if not ready[0]:
                    self.hung(line)
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    self.p.wait()
                    raise RuntimeError("QEMU exited (status %s) during %r: %s" %
                                       (self.p.returncode, line, self.stderr()))
                self.buf += data
            resp, self.buf = self.buf.split(b"\n", 1)
            resp = resp.decode()
            if resp.startswith("OK") or resp.startswith("FAIL") or resp.startswith("ERR"):
                break
        if not resp.startswith("OK"):
            raise RuntimeError("qtest %r -> %r" % (line, resp))
        return resp.split()[1] if len(resp.split()) > 1 else None

    def close(self):
        if self.qmp:
            self.qmp.close()
        try:
            self.p.stdin.close()
        except OSError:
            pass
        if self.p.poll() is None:
            self.p.terminate()      # qtest does not exit on EOF
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()       # e.g. stopped: SIGTERM waits for a SIGCONT
                self.p.wait()
        self.p.stdout.close()
        self.err.close()
        self.tmp.cleanup()

    def readl(self, a): return int(self.cmd("readl 0x%x" % a), 16)
    def readq(self, a): return int(self.cmd("readq 0x%x" % a), 16)
    def writel(self, a, v): self.cmd("writel 0x%x 0x%x" % (a, v & 0xffffffff))
    def writeq(self, a, v): self.cmd("writeq 0x%x 0x%x" % (a, v & 0xffffffffffffffff))
    def outl(self, port, v): self.cmd("outl 0x%x 0x%x" % (port, v))
    def inl(self, port): return int(self.cmd("inl 0x%x" % port), 16)

    def write(self, a, data):
        if data:
            self.cmd("write 0x%x %d 0x%s" % (a, len(data), data.hex()))

    def read(self, a, n):
        return bytes.fromhex(self.cmd("read 0x%x %d" % (a, n))[2:])

    def step(self, ns=None):
        return int(self.cmd("clock_step" + ("" if ns is None else " %d" % ns)))

    # config space through the legacy 0xcf8 mechanism (first 256 bytes)
    def cfg_read(self, dev, off, bus=0):
        self.outl(0xcf8, 0x80000000 | bus << 16 | dev << 11 | (off & 0xfc))
        return self.inl(0xcfc)

    def cfg_write(self, dev, off, v, bus=0):
        self.outl(0xcf8, 0x80000000 | bus << 16 | dev << 11 | (off & 0xfc))
        self.outl(0xcfc, v)


class Card:
    """One NPU at PCI slot `dev` of `bus`, BARs mapped at fixed addresses."""

    def __init__(self, q, dev, bar0=BAR0, bar2=BAR2, bar4=BAR4, bus=0):
        self.q, self.dev, self.bar0, self.bar2, self.bar4 = q, dev, bar0, bar2, bar4
        self.bus = bus
        self.map_bars()

    def cfg_read(self, off): return self.q.cfg_read(self.dev, off, self.bus)
    def cfg_write(self, off, v): self.q.cfg_write(self.dev, off, v, self.bus)

    def map_bars(self):
        """Programs BARs, memory + bus master and MSI-X (again after an FLR)."""
        self.cfg_write(0x10, self.bar0)
        self.cfg_write(0x18, self.bar2)
        self.cfg_write(0x1c, 0)
        self.cfg_write(0x20, self.bar4)
        self.cfg_write(0x24, 0)
        self.cfg_write(0x04, 0x6)          # memory space + bus master
        self.enable_msix()

    def find_cap(self, cap_id):
        off = self.cfg_read(0x34) & 0xfc
        while off:
            hdr = self.cfg_read(off)
            if hdr & 0xff == cap_id:
                return off
            off = (hdr >> 8) & 0xfc
        raise AssertionError("no capability 0x%x" % cap_id)

    def flr(self):
        """Function level reset through the PCI Express capability."""
        exp = self.find_cap(0x10)
        expect(self.cfg_read(exp + 4) & 1 << 28, "DEVCAP advertises FLR")
        devctl = self.cfg_read(exp + 8)
        self.cfg_write(exp + 8, devctl | 1 << 15)

    def enable_msix(self):
        q, off = self.q, self.cfg_read(0x34) & 0xfc
        while off:
            hdr = self.cfg_read(off)
            if hdr & 0xff == 0x11:
                # MSI-X enable; every vector masked so that sends show in the PBA
                self.cfg_write(off, hdr | 1 << 31)
                table = self.cfg_read(off + 4)
                pba = self.cfg_read(off + 8)
                self.table = self.bar4 + (table & ~7)
                self.pba = self.bar4 + (pba & ~7)
                for v in range(3):
                    q.writel(self.table + 16 * v, 0xfee00000)
                    q.writel(self.table + 16 * v + 8, 0x30 + v)
                    q.writel(self.table + 16 * v + 12, 1)
                return
            off = (hdr >> 8) & 0xfc
        raise AssertionError("no MSI-X capability")

    def arm(self, fault, pe_mask=3, count=1, delay_us=0):
        self.w(REG["FAULT_PE_MASK"], pe_mask)
        self.w(REG["FAULT_COUNT"], count)
        self.w(REG["FAULT_DELAY_US"], delay_us)
        self.w(REG["FAULT_ARM"], fault)

    def pending(self):
        return self.q.readl(self.pba) & 7

    def clear_pending(self):
        """Unmask then mask each vector: the pending message is sent and cleared."""
        for v in range(3):
            self.q.writel(self.table + 16 * v + 12, 0)
            self.q.writel(self.table + 16 * v + 12, 1)

    def r(self, reg): return self.q.readl(self.bar0 + reg)
    def r64(self, reg): return self.q.readq(self.bar0 + reg)
    def w(self, reg, v): self.q.writel(self.bar0 + reg, v)
    def pr(self, pe, reg): return self.r(pe_base(pe) + reg)
    def pr64(self, pe, reg): return self.r64(pe_base(pe) + reg)
    def pw(self, pe, reg, v): self.w(pe_base(pe) + reg, v)
    def pw64(self, pe, reg, v): self.q.writeq(self.bar0 + pe_base(pe) + reg, v)

    def setup_pe(self, pe, sq=SQ, sq_size=16, cq=CQ, cq_size=16, enable=True):
        self.pw64(pe, PE["SQ_BASE"], sq)
        self.pw(pe, PE["SQ_SIZE"], sq_size)
        self.pw64(pe, PE["CQ_BASE"], cq)
        self.pw(pe, PE["CQ_SIZE"], cq_size)
        if enable:
            self.pw(pe, PE["CTRL"], 1)

    def submit(self, pe, cmds, sq=SQ, sq_size=16):
        """Writes commands at SQ_TAIL, publishes the tail, rings the doorbell."""
        tail = self.pr(pe, PE["SQ_TAIL"])
        for c in cmds:
            self.q.write(sq + (tail % sq_size) * 64, c)
            tail = (tail + 1) & 0xffffffff
        self.pw(pe, PE["SQ_TAIL"], tail)
        self.pw(pe, PE["SQ_DOORBELL"], 1)

    def completion(self, index, cq=CQ, cq_size=16):
        raw = self.q.read(cq + (index % cq_size) * 32, 32)
        job_id, status, info, start, end = struct.unpack("<QIIQQ", raw)
        return dict(job_id=job_id, status=status, info=info, start=start, end=end)


def cmd(op, flags=F_EOJ, job_id=0, sg_count=0, sg_addr=0, dram=0, length=0, budget=0,
        reserved0=0, reserved1=(0, 0)):
    return struct.pack("<BBHIQQQQQQQ", op, flags, reserved0, sg_count, job_id, sg_addr,
                       dram, length, budget, *reserved1)


def sg(entries):
    return b"".join(struct.pack("<QII", a, n, 0) for a, n in entries)


def insn(op, dst=0, src0=0, src1=0, args=(), dtype=0, flags=0):
    a = list(args) + [0] * (12 - len(args))
    return struct.pack("<BBHIII12I", op, dtype, flags, dst, src0, src1, *a)


# ---- tests ------------------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(seen, want, what):
    if seen != want:
        raise AssertionError("%s: expected %r, got %r" % (what, want, seen))


@test
def test_header_constants(qemu):
    text = open(HDR).read()
    for name, val in [("NPU_REG_UUID", 0x140), ("NPU_PE_CQ_TAIL", 0x050),
                      ("NPU_PE_PROGRESS", PE["PROGRESS"]),
                      ("NPU_PE_PERF_DMA_COMMANDS", 0x150), ("NPU_IRQ_RESET_DONE", None)]:
        expect(name in text, name + " missing from npu_hw.h")
        if val is not None:
            line = [ln for ln in text.splitlines() if ("#define " + name) in ln][0]
            eq(int(line.split()[2], 16), val, name)
    defs = {}
    for ln in text.splitlines():
        parts = ln.split()
        if len(parts) >= 3 and parts[0] == "#define":
            defs[parts[1]] = ln.split("/*")[0].split(None, 2)[2].strip()
    for name, val in REG.items():
        if name.startswith("FAULT_"):
            eq(int(defs["NPU_REG_" + name], 16), val, "NPU_REG_" + name)
    for name, bit in FAULT.items():
        eq(defs["NPU_FAULT_" + name], "(1u << %d)" % (bit.bit_length() - 1), name)
    eq(int(defs["NPU_FAULT_BAD_JOB_ID_XOR"].rstrip("ul"), 16), BAD_JOB_ID_XOR, "XOR")
    eq(defs["NPU_ERR_FATAL"], str(ERR_FATAL), "NPU_ERR_FATAL")
    eq(defs["NPU_CAP_FAULTS"], "(1u << 1)", "NPU_CAP_FAULTS")
    opcodes = {}
    for ln in open(ISA_HDR).read().splitlines():
        parts = ln.split()
        if len(parts) >= 3 and parts[0].startswith("NPU_ISA_") and parts[1] == "=":
            opcodes[parts[0]] = int(parts[2].rstrip(","), 0)
    for name, val in [("HALT", ISA_HALT), ("COPY", ISA_COPY), ("MATMUL_I8", ISA_MATMUL),
                      ("ADD", ISA_ADD), ("RELU", ISA_RELU), ("REQUANT", ISA_REQUANT)]:
        eq(opcodes.get("NPU_ISA_" + name), val, "NPU_ISA_" + name)


@test
def test_a_hung_qemu_fails_in_bounded_time(qemu):
    """A stopped QEMU fails the qtest command or QMP call after the timeout, and is killed."""
    for via in ("qtest", "qmp"):
        q = Qtest(qemu, ["npu,addr=03.0"], qmp=via == "qmp", timeout=1)
        # Were the timeout broken, this kill ends the wait below in "QEMU exited",
        # which fails this test, instead of the run hanging.
        watchdog = threading.Timer(20, q.p.kill)
        try:
            q.step(1000)
            if q.qmp:
                q.qmp.execute("query-status")
            os.kill(q.p.pid, signal.SIGSTOP)
            watchdog.start()
            t0 = time.monotonic()
            try:
                if q.qmp:
                    q.qmp.execute("query-status")
                else:
                    q.step(1000)
                raise AssertionError("%s: a stopped QEMU answered" % via)
            except QtestTimeout as e:
                took, msg = time.monotonic() - t0, str(e)
            expect(1 <= took < 20, "%s: the 1 s timeout fired after %.1f s" % (via, took))
            name = "query-status" if q.qmp else "'clock_step 1000'"
            expect(name in msg and "killed" in msg, "%s: message %r" % (via, msg))
            eq(q.p.returncode, -signal.SIGKILL, via + ": QEMU killed")
        finally:
            watchdog.cancel()
            q.close()


@test
def test_identity_and_two_cards_differ(qemu):
    q = Qtest(qemu, ["npu,addr=03.0", "npu,addr=04.0,dram=64M,clock-mhz=500"])
    try:
        eq(q.cfg_read(3, 0), 0x4e501234, "vendor/device")
        eq(q.cfg_read(3, 8) >> 8, 0x120000, "class code")
        eq(q.cfg_read(3, 8) & 0xff, 1, "revision")
        a = Card(q, 3)
        b = Card(q, 4, bar0=BAR0 + 0x200000, bar2=BAR2 + 0x10000000, bar4=BAR4 + 0x200000)
        eq(a.r(REG["MAGIC"]), 0x3055504e, "magic")
        eq(a.r(REG["HW_REV"]), 0x10001, "hw rev")
        eq(a.r(REG["PE_COUNT"]), 2, "PE count")
        eq(a.r(REG["CAPS"]), 1, "caps")
        eq(a.r64(REG["DRAM_SIZE"]), 256 << 20, "dram size")
        eq(b.r64(REG["DRAM_SIZE"]), 64 << 20, "dram size b")
        eq(a.r(REG["DRAM_SIZE"] + 4), 0, "dram size high half")
        eq(b.r(REG["CLOCK_MHZ"]), 500, "clock b")
        eq(a.r(REG["DEV_STATUS"]), 1, "ready")
        fw = a.q.read(a.bar0 + REG["FW_VERSION"], 32)
        eq(fw.rstrip(b"\0"), b"1.0.0-emu", "fw version")
        sa = a.q.read(a.bar0 + REG["SERIAL"], 32).rstrip(b"\0")
        sb = b.q.read(b.bar0 + REG["SERIAL"], 32).rstrip(b"\0")
        expect(sa != sb and sa.startswith(b"NPU-EMU-"), "serials %r %r" % (sa, sb))
        uuid = a.q.read(a.bar0 + REG["UUID"], 16)
        eq(uuid[6] >> 4, 8, "uuid version")
        eq(uuid[8] >> 6, 2, "uuid variant")
        eq(a.pr64(0, PE["DRAM_BASE"]), 0, "PE0 base")
        eq(a.pr64(1, PE["DRAM_BASE"]), 128 << 20, "PE1 base")
        eq(a.pr64(1, PE["DRAM_SIZE"]), 128 << 20, "PE1 size")
        # BAR2 is RAM: writes read back
        q.writel(a.bar2 + 0x100, 0xdeadbeef)
        eq(q.readl(a.bar2 + 0x100), 0xdeadbeef, "DRAM BAR")
    finally:
        q.close()
    # the default serial is the same on the next run
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        eq(a.q.read(a.bar0 + REG["SERIAL"], 32).rstrip(b"\0"), sa, "serial reproducible")
    finally:
        q.close()


@test
def test_heartbeat_and_clock(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,clock-mhz=800"])
    try:
        a = Card(q, 3)
        hb, clk = a.r(REG["HEARTBEAT"]), a.r64(REG["DEV_CLOCK"])
        q.step(5_000_000)
        eq(a.r(REG["HEARTBEAT"]) - hb, 5, "heartbeat +1/ms")
        eq(a.r64(REG["DEV_CLOCK"]) - clk, 4_000_000, "cycles at 800 MHz")
        lo = a.r(REG["DEV_CLOCK"])
        hi = a.r(REG["DEV_CLOCK"] + 4)
        eq(hi << 32 | lo, a.r64(REG["DEV_CLOCK"]), "clock halves")
    finally:
        q.close()


@test
def test_bad_ring_config_halts(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], 0x3ff)
        a.setup_pe(0, sq_size=3)
        eq(a.pr(0, PE["STATUS"]), PE_HALTED, "halted")
        eq(a.r(REG["ERR_CAUSE"]), 3, "ERR_RING_CONFIG")
        eq(a.r(REG["IRQ_STATUS"]), IRQ_ERROR, "error irq status")
        eq(a.pending(), 1, "vector 0 sent")
        a.w(REG["IRQ_STATUS"], IRQ_ERROR)
        eq(a.r(REG["IRQ_STATUS"]), 0, "RW1C")
        a.pw(0, PE["CTRL"], 2)    # PE reset clears HALTED
        eq(a.pr(0, PE["STATUS"]), 0, "reset PE")
        a.setup_pe(0, sq_size=4096 * 2)
        eq(a.pr(0, PE["STATUS"]), PE_HALTED, "too big ring")
        a.pw(0, PE["CTRL"], 2)
        a.setup_pe(0, cq=CQ + 8)
        eq(a.pr(0, PE["STATUS"]), PE_HALTED, "misaligned CQ")
        a.pw(0, PE["CTRL"], 2)
        a.setup_pe(0)
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED, "good config")
    finally:
        q.close()


def dma_exec_job(a, q, pe=0, job_id=7):
    data = bytes(range(256)) * 16
    q.write(BUF, data)
    q.write(SGL, sg([(BUF, 1000), (BUF + 1000, 3096)]))
    q.write(SGL + 0x100, sg([(BUF + 0x10000, 4096)]))
    prog = insn(ISA_COPY, dst=0x10000, src0=0x1000, args=[4096]) + insn(ISA_HALT)
    q.write(BUF + 0x20000, prog)
    q.write(SGL + 0x200, sg([(BUF + 0x20000, len(prog))]))
    a.submit(pe, [
        cmd(OP_DMA_TO_DEV, 0, job_id, 2, SGL, 0x1000, 4096),
        cmd(OP_DMA_TO_DEV, 0, job_id, 1, SGL + 0x200, 0x8000, len(prog)),
        cmd(OP_EXEC, 0, job_id, dram=0x8000, length=len(prog)),
        cmd(OP_FENCE, 0, job_id),
        cmd(OP_DMA_FROM_DEV, F_EOJ, job_id, 1, SGL + 0x100, 0x10000, 4096),
    ])
    return data


@test
def test_job_dma_exec_roundtrip(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)
        a.setup_pe(0)
        t0 = a.r64(REG["DEV_CLOCK"])
        data = dma_exec_job(a, q)
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED | PE_BUSY, "busy")
        eq(a.pr(0, PE["SQ_HEAD"]), 0, "head before time passes")
        # DRAM written at command start, visible through BAR2
        eq(q.read(a.bar2 + 0x1000, 16), data[:16], "DMA data at start")
        q.step(1_000_000)
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED, "idle")
        eq(a.pr(0, PE["SQ_HEAD"]), 5, "SQ consumed")
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "one completion")
        c = a.completion(0)
        eq((c["job_id"], c["status"], c["info"]), (7, ST_OK, 0), "completion")
        expect(t0 <= c["start"] < c["end"], "timestamps %r" % c)
        # DMA 64+128+2*4, DMA 64+4+4, EXEC 32+(8+64)+8, FENCE 16, DMA 64+128+4
        eq(c["end"] - c["start"], 200 + 72 + 112 + 16 + 196, "modelled cycles")
        eq(q.read(BUF + 0x10000, 4096), data, "round trip")
        eq(a.r(REG["IRQ_STATUS"]), IRQ_PE_CQ0, "irq status")
        eq(a.pending(), 2, "vector 1 sent")
        perf = {k: a.pr64(0, v) for k, v in PERF.items()}
        eq(perf["COMMANDS"], 5, "commands")
        eq(perf["JOBS"], 1, "jobs")
        eq(perf["ERRORS"], 0, "errors")
        eq(perf["DMA_COMMANDS"], 3, "dma commands")
        eq(perf["DMA_TO_DEV_BYTES"], 4096 + 128, "to dev bytes")
        eq(perf["DMA_FROM_DEV_BYTES"], 4096, "from dev bytes")
        eq(perf["INSTRUCTIONS"], 2, "instructions")
        eq(perf["TENSOR_CYCLES"], 8 + 64 + 8, "tensor cycles")
        eq(perf["TASK_CYCLES"], 596, "task cycles")
        eq(perf["DMA_CYCLES"], 200 + 72 + 196, "dma cycles")
        expect(perf["CYCLES"] >= 1_000_000, "PE cycles advance")
        # CQ_HEAD write with nothing left: no new message
        a.clear_pending()
        a.pw(0, PE["CQ_HEAD"], 1)
        eq(a.pending(), 0, "no re-raise when empty")
        eq(a.pr64(1, PERF["COMMANDS"]), 0, "PE1 untouched")
        # one 8-byte write stores SQ_TAIL and rings SQ_DOORBELL
        q.write(SQ + 5 * 64, cmd(OP_NOP, F_EOJ, 8))
        q.writeq(a.bar0 + pe_base(0) + PE["SQ_TAIL"], 6 | 1 << 32)
        q.step(1000)
        eq((a.pr(0, PE["SQ_HEAD"]), a.completion(1)["job_id"]), (6, 8), "tail+doorbell")
    finally:
        q.close()


@test
def test_failure_skips_rest_of_job(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.setup_pe(1)
        a.submit(1, [
            cmd(OP_NOP, 0, 1),
            cmd(OP_NOP, 0, 1, reserved0=1),          # BAD_DESC
            cmd(OP_DMA_TO_DEV, 0, 1, 1, SGL, 0, 16),  # skipped
            cmd(OP_NOP, F_EOJ, 1),                   # skipped, ends the job
            cmd(OP_NOP, F_EOJ, 2),                   # next job runs
            cmd(OP_DMA_TO_DEV, F_EOJ, 3, 1, SGL, (128 << 20) - 8, 16),  # DRAM_OOB
            cmd(9, F_EOJ, 4),                         # unknown opcode
            cmd(OP_NOP, 0x80 | F_EOJ, 5),             # unknown flag
            cmd(OP_DMA_TO_DEV, F_EOJ, 6, 0, SGL, 0, 16),  # sg_count 0
            cmd(OP_EXEC, F_EOJ, 7, dram=0, length=100),  # not n*64
            cmd(OP_DMA_TO_DEV, F_EOJ, 8, 1, 0xfffffffffffff000, 0, 16),  # SG unreadable
        ])
        q.step(1_000_000)
        eq(a.pr(1, PE["SQ_HEAD"]), 11, "all consumed")
        got = [a.completion(i) for i in range(a.pr(1, PE["CQ_TAIL"]))]
        eq([(c["job_id"], c["status"], c["info"]) for c in got],
           [(1, ST_BAD_DESC, 1 << 16), (2, ST_OK, 0), (3, ST_DRAM_OOB, 0),
            (4, ST_BAD_DESC, 0), (5, ST_BAD_DESC, 0), (6, ST_BAD_DESC, 0),
            (7, ST_BAD_DESC, 0), (8, ST_DMA_FAULT, 0)], "completions")
        eq(a.pr64(1, PERF["JOBS"]), 8, "jobs")
        eq(a.pr64(1, PERF["ERRORS"]), 7, "errors")
        eq(a.pr64(1, PERF["COMMANDS"]), 9, "commands executed (skipped excluded)")
        eq(a.pr(1, PE["STATUS"]), PE_ENABLED, "still running")
    finally:
        q.close()


@test
def test_sg_validation(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.setup_pe(0)
        q.write(SGL, sg([(BUF, 8), (BUF + 8, 8)]))
        q.write(SGL + 0x100, sg([(BUF, 0)]))
        q.write(SGL + 0x200, struct.pack("<QII", BUF, 8, 1))
        a.submit(0, [
            cmd(OP_DMA_TO_DEV, F_EOJ, 1, 2, SGL, 0, 17),       # sum mismatch
            cmd(OP_DMA_TO_DEV, F_EOJ, 2, 1, SGL + 0x100, 0, 0),  # zero-length entry
            cmd(OP_DMA_TO_DEV, F_EOJ, 3, 1, SGL + 0x200, 0, 8),  # reserved set
            cmd(OP_DMA_FROM_DEV, F_EOJ, 4, 2, SGL, 0, 16),     # fine
            cmd(OP_DMA_TO_DEV, F_EOJ, 5, 2, SGL, 0, 16, budget=1),  # budget on DMA
            cmd(OP_DMA_TO_DEV, F_EOJ, 6, 2, SGL, (128 << 20) - 16, 16),  # exactly at end
        ])
        q.step(1_000_000)
        eq([a.completion(i)["status"] for i in range(6)],
           [ST_BAD_DESC, ST_BAD_DESC, ST_BAD_DESC, ST_OK, ST_BAD_DESC, ST_OK], "statuses")
    finally:
        q.close()


@test
def test_cq_full_stalls_and_resumes(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)
        a.setup_pe(0, cq_size=2)
        a.submit(0, [cmd(OP_NOP, F_EOJ, i) for i in range(1, 5)])
        q.step(1_000_000)
        eq(a.pr(0, PE["CQ_TAIL"]), 2, "CQ filled")
        eq(a.pr(0, PE["SQ_HEAD"]), 3, "third command done, completion held")
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED | PE_CQ_FULL, "CQ_FULL")
        a.clear_pending()
        a.pw(0, PE["CQ_HEAD"], 1)
        eq(a.pr(0, PE["CQ_TAIL"]), 3, "stalled completion written")
        eq(a.completion(2, cq_size=2)["job_id"], 3, "job 3 in slot 0")
        eq(a.pending(), 2, "re-raised")
        q.step(1_000_000)
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED | PE_CQ_FULL, "full again")
        eq(a.pr(0, PE["SQ_HEAD"]), 4, "job 4 ran")
        a.pw(0, PE["CQ_HEAD"], 3)
        eq(a.pr(0, PE["CQ_TAIL"]), 4, "all written")
        eq(a.completion(3, cq_size=2)["job_id"], 4, "job 4")
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED, "no longer full")
        a.pw(0, PE["CQ_HEAD"], 9)   # beyond the tail: ignored
        eq(a.pr(0, PE["CQ_HEAD"]), 3, "bad CQ_HEAD ignored")
    finally:
        q.close()


@test
def test_irq_enable_sends_pending(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 1)])
        q.step(1_000_000)
        eq(a.r(REG["IRQ_STATUS"]), IRQ_PE_CQ0, "status set while disabled")
        eq(a.pending(), 0, "nothing sent while disabled")
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)
        eq(a.pending(), 2, "sent when enabled")
        a.clear_pending()
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)   # no change, no message
        eq(a.pending(), 0, "no repeat")
    finally:
        q.close()


def submit_matmul_64(q, a):
    """Job 1 on PE0: one 64x64x64 MATMUL program at DRAM 0x30000; (program, cycles)."""
    # 262144 MACs, 1024 cycles at 256 MACs/cycle
    prog = insn(ISA_MATMUL, dst=0x20000, src0=0x0, src1=0x10000, args=[64, 64, 64])
    q.write(a.bar2 + 0x30000, prog)
    a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x30000, length=64)])
    return prog, 32 + 8 + 1024    # launch + issue + MACs


@test
def test_timing_matmul_and_fused(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.setup_pe(0)
        prog, cost = submit_matmul_64(q, a)
        q.step(cost - 1)        # 1 GHz: 1 ns per cycle
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "not finished one ns early")
        q.step(1)
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "finished on time")
        c = a.completion(0)
        eq(c["end"] - c["start"], cost, "end - start")
        # DEV_MODE needs both PEs disabled
        a.w(REG["DEV_MODE"], 1)
        eq(a.r(REG["DEV_MODE"]), 0, "refused")
        eq(a.r(REG["ERR_CAUSE"]), 4, "ERR_MODE")
        a.pw(0, PE["CTRL"], 0)
        a.w(REG["DEV_MODE"], 1)
        eq(a.r(REG["DEV_MODE"]), 1, "fused")
        eq(a.pr64(0, PE["DRAM_SIZE"]), 256 << 20, "unit window")
        a.pw(1, PE["CTRL"], 1)
        eq(a.pr(1, PE["STATUS"]) & PE_ENABLED, 0, "PE1 stays off")
        a.pw(0, PE["CTRL"], 1)
        # program in PE1's half, only reachable when fused
        q.write(a.bar2 + (128 << 20), prog)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 2, dram=128 << 20, length=64)])
        eq(a.pr(1, PE["STATUS"]), PE_BUSY, "PE1 busy with the unit")
        q.step(32 + 8 + 512)    # two PEs' throughput
        eq(a.pr(0, PE["CQ_TAIL"]), 2, "fused finished in half the MAC time")
        eq(a.completion(1)["status"], ST_OK, "fused status")
        eq(a.pr64(1, PERF["INSTRUCTIONS"]), 1, "PE1 counters advance")
    finally:
        q.close()


@test
def test_progress_moves_while_a_command_runs(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        a.setup_pe(0)
        eq(a.pr(0, PE["PROGRESS"]), 0, "idle PE")
        _, cost = submit_matmul_64(q, a)
        q.step(500)             # 1 GHz: 1 cycle per ns
        eq(a.pr(0, PE["PROGRESS"]), 500, "halfway through the EXEC")
        q.step(cost - 500)
        eq((a.pr(0, PE["CQ_TAIL"]), a.pr(0, PE["PROGRESS"])), (1, cost), "done")
        eq(a.pr64(0, PERF["TASK_CYCLES"]), cost, "equals TASK_CYCLES when idle")
        # a hung command makes no progress
        a.arm(FAULT["HANG"], pe_mask=1, count=1)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 2)])
        q.step(1_000_000)
        eq((a.pr(0, PE["STATUS"]) & PE_BUSY, a.pr(0, PE["PROGRESS"])), (PE_BUSY, cost),
           "hung: busy, progress frozen")
        a.pw(0, PE["CTRL"], 2)
        a.setup_pe(0)
        # a late one stops at its modelled end
        a.arm(FAULT["LATE"], pe_mask=1, count=1, delay_us=1000)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 3)])
        q.step(2)
        eq(a.pr(0, PE["PROGRESS"]), 2, "NOP under way")
        q.step(500_000)
        eq((a.pr(0, PE["CQ_TAIL"]), a.pr(0, PE["PROGRESS"])), (0, 4),
           "late: not finished, progress at the NOP's 4 cycles")
        q.step(500_002)         # 2 + 500000 + 500002 = 4 cycles + 1000 us
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "the late completion arrives")
    finally:
        q.close()


def wait_for(what, cond, timeout=None):
    """Polls cond() until it holds; fails naming `what` after a generous wall-clock wait."""
    timeout = TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("not reached within %gs: %s" % (timeout, what))
        time.sleep(0.001)


def worker_state(q, pe):
    """Scheduler state (R, S, ...) of PE `pe`'s worker thread; QEMU needs -name debug-threads=on."""
    tasks = "/proc/%d/task" % q.p.pid
    for tid in os.listdir(tasks):
        try:
            with open(os.path.join(tasks, tid, "comm")) as f:
                if f.read().strip() != "npu-pe%d" % pe:
                    continue
            with open(os.path.join(tasks, tid, "stat")) as f:
                return f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
    raise AssertionError("QEMU has no thread npu-pe%d" % pe)


@test
def test_big_program_runs_in_the_worker(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,id=npu0"], qmp=True, extra=["-name", "debug-threads=on"])
    try:
        a = Card(q, 3)
        # 2^34 MACs = 2^26 cycles: far above the inline slice, and a few tenths
        # of a second of host time even for the fast executor.
        M, N, K = 1024, 1024, 16384
        A, B, C, COPY, PROG = 0, 0x1000000, 0x2000000, 0x2800000, 0x2900000
        q.cmd("memset 0x%x %d 0x01" % (a.bar2 + A, M * K))
        q.cmd("memset 0x%x %d 0x01" % (a.bar2 + B, K * N))
        prog = (insn(ISA_COPY, dst=COPY, src0=0, args=[4]) +
                insn(ISA_MATMUL, dst=C, src0=A, src1=B, args=[M, N, K]) +
                insn(ISA_HALT))
        q.write(a.bar2 + PROG, prog)

        def out(i):             # element i of the MATMUL's M*N int32 results
            return struct.unpack("<i", q.read(a.bar2 + C + 4 * i, 4))[0]

        def worker_done():
            # the last result is written last, then the worker schedules its
            # bottom half and goes back to sleep on its condition variable
            return out(M * N - 1) == K and worker_state(q, 0) == "S"

        def host_ns(pe):
            return q.qmp.execute("qom-get", path="/machine/peripheral/npu0",
                                 property="pe%d-host-exec-ns" % pe)

        eq((host_ns(0), host_ns(1)), (0, 0), "no host time spent before a program")
        a.setup_pe(0)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=PROG, length=len(prog))])
        # The worker needs host time that no clock step gives it.
        # Run inline, the doorbell write would have returned with the result there.
        eq(out(M * N - 1), 0, "not computed in the doorbell write")
        wait_for("the worker finished job 1", worker_done)
        # Its bottom half runs before the next command after this one, so it
        # arms the completion before virtual time reaches the modelled end.
        cost = 32 + (8 + 1) + (8 + M * N * K // 256) + 8
        q.step(cost - 1)
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "not finished early")
        eq(a.pr(0, PE["STATUS"]) & PE_BUSY, PE_BUSY, "busy")
        q.step(1)
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "finished on time")
        c = a.completion(0)
        eq((c["status"], c["end"] - c["start"]), (ST_OK, cost), "result")
        eq(struct.unpack("<2i", q.read(a.bar2 + C + 4 * (M * N - 2), 8)), (K, K),
           "matmul result")
        eq(a.pr64(0, PERF["INSTRUCTIONS"]), 3, "instructions")
        expect(host_ns(0) > 0, "the program's host time is counted")
        eq(host_ns(1), 0, "on its own PE only")
        # A PE reset drops a program still in the worker: reset once the worker
        # has begun job 2, set the PE up again, let the worker finish, and no
        # completion may follow.
        q.cmd("memset 0x%x %d 0" % (a.bar2 + C, 4 * M * N))
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 2, dram=PROG, length=len(prog))])
        wait_for("the worker began job 2", lambda: out(0) == K)
        a.pw(0, PE["CTRL"], 2)
        eq(out(M * N - 1), 0, "job 2 still in the worker after the reset")
        a.setup_pe(0)
        wait_for("the worker finished job 2", worker_done)
        a.pr(0, PE["STATUS"])   # one more command: the bottom half has run
        q.step(10_000_000)
        eq((a.pr(0, PE["SQ_HEAD"]), a.pr(0, PE["CQ_TAIL"])), (0, 0), "no completion after reset")
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED, "idle")
        a.submit(0, [cmd(OP_NOP, F_EOJ, 3)])
        q.step(1000)
        eq((a.pr(0, PE["CQ_TAIL"]), a.completion(0)["job_id"]), (1, 3), "the next job's completion")
    finally:
        q.close()


@test
def test_exec_errors_report_insn(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        prog = (insn(ISA_COPY, dst=0x100, src0=0, args=[16]) +
                insn(ISA_ADD, dst=0, src0=0, src1=0, args=[1], dtype=7) +
                insn(ISA_HALT))
        q.write(a.bar2 + 0x1000, prog)
        big = insn(ISA_COPY, dst=0, src0=0x100000, args=[0x100000])
        q.write(a.bar2 + 0x2000, big)
        a.setup_pe(0)
        a.submit(0, [
            cmd(OP_NOP, 0, 1), cmd(OP_EXEC, F_EOJ, 1, dram=0x1000, length=len(prog)),
            cmd(OP_EXEC, F_EOJ, 2, dram=0x2000, length=64, budget=100),
            cmd(OP_EXEC, F_EOJ, 3, dram=(128 << 20) - 64, length=128),
        ])
        q.step(10_000_000)
        got = [(c["status"], c["info"]) for c in (a.completion(i) for i in range(3))]
        eq(got, [(ST_BAD_DESC, 1 << 16 | 1), (ST_TIMEOUT, 0), (ST_DRAM_OOB, 0)], "errors")
    finally:
        q.close()


@test
def test_device_and_pe_reset(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], IRQ_RESET_DONE | IRQ_PE_CQ0)
        a.setup_pe(0)
        prog = insn(ISA_MATMUL, dst=0x20000, src0=0, src1=0x10000, args=[64, 64, 64])
        q.write(a.bar2 + 0x30000, prog)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x30000, length=64)])
        a.w(REG["DEV_CTRL"], 1)
        eq(a.r(REG["DEV_STATUS"]), 0, "not ready")
        a.w(REG["IRQ_ENABLE"], 0)           # ignored during reset
        q.step(500_000)
        eq(a.r(REG["DEV_STATUS"]), 0, "still resetting")
        q.step(500_000)
        eq(a.r(REG["DEV_STATUS"]), 1, "ready again after 1 ms")
        eq(a.r(REG["IRQ_STATUS"]), IRQ_RESET_DONE, "RESET_DONE, no completion")
        eq(a.pending(), 1, "event vector")
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "dropped work")
        eq(a.pr(0, PE["SQ_SIZE"]), 0, "rings cleared")
        eq(a.pr64(0, PERF["COMMANDS"]), 0, "counters cleared")
        eq(a.r(REG["IRQ_ENABLE"]), IRQ_RESET_DONE | IRQ_PE_CQ0, "IRQ_ENABLE kept")
        # PE reset while busy
        a.setup_pe(0)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x30000, length=64)])
        a.pw(0, PE["CTRL"], 2)
        eq(a.pr(0, PE["CTRL"]), 0, "self-clearing")
        q.step(1_000_000)
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "no completion after PE reset")
        eq(a.pr(0, PE["STATUS"]), 0, "PE idle")
    finally:
        q.close()


@test
def test_sensors_rise_with_load(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        idle = [a.r(REG[r]) for r in ("TEMP_MC", "POWER_UW", "VOLTAGE_MV", "CURRENT_MA")]
        eq(idle[0], 40000, "idle temperature")
        # An instruction of 2^30 cycles with a budget of 1e9: TIMEOUT after
        # one busy second, without the host doing the work.
        prog = insn(ISA_MATMUL, dst=64 << 20, src0=0, src1=0, args=[4096, 4096, 16384])
        q.write(a.bar2 + (100 << 20), prog)
        q.write(a.bar2 + (228 << 20), prog)
        a.setup_pe(0)
        a.setup_pe(1, sq=SQ + 0x10000, cq=CQ + 0x10000)
        for pe in (0, 1):
            a.submit(pe, [cmd(OP_EXEC, F_EOJ, 1, dram=100 << 20, length=64,
                              budget=1_000_000_000)], sq=SQ + pe * 0x10000)
        for _ in range(10):
            q.step(100_000_000)
        busy = [a.r(REG[r]) for r in ("TEMP_MC", "POWER_UW", "VOLTAGE_MV", "CURRENT_MA")]
        expect(busy[0] > idle[0] + 10000 and busy[1] > idle[1] and busy[3] > idle[3] and
               busy[2] < idle[2], "sensors under load %r vs idle %r" % (busy, idle))
        eq(busy[3], busy[1] // busy[2], "current = power / voltage")
        q.step(1_000_000)
        eq(a.completion(0)["status"], ST_TIMEOUT, "budget exhausted")
    finally:
        q.close()


@test
def test_garbage_never_crashes(qemu):
    import random
    rnd = random.Random(1234)
    q = Qtest(qemu, ["npu,addr=03.0,dram=2M"])
    try:
        a = Card(q, 3)
        a.setup_pe(0, sq_size=256, cq_size=256)
        q.write(a.bar2, bytes(rnd.getrandbits(8) for _ in range(4096)))
        for round_ in range(4):
            cmds = []
            for i in range(64):
                c = bytearray(rnd.getrandbits(8) for _ in range(64))
                c[0] %= 6
                c[1] &= rnd.choice([1, 1, 3])
                if rnd.random() < 0.7:
                    c[2:4] = b"\0\0"
                    c[48:64] = bytes(16)
                if c[0] in (1, 2) and rnd.random() < 0.5:
                    struct.pack_into("<IQQQQQ", c, 4, 1, i, SGL, rnd.randrange(0, 1 << 20),
                                     rnd.randrange(1, 4096), 0)
                    q.write(SGL, sg([(BUF, struct.unpack_from("<Q", c, 32)[0])]))
                if c[0] == 3 and rnd.random() < 0.5:
                    struct.pack_into("<IQQQQQ", c, 4, 0, i, 0, 0, 64 * rnd.randrange(1, 64),
                                     rnd.randrange(0, 100000))
                cmds.append(bytes(c))
            a.submit(0, cmds, sq_size=256)
            q.step(100_000_000)
            # random register writes too (never DEV_CTRL: keep the run going)
            for _ in range(20):
                off = rnd.randrange(0x1000, 0x3000, 4)
                if off & 0xfff in (PE["CTRL"], PE["SQ_DOORBELL"]) or off == 0x1000 + PE["CQ_HEAD"]:
                    continue
                a.w(off, rnd.getrandbits(32))
            q.step(100_000_000)
        eq(a.r(REG["MAGIC"]), 0x3055504e, "device alive")
        expect(a.pr64(0, PERF["JOBS"]) > 0, "jobs were completed")
    finally:
        q.close()


# ---- fault injection (docs/hardware.md, "Fault injection") -------------------------

FAULT_REGS = ("FAULT_ARM", "FAULT_DISARM", "FAULT_PE_MASK", "FAULT_COUNT", "FAULT_DELAY_US",
              "FAULT_FIRED")


def two_pes(a):
    """Both PEs running, each with its own rings."""
    a.setup_pe(0)
    a.setup_pe(1, sq=SQ + 0x10000, cq=CQ + 0x10000)


def submit_pe(a, pe, cmds):
    a.submit(pe, cmds, sq=SQ + pe * 0x10000)


def completion_pe(a, pe, index):
    return a.completion(index, cq=CQ + pe * 0x10000)


@test
def test_faults_off_by_default(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,id=npu0"], qmp=True)
    try:
        a = Card(q, 3)
        eq(a.r(REG["CAPS"]), CAP_FUSED, "no CAP_FAULTS")
        for name in FAULT_REGS:
            a.w(REG[name], 0xff)
        eq([a.r(REG[name]) for name in FAULT_REGS], [0] * 6, "fault registers read 0")
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 1)])
        q.step(1000)
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "a job still completes: nothing was armed")
        reply = q.qmp.call("qom-set", path="/machine/peripheral/npu0", property="fault-arm",
                           value=1)
        expect("faults=on" in reply.get("error", {}).get("desc", ""),
               "qom-set refused without faults=on: %r" % reply)
        eq(q.qmp.execute("qom-get", path="/machine/peripheral/npu0", property="fault-fired"),
           0, "fault-fired")
    finally:
        q.close()


@test
def test_fault_registers(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        eq(a.r(REG["CAPS"]), CAP_FUSED | CAP_FAULTS, "CAP_FAULTS")
        eq([a.r(REG[n]) for n in FAULT_REGS], [0, 0, 3, 1, 0, 0], "power-on values")
        a.w(REG["FAULT_PE_MASK"], 0xff)
        a.w(REG["FAULT_COUNT"], 7)
        a.w(REG["FAULT_DELAY_US"], 123456)
        a.w(REG["FAULT_FIRED"], 99)
        eq([a.r(REG[n]) for n in FAULT_REGS], [0, 0, 3, 7, 123456, 0], "written values")
        a.w(REG["FAULT_ARM"], 0x1ff & ~(FAULT["HEARTBEAT"] | FAULT["FATAL"] |
                                          FAULT["LINK_DOWN"]))
        eq(a.r(REG["FAULT_ARM"]), 0x8f, "armed bits, none beyond NPU_FAULT_ALL")
        a.w(REG["FAULT_DISARM"], 0x0f)
        eq(a.r(REG["FAULT_ARM"]), 0x80, "disarmed")
        # No reset touches the switches: a PE reset, DEV_CTRL.RESET, an FLR.
        a.pw(0, PE["CTRL"], 2)
        a.w(REG["DEV_CTRL"], 1)
        q.step(1_000_000)
        a.flr()
        a.map_bars()
        eq([a.r(REG[n]) for n in FAULT_REGS], [0x80, 0, 3, 7, 123456, 0], "kept by resets")
    finally:
        q.close()


@test
def test_fault_hang(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        two_pes(a)
        a.arm(FAULT["HANG"], pe_mask=1, count=1)
        a.w(REG["FAULT_PE_MASK"], 3)    # arming kept the mask of its moment
        for pe in (0, 1):
            submit_pe(a, pe, [cmd(OP_NOP, F_EOJ, 10 + pe), cmd(OP_NOP, F_EOJ, 20 + pe)])
        q.step(10_000_000)
        eq(a.pr(0, PE["STATUS"]), PE_ENABLED | PE_BUSY, "PE0 hung busy")
        eq((a.pr(0, PE["SQ_HEAD"]), a.pr(0, PE["CQ_TAIL"])), (0, 0), "PE0: nothing finished")
        eq(a.pr(1, PE["CQ_TAIL"]), 2, "PE1 unaffected")
        eq((a.r(REG["FAULT_FIRED"]), a.r(REG["FAULT_ARM"])), (1, 0), "fired once, disarmed")
        a.pw(0, PE["CTRL"], 0)
        q.step(10_000_000)
        eq(a.pr(0, PE["STATUS"]), PE_BUSY, "disabling does not finish it")
        a.pw(0, PE["CTRL"], 2)
        eq(a.pr(0, PE["STATUS"]), 0, "PE reset clears it")
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 30)])
        q.step(1000)
        eq(completion_pe(a, 0, 0)["job_id"], 30, "PE0 works after its reset")
        # count 0: every command hangs until disarmed, also across resets
        a.arm(FAULT["HANG"], pe_mask=1, count=0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 31)])
        q.step(1000)
        a.pw(0, PE["CTRL"], 2)
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 32)])
        q.step(1000)
        eq((a.pr(0, PE["STATUS"]), a.r(REG["FAULT_FIRED"])), (PE_ENABLED | PE_BUSY, 3),
           "hangs again after the reset")
        a.w(REG["FAULT_DISARM"], FAULT["HANG"])
        a.w(REG["DEV_CTRL"], 1)
        q.step(1_000_000)
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 33)])
        q.step(1000)
        eq(completion_pe(a, 0, 0)["job_id"], 33, "works once disarmed")
    finally:
        q.close()


@test
def test_fault_drop_irq(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)
        a.setup_pe(0)
        a.arm(FAULT["DROP_IRQ"], pe_mask=1, count=1)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 1)])
        q.step(1000)
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "completion written")
        eq(a.completion(0)["job_id"], 1, "intact")
        eq(a.r(REG["IRQ_STATUS"]), IRQ_PE_CQ0, "status bit set")
        eq(a.pending(), 0, "no message")
        eq(a.r(REG["FAULT_FIRED"]), 1, "fired")
        # a driver that polls and writes CQ_HEAD short of the tail gets rule 2
        a.pw(0, PE["CQ_HEAD"], 0)
        eq(a.pending(), 2, "CQ_HEAD write re-raises")
        a.clear_pending()
        a.pw(0, PE["CQ_HEAD"], 1)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 2)])
        q.step(1000)
        eq(a.pending(), 2, "next completion interrupts again")
        # rule 3 too: enabling the bit sends the held status
        a.arm(FAULT["DROP_IRQ"], pe_mask=1, count=1)
        a.w(REG["IRQ_ENABLE"], 0)
        a.clear_pending()
        a.submit(0, [cmd(OP_NOP, F_EOJ, 3)])
        q.step(1000)
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)
        eq(a.pending(), 2, "enable sends it")
    finally:
        q.close()


@test
def test_fault_dma(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        two_pes(a)
        q.write(BUF, b"\x5a" * 64)
        q.write(SGL, sg([(BUF, 64)]))
        a.arm(FAULT["DMA"], pe_mask=2, count=2)
        for pe in (0, 1):
            submit_pe(a, pe, [cmd(OP_NOP, 0, 1), cmd(OP_DMA_TO_DEV, F_EOJ, 1, 1, SGL, 0, 64),
                              cmd(OP_DMA_TO_DEV, F_EOJ, 2, 1, SGL, 0, 64),
                              cmd(OP_DMA_TO_DEV, F_EOJ, 3, 1, SGL, 0, 64)])
        q.step(1_000_000)
        got = [(c["job_id"], c["status"], c["info"])
               for c in (completion_pe(a, 1, i) for i in range(3))]
        eq(got, [(1, ST_DMA_FAULT, 1 << 16), (2, ST_DMA_FAULT, 0), (3, ST_OK, 0)],
           "PE1: two DMA faults, then fine")
        eq([completion_pe(a, 0, i)["status"] for i in range(3)], [ST_OK] * 3, "PE0 fine")
        eq(a.pr64(1, PERF["DMA_TO_DEV_BYTES"]), 64, "failed DMAs moved nothing")
        eq(a.pr64(1, PERF["ERRORS"]), 2, "errors counted")
        eq((a.r(REG["FAULT_FIRED"]), a.r(REG["FAULT_ARM"])), (2, 0), "fired twice")
    finally:
        q.close()


@test
def test_fault_bad_completion(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], IRQ_PE_CQ0)
        a.setup_pe(0)
        a.arm(FAULT["BAD_COMPLETION"], pe_mask=1)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 0x1234), cmd(OP_NOP, F_EOJ, 0x1235)])
        q.step(1000)
        c0, c1 = a.completion(0), a.completion(1)
        eq((c0["job_id"], c0["status"]), (0x1234 ^ BAD_JOB_ID_XOR, ST_OK), "malformed entry")
        eq(c1["job_id"], 0x1235, "next entry intact")
        eq((a.pr(0, PE["CQ_TAIL"]), a.pending()), (2, 2), "written and signalled")
    finally:
        q.close()


@test
def test_fault_heartbeat(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], IRQ_RESET_DONE)
        a.setup_pe(0)
        q.step(3_000_000)
        a.w(REG["FAULT_PE_MASK"], 0)    # device-wide: the mask does not matter
        a.w(REG["FAULT_ARM"], FAULT["HEARTBEAT"])
        hb = a.r(REG["HEARTBEAT"])
        eq(hb, 3, "value when it stopped")
        q.step(10_000_000)
        eq(a.r(REG["HEARTBEAT"]), hb, "stopped")
        eq((a.r(REG["FAULT_FIRED"]), a.r(REG["FAULT_ARM"])), (1, 0), "fired once")
        a.submit(0, [cmd(OP_NOP, F_EOJ, 1)])
        q.step(1000)
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "the PEs still work")
        a.pw(0, PE["CTRL"], 2)
        q.step(1_000_000)
        eq(a.r(REG["HEARTBEAT"]), hb, "a PE reset does not restart it")
        a.w(REG["DEV_CTRL"], 1)
        q.step(1_000_000)
        eq(a.r(REG["HEARTBEAT"]), 15, "runs again after DEV_CTRL.RESET (ms since power-on)")
        q.step(1_000_000)
        eq(a.r(REG["HEARTBEAT"]), 16, "and advances")
    finally:
        q.close()


@test
def test_fault_fatal(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], 0x3ff)
        two_pes(a)
        prog = insn(ISA_MATMUL, dst=0x20000, src0=0, src1=0x10000, args=[64, 64, 64])
        q.write(a.bar2 + 0x30000, prog)
        q.write(a.bar2 + (128 << 20) + 0x30000, prog)
        for pe in (0, 1):
            submit_pe(a, pe, [cmd(OP_EXEC, F_EOJ, 1, dram=0x30000, length=64),
                              cmd(OP_NOP, F_EOJ, 2)])
        a.clear_pending()
        a.w(REG["FAULT_ARM"], FAULT["FATAL"])
        eq(a.r(REG["DEV_STATUS"]), DEV_READY | DEV_FATAL, "FATAL, still accepting writes")
        eq(a.r(REG["ERR_CAUSE"]), ERR_FATAL, "ERR_FATAL")
        eq(a.r(REG["IRQ_STATUS"]) & IRQ_ERROR, IRQ_ERROR, "ERROR raised")
        eq(a.pending(), 1, "vector 0")
        q.step(10_000_000)
        eq([a.pr(pe, PE["CQ_TAIL"]) for pe in (0, 1)], [0, 0], "no PE finishes anything")
        eq([a.pr(pe, PE["STATUS"]) for pe in (0, 1)], [PE_ENABLED | PE_BUSY] * 2, "frozen")
        a.pw(0, PE["CTRL"], 2)
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 3)])
        q.step(1_000_000)
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "a PE reset is not enough")
        a.w(REG["DEV_CTRL"], 1)
        q.step(1_000_000)
        eq((a.r(REG["DEV_STATUS"]), a.r(REG["ERR_CAUSE"])), (DEV_READY, 0), "cleared by reset")
        two_pes(a)
        submit_pe(a, 1, [cmd(OP_NOP, F_EOJ, 4)])
        q.step(1000)
        eq(completion_pe(a, 1, 0)["job_id"], 4, "works after the device reset")
        # count 0: the device dies again after every reset until disarmed
        a.arm(FAULT["FATAL"], count=0)
        a.w(REG["DEV_CTRL"], 1)
        q.step(1_000_000)
        eq((a.r(REG["DEV_STATUS"]), a.r(REG["FAULT_FIRED"])), (DEV_READY | DEV_FATAL, 3),
           "fatal again right after RESET_DONE")
        eq(a.r(REG["IRQ_STATUS"]), IRQ_RESET_DONE | IRQ_ERROR, "RESET_DONE, then ERROR")
        a.w(REG["FAULT_DISARM"], FAULT["FATAL"])
        a.w(REG["DEV_CTRL"], 1)
        q.step(1_000_000)
        eq(a.r(REG["DEV_STATUS"]), DEV_READY, "healthy once disarmed")
    finally:
        q.close()


@test
def test_fault_link_down_until_flr(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        a.w(REG["IRQ_ENABLE"], 0x3ff)
        a.setup_pe(0)
        prog = insn(ISA_MATMUL, dst=0x20000, src0=0, src1=0x10000, args=[64, 64, 64])
        q.write(a.bar2 + 0x30000, prog)
        q.cmd("memset 0x%x 32 0" % CQ)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x30000, length=64), cmd(OP_NOP, F_EOJ, 2)])
        a.arm(FAULT["LINK_DOWN"])
        eq(a.r(REG["MAGIC"]), 0xffffffff, "BAR0 reads all-ones")
        eq(a.r64(REG["DEV_CLOCK"]), (1 << 64) - 1, "8-byte reads too")
        eq(a.pr(0, PE["STATUS"]), 0xffffffff, "PE registers too")
        eq(q.readl(a.bar2 + 0x30000), 0xffffffff, "BAR2 (DRAM) too")
        eq(q.readl(a.table), 0xffffffff, "BAR4 (MSI-X) too")
        a.w(REG["FAULT_DISARM"], 0xff)          # writes go nowhere
        q.writel(a.bar2 + 0x30000, 0)
        q.step(10_000_000)
        eq(a.completion(0)["job_id"], 0, "no DMA: no completion written")
        eq(a.cfg_read(0), 0x4e501234, "config space still answers")
        a.flr()
        a.map_bars()
        eq(a.r(REG["MAGIC"]), 0x3055504e, "FLR brought the link back")
        eq(q.read(a.bar2 + 0x30000, 64), prog, "DRAM kept, the ignored write did not land")
        eq((a.r(REG["FAULT_FIRED"]), a.r(REG["FAULT_ARM"])), (1, 0), "fired once")
        eq((a.r(REG["IRQ_ENABLE"]), a.pr(0, PE["SQ_SIZE"])), (0, 0), "power-on state")
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 3)])
        q.step(1000)
        eq(a.completion(0)["job_id"], 3, "works again")
    finally:
        q.close()


@test
def test_fault_late(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,faults=on"])
    try:
        a = Card(q, 3)
        two_pes(a)
        a.arm(FAULT["LATE"], pe_mask=2, count=1, delay_us=5000)
        a.w(REG["FAULT_DELAY_US"], 1)           # the arming keeps 5000
        for pe in (0, 1):
            # 3 commands, 4 cycles (4 ns) each; only the job's last one is late
            submit_pe(a, pe, [cmd(OP_NOP, 0, 1), cmd(OP_NOP, 0, 1), cmd(OP_NOP, F_EOJ, 1),
                              cmd(OP_NOP, F_EOJ, 2)])
        q.step(12 + 5_000_000 - 1)
        eq(a.pr(0, PE["CQ_TAIL"]), 2, "PE0 on time")
        eq((a.pr(1, PE["SQ_HEAD"]), a.pr(1, PE["CQ_TAIL"])), (2, 0), "PE1 still late")
        eq(a.pr(1, PE["STATUS"]), PE_ENABLED | PE_BUSY, "busy meanwhile")
        q.step(1)
        eq(a.pr(1, PE["CQ_TAIL"]), 1, "completed FAULT_DELAY_US late")
        c = completion_pe(a, 1, 0)
        eq((c["job_id"], c["status"], c["end"] - c["start"]), (1, ST_OK, 5_000_012),
           "its timestamps show the delay")
        q.step(4)
        eq(a.pr(1, PE["CQ_TAIL"]), 2, "next job on time")
        # a reset before the late completion cancels it
        a.arm(FAULT["LATE"], pe_mask=1, count=1, delay_us=1000)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 3)])
        q.step(500_000)
        a.pw(0, PE["CTRL"], 2)
        q.step(10_000_000)
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "no completion after the PE reset")
    finally:
        q.close()


def qom(q, prop, value=None, path="/machine/peripheral/npu0"):
    if value is None:
        return q.qmp.execute("qom-get", path=path, property=prop)
    return q.qmp.execute("qom-set", path=path, property=prop, value=value)


@test
def test_fault_qmp_control(qemu):
    q = Qtest(qemu, ["npu,addr=03.0,id=npu0,faults=on"], qmp=True)
    try:
        a = Card(q, 3)
        two_pes(a)
        props = {p["name"]: p["type"] for p in
                 q.qmp.execute("qom-list", path="/machine/peripheral/npu0")}
        for p in ("fault-arm", "fault-disarm", "fault-pe-mask", "fault-count",
                  "fault-delay-us", "fault-fired"):
            eq(props.get(p), "uint32", p)
        qom(q, "fault-pe-mask", 2)
        qom(q, "fault-count", 0)
        qom(q, "fault-arm", FAULT["HANG"])
        eq((a.r(REG["FAULT_PE_MASK"]), a.r(REG["FAULT_ARM"])), (2, FAULT["HANG"]),
           "the guest sees the host's settings")
        submit_pe(a, 1, [cmd(OP_NOP, F_EOJ, 1)])
        q.step(1000)
        eq((a.pr(1, PE["STATUS"]), qom(q, "fault-fired")), (PE_ENABLED | PE_BUSY, 1),
           "armed from the host, fired on PE1")
        qom(q, "fault-disarm", FAULT["HANG"])
        eq(qom(q, "fault-arm"), 0, "disarmed from the host")
        reply = q.qmp.call("qom-set", path="/machine/peripheral/npu0", property="fault-fired",
                           value=0)
        expect("error" in reply, "fault-fired is read-only")
        # link down from the host; the guest's FLR brings it back
        qom(q, "fault-count", 1)
        qom(q, "fault-arm", FAULT["LINK_DOWN"])
        eq(a.r(REG["MAGIC"]), 0xffffffff, "link down")
        eq(qom(q, "fault-fired"), 2, "the host still reads the device")
        a.flr()
        a.map_bars()
        eq(a.r(REG["MAGIC"]), 0x3055504e, "link up after FLR")
    finally:
        q.close()


def setup_root_port(q, port_dev, bus):
    """Bus numbers and memory windows of a root port, as firmware would set them."""
    q.cfg_write(port_dev, 0x18, bus << 16 | bus << 8)
    q.cfg_write(port_dev, 0x20, (BAR4 + 0xfffff) >> 16 << 16 | BAR0 >> 16)
    q.cfg_write(port_dev, 0x24, (BAR2 + (256 << 20) - 1) >> 16 << 16 | BAR2 >> 16 | 1 | 1 << 16)
    q.cfg_write(port_dev, 0x28, 0)
    q.cfg_write(port_dev, 0x2c, 0)
    q.cfg_write(port_dev, 0x04, 0x6)


@test
def test_aer_and_flr_behind_root_port(qemu):
    q = Qtest(qemu, ["pcie-root-port,id=rp0,chassis=1,addr=05.0",
                     "npu,id=npu0,bus=rp0,faults=on"], qmp=True)
    try:
        setup_root_port(q, 5, 1)
        a = Card(q, 0, bus=1)
        eq(a.r(REG["MAGIC"]), 0x3055504e, "reachable behind the port")
        exp = a.find_cap(0x10)
        eq(a.cfg_read(exp) >> 16 & 0xf0, 0x00, "PCI Express endpoint (type 0)")
        a.setup_pe(0)
        a.submit(0, [cmd(OP_NOP, F_EOJ, 1)])
        q.step(1000)
        eq(a.completion(0)["job_id"], 1, "works")
        out = q.qmp.execute("human-monitor-command",
                            **{"command-line": "pcie_aer_inject_error npu0 COMP_TIME"})
        expect(out.startswith("OK id: npu0"), "AER injection: %r" % out)
        devsta = a.cfg_read(exp + 8) >> 16
        expect(devsta & 0x2, "DEVSTA: non-fatal error detected (%#x)" % devsta)
        out = q.qmp.execute("human-monitor-command",
                            **{"command-line": "pcie_aer_inject_error -c npu0 REP_TIMER"})
        expect(out.startswith("OK id: npu0"), "correctable AER injection: %r" % out)
        expect(a.cfg_read(exp + 8) >> 16 & 0x1, "DEVSTA: correctable error detected")
        a.arm(FAULT["LINK_DOWN"])
        eq(a.r(REG["MAGIC"]), 0xffffffff, "link down")
        a.flr()
        a.map_bars()
        eq(a.r(REG["MAGIC"]), 0x3055504e, "FLR brings it back behind the port too")
        # a secondary bus reset from the port clears it as well
        a.arm(FAULT["LINK_DOWN"])
        bctl = q.cfg_read(5, 0x3c)
        q.cfg_write(5, 0x3c, bctl | 1 << 22)
        q.cfg_write(5, 0x3c, bctl)
        a.map_bars()
        eq((a.r(REG["MAGIC"]), a.r(REG["FAULT_FIRED"])), (0x3055504e, 2), "bus reset")
    finally:
        q.close()


@test
def test_hot_unplug_with_work_in_flight(qemu):
    # native PCI Express hot-plug (q35 defaults to ACPI hot-plug, which needs a guest)
    q = Qtest(qemu, ["pcie-root-port,id=rp0,chassis=1,addr=05.0",
                     "npu,id=npu0,bus=rp0,faults=on"], qmp=True,
              extra=["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"])
    try:
        setup_root_port(q, 5, 1)
        a = Card(q, 0, bus=1)
        two_pes(a)
        M, N, K = 256, 256, 1024      # big enough for the worker thread
        prog = insn(ISA_MATMUL, dst=0x200000, src0=0, src1=0x100000, args=[M, N, K])
        q.write(a.bar2 + 0x400000, prog)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x400000, length=64)])
        a.arm(FAULT["HANG"], pe_mask=2)
        submit_pe(a, 1, [cmd(OP_NOP, F_EOJ, 2)])
        a.arm(FAULT["LINK_DOWN"])
        q.qmp.execute("device_del", id="npu0")
        # the guest's answer to the attention button: slot power off, indicator off
        port = Card.__new__(Card)
        port.q, port.dev, port.bus = q, 5, 0
        exp = port.find_cap(0x10)
        sltctl = q.cfg_read(5, exp + 0x18) & 0xffff
        q.cfg_write(5, exp + 0x18, sltctl | 1 << 10 | 3 << 8)     # unplugs at once
        eq(q.cfg_read(0, 0, bus=1), 0xffffffff, "device gone")
        reply = q.qmp.call("qom-get", path="/machine/peripheral/npu0", property="fault-fired")
        expect("error" in reply, "QOM object gone")
        q.step(10_000_000)      # the machine runs on
    finally:
        q.close()


def main():
    qemu = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser(
        "~/.cache/npu-stack/src/qemu-7.2+dfsg/build/qemu-system-x86_64")
    print("TAP version 13")
    print("1..%d" % len(TESTS))
    failed = 0
    for i, fn in enumerate(TESTS, 1):
        try:
            fn(qemu)
            print("ok %d %s" % (i, fn.__name__))
        except Exception:
            failed += 1
            for line in traceback.format_exc().splitlines():
                print("# " + line)
            print("not ok %d %s" % (i, fn.__name__))
    print("# %d/%d passed" % (len(TESTS) - failed, len(TESTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
