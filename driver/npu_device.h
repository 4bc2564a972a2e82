/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ground floor of the npu driver: the device, its processing elements
 * (PEs) and the per-open-file context, MMIO helpers, the device's lifetime,
 * the registry of cards and every module parameter. Every other file builds
 * on this one; it calls none of them.
 *
 * Lifetime: struct npu_device is reference counted (kref). The PCI binding
 * holds one reference through devres (dropped after every other managed
 * resource of probe, the interrupts included, is released); every open file
 * and every BO holds one.
 *
 * Device gone: the hardware (BAR0, IRQs, rings) may be touched only inside
 * npu_dev_enter() ... npu_dev_exit(), an SRCU read section that fails to
 * begin once the device is gone (unplugged, or lost). Unplug marks it gone
 * and waits for every section to end (synchronize_srcu()) before it tears
 * the hardware down; sleepers inside a section wake on the gone mark
 * (npu_dev_is_gone()) and leave.
 *
 * Lock order, outermost first:
 *   npu_devices_lock -> npu_device.reset_lock -> npu_dev_enter() ->
 *   npu_device.owner_lock -> npu_pe.lock -> npu_file.jobs_lock
 * (npu_device.recovery_lock is a leaf spinlock, npu_device.bos_lock is
 * taken with no other driver lock held.)
 */
#ifndef NPU_DEVICE_H
#define NPU_DEVICE_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "npu.h"
#include "npu_compat.h"
#include "npu_hw.h"

#define NPU_DRIVER_NAME		"npu"
#define NPU_DRIVER_VERSION	"1.1.0"

/* Entries of each PE's submission and completion ring. */
#define NPU_SQ_ENTRIES		256
#define NPU_CQ_ENTRIES		256

/* Bounds for polling the hardware. */
#define NPU_RESET_TIMEOUT_US	(2 * USEC_PER_SEC)
#define NPU_POLL_INTERVAL_US	100

/* Device files of one card, in minor-number order. */
enum npu_node_kind {
	NPU_NODE_MGMT,		/* npuN_mgmt: information only */
	NPU_NODE_ALL,		/* npuN: both PEs, independent */
	NPU_NODE_PE0,		/* npuNpe0 */
	NPU_NODE_PE1,		/* npuNpe1 */
	NPU_NODE_FUSED,		/* npuNpe0-1: both PEs as one unit */
	NPU_NODE_COUNT
};

/*
 * Why a reset happened, mildest first (merged requests keep the most
 * severe); named in the log, the uevent (NPU_REASON) and the coredump.
 */
enum npu_reset_reason {
	NPU_REASON_MANUAL,		/* debugfs reset */
	NPU_REASON_CLOSE,		/* close timed out waiting for jobs */
	NPU_REASON_HALTED,		/* PE stopped on a ring error */
	NPU_REASON_BAD_COMPLETION,	/* completion entry for the wrong job */
	NPU_REASON_HANG,		/* no progress within job_timeout_ms */
	NPU_REASON_PCI_RESET,		/* FLR or PCI error recovery */
	NPU_REASON_FATAL,		/* fatal error interrupt */
	NPU_REASON_HEARTBEAT,		/* heartbeat stopped */
	NPU_REASON_LINK_LOSS,		/* device stopped answering */
	NPU_REASON_COUNT
};

#define NPU_MAX_DEVICES		64

struct dentry;
struct npu_device;
struct npu_file;
struct npu_job;

/*
 * What the driver thinks of the card (npu_device.state, sysfs device_state).
 * Opening a PE file while RESETTING gives EAGAIN, FAILED EIO, LOST ENODEV.
 */
enum npu_dev_state {
	NPU_STATE_READY,	/* accepts work */
	NPU_STATE_RESETTING,	/* recovery or a PCI reset in progress */
	NPU_STATE_FAILED,	/* a device reset did not bring it back */
	NPU_STATE_LOST,		/* MMIO reads all-ones: link down or surprise removal */
};

/*
 * Who holds a PE, for sysfs and for error messages. @pid is the pid in the
 * initial namespace, as sysfs readers outside the holder's container see it
 * (a holder in a container is pid 1 or so in its own namespace).
 */
