/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NPU model: one processing element (PE). It owns a submission ring (SQ)
 * and a completion ring (CQ) in host memory, fetches commands one at a time,
 * does a command's data work at once when it starts, and finishes it (SQ_HEAD
 * advance, counters, completion) when its modelled duration has elapsed on
 * QEMU_CLOCK_VIRTUAL. docs/hardware.md is the specification.
 *
 * In fused mode PE0 is "the unit": it runs on PE0's rings with both PEs'
 * throughput and the whole DRAM as its window, and its work is counted on
 * both PEs. PE1 is then idle and ignores its doorbell.
 */
#include "qemu/osdep.h"
#include <math.h>
#include "qemu/log.h"
#include "qemu/host-utils.h"
#include "qapi/visitor.h"
#include "hw/pci/pci.h"

#include "npu.h"

/* Cost model, in PE cycles (docs/hardware.md, "Timing model"). */
#define NPU_CYCLES_DECODE       4       /* any command, also a rejected one */
#define NPU_CYCLES_NOP          4
#define NPU_CYCLES_FENCE        16
#define NPU_CYCLES_DMA_SETUP    64
#define NPU_CYCLES_DMA_PER_SG   4
#define NPU_DMA_BYTES_PER_CYCLE 32
#define NPU_CYCLES_EXEC_LAUNCH  32

#define NPU_SQ_ENTRY_SIZE       64
#define NPU_CQ_ENTRY_SIZE       32
#define NPU_SG_ENTRY_SIZE       16

/*
 * Programs are run inline in the main loop up to this many modelled cycles
 * (about 2^26 MACs of host work); the rest goes to the PE's worker thread so
 * that a huge program cannot stall the VM.
 */
#define NPU_INLINE_SLICE_CYCLES (1ull << 18)

/* Time constant of the load average behind the sensors. */
#define NPU_LOAD_TAU_NS         (500 * SCALE_MS)

static NpuState *pe_dev(NpuPe *pe)
{
    return pe->dev;
}

static bool pe_is_fused_unit(NpuPe *pe)
{
    return pe_dev(pe)->fused && pe->index == 0;
}

/* The DRAM window this PE's commands address: partition, or all if fused. */
static uint64_t pe_window_base(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);

    return pe_is_fused_unit(pe) ? 0 : pe->index * (s->dram_size / 2);
}

static uint64_t pe_window_size(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);

    return pe_is_fused_unit(pe) ? s->dram_size : s->dram_size / 2;
}

/* ---- load average and counters ----------------------------------------- */

static void pe_load_update(NpuPe *pe, int64_t now)
{
    double busy = pe->busy ? 1.0 : 0.0;
    int64_t dt = now - pe->load_stamp_ns;

    if (dt > 0) {
        pe->load = busy + (pe->load - busy) * exp(-(double)dt / NPU_LOAD_TAU_NS);
        pe->load_stamp_ns = now;
    }
}

double npu_pe_load(NpuPe *pe, int64_t now_ns)
{
    pe_load_update(pe, now_ns);
    return pe->load;
}

/* Marks the unit (and PE1 too when fused) busy or idle. */
static void pe_set_busy(NpuPe *pe, bool busy)
{
    NpuState *s = pe_dev(pe);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    pe_load_update(pe, now);
    pe->busy = busy;
    if (pe_is_fused_unit(pe)) {
        pe_load_update(&s->pe[1], now);
        s->pe[1].busy = busy;
    }
}

static void pe_count(NpuPe *pe, unsigned int reg, uint64_t delta)
{
    NpuState *s = pe_dev(pe);

    pe->perf[NPU_PERF_INDEX(reg)] += delta;
    if (pe_is_fused_unit(pe)) {
        s->pe[1].perf[NPU_PERF_INDEX(reg)] += delta;
    }
}

/* ---- ring helpers ------------------------------------------------------- */

static bool ring_size_ok(uint32_t size)
{
    return size >= NPU_RING_MIN_ENTRIES && size <= NPU_RING_MAX_ENTRIES &&
           is_power_of_2(size);
}

static bool pe_rings_ok(NpuPe *pe)
{
    return ring_size_ok(pe->sq_size) && ring_size_ok(pe->cq_size) &&
           pe->sq_base % NPU_SQ_ENTRY_SIZE == 0 &&
           pe->cq_base % NPU_CQ_ENTRY_SIZE == 0 &&
           (uint32_t)(pe->sq_tail - pe->sq_head) <= pe->sq_size &&
           (uint32_t)(pe->cq_tail - pe->cq_head) <= pe->cq_size;
}

