/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the npu driver, under events/npu/ in tracefs (see "Trace
 * events" in docs/driver.md). npu_trace.c instantiates them; the job layer,
 * recovery and remove fire them.
 *
 * Every record names the card (N of npuN). Job records also name the PE
 * whose ring runs the job (PE0 for a fused job), the submitting file's
 * client id (fdinfo's drm-client-id), the job's seqno in that file (what
 * SUBMIT returned and WAIT takes) and its hardware job id on the PE's ring
 * (as in devcoredumps). Timestamps in fields are the device's clock
 * (DEV_CLOCK cycles, as WAIT reports them); the record's own timestamp is
 * the trace clock's, when the driver saw the event.
 *
 * The device reports when a job started only in the job's completion entry,
 * so npu_job_start is recorded when the driver consumes that entry, just
 * before npu_job_done, and only for jobs the device ran (start_ts != 0).
 *
 * There is no fence event: jobs have no dma_fence yet. When they get one,
 * its signalling belongs here too (and the kernel's own events/dma_fence/
 * will see it).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM npu

#if !defined(NPU_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define NPU_TRACE_H

#include <linux/tracepoint.h>

#include "npu_device.h"
#include "npu_ring.h"

/* Enum values in the format files are numbers, so tools can decode them. */
TRACE_DEFINE_ENUM(NPU_JOB_OK);
TRACE_DEFINE_ENUM(NPU_JOB_BAD_DESC);
TRACE_DEFINE_ENUM(NPU_JOB_DRAM_OOB);
TRACE_DEFINE_ENUM(NPU_JOB_DMA_FAULT);
TRACE_DEFINE_ENUM(NPU_JOB_TIMEOUT);
TRACE_DEFINE_ENUM(NPU_JOB_HANG);
TRACE_DEFINE_ENUM(NPU_JOB_CANCELLED);
TRACE_DEFINE_ENUM(NPU_JOB_DEVICE_LOST);

TRACE_DEFINE_ENUM(NPU_REASON_MANUAL);
TRACE_DEFINE_ENUM(NPU_REASON_CLOSE);
TRACE_DEFINE_ENUM(NPU_REASON_HALTED);
TRACE_DEFINE_ENUM(NPU_REASON_BAD_COMPLETION);
TRACE_DEFINE_ENUM(NPU_REASON_HANG);
TRACE_DEFINE_ENUM(NPU_REASON_PCI_RESET);
TRACE_DEFINE_ENUM(NPU_REASON_FATAL);
TRACE_DEFINE_ENUM(NPU_REASON_HEARTBEAT);
TRACE_DEFINE_ENUM(NPU_REASON_LINK_LOSS);

/* The names WAIT's callers know (npuctl, docs/driver.md). */
#define npu_trace_status(status) __print_symbolic(status,			\
	{ NPU_JOB_OK, "ok" }, { NPU_JOB_BAD_DESC, "bad_desc" },			\
	{ NPU_JOB_DRAM_OOB, "dram_oob" }, { NPU_JOB_DMA_FAULT, "dma_fault" },	\
	{ NPU_JOB_TIMEOUT, "timeout" }, { NPU_JOB_HANG, "hang" },		\
	{ NPU_JOB_CANCELLED, "cancelled" }, { NPU_JOB_DEVICE_LOST, "device_lost" })

/* The names of the uevent's NPU_REASON (npu_reset_reason_name()). */
#define npu_trace_reason(reason) __print_symbolic(reason,			\
	{ NPU_REASON_MANUAL, "manual" }, { NPU_REASON_CLOSE, "close" },		\
	{ NPU_REASON_HALTED, "halted" },					\
	{ NPU_REASON_BAD_COMPLETION, "bad_completion" },			\
	{ NPU_REASON_HANG, "hang" }, { NPU_REASON_PCI_RESET, "pci_reset" },	\
	{ NPU_REASON_FATAL, "fatal" }, { NPU_REASON_HEARTBEAT, "heartbeat" },	\
	{ NPU_REASON_LINK_LOSS, "link_loss" })

/* SUBMIT put the job on its PE's ring (under the PE's lock). */
TRACE_EVENT(npu_job_submit,
	    TP_PROTO(const struct npu_file *nfile, const struct npu_ring_job *rj, u64 seqno),
	    TP_ARGS(nfile, rj, seqno),
	    TP_STRUCT__entry(__field(u32, card)
			     __field(u32, pe)
			     __field(u64, client)
			     __field(u64, seqno)
			     __field(u64, job_id)
			     __field(u32, cmds)),
	    TP_fast_assign(__entry->card = nfile->ndev->index;
			   __entry->pe = rj->pe->index;
			   __entry->client = nfile->client_id;
			   __entry->seqno = seqno;
			   __entry->job_id = rj->hw_job_id;
			   __entry->cmds = rj->cmd_count;),
	    TP_printk("card=%u pe=%u client=%llu seqno=%llu job=%llu cmds=%u",
		      __entry->card, __entry->pe, __entry->client, __entry->seqno,
		      __entry->job_id, __entry->cmds)
);