struct npu_holder {
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

/**
 * struct npu_pe - one processing element and its rings
 * @ndev: owning device
 * @index: 0 or 1
 * @regs: BAR0 + NPU_PE_BASE(index)
 * @irq: Linux IRQ number of the completion vector
 * @dram_size: bytes of the PE's DRAM partition
 * @sq: submission ring, NPU_SQ_ENTRIES commands, DMA-coherent
 * @sq_dma: bus address of @sq
 * @cq: completion ring, NPU_CQ_ENTRIES entries, DMA-coherent
 * @cq_dma: bus address of @cq
 * @lock: protects @sq_tail, @cq_head, @next_job_id, @inflight, the contents
 *	  of @sq and the ring registers SQ_TAIL, CQ_HEAD, PE_CTRL. Taken from
 *	  the completion IRQ thread and from submit; may sleep. Lock order:
 *	  pe->lock, then npu_file.jobs_lock.
 * @sq_tail: producer index the driver last published
 * @cq_head: consumer index the driver last published
 * @next_job_id: hardware job id of the next job, never 0
 * @inflight: jobs pushed to the ring and not yet completed, oldest first
 * @inflight_count: length of @inflight, also read locklessly as a hint
 * @space_wq: woken when ring space is freed, a reset ends or the device dies
 * @stopped: under @lock: a reset is in progress, nothing may be pushed;
 *	     also read locklessly as a hint by npu_ring_space()
 * @stale_job_id: under @lock: jobs with lower ids were issued before the last
 *		  reset; their late completions are dropped, not trusted
 * @reset_count: resets of this PE (alone or with the device)
 * @missed_irqs: completions the watchdog found without their interrupt
 * @stale_completions: completions dropped because they predate a reset
 * @wd_sq_head: under @lock: SQ_HEAD at the last progress the watchdog saw
 * @wd_cq_tail: under @lock: CQ_TAIL at the last progress the watchdog saw
 * @wd_work_done: under @lock: PE_PROGRESS at the last progress the watchdog
 *		  saw (moves during a long command; always 0 before HW 1.1)
 * @wd_progress_at: under @lock: jiffies of the last progress (or of the
 *		    first job on an idle ring, or of the last reset)
 * @wd_cq_head: under @lock: @cq_head when completions were seen waiting
 * @wd_cq_waiting: under @lock: completions were waiting at the last tick
 * @irq_probe_armed: 1 while debugfs `floor` waits for a test interrupt
 *		     (NPU_REG_TEST_IRQ); the IRQ thread takes it to 0
 * @irq_probe_ns: ktime_get_ns() when the IRQ thread saw that interrupt
 * @irq_probe_done: completed by the IRQ thread for the waiting reader
 */
struct npu_pe {
	struct npu_device *ndev;
	unsigned int index;
	void __iomem *regs;
	int irq;
	u64 dram_size;

	struct npu_hw_cmd *sq;
	dma_addr_t sq_dma;
	struct npu_hw_completion *cq;
	dma_addr_t cq_dma;

	struct mutex lock;	/* see @lock above */
	u32 sq_tail;
	u32 cq_head;
	u64 next_job_id;
	struct list_head inflight;
	unsigned int inflight_count;
	wait_queue_head_t space_wq;
	bool stopped;
	u64 stale_job_id;

	atomic_t reset_count;
	atomic_t missed_irqs;
	atomic_t stale_completions;

	u32 wd_sq_head;
	u32 wd_cq_tail;
	u32 wd_work_done;
	unsigned long wd_progress_at;
	u32 wd_cq_head;
	bool wd_cq_waiting;