static void pe_halt(NpuPe *pe, uint32_t cause)
{
    pe->halted = true;
    npu_raise_error(pe_dev(pe), cause);
}

static uint64_t ld64(const uint8_t *p)
{
    return ldq_le_p(p);
}

/* ---- completions ---------------------------------------------------------- */

/*
 * Writes the stalled completion if the CQ has room. Returns true when the
 * PE may go on fetching commands.
 */
static bool pe_flush_completion(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);
    uint8_t entry[NPU_CQ_ENTRY_SIZE];
    uint64_t addr;

    uint64_t job_id = pe->stalled_job_id;

    if (!pe->cq_stalled) {
        return true;
    }
    if (npu_engine_stopped(s)) {
        return false;   /* no DMA: the completion waits for a reset */
    }
    if ((uint32_t)(pe->cq_tail - pe->cq_head) >= pe->cq_size) {
        return false;   /* CQ full: wait for the driver to move CQ_HEAD */
    }

    if (npu_fault_hit(s, NPU_FAULT_BAD_COMPLETION, pe, NULL)) {
        job_id ^= NPU_FAULT_BAD_JOB_ID_XOR;
    }
    memset(entry, 0, sizeof(entry));
    stq_le_p(entry + offsetof(struct npu_hw_completion, job_id), job_id);
    stl_le_p(entry + offsetof(struct npu_hw_completion, status), pe->stalled_status);
    stl_le_p(entry + offsetof(struct npu_hw_completion, info), pe->stalled_info);
    stq_le_p(entry + offsetof(struct npu_hw_completion, start_ts), pe->stalled_start_ts);
    stq_le_p(entry + offsetof(struct npu_hw_completion, end_ts), pe->stalled_end_ts);

    pe->cq_stalled = false;
    addr = pe->cq_base + (uint64_t)(pe->cq_tail & (pe->cq_size - 1)) * NPU_CQ_ENTRY_SIZE;
    if (pci_dma_write(PCI_DEVICE(s), addr, entry, sizeof(entry)) != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: completion write to 0x%" PRIx64
                      " failed\n", pe->index, addr);
        pe_halt(pe, NPU_ERR_CQ_WRITE);
        return false;
    }
    pe->cq_tail++;
    pe_count(pe, NPU_PE_PERF_JOBS, 1);
    if (pe->stalled_status != NPU_STATUS_OK) {
        pe_count(pe, NPU_PE_PERF_ERRORS, 1);
    }
    if (npu_fault_hit(s, NPU_FAULT_DROP_IRQ, pe, NULL)) {
        /* Rule 1 without its message; rules 2 and 3 still send one. */
        s->irq_status |= NPU_IRQ_PE_CQ(pe->index);
    } else {
        npu_raise_irq(s, NPU_IRQ_PE_CQ(pe->index));
    }
    return true;
}

static bool pe_finish_job(NpuPe *pe, uint64_t job_id)
{
    pe->in_job = false;
    pe->cq_stalled = true;
    pe->stalled_job_id = job_id;
    pe->stalled_status = pe->job_status;
    pe->stalled_info = pe->job_info;
    pe->stalled_start_ts = pe->job_start_ts;
    /* Modelled device time, independent of how long the host took. */
    pe->stalled_end_ts = pe->job_start_ts + pe->job_cycles;
    pe->ts_cursor = pe->stalled_end_ts;
    return pe_flush_completion(pe);
}

/* ---- command execution ---------------------------------------------------- */

struct npu_cmd_fields {
    uint8_t opcode;
    uint8_t flags;
    uint16_t reserved0;
    uint32_t sg_count;
    uint64_t job_id;
    uint64_t sg_addr;
    uint64_t dram_addr;
    uint64_t length;
    uint64_t cycle_budget;
    uint64_t reserved1[2];
};

static void cmd_decode(const uint8_t *raw, struct npu_cmd_fields *c)
{
    c->opcode = raw[offsetof(struct npu_hw_cmd, opcode)];
    c->flags = raw[offsetof(struct npu_hw_cmd, flags)];
    c->reserved0 = lduw_le_p(raw + offsetof(struct npu_hw_cmd, reserved0));
    c->sg_count = ldl_le_p(raw + offsetof(struct npu_hw_cmd, sg_count));
    c->job_id = ld64(raw + offsetof(struct npu_hw_cmd, job_id));
    c->sg_addr = ld64(raw + offsetof(struct npu_hw_cmd, sg_addr));
    c->dram_addr = ld64(raw + offsetof(struct npu_hw_cmd, dram_addr));
    c->length = ld64(raw + offsetof(struct npu_hw_cmd, length));
    c->cycle_budget = ld64(raw + offsetof(struct npu_hw_cmd, cycle_budget));
    c->reserved1[0] = ld64(raw + offsetof(struct npu_hw_cmd, reserved1));
    c->reserved1[1] = ld64(raw + offsetof(struct npu_hw_cmd, reserved1) + 8);
}