/* The device started the job at start_ts (recorded at its completion). */
TRACE_EVENT(npu_job_start,
	    TP_PROTO(const struct npu_file *nfile, const struct npu_ring_job *rj, u64 seqno,
		     u64 start_ts),
	    TP_ARGS(nfile, rj, seqno, start_ts),
	    TP_STRUCT__entry(__field(u32, card)
			     __field(u32, pe)
			     __field(u64, client)
			     __field(u64, seqno)
			     __field(u64, job_id)
			     __field(u64, start_ts)),
	    TP_fast_assign(__entry->card = nfile->ndev->index;
			   __entry->pe = rj->pe->index;
			   __entry->client = nfile->client_id;
			   __entry->seqno = seqno;
			   __entry->job_id = rj->hw_job_id;
			   __entry->start_ts = start_ts;),
	    TP_printk("card=%u pe=%u client=%llu seqno=%llu job=%llu start_ts=%llu",
		      __entry->card, __entry->pe, __entry->client, __entry->seqno,
		      __entry->job_id, __entry->start_ts)
);

/*
 * The job left the ring with the result WAIT will report: the device's
 * completion, or the driver's verdict (hang, cancelled, device_lost; then
 * both timestamps are 0).
 */
TRACE_EVENT(npu_job_done,
	    TP_PROTO(const struct npu_file *nfile, const struct npu_ring_job *rj, u64 seqno,
		     const struct npu_ring_result *res),
	    TP_ARGS(nfile, rj, seqno, res),
	    TP_STRUCT__entry(__field(u32, card)
			     __field(u32, pe)
			     __field(u64, client)
			     __field(u64, seqno)
			     __field(u64, job_id)
			     __field(u32, status)
			     __field(u32, info)
			     __field(u64, start_ts)
			     __field(u64, end_ts)),
	    TP_fast_assign(__entry->card = nfile->ndev->index;
			   __entry->pe = rj->pe->index;
			   __entry->client = nfile->client_id;
			   __entry->seqno = seqno;
			   __entry->job_id = rj->hw_job_id;
			   __entry->status = res->status;
			   __entry->info = res->info;
			   __entry->start_ts = res->start_ts;
			   __entry->end_ts = res->end_ts;),
	    TP_printk("card=%u pe=%u client=%llu seqno=%llu job=%llu status=%s info=%#x start_ts=%llu end_ts=%llu",
		      __entry->card, __entry->pe, __entry->client, __entry->seqno,
		      __entry->job_id, npu_trace_status(__entry->status), __entry->info,
		      __entry->start_ts, __entry->end_ts)
);

/*
 * A reset is over (after the records of the jobs it finished): of one PE,
 * or of the whole device (pe = -1). ret is 0 when the device accepts work
 * again; -ENODEV: the device is lost (reason link_loss); other errors: a
 * PE that did not restart (a device reset follows) or a device now failed.
 */
TRACE_EVENT(npu_reset,
	    TP_PROTO(const struct npu_device *ndev, int pe, enum npu_reset_reason reason, int ret),
	    TP_ARGS(ndev, pe, reason, ret),
	    TP_STRUCT__entry(__field(u32, card)
			     __field(s32, pe)
			     __field(u32, reason)
			     __field(s32, ret)),
	    TP_fast_assign(__entry->card = ndev->index;
			   __entry->pe = pe;
			   __entry->reason = reason;
			   __entry->ret = ret;),
	    TP_printk("card=%u pe=%d reason=%s ret=%d", __entry->card, __entry->pe,
		      npu_trace_reason(__entry->reason), __entry->ret)
);

/*
 * The card is being removed (hot-unplug, unbind, rmmod): no file operation
 * touches it any more, and the jobs still in flight are about to finish as
 * device_lost.
 */
TRACE_EVENT(npu_unplug,
	    TP_PROTO(const struct npu_device *ndev, unsigned int jobs),
	    TP_ARGS(ndev, jobs),
	    TP_STRUCT__entry(__field(u32, card)
			     __field(u32, jobs)),
	    TP_fast_assign(__entry->card = ndev->index;
			   __entry->jobs = jobs;),
	    TP_printk("card=%u jobs=%u", __entry->card, __entry->jobs)
);

#endif /* NPU_TRACE_H */

/* Outside the guard: define_trace.h reads this file again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE npu_trace
#include <trace/define_trace.h>