	atomic_t irq_probe_armed;
	u64 irq_probe_ns;
	struct completion irq_probe_done;
};

/**
 * struct npu_device - one NPU card
 * @ref: lifetime of this structure (probe and each open file)
 * @pdev: the PCI device, referenced until the last kref is dropped
 * @regs: BAR0 mapping; touched only inside npu_dev_enter()/npu_dev_exit()
 * @index: N of npuN
 * @gone_srcu: the read sections of npu_dev_enter(); unplug waits for them
 * @gone: set once (remove, or loss of the device), read in npu_dev_enter()
 *	  and by sleepers inside a section; never cleared
 * @owner_lock: protects @owned_mask, @releasing_mask, @holder, @fused and
 *		the DEV_MODE register; recovery holds it while it stops and
 *		restarts PEs, so the mode never changes under a reset
 * @fused: a fused file owns the PEs (DEV_MODE to restore after a reset)
 * @owned_mask: PEs owned by an open file (bit per PE)
 * @releasing_mask: PEs whose owner is being released
 * @holder: process that opened the file owning each PE
 * @pe: the processing elements
 * @pe_count: PEs the hardware reports
 * @hw_rev: HW_REV register
 * @dram_size: bytes of device DRAM
 * @clock_mhz: device clock
 * @caps: NPU_CAP_* bits
 * @fw_version: firmware version string (NUL-terminated)
 * @serial: serial number string (NUL-terminated)
 * @uuid: device UUID
 * @cdev: character devices (minors index * NPU_NODE_COUNT + kind)
 * @nodes: the class devices of the five files
 * @state: enum npu_dev_state; written under @reset_lock (and, for LOST, by
 *	   the recovery work only), read locklessly
 * @reset_lock: serialises every reset: recovery work, close, debugfs and
 *		the PCI reset/error callbacks. Outermost driver lock after
 *		npu_devices_lock.
 * @recovery_lock: protects @reset_request, @reset_reason, @guilty_mask and
 *		   @recovery_off (a spinlock: taken by anyone who detects a fault)
 * @reset_request: pending resets, NPU_RESET_* bits, collapsed into one run
 *		   of @reset_work
 * @reset_reason: enum npu_reset_reason of the most severe pending request
 * @guilty_mask: PEs whose oldest job caused the pending request (NPU_JOB_HANG)
 * @recovery_off: set by remove: no more work may be queued
 * @reset_work: the one recovery path (npu_recovery.c)
 * @watchdog: periodic check of job progress, heartbeat and fatal state
 * @job_timeout_ms: no progress for this long on a PE with work is a hang;
 *		    0 disables hang detection (sysfs job_timeout_ms)
 * @wd_heartbeat: watchdog only: HEARTBEAT at its last change
 * @wd_heartbeat_at: watchdog only: jiffies of that change
 * @heartbeat_resets: device resets for a stopped heartbeat since it last
 *		      advanced; past a limit the device is declared FAILED
 * @device_resets: whole-device resets
 * @debugfs: debugfs directory of the device, or NULL
 * @pci_quiesced: under @reset_lock: a PCI reset or error stopped the device
 *		  and its resume/reset_done callback must restart it
 */
struct npu_device {
	struct kref ref;
	struct pci_dev *pdev;
	void __iomem *regs;
	unsigned int index;

	struct srcu_struct gone_srcu;
	bool gone;

	struct mutex owner_lock;	/* see @owner_lock above */
	u32 owned_mask;
	/*
	 * Every BO DMA-mapped for this device, so remove can unmap them while
	 * files still hold them (the DMA API forbids mappings that outlive the
	 * driver's binding). bos_lock protects the list and npu_bo.dma_unmapped;
	 * taken without any other driver lock held.
	 */
	struct mutex bos_lock;
	struct list_head bos;
	u32 releasing_mask;
	struct npu_holder holder[NPU_MAX_PES];
	bool fused;

	struct npu_pe pe[NPU_MAX_PES];
	unsigned int pe_count;
	u32 hw_rev;
	u64 dram_size;
	u32 clock_mhz;
	u32 caps;
	char fw_version[NPU_ID_STRING_LEN + 1];
	char serial[NPU_ID_STRING_LEN + 1];
	u8 uuid[NPU_UUID_LEN];

	struct cdev *cdev;
	struct device *nodes[NPU_NODE_COUNT];