static bool range_inside(uint64_t addr, uint64_t len, uint64_t size)
{
    return addr <= size && len <= size - addr;
}

static uint32_t pe_bad_desc(NpuPe *pe, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: bad command: %s\n", pe->index, why);
    return NPU_STATUS_BAD_DESC;
}

static uint32_t pe_exec_dma(NpuPe *pe, const struct npu_cmd_fields *c, NpuCmdRun *run)
{
    NpuState *s = pe_dev(pe);
    PCIDevice *pdev = PCI_DEVICE(s);
    bool to_dev = c->opcode == NPU_OP_DMA_TO_DEV;
    uint64_t list_bytes, sum = 0, done = 0;
    uint8_t *list, *dram;
    uint32_t i, status = NPU_STATUS_OK;

    if (c->cycle_budget) {
        return pe_bad_desc(pe, "DMA with a cycle budget");
    }
    run->cycles = NPU_CYCLES_DMA_SETUP;
    if (c->sg_count < 1 || c->sg_count > NPU_SG_MAX_ENTRIES) {
        return pe_bad_desc(pe, "DMA sg_count out of range");
    }
    if (!range_inside(c->dram_addr, c->length, pe_window_size(pe))) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: DMA DRAM range 0x%" PRIx64
                      "+0x%" PRIx64 " outside the 0x%" PRIx64 "-byte window\n",
                      pe->index, c->dram_addr, c->length, pe_window_size(pe));
        return NPU_STATUS_DRAM_OOB;
    }

    list_bytes = (uint64_t)c->sg_count * NPU_SG_ENTRY_SIZE;
    if (c->sg_addr + list_bytes < c->sg_addr) {
        return NPU_STATUS_DMA_FAULT;
    }
    list = g_malloc(list_bytes);    /* at most 1 MiB */
    if (pci_dma_read(pdev, c->sg_addr, list, list_bytes) != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: SG list read at 0x%" PRIx64
                      " failed\n", pe->index, c->sg_addr);
        status = NPU_STATUS_DMA_FAULT;
        goto out;
    }
    for (i = 0; i < c->sg_count; i++) {
        const uint8_t *e = list + (uint64_t)i * NPU_SG_ENTRY_SIZE;
        uint32_t len = ldl_le_p(e + offsetof(struct npu_hw_sg, length));

        if (len == 0 || ldl_le_p(e + offsetof(struct npu_hw_sg, reserved))) {
            status = pe_bad_desc(pe, "SG entry with length 0 or reserved bits");
            goto out;
        }
        sum += len;     /* <= 2^16 * 2^32: no overflow */
    }
    if (sum != c->length) {
        status = pe_bad_desc(pe, "SG lengths do not add up to the command length");
        goto out;
    }
    if (npu_fault_hit(s, NPU_FAULT_DMA, pe, NULL)) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: injected DMA fault\n", pe->index);
        status = NPU_STATUS_DMA_FAULT;
        goto out;
    }

    dram = s->dram_ptr + pe_window_base(pe) + c->dram_addr;
    for (i = 0; i < c->sg_count; i++) {
        const uint8_t *e = list + (uint64_t)i * NPU_SG_ENTRY_SIZE;
        uint64_t addr = ld64(e + offsetof(struct npu_hw_sg, addr));
        uint32_t len = ldl_le_p(e + offsetof(struct npu_hw_sg, length));
        MemTxResult r;

        r = to_dev ? pci_dma_read(pdev, addr, dram + done, len)
                   : pci_dma_write(pdev, addr, dram + done, len);
        if (r != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: DMA %s host 0x%" PRIx64
                          "+0x%x failed\n", pe->index, to_dev ? "from" : "to",
                          addr, len);
            status = NPU_STATUS_DMA_FAULT;
            break;
        }
        done += len;
    }
    run->dma_bytes = done;
    run->cycles += DIV_ROUND_UP(done, NPU_DMA_BYTES_PER_CYCLE) +
                   (uint64_t)c->sg_count * NPU_CYCLES_DMA_PER_SG;
out:
    g_free(list);
    return status;
}

