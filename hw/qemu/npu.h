/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU model of the NPU (hw/npu_hw.h, docs/hardware.md): shared state of
 * the PCI function (npu.c) and its processing-element engine (npu_pe.c).
 *
 * Everything runs in QEMU's main loop under the BQL: MMIO handlers, the
 * per-PE command timers and the reset timer. No other locking is needed.
 */
#ifndef HW_MISC_NPU_H
#define HW_MISC_NPU_H

#include "hw/pci/pci.h"
#include "qemu/stats64.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "qom/object.h"

#include "npu_hw.h"
#include "isa_exec.h"

#define TYPE_NPU "npu"
OBJECT_DECLARE_SIMPLE_TYPE(NpuState, NPU)

#define NPU_PERF_COUNTERS   ((NPU_PE_PERF_LAST - NPU_PE_PERF_FIRST) / 8 + 1)
#define NPU_PERF_INDEX(reg) (((reg) - NPU_PE_PERF_FIRST) / 8)

/*
 * Fault injection (npu_fault.c, docs/hardware.md "Fault injection"): the
 * FAULT_* registers and the QOM properties of the same name. An arming keeps
 * the PE mask, count and delay of its moment, per fault.
 */
#define NPU_FAULT_KINDS     8

typedef struct NpuFaultArming {
    uint32_t left;              /* firings left; 0 = until disarmed */
    uint32_t pe_mask;
    uint32_t delay_us;
} NpuFaultArming;

typedef struct NpuFaults {
    bool enabled;               /* property faults=on */
    uint32_t armed;             /* NPU_FAULT_* */
    uint32_t pe_mask;           /* registers: values for the next arming */
    uint32_t count;
    uint32_t delay_us;
    uint32_t fired;             /* since power-on */
    NpuFaultArming arming[NPU_FAULT_KINDS];
} NpuFaults;

/* State of the command a PE is executing (its data work is already done). */
typedef struct NpuCmdRun {
    uint8_t opcode;
    bool end_of_job;
    uint64_t job_id;
    uint32_t status;            /* enum npu_hw_status */
    uint32_t insn_index;        /* EXEC: failing instruction */
    uint64_t cycles;            /* modelled duration */
    uint64_t tensor_cycles;     /* EXEC: part spent in instructions */
    uint64_t instructions;      /* EXEC: instructions retired */
    uint64_t dma_bytes;         /* DMA: bytes moved */
    uint64_t late_cycles;       /* LATE fault: extra device time of the command */
} NpuCmdRun;

/*
 * A program handed to a PE's worker thread because it is too big to run
 * inside the main loop. The worker touches nothing but this and DRAM.
 */
typedef struct NpuExecJob {
    uint8_t *mem;
    uint64_t mem_size;
    uint64_t prog_addr;
    uint64_t prog_len;
    uint64_t cycle_budget;
    unsigned int lanes;
    uint64_t generation;        /* NpuPe.generation when submitted */
    struct npu_isa_result res;  /* state to resume from, then the result */
} NpuExecJob;

typedef struct NpuPe {
    NpuState *dev;
    unsigned int index;

    /* Registers */
    bool enabled;               /* PE_CTRL.ENABLE */
    bool halted;                /* cleared only by a PE or device reset */
    uint64_t sq_base;
    uint32_t sq_size;
    uint32_t sq_head;
    uint32_t sq_tail;
    uint64_t cq_base;
    uint32_t cq_size;
    uint32_t cq_head;
    uint32_t cq_tail;
    uint64_t perf[NPU_PERF_COUNTERS];   /* PERF_CYCLES slot unused: computed */
    int64_t perf_epoch_ns;      /* virtual time of the last PE reset */

    /*
     * Command in progress: busy from its start until cmd_timer fires. An
     * EXEC run by the worker (exec_async) has its timer armed only once
     * the worker is done: at cmd_start_ns + its modelled time, or at once
     * if the host took longer than that.
     */
    bool busy;
    bool exec_async;
    int64_t cmd_start_ns;
    QEMUTimer *cmd_timer;
    NpuCmdRun run;
    uint64_t generation;        /* +1 on PE reset: late worker results are dropped */

    /* Worker thread for big programs; `worker_lock` protects the job slots. */
    QemuThread worker;
    QemuMutex worker_lock;
    QemuCond worker_cond;
    bool worker_stop;           /* under worker_lock */
    bool job_queued;            /* under worker_lock: `queued` waits for the worker */
    bool job_done;              /* under worker_lock: `done` waits for exec_bh */
    NpuExecJob queued;
    NpuExecJob done;
    QEMUBH *exec_bh;            /* main loop side of a finished job */

    /* Job in progress (commands up to END_OF_JOB). */
    bool in_job;
    uint32_t job_cmd_index;
    uint64_t job_start_ts;
    /*
     * Modelled device time of the job so far: the cycles of the commands
     * it executed (skipped ones cost nothing). Its completion reports
     * end_ts = job_start_ts + job_cycles, whatever the host took.
     */
    uint64_t job_cycles;
    /* end_ts of the PE's last job: the next job starts no earlier. Never reset. */
    uint64_t ts_cursor;
    uint32_t job_status;        /* first failure; later commands are skipped */
    uint32_t job_info;

    /* A finished job's completion waiting for CQ space (status CQ_FULL). */
    bool cq_stalled;
    uint64_t stalled_job_id;
    uint32_t stalled_status;
    uint32_t stalled_info;
    uint64_t stalled_start_ts;
    uint64_t stalled_end_ts;

    /* Exponential average of the busy fraction, for the sensors. */
    double load;
    int64_t load_stamp_ns;

    /*
     * Host time spent computing this PE's programs (main loop and worker),
     * since power-on: QOM property pe<N>-host-exec-ns. Device time is the
     * modelled cycles whatever this is; comparing the two shows whether the
     * emulator or the modelled device is the limit.
     */
    Stat64 host_exec_ns;
} NpuPe;

