// SPDX-License-Identifier: GPL-2.0
/*
 * Device coredumps. Every reset caused by a device fault leaves a text dump
 * in /sys/class/devcoredump/devcdN/data (read it, then write anything to it
 * to free it; the kernel drops it after five minutes): the reason, the
 * global registers, per PE its registers, the driver's ring state, the jobs
 * in flight and the commands of the oldest (guilty) one.
 */

#include <linux/devcoredump.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/vmalloc.h>

#include "npu_coredump.h"
#include "npu_job.h"

#define NPU_COREDUMP_SIZE	(32 * 1024)

/* Jobs listed per PE, oldest first; the first one's commands are shown. */
#define NPU_COREDUMP_MAX_JOBS	32

struct npu_dump {
	char *buf;
	size_t len;
};

static __printf(2, 3) void npu_dump_printf(struct npu_dump *d, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	d->len += vscnprintf(d->buf + d->len, NPU_COREDUMP_SIZE - d->len, fmt, args);
	va_end(args);
}

static const struct {
	const char *name;
	u32 reg;
} npu_dump_global_regs[] = {
	{ "DEV_STATUS", NPU_REG_DEV_STATUS },
	{ "DEV_MODE", NPU_REG_DEV_MODE },
	{ "ERR_CAUSE", NPU_REG_ERR_CAUSE },
	{ "IRQ_STATUS", NPU_REG_IRQ_STATUS },
	{ "IRQ_ENABLE", NPU_REG_IRQ_ENABLE },
	{ "HEARTBEAT", NPU_REG_HEARTBEAT },
	{ "FAULT_ARM", NPU_REG_FAULT_ARM },
	{ "FAULT_FIRED", NPU_REG_FAULT_FIRED },
}, npu_dump_pe_regs[] = {
	{ "PE_CTRL", NPU_PE_CTRL },
	{ "PE_STATUS", NPU_PE_STATUS },
	{ "SQ_SIZE", NPU_PE_SQ_SIZE },
	{ "SQ_HEAD", NPU_PE_SQ_HEAD },
	{ "SQ_TAIL", NPU_PE_SQ_TAIL },
	{ "CQ_SIZE", NPU_PE_CQ_SIZE },
	{ "CQ_HEAD", NPU_PE_CQ_HEAD },
	{ "CQ_TAIL", NPU_PE_CQ_TAIL },
};

static void npu_dump_job(struct npu_dump *d, const struct npu_job *job, bool commands)
{
	unsigned int i;

	npu_dump_printf(d, "  job seqno=%llu hw_job_id=%llu cmds=%u\n",
			job->seqno, job->rj.hw_job_id, job->cmd_count);
	if (!commands)
		return;
	for (i = 0; i < job->cmd_count; i++) {
		const struct npu_hw_cmd *c = &job->cmds[i].hw;

		npu_dump_printf(d, "    cmd[%u] opcode=%u flags=%#x sg_count=%u sg_addr=%#llx",
				i, c->opcode, c->flags, le32_to_cpu(c->sg_count),
				le64_to_cpu(c->sg_addr));
		npu_dump_printf(d, " dram_addr=%#llx length=%#llx cycle_budget=%llu\n",
				le64_to_cpu(c->dram_addr), le64_to_cpu(c->length),
				le64_to_cpu(c->cycle_budget));
	}
}

static void npu_dump_pe(struct npu_dump *d, struct npu_pe *pe, bool guilty)
{
	const struct npu_ring_job *rj;
	unsigned int i, n = 0;

	npu_dump_printf(d, "pe%u:%s\n", pe->index, guilty ? " guilty" : "");
	for (i = 0; i < ARRAY_SIZE(npu_dump_pe_regs); i++)
		npu_dump_printf(d, "  %s=%#x\n", npu_dump_pe_regs[i].name,
				npu_pe_rd32(pe, npu_dump_pe_regs[i].reg));
	npu_dump_printf(d, "  PERF_COMMANDS=%llu PERF_JOBS=%llu PERF_ERRORS=%llu\n",
			readq(pe->regs + NPU_PE_PERF_COMMANDS), readq(pe->regs + NPU_PE_PERF_JOBS),
			readq(pe->regs + NPU_PE_PERF_ERRORS));

	mutex_lock(&pe->lock);
	npu_dump_printf(d, "  driver: sq_tail=%u cq_head=%u next_job_id=%llu stale_job_id=%llu",
			pe->sq_tail, pe->cq_head, pe->next_job_id, pe->stale_job_id);
	npu_dump_printf(d, " inflight=%u stopped=%d\n", pe->inflight_count, pe->stopped);
	list_for_each_entry(rj, &pe->inflight, node) {
		if (n++ == NPU_COREDUMP_MAX_JOBS) {
			npu_dump_printf(d, "  ...\n");
			break;
		}
		npu_dump_job(d, container_of(rj, struct npu_job, rj), n == 1);
	}
	mutex_unlock(&pe->lock);
}

/**
 * npu_coredump - record the state of the device before a reset
 * @ndev: the device; the caller holds reset_lock, is inside npu_dev_enter()
 *	  and holds no PE lock
 * @pe_mask: PEs to record
 * @reason: why the device is reset
 * @guilty_mask: PEs whose oldest job is blamed
 */
void npu_coredump(struct npu_device *ndev, u32 pe_mask, enum npu_reset_reason reason,
		  u32 guilty_mask)
{
	struct npu_dump d = { };
	unsigned int i;

	d.buf = vzalloc(NPU_COREDUMP_SIZE);
	if (!d.buf)
		return;

	npu_dump_printf(&d, "npu coredump\ndriver: %s\ndevice: npu%u %s\nreason: %s\n",
			NPU_DRIVER_VERSION, ndev->index, pci_name(ndev->pdev),
			npu_reset_reason_name(reason));
	npu_dump_printf(&d, "hw_rev: %u.%u\nfirmware: %s\nserial: %s\njob_timeout_ms: %u\n",
			ndev->hw_rev >> 16, ndev->hw_rev & 0xffff, ndev->fw_version, ndev->serial,
			READ_ONCE(ndev->job_timeout_ms));
	npu_dump_printf(&d, "fused: %d\ndevice_resets: %d\n", READ_ONCE(ndev->fused),
			atomic_read(&ndev->device_resets));
	for (i = 0; i < ARRAY_SIZE(npu_dump_global_regs); i++)
		npu_dump_printf(&d, "%s=%#x\n", npu_dump_global_regs[i].name,
				npu_rd32(ndev, npu_dump_global_regs[i].reg));
	for (i = 0; i < ndev->pe_count; i++)
		if (pe_mask & BIT(i))
			npu_dump_pe(&d, &ndev->pe[i], guilty_mask & BIT(i));

	/* devcoredump owns and vfree()s the buffer from here. */
	dev_coredumpv(npu_dev(ndev), d.buf, d.len, GFP_KERNEL);
}