/* Fills the running command from a finished program. */
static uint32_t pe_program_result(NpuPe *pe, const struct npu_isa_result *res)
{
    NpuCmdRun *run = &pe->run;

    if (res->status != NPU_STATUS_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: program failed with status %u "
                      "at instruction %" PRIu64 "\n", pe->index, res->status,
                      res->insn_index);
    }
    run->insn_index = res->status == NPU_STATUS_OK ? 0 : (uint32_t)res->insn_index;
    run->instructions = res->retired;
    run->tensor_cycles = res->cycles;
    run->cycles = NPU_CYCLES_EXEC_LAUNCH + res->cycles;
    run->status = res->status;
    return res->status;
}

/* Runs a slice of job's program, counting the host time it takes. */
static uint32_t pe_run_slice(NpuPe *pe, NpuExecJob *job, uint64_t slice_cycles)
{
    int64_t start = get_clock();
    uint32_t status;

    status = npu_isa_run_slice(job->mem, job->mem_size, job->prog_addr, job->prog_len,
                               job->cycle_budget, job->lanes, slice_cycles, &job->res);
    stat64_add(&pe->host_exec_ns, get_clock() - start);
    return status;
}

static void pe_submit_to_worker(NpuPe *pe, const NpuExecJob *job)
{
    qemu_mutex_lock(&pe->worker_lock);
    pe->queued = *job;
    pe->job_queued = true;
    qemu_cond_signal(&pe->worker_cond);
    qemu_mutex_unlock(&pe->worker_lock);
    pe->exec_async = true;
}

static uint32_t pe_exec_program(NpuPe *pe, const struct npu_cmd_fields *c, NpuCmdRun *run)
{
    NpuState *s = pe_dev(pe);
    NpuExecJob job = {
        .mem = s->dram_ptr + pe_window_base(pe),
        .mem_size = pe_window_size(pe),
        .prog_addr = c->dram_addr,
        .prog_len = c->length,
        .cycle_budget = c->cycle_budget,
        .lanes = pe_is_fused_unit(pe) ? 2 : 1,
        .generation = pe->generation,
    };
    uint32_t status;

    if (c->sg_count || c->sg_addr) {
        return pe_bad_desc(pe, "EXEC with SG fields");
    }
    run->cycles = NPU_CYCLES_EXEC_LAUNCH;
    if (c->length == 0 || c->length % NPU_INSN_SIZE) {
        return pe_bad_desc(pe, "EXEC length not a non-zero multiple of 64");
    }
    if (!range_inside(c->dram_addr, c->length, job.mem_size)) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: program 0x%" PRIx64 "+0x%" PRIx64
                      " outside the window\n", pe->index, c->dram_addr, c->length);
        return NPU_STATUS_DRAM_OOB;
    }
    status = pe_run_slice(pe, &job, NPU_INLINE_SLICE_CYCLES);
    if (status == NPU_ISA_YIELD) {
        pe_submit_to_worker(pe, &job);
        return NPU_STATUS_OK;   /* provisional: exec_bh fills in the result */
    }
    return pe_program_result(pe, &job.res);
}

static void *pe_worker(void *opaque)
{
    NpuPe *pe = opaque;
    NpuExecJob job;

    for (;;) {
        qemu_mutex_lock(&pe->worker_lock);
        while (!pe->job_queued && !pe->worker_stop) {
            qemu_cond_wait(&pe->worker_cond, &pe->worker_lock);
        }
        if (pe->worker_stop) {
            qemu_mutex_unlock(&pe->worker_lock);
            return NULL;
        }
        job = pe->queued;
        pe->job_queued = false;
        qemu_mutex_unlock(&pe->worker_lock);

        pe_run_slice(pe, &job, UINT64_MAX);

        qemu_mutex_lock(&pe->worker_lock);
        pe->done = job;
        pe->job_done = true;
        qemu_mutex_unlock(&pe->worker_lock);
        qemu_bh_schedule(pe->exec_bh);
    }
}

/* Does the data work of one command and fills its modelled cost. */
static void pe_execute(NpuPe *pe, const struct npu_cmd_fields *c, NpuCmdRun *run)
{
    memset(run, 0, sizeof(*run));
    run->opcode = c->opcode;
    run->end_of_job = c->flags & NPU_CMD_F_END_OF_JOB;
    run->job_id = c->job_id;
    run->cycles = NPU_CYCLES_DECODE;

    if (c->opcode >= NPU_OP_COUNT || (c->flags & ~NPU_CMD_F_ALL) ||
        c->reserved0 || c->reserved1[0] || c->reserved1[1]) {
        run->status = pe_bad_desc(pe, "unknown opcode/flags or reserved field set");
        return;
    }
    switch (c->opcode) {
    case NPU_OP_NOP:
    case NPU_OP_FENCE:
        if (c->sg_count || c->sg_addr || c->dram_addr || c->length || c->cycle_budget) {
            run->status = pe_bad_desc(pe, "NOP/FENCE with operands");
            return;
        }
        /* Commands run in order, so a fence only costs its own cycles. */
        run->cycles = c->opcode == NPU_OP_NOP ? NPU_CYCLES_NOP : NPU_CYCLES_FENCE;
        run->status = NPU_STATUS_OK;
        return;
    case NPU_OP_DMA_TO_DEV:
    case NPU_OP_DMA_FROM_DEV:
        run->status = pe_exec_dma(pe, c, run);
        return;
    case NPU_OP_EXEC:
        run->status = pe_exec_program(pe, c, run);
        return;
    }
}

