#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Deterministic tests of the NPU device model, without a guest kernel.

QEMU runs with `-accel qtest`: the virtual clock only moves when a test says
`clock_step`, so timing, stalls and resets are checked exactly. The script
plays the driver: it programs config space through ports 0xcf8/0xcfc, writes
rings and SG lists into guest RAM, and reads the MSI-X pending bits (vectors
masked) to see which interrupts the device sent.

    tests/qemu/npu_qtest.py [path/to/qemu-system-x86_64]

Prints TAP; exits non-zero if a test fails.
"""
import os
import struct
import subprocess
import sys
import traceback

# ---- constants from uapi/npu_hw.h (kept in sync by test_header_constants) ----
HDR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "uapi", "npu_hw.h")

REG = dict(MAGIC=0x000, HW_REV=0x004, PE_COUNT=0x008, CAPS=0x00c, DRAM_SIZE=0x010,
           CLOCK_MHZ=0x018, HEARTBEAT=0x01c, DEV_CLOCK=0x020, DEV_CTRL=0x030,
           DEV_STATUS=0x034, DEV_MODE=0x038, ERR_CAUSE=0x03c, IRQ_STATUS=0x040,
           IRQ_ENABLE=0x044, TEMP_MC=0x080, POWER_UW=0x084, VOLTAGE_MV=0x088,
           CURRENT_MA=0x08c, FW_VERSION=0x100, SERIAL=0x120, UUID=0x140)
PE = dict(CTRL=0x000, STATUS=0x004, DRAM_BASE=0x008, DRAM_SIZE=0x010, SQ_BASE=0x020,
          SQ_SIZE=0x028, SQ_HEAD=0x02c, SQ_TAIL=0x030, SQ_DOORBELL=0x034, CQ_BASE=0x040,
          CQ_SIZE=0x048, CQ_HEAD=0x04c, CQ_TAIL=0x050)
PERF = dict(CYCLES=0x100, TASK_CYCLES=0x108, TENSOR_CYCLES=0x110, DMA_CYCLES=0x118,
            INSTRUCTIONS=0x120, COMMANDS=0x128, JOBS=0x130, ERRORS=0x138,
            DMA_TO_DEV_BYTES=0x140, DMA_FROM_DEV_BYTES=0x148, DMA_COMMANDS=0x150)
OP_NOP, OP_DMA_TO_DEV, OP_DMA_FROM_DEV, OP_EXEC, OP_FENCE = range(5)
F_EOJ = 1
ST_OK, ST_BAD_DESC, ST_DRAM_OOB, ST_DMA_FAULT, ST_TIMEOUT = range(5)
ISA_HALT, ISA_COPY, ISA_MATMUL, ISA_ADD, ISA_RELU, ISA_REQUANT = range(6)
IRQ_PE_CQ0, IRQ_PE_CQ1, IRQ_ERROR, IRQ_RESET_DONE = 1, 2, 1 << 8, 1 << 9
PE_ENABLED, PE_BUSY, PE_HALTED, PE_CQ_FULL = 1, 2, 4, 8

# ---- the machine layout chosen by these tests ----
BAR0 = 0xfe000000
BAR4 = 0xfe100000
BAR2 = 0xc0000000
RAM = 0x01000000        # scratch guest RAM for rings, SG lists and buffers
SQ, CQ, SGL, BUF = RAM, RAM + 0x40000, RAM + 0x80000, RAM + 0x100000


def pe_base(pe):
    return 0x1000 + pe * 0x1000


class Qtest:
    def __init__(self, qemu, devices):
        fw = ["-L", "/usr/share/seabios", "-L", "/usr/share/qemu"]
        args = [qemu, "-M", "q35", "-accel", "qtest", "-qtest", "stdio", "-display", "none",
                "-nodefaults", "-m", "512M", "-qtest-log", "/dev/null"] + fw
        for dev in devices:
            args += ["-device", dev]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        while True:
            resp = self.p.stdout.readline()
            if not resp:
                raise RuntimeError("QEMU exited: " + self.p.stderr.read())
            if resp.startswith("OK") or resp.startswith("FAIL") or resp.startswith("ERR"):
                break
        if not resp.startswith("OK"):
            raise RuntimeError("qtest %r -> %r" % (line, resp))
        return resp.split()[1] if len(resp.split()) > 1 else None

    def close(self):
        self.p.stdin.close()
        self.p.terminate()      # qtest does not exit on EOF
        self.p.wait(timeout=10)
        self.p.stdout.close()
        self.p.stderr.close()

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

    # config space through the legacy 0xcf8 mechanism
    def cfg_read(self, dev, off):
        self.outl(0xcf8, 0x80000000 | dev << 11 | (off & 0xfc))
        return self.inl(0xcfc)

    def cfg_write(self, dev, off, v):
        self.outl(0xcf8, 0x80000000 | dev << 11 | (off & 0xfc))
        self.outl(0xcfc, v)


class Card:
    """One NPU at PCI slot `dev`, BARs mapped at fixed addresses."""

    def __init__(self, q, dev, bar0=BAR0, bar2=BAR2, bar4=BAR4):
        self.q, self.dev, self.bar0, self.bar2, self.bar4 = q, dev, bar0, bar2, bar4
        q.cfg_write(dev, 0x10, bar0)
        q.cfg_write(dev, 0x18, bar2)
        q.cfg_write(dev, 0x1c, 0)
        q.cfg_write(dev, 0x20, bar4)
        q.cfg_write(dev, 0x24, 0)
        q.cfg_write(dev, 0x04, 0x6)        # memory space + bus master
        self.enable_msix()

    def enable_msix(self):
        q, off = self.q, self.q.cfg_read(self.dev, 0x34) & 0xfc
        while off:
            hdr = self.q.cfg_read(self.dev, off)
            if hdr & 0xff == 0x11:
                # MSI-X enable; every vector masked so that sends show in the PBA
                q.cfg_write(self.dev, off, hdr | 1 << 31)
                table = q.cfg_read(self.dev, off + 4)
                pba = q.cfg_read(self.dev, off + 8)
                self.table = self.bar4 + (table & ~7)
                self.pba = self.bar4 + (pba & ~7)
                for v in range(3):
                    q.writel(self.table + 16 * v, 0xfee00000)
                    q.writel(self.table + 16 * v + 8, 0x30 + v)
                    q.writel(self.table + 16 * v + 12, 1)
                return
            off = (hdr >> 8) & 0xfc
        raise AssertionError("no MSI-X capability")

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
                      ("NPU_PE_PERF_DMA_COMMANDS", 0x150), ("NPU_IRQ_RESET_DONE", None)]:
        expect(name in text, name + " missing from npu_hw.h")
        if val is not None:
            line = [ln for ln in text.splitlines() if ("#define " + name) in ln][0]
            eq(int(line.split()[2], 16), val, name)


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
        eq(a.r(REG["HW_REV"]), 0x10000, "hw rev")
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


@test
def test_timing_matmul_and_fused(qemu):
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        # 64x64x64 MATMUL: 262144 MACs, 1024 cycles at 256 MACs/cycle
        prog = insn(ISA_MATMUL, dst=0x20000, src0=0x0, src1=0x10000, args=[64, 64, 64])
        q.write(a.bar2 + 0x30000, prog)
        a.setup_pe(0)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x30000, length=64)])
        cost = 32 + 8 + 1024    # launch + issue + MACs
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
def test_big_program_runs_in_the_worker(qemu):
    import time
    q = Qtest(qemu, ["npu,addr=03.0"])
    try:
        a = Card(q, 3)
        M, N, K = 256, 256, 1024      # 2^26 MACs = 2^18 cycles: above the inline slice
        q.cmd("memset 0x%x %d 0x01" % (a.bar2, M * K))
        q.cmd("memset 0x%x %d 0x01" % (a.bar2 + 0x100000, K * N))
        prog = (insn(ISA_COPY, dst=0x300000, src0=0, args=[4]) +
                insn(ISA_MATMUL, dst=0x200000, src0=0, src1=0x100000, args=[M, N, K]) +
                insn(ISA_HALT))
        q.write(a.bar2 + 0x400000, prog)
        a.setup_pe(0)
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 1, dram=0x400000, length=len(prog))])
        time.sleep(1.0)                # the worker computes in host time
        cost = 32 + (8 + 1) + (8 + M * N * K // 256) + 8
        q.step(cost - 1)
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "not finished early")
        eq(a.pr(0, PE["STATUS"]) & PE_BUSY, PE_BUSY, "busy")
        q.step(1)
        eq(a.pr(0, PE["CQ_TAIL"]), 1, "finished on time")
        c = a.completion(0)
        eq((c["status"], c["end"] - c["start"]), (ST_OK, cost), "result")
        eq(struct.unpack("<2i", q.read(a.bar2 + 0x200000 + 4 * (M * N - 2), 8)), (K, K),
           "matmul result")
        eq(a.pr64(0, PERF["INSTRUCTIONS"]), 3, "instructions")
        # a PE reset drops a program still in the worker
        a.submit(0, [cmd(OP_EXEC, F_EOJ, 2, dram=0x400000, length=len(prog))])
        a.pw(0, PE["CTRL"], 2)
        time.sleep(1.0)
        q.step(10_000_000)
        eq(a.pr(0, PE["CQ_TAIL"]), 0, "no completion after reset")
        eq(a.pr(0, PE["STATUS"]), 0, "idle")
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