struct NpuState {
    PCIDevice parent_obj;

    MemoryRegion regs_bar;      /* BAR0: regs under link_down_mr[0] */
    MemoryRegion regs;
    MemoryRegion dram_bar;      /* BAR2: dram under link_down_mr[1] */
    MemoryRegion dram;
    MemoryRegion link_down_mr[3];   /* BAR0, BAR2, BAR4: enabled while the link is down */
    uint8_t *dram_ptr;

    /* Properties */
    uint64_t dram_size;
    uint32_t clock_mhz;
    bool faults_on;
    char *serial;
    char *fw_version;

    char serial_str[NPU_ID_STRING_LEN];
    char fw_version_str[NPU_ID_STRING_LEN];
    uint8_t uuid[NPU_UUID_LEN];

    int64_t power_on_ns;        /* DEV_CLOCK and HEARTBEAT run from here */
    bool ready;                 /* DEV_STATUS.READY; false during a reset */
    bool fatal;                 /* DEV_STATUS.FATAL: the PEs stop */
    bool link_down;             /* BARs read ~0, no DMA, no MSI-X, until PCI reset */
    bool heartbeat_stopped;     /* HEARTBEAT reads heartbeat_frozen */
    uint32_t heartbeat_frozen;
    bool fused;                 /* DEV_MODE.FUSED */
    bool in_command;            /* a command's data work (DMA) is running */
    uint32_t err_cause;
    uint32_t irq_status;
    uint32_t irq_enable;
    QEMUTimer *reset_timer;
    NpuFaults faults;

    NpuPe pe[NPU_MAX_PES];
};

/* npu.c */
uint64_t npu_dev_clock(NpuState *s);
uint64_t npu_ns_to_cycles(NpuState *s, int64_t ns);
void npu_raise_irq(NpuState *s, uint32_t bits);
void npu_raise_error(NpuState *s, uint32_t cause);
void npu_stop_heartbeat(NpuState *s);
void npu_go_fatal(NpuState *s);
void npu_set_link_down(NpuState *s, bool down);

/* The engine does nothing (no fetch, DMA, completion) while FATAL or link down. */
static inline bool npu_engine_stopped(NpuState *s)
{
    return s->fatal || s->link_down;
}

/* npu_fault.c */
void npu_faults_init(NpuState *s);
bool npu_fault_hit(NpuState *s, uint32_t fault, NpuPe *pe, uint32_t *delay_us);
void npu_faults_fire_device(NpuState *s);
bool npu_fault_reg(hwaddr addr);
uint32_t npu_fault_read(NpuState *s, hwaddr addr);
void npu_fault_write(NpuState *s, hwaddr addr, uint32_t val);
void npu_faults_class_init(ObjectClass *klass);
void npu_pe_class_init(ObjectClass *klass);

/* npu_pe.c */
void npu_pe_init(NpuState *s, unsigned int index);
void npu_pe_fini(NpuPe *pe);
void npu_pe_reset(NpuPe *pe);
uint64_t npu_pe_read(NpuPe *pe, hwaddr reg, unsigned int size);
void npu_pe_write(NpuPe *pe, hwaddr reg, uint64_t val, unsigned int size);
double npu_pe_load(NpuPe *pe, int64_t now_ns);

#endif /* HW_MISC_NPU_H */