static int64_t pe_cycles_to_ns(NpuPe *pe, uint64_t cycles)
{
    uint64_t ns = muldiv64(cycles, 1000, pe_dev(pe)->clock_mhz);

    return ns > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ns;
}

/*
 * The running command ends cmd_start_ns + its modelled time, or now if later;
 * a late one (the last command of a job, so its completion) FAULT_DELAY_US
 * after that.
 */
static void pe_arm_cmd_timer(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t end = pe->cmd_start_ns + pe_cycles_to_ns(pe, pe->run.cycles);
    uint32_t delay_us;

    if (npu_engine_stopped(s)) {
        return;         /* frozen BUSY until a reset */
    }
    if (npu_fault_hit(s, NPU_FAULT_HANG, pe, NULL)) {
        return;         /* stays busy until a PE or device reset */
    }
    end = MAX(now, end);
    if (pe->run.end_of_job && npu_fault_hit(s, NPU_FAULT_LATE, pe, &delay_us)) {
        end += (int64_t)delay_us * SCALE_US;
        pe->run.late_cycles = npu_ns_to_cycles(s, (int64_t)delay_us * SCALE_US);
    }
    timer_mod(pe->cmd_timer, end);
}

/* Fetches and starts commands until one is in flight or nothing is left. */
static void pe_kick(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);

    while (s->ready && !npu_engine_stopped(s) && pe->enabled && !pe->halted &&
           !pe->busy && !pe->cq_stalled && pe->sq_head != pe->sq_tail) {
        uint8_t raw[NPU_SQ_ENTRY_SIZE];
        struct npu_cmd_fields c;
        uint64_t addr;

        if ((uint32_t)(pe->sq_tail - pe->sq_head) > pe->sq_size) {
            qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: SQ_TAIL %u is more than %u "
                          "entries ahead of SQ_HEAD %u\n", pe->index, pe->sq_tail,
                          pe->sq_size, pe->sq_head);
            pe_halt(pe, NPU_ERR_RING_CONFIG);
            return;
        }
        addr = pe->sq_base +
               (uint64_t)(pe->sq_head & (pe->sq_size - 1)) * NPU_SQ_ENTRY_SIZE;
        if (pci_dma_read(PCI_DEVICE(s), addr, raw, sizeof(raw)) != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: SQ entry read at 0x%" PRIx64
                          " failed\n", pe->index, addr);
            pe_halt(pe, NPU_ERR_SQ_FETCH);
            return;
        }
        cmd_decode(raw, &c);

        if (!pe->in_job) {
            pe->in_job = true;
            pe->job_cmd_index = 0;
            pe->job_status = NPU_STATUS_OK;
            pe->job_info = 0;
            pe->job_cycles = 0;
            /* Never before the previous job's modelled end: monotonic. */
            pe->job_start_ts = MAX(npu_dev_clock(s), pe->ts_cursor);
        }
        if (pe->job_status != NPU_STATUS_OK) {
            /* The job already failed: consume the rest without running it. */
            pe->sq_head++;
            if (c.flags & NPU_CMD_F_END_OF_JOB) {
                pe_finish_job(pe, c.job_id);
            } else {
                pe->job_cmd_index++;
            }
            continue;
        }

        /* Busy before the data work: DMA may loop back into our own BAR0. */
        pe_set_busy(pe, true);
        pe->cmd_start_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
        s->in_command = true;
        pe_execute(pe, &c, &pe->run);
        s->in_command = false;
        if (!pe->exec_async) {
            pe_arm_cmd_timer(pe);
        }
        return;
    }
}

/* The worker finished a program (main loop). */
static void pe_exec_bh(void *opaque)
{
    NpuPe *pe = opaque;
    NpuExecJob job;

    qemu_mutex_lock(&pe->worker_lock);
    if (!pe->job_done) {
        qemu_mutex_unlock(&pe->worker_lock);
        return;
    }
    job = pe->done;
    pe->job_done = false;
    qemu_mutex_unlock(&pe->worker_lock);

    if (!pe->exec_async || job.generation != pe->generation) {
        return;         /* the PE was reset meanwhile */
    }
    pe->exec_async = false;
    pe_program_result(pe, &job.res);
    pe_arm_cmd_timer(pe);
}