	int state;
	struct mutex reset_lock;	/* see @reset_lock above */
	spinlock_t recovery_lock;	/* see @recovery_lock above */
	u32 reset_request;
	int reset_reason;
	u32 guilty_mask;
	bool recovery_off;
	struct work_struct reset_work;
	struct delayed_work watchdog;
	unsigned int job_timeout_ms;
	u32 wd_heartbeat;
	unsigned long wd_heartbeat_at;
	unsigned int heartbeat_resets;
	atomic_t device_resets;
	struct dentry *debugfs;
	bool pci_quiesced;
};

/**
 * struct npu_file - state of one open device file
 * @ref: the open file (dropped at release) and each of its jobs
 * @ndev: the device (holds a reference)
 * @kind: which device file
 * @pe_mask: PEs this file owns (0 for the management file)
 * @fused: the PEs run as one unit on PE0's ring
 * @bos: buffer objects by handle (the xarray's own lock protects it)
 * @bo_count: handles in @bos, charged against max_bos_per_file
 * @bo_bytes: bytes of the BOs in @bos, charged against max_bo_mb_per_file
 * @jobs_lock: protects @jobs' entries and marks, @job_count,
 *	       @inflight_count, @next_seqno and the results of the jobs on
 *	       @jobs. Nests inside npu_pe.lock.
 * @jobs: uncollected jobs (in flight or finished) by seqno, each holding a
 *	  job reference; finished ones carry the mark NPU_JOB_DONE
 * @job_count: jobs reserved or on @jobs, charged against max_jobs_per_file
 * @inflight_count: of those, jobs not finished yet
 * @next_seqno: sequence number of the next job, starting at 1
 * @finished_events: bumped (under @jobs_lock) whenever a job finishes, so
 *		     sleepers can test for progress without taking the lock
 * @wq: woken when a job of this file finishes
 * @client_id: unique among the files opened since the module loaded (fdinfo)
 * @busy_ns: per PE, device time (start to end timestamp) of this file's
 *	     finished jobs; a fused job counts on both PEs. Atomic: updated
 *	     under the PE's lock, read by fdinfo without it.
 * @jobs_finished: jobs of this file that finished, whatever their status
 */
struct npu_file {
	struct kref ref;
	struct npu_device *ndev;
	enum npu_node_kind kind;
	u32 pe_mask;
	bool fused;

	struct xarray bos;
	atomic_t bo_count;
	atomic64_t bo_bytes;

	struct mutex jobs_lock;	/* see @jobs_lock above */
	struct xarray jobs;
	unsigned int job_count;
	unsigned int inflight_count;
	u64 next_seqno;
	unsigned long finished_events;
	wait_queue_head_t wq;

	u64 client_id;
	atomic64_t busy_ns[NPU_MAX_PES];
	atomic64_t jobs_finished;
};

static inline u32 npu_rd32(struct npu_device *ndev, u32 reg)
{
	return readl(ndev->regs + reg);
}

static inline void npu_wr32(struct npu_device *ndev, u32 reg, u32 val)
{
	writel(val, ndev->regs + reg);
}

static inline u32 npu_pe_rd32(struct npu_pe *pe, u32 reg)
{
	return readl(pe->regs + reg);
}

static inline void npu_pe_wr32(struct npu_pe *pe, u32 reg, u32 val)
{
	writel(val, pe->regs + reg);
}

static inline struct device *npu_dev(struct npu_device *ndev)
{
	return &ndev->pdev->dev;
}

/* Device gone: see the top of this file. */
bool npu_dev_enter(struct npu_device *ndev, int *idx);
void npu_dev_exit(struct npu_device *ndev, int idx);
void npu_dev_mark_gone(struct npu_device *ndev);
void npu_dev_unplug(struct npu_device *ndev);

/* True once the device is gone; for sleepers inside npu_dev_enter(). */
static inline bool npu_dev_is_gone(struct npu_device *ndev)
{
	return READ_ONCE(ndev->gone);
}

/* Lifetime of a file's context (npu_file.c opens it) */
struct npu_file *npu_file_get(struct npu_file *nfile);
void npu_file_put(struct npu_file *nfile);

/* Lifetime and registry */
struct npu_device *npu_device_create(struct pci_dev *pdev);
void npu_device_get(struct npu_device *ndev);
void npu_device_put(struct npu_device *ndev);
int npu_device_register(struct npu_device *ndev);
void npu_device_unregister(struct npu_device *ndev);
struct npu_device *npu_device_lookup(unsigned int index);
bool npu_devices_empty(void);

const char *npu_node_format(enum npu_node_kind kind);
u32 npu_node_pe_mask(enum npu_node_kind kind);
const char *npu_reset_reason_name(enum npu_reset_reason reason);

/* Module parameters (npu_device.c) */
extern unsigned int npu_max_jobs_per_file;
extern unsigned int npu_release_timeout_ms;
extern unsigned int npu_max_bos_per_file;
extern unsigned int npu_max_bo_mb_per_file;
extern unsigned int npu_job_timeout_ms;
extern unsigned int npu_heartbeat_timeout_ms;

#endif /* NPU_DEVICE_H */