/* The running command's modelled time has elapsed. */
static void pe_cmd_done(void *opaque)
{
    NpuPe *pe = opaque;
    NpuCmdRun *run = &pe->run;

    if (npu_engine_stopped(pe_dev(pe))) {
        return;         /* stopped after the timer was armed: frozen BUSY */
    }
    pe_set_busy(pe, false);
    pe->sq_head++;

    pe_count(pe, NPU_PE_PERF_TASK_CYCLES, run->cycles);
    pe_count(pe, NPU_PE_PERF_COMMANDS, 1);
    if (run->opcode == NPU_OP_DMA_TO_DEV || run->opcode == NPU_OP_DMA_FROM_DEV) {
        pe_count(pe, NPU_PE_PERF_DMA_CYCLES, run->cycles);
        pe_count(pe, NPU_PE_PERF_DMA_COMMANDS, 1);
        pe_count(pe, run->opcode == NPU_OP_DMA_TO_DEV ? NPU_PE_PERF_DMA_TO_DEV_BYTES :
                 NPU_PE_PERF_DMA_FROM_DEV_BYTES, run->dma_bytes);
    } else if (run->opcode == NPU_OP_EXEC) {
        pe_count(pe, NPU_PE_PERF_TENSOR_CYCLES, run->tensor_cycles);
        pe_count(pe, NPU_PE_PERF_INSTRUCTIONS, run->instructions);
    }

    pe->job_cycles += run->cycles + run->late_cycles;
    if (run->status != NPU_STATUS_OK) {
        pe->job_status = run->status;
        pe->job_info = NPU_COMPLETION_INFO(pe->job_cmd_index, run->insn_index);
    }
    if (run->end_of_job) {
        pe_finish_job(pe, run->job_id);
    } else {
        pe->job_cmd_index++;
    }
    pe_kick(pe);
}

/* ---- registers ---------------------------------------------------------- */

void npu_pe_reset(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);

    timer_del(pe->cmd_timer);
    pe_set_busy(pe, false);
    /* A program still running in the worker finishes, but is ignored. */
    pe->generation++;
    pe->exec_async = false;
    qemu_mutex_lock(&pe->worker_lock);
    pe->job_queued = false;
    qemu_mutex_unlock(&pe->worker_lock);
    pe->enabled = false;
    pe->halted = false;
    pe->sq_base = 0;
    pe->sq_size = 0;
    pe->sq_head = 0;
    pe->sq_tail = 0;
    pe->cq_base = 0;
    pe->cq_size = 0;
    pe->cq_head = 0;
    pe->cq_tail = 0;
    memset(pe->perf, 0, sizeof(pe->perf));
    pe->perf_epoch_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    memset(&pe->run, 0, sizeof(pe->run));
    pe->in_job = false;
    pe->cq_stalled = false;
    s->irq_status &= ~NPU_IRQ_PE_CQ(pe->index);
}

static bool pe_reg_is_64bit(hwaddr reg)
{
    switch (reg) {
    case NPU_PE_DRAM_BASE:
    case NPU_PE_DRAM_SIZE:
    case NPU_PE_SQ_BASE:
    case NPU_PE_CQ_BASE:
        return true;
    default:
        return reg >= NPU_PE_PERF_FIRST && reg <= NPU_PE_PERF_LAST;
    }
}

static uint64_t pe_read64(NpuPe *pe, hwaddr reg)
{
    NpuState *s = pe_dev(pe);

    switch (reg) {
    case NPU_PE_DRAM_BASE:
        return pe_window_base(pe);
    case NPU_PE_DRAM_SIZE:
        return pe_window_size(pe);
    case NPU_PE_SQ_BASE:
        return pe->sq_base;
    case NPU_PE_CQ_BASE:
        return pe->cq_base;
    case NPU_PE_PERF_CYCLES:
        return npu_ns_to_cycles(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) -
                                pe->perf_epoch_ns);
    default:
        return pe->perf[NPU_PERF_INDEX(reg)];
    }
}

static uint32_t pe_status(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);
    /* Fused: PE1 reports the unit's activity. */
    NpuPe *unit = s->fused ? &s->pe[0] : pe;
    uint32_t v = 0;

    if (pe->enabled) {
        v |= NPU_PE_STATUS_ENABLED;
    }
    if (unit->busy) {
        v |= NPU_PE_STATUS_BUSY;
    }
    if (pe->halted) {
        v |= NPU_PE_STATUS_HALTED;
    }
    if (pe->cq_stalled) {
        v |= NPU_PE_STATUS_CQ_FULL;
    }
    return v;
}

/*
 * PE_PROGRESS: command cycles done, the running command's elapsed share
 * included. Frozen when no completion is on its way: hung (no timer and no
 * worker), stopped, or past the modelled end.
 */
static uint32_t pe_progress(NpuPe *pe)
{
    NpuState *s = pe_dev(pe);
    uint64_t done = pe->perf[NPU_PERF_INDEX(NPU_PE_PERF_TASK_CYCLES)];
    uint64_t ran;

    if (!pe->busy || npu_engine_stopped(s) ||
        (!pe->exec_async && !timer_pending(pe->cmd_timer))) {
        return (uint32_t)done;
    }
    ran = npu_ns_to_cycles(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - pe->cmd_start_ns);
    if (!pe->exec_async) {
        ran = MIN(ran, pe->run.cycles);
    }
    return (uint32_t)(done + ran);
}

static uint32_t pe_read32(NpuPe *pe, hwaddr reg)
{
    switch (reg) {
    case NPU_PE_CTRL:
        return pe->enabled ? NPU_PE_CTRL_ENABLE : 0;
    case NPU_PE_STATUS:
        return pe_status(pe);
    case NPU_PE_SQ_SIZE:
        return pe->sq_size;
    case NPU_PE_SQ_HEAD:
        return pe->sq_head;
    case NPU_PE_SQ_TAIL:
        return pe->sq_tail;
    case NPU_PE_CQ_SIZE:
        return pe->cq_size;
    case NPU_PE_CQ_HEAD:
        return pe->cq_head;
    case NPU_PE_CQ_TAIL:
        return pe->cq_tail;
    case NPU_PE_PROGRESS:
        return pe_progress(pe);
    default:
        return 0;       /* write-only (doorbell) and unassigned offsets */
    }
}

uint64_t npu_pe_read(NpuPe *pe, hwaddr reg, unsigned int size)
{
    hwaddr slot = reg & ~(hwaddr)7;

    if (pe_reg_is_64bit(slot)) {
        uint64_t v = pe_read64(pe, slot);

        if (size == 8) {
            return v;
        }
        return (reg & 4) ? v >> 32 : (uint32_t)v;
    }
    if (size == 8) {
        return pe_read32(pe, reg) | (uint64_t)pe_read32(pe, reg + 4) << 32;
    }
    return pe_read32(pe, reg);
}

static void pe_write_ctrl(NpuPe *pe, uint32_t val)
{
    NpuState *s = pe_dev(pe);

    if (val & NPU_PE_CTRL_RESET) {
        npu_pe_reset(pe);
        return;
    }
    if (!(val & NPU_PE_CTRL_ENABLE)) {
        /* Stop fetching; a command in flight still finishes. */
        pe->enabled = false;
        return;
    }
    if (pe->enabled) {
        return;
    }
    if (s->fused && pe->index == 1) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE1 cannot be enabled in fused mode\n");
        return;
    }
    if (pe->halted) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u is halted: reset it first\n",
                      pe->index);
        return;
    }
    if (!pe_rings_ok(pe)) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: bad ring configuration "
                      "(SQ 0x%" PRIx64 "/%u, CQ 0x%" PRIx64 "/%u)\n", pe->index,
                      pe->sq_base, pe->sq_size, pe->cq_base, pe->cq_size);
        pe_halt(pe, NPU_ERR_RING_CONFIG);
        return;
    }
    pe->enabled = true;
    pe_kick(pe);
}

static void pe_write_cq_head(NpuPe *pe, uint32_t val)
{
    NpuState *s = pe_dev(pe);

    if ((uint32_t)(pe->cq_tail - val) > (uint32_t)(pe->cq_tail - pe->cq_head)) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: CQ_HEAD %u outside [%u, %u]\n",
                      pe->index, val, pe->cq_head, pe->cq_tail);
        return;
    }
    pe->cq_head = val;
    if (pe->cq_stalled && pe_flush_completion(pe)) {
        pe_kick(pe);
    }
    /* A driver that raced with a new completion gets another message. */
    if (pe->cq_head != pe->cq_tail) {
        npu_raise_irq(s, NPU_IRQ_PE_CQ(pe->index));
    }
}

/* Ring bases and sizes: writable only while the PE is disabled and idle. */
static void pe_write_ring_config(NpuPe *pe, hwaddr reg, uint64_t val)
{
    if (pe->enabled || pe->busy) {
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: ring register 0x%" HWADDR_PRIx
                      " written while enabled\n", pe->index, reg);
        return;
    }
    if (reg == NPU_PE_SQ_BASE) {
        pe->sq_base = val;
    } else if (reg == NPU_PE_CQ_BASE) {
        pe->cq_base = val;
    } else if (reg == NPU_PE_SQ_SIZE) {
        pe->sq_size = (uint32_t)val;
    } else {
        pe->cq_size = (uint32_t)val;
    }
}

static void pe_write64(NpuPe *pe, hwaddr reg, uint64_t val)
{
    switch (reg) {
    case NPU_PE_SQ_BASE:
    case NPU_PE_CQ_BASE:
        pe_write_ring_config(pe, reg, val);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: write to read-only register 0x%"
                      HWADDR_PRIx "\n", pe->index, reg);
    }
}

static void pe_write32(NpuPe *pe, hwaddr reg, uint32_t val)
{
    NpuState *s = pe_dev(pe);

    switch (reg) {
    case NPU_PE_CTRL:
        pe_write_ctrl(pe, val);
        return;
    case NPU_PE_SQ_SIZE:
    case NPU_PE_CQ_SIZE:
        pe_write_ring_config(pe, reg, val);
        return;
    case NPU_PE_SQ_TAIL:
        pe->sq_tail = val;
        return;
    case NPU_PE_SQ_DOORBELL:
        if (s->fused && pe->index == 1) {
            return;     /* fused: only the unit's (PE0's) doorbell counts */
        }
        pe_kick(pe);
        return;
    case NPU_PE_CQ_HEAD:
        pe_write_cq_head(pe, val);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "npu: PE%u: write to read-only or unassigned "
                      "register 0x%" HWADDR_PRIx "\n", pe->index, reg);
    }
}

void npu_pe_write(NpuPe *pe, hwaddr reg, uint64_t val, unsigned int size)
{
    hwaddr slot = reg & ~(hwaddr)7;

    if (pe_reg_is_64bit(slot)) {
        uint64_t v = val;

        if (size == 4) {
            uint64_t old = pe_read64(pe, slot);

            v = (reg & 4) ? deposit64(old, 32, 32, val) : deposit64(old, 0, 32, val);
        }
        pe_write64(pe, slot, v);
        return;
    }
    pe_write32(pe, reg, (uint32_t)val);
    if (size == 8) {
        pe_write32(pe, reg + 4, (uint32_t)(val >> 32));
    }
}

void npu_pe_init(NpuState *s, unsigned int index)
{
    NpuPe *pe = &s->pe[index];

    pe->dev = s;
    pe->index = index;
    pe->cmd_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, pe_cmd_done, pe);
    pe->exec_bh = qemu_bh_new(pe_exec_bh, pe);
    qemu_mutex_init(&pe->worker_lock);
    qemu_cond_init(&pe->worker_cond);
    qemu_thread_create(&pe->worker, index ? "npu-pe1" : "npu-pe0", pe_worker, pe,
                       QEMU_THREAD_JOINABLE);
    pe->load = 0.0;
    pe->load_stamp_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    npu_pe_reset(pe);
}

static void pe_host_exec_ns_get(Object *obj, Visitor *v, const char *name, void *opaque,
                                Error **errp)
{
    uint64_t val = stat64_get(&NPU(obj)->pe[(uintptr_t)opaque].host_exec_ns);

    visit_type_uint64(v, name, &val, errp);
}

void npu_pe_class_init(ObjectClass *klass)
{
    uintptr_t i;

    for (i = 0; i < NPU_MAX_PES; i++) {
        g_autofree char *name = g_strdup_printf("pe%u-host-exec-ns", (unsigned int)i);

        object_class_property_add(klass, name, "uint64", pe_host_exec_ns_get, NULL, NULL,
                                  (void *)i);
        object_class_property_set_description(klass, name,
                                              "host nanoseconds spent running the PE's "
                                              "programs (not device time)");
    }
}

/* Ends the worker thread, after the program it may be running. */
static void pe_worker_stop(NpuPe *pe)
{
    qemu_mutex_lock(&pe->worker_lock);
    pe->worker_stop = true;
    qemu_cond_signal(&pe->worker_cond);
    qemu_mutex_unlock(&pe->worker_lock);
    qemu_thread_join(&pe->worker);
}

void npu_pe_fini(NpuPe *pe)
{
    /* The running program writes DRAM, which goes away next. */
    pe_worker_stop(pe);
    qemu_cond_destroy(&pe->worker_cond);
    qemu_mutex_destroy(&pe->worker_lock);
    qemu_bh_delete(pe->exec_bh);
    timer_free(pe->cmd_timer);
    pe->cmd_timer = NULL;
}
