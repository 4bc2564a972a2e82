// SPDX-License-Identifier: GPL-2.0
/*
 * Submission and completion rings of one PE.
 *
 * The driver produces commands at sq_tail and publishes it through SQ_TAIL
 * and the doorbell; the device consumes them in order and advances SQ_HEAD.
 * Each finished job yields one completion entry at CQ_TAIL; the driver
 * consumes them in its IRQ thread and publishes CQ_HEAD. All indices are
 * free running; an entry is index & (entries - 1).
 */

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/interrupt.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>

#include "npu_ring.h"

int npu_ring_init(struct npu_pe *pe)
{
	struct device *dev = npu_dev(pe->ndev);

	pe->sq = dmam_alloc_coherent(dev, NPU_SQ_ENTRIES * sizeof(*pe->sq),
				     &pe->sq_dma, GFP_KERNEL);
	pe->cq = dmam_alloc_coherent(dev, NPU_CQ_ENTRIES * sizeof(*pe->cq),
				     &pe->cq_dma, GFP_KERNEL);
	if (!pe->sq || !pe->cq)
		return -ENOMEM;

	mutex_init(&pe->lock);
	init_completion(&pe->irq_probe_done);
	INIT_LIST_HEAD(&pe->inflight);
	pe->next_job_id = 1;
	return 0;
}

ALLOW_ERROR_INJECTION(npu_ring_init, ERRNO);

/* Program the ring registers and adopt the device's current indices. */
void npu_ring_program_locked(struct npu_pe *pe)
{
	lockdep_assert_held(&pe->lock);

	writeq(pe->sq_dma, pe->regs + NPU_PE_SQ_BASE);
	npu_pe_wr32(pe, NPU_PE_SQ_SIZE, NPU_SQ_ENTRIES);
	writeq(pe->cq_dma, pe->regs + NPU_PE_CQ_BASE);
	npu_pe_wr32(pe, NPU_PE_CQ_SIZE, NPU_CQ_ENTRIES);

	pe->sq_tail = npu_pe_rd32(pe, NPU_PE_SQ_HEAD);
	npu_pe_wr32(pe, NPU_PE_SQ_TAIL, pe->sq_tail);
	pe->cq_head = npu_pe_rd32(pe, NPU_PE_CQ_TAIL);
	npu_pe_wr32(pe, NPU_PE_CQ_HEAD, pe->cq_head);
}

int npu_ring_enable_locked(struct npu_pe *pe)
{
	u32 status;

	lockdep_assert_held(&pe->lock);

	npu_pe_wr32(pe, NPU_PE_CTRL, NPU_PE_CTRL_ENABLE);
	status = npu_pe_rd32(pe, NPU_PE_STATUS);
	if (status == ~0u || (status & NPU_PE_STATUS_HALTED) ||
	    !(status & NPU_PE_STATUS_ENABLED)) {
		dev_err(npu_dev(pe->ndev), "PE%u did not start: status %#x, error cause %u\n",
			pe->index, status, npu_rd32(pe->ndev, NPU_REG_ERR_CAUSE));
		return -EIO;
	}
	return 0;
}

/* Program the rings and enable the PE. Called at probe, before any file. */
int npu_ring_start(struct npu_pe *pe)
{
	int ret;

	mutex_lock(&pe->lock);
	npu_ring_program_locked(pe);
	ret = npu_ring_enable_locked(pe);
	mutex_unlock(&pe->lock);
	return ret;
}

ALLOW_ERROR_INJECTION(npu_ring_start, ERRNO);

/* Stop fetching commands; the ring keeps its contents and indices. */
void npu_ring_stop(struct npu_pe *pe)
{
	mutex_lock(&pe->lock);
	npu_pe_wr32(pe, NPU_PE_CTRL, 0);
	mutex_unlock(&pe->lock);
}

/*
 * Free submission entries. Reading SQ_HEAD without pe->lock is fine: it only
 * grows, and the caller re-checks under the lock before pushing.
 */
unsigned int npu_ring_space(struct npu_pe *pe)
{
	u32 head, used;

	/* No room while a reset is in progress. */
	if (READ_ONCE(pe->stopped))
		return 0;
	head = npu_pe_rd32(pe, NPU_PE_SQ_HEAD);
	used = READ_ONCE(pe->sq_tail) - head;
	/* A head beyond the tail means the device is broken or gone. */
	if (head == ~0u || used > NPU_SQ_ENTRIES)
		return 0;
	return NPU_SQ_ENTRIES - used;
}

/*
 * Pushing a job takes three steps under pe->lock: npu_ring_begin_locked()
 * checks for room and gives the job its hardware id (-EAGAIN: no room for
 * the whole job), npu_ring_emit_locked() copies each command into the ring,
 * npu_ring_commit_locked() hands them to the device. The owner builds its
 * commands before it takes the lock and keeps its own copy.
 */
int npu_ring_begin_locked(struct npu_pe *pe, struct npu_ring_job *rj)
{
	lockdep_assert_held(&pe->lock);

	if (npu_ring_space(pe) < rj->cmd_count)
		return -EAGAIN;
	rj->hw_job_id = pe->next_job_id++;
	if (!pe->next_job_id)
		pe->next_job_id = 1;
	rj->pe = pe;
	return 0;
}

void npu_ring_emit_locked(struct npu_pe *pe, const struct npu_ring_job *rj, unsigned int i,
			  const struct npu_hw_cmd *cmd)
{
	struct npu_hw_cmd *slot = &pe->sq[(pe->sq_tail + i) & (NPU_SQ_ENTRIES - 1)];

	lockdep_assert_held(&pe->lock);

	memcpy(slot, cmd, sizeof(*slot));
	slot->job_id = cpu_to_le64(rj->hw_job_id);
}

void npu_ring_commit_locked(struct npu_pe *pe, struct npu_ring_job *rj)
{
	lockdep_assert_held(&pe->lock);

	/* The watchdog gives the first job on an idle ring its full timeout. */
	if (!pe->inflight_count)
		pe->wd_progress_at = jiffies;
	list_add_tail(&rj->node, &pe->inflight);
	pe->inflight_count++;

	/* The entries must be visible to the device before the new tail. */
	wmb();
	WRITE_ONCE(pe->sq_tail, pe->sq_tail + rj->cmd_count);
	npu_pe_wr32(pe, NPU_PE_SQ_TAIL, pe->sq_tail);
	npu_pe_wr32(pe, NPU_PE_SQ_DOORBELL, 1);
}

/* Take a job off the ring and tell its owner, who may free it. */
static void npu_ring_finish_locked(struct npu_pe *pe, struct npu_ring_job *rj,
				   const struct npu_ring_result *res)
{
	list_del(&rj->node);
	pe->inflight_count--;
	rj->done(rj, res);
}

static u32 npu_status_from_hw(struct npu_pe *pe, u32 hw_status)
{
	BUILD_BUG_ON((int)NPU_JOB_OK != (int)NPU_STATUS_OK);
	BUILD_BUG_ON((int)NPU_JOB_BAD_DESC != (int)NPU_STATUS_BAD_DESC);
	BUILD_BUG_ON((int)NPU_JOB_DRAM_OOB != (int)NPU_STATUS_DRAM_OOB);
	BUILD_BUG_ON((int)NPU_JOB_DMA_FAULT != (int)NPU_STATUS_DMA_FAULT);
	BUILD_BUG_ON((int)NPU_JOB_TIMEOUT != (int)NPU_STATUS_TIMEOUT);

	if (hw_status < NPU_STATUS_COUNT)
		return hw_status;
	dev_err_ratelimited(npu_dev(pe->ndev), "PE%u: unknown completion status %u\n",
			    pe->index, hw_status);
	return NPU_JOB_BAD_DESC;
}

/*
 * Consume every completion entry up to CQ_TAIL. Returns how many jobs were
 * finished, -ENODEV for a tail that reads all-ones (the caller has recovery
 * check for a lost device) or -EIO for an entry of another job than the
 * oldest one: the PE is then stopped and needs a reset.
 */
static int npu_ring_drain_locked(struct npu_pe *pe)
{
	struct device *dev = npu_dev(pe->ndev);
	int finished = 0;
	u32 tail;

	lockdep_assert_held(&pe->lock);

	tail = npu_pe_rd32(pe, NPU_PE_CQ_TAIL);
	if (tail == ~0u) {
		dev_err_ratelimited(dev, "PE%u: device not responding\n", pe->index);
		return -ENODEV;
	}
	if (tail - pe->cq_head > NPU_CQ_ENTRIES) {
		dev_err_ratelimited(dev, "PE%u: completion tail %u out of range (head %u)\n",
				    pe->index, tail, pe->cq_head);
		/* Stopped until the reset: nothing more is pushed or drained. */
		WRITE_ONCE(pe->stopped, true);
		return -EIO;
	}
	/* Read the entries only after the tail that covers them. */
	dma_rmb();

	while (pe->cq_head != tail) {
		const struct npu_hw_completion *entry =
			&pe->cq[pe->cq_head & (NPU_CQ_ENTRIES - 1)];
		u64 job_id = le64_to_cpu(READ_ONCE(entry->job_id));
		struct npu_ring_result res;
		struct npu_ring_job *rj;

		rj = list_first_entry_or_null(&pe->inflight, struct npu_ring_job, node);
		if (job_id < pe->stale_job_id) {
			/* A job the last reset already finished completed late. */
			atomic_inc(&pe->stale_completions);
			pe->cq_head++;
			continue;
		}
		if (!rj || rj->hw_job_id != job_id) {
			/*
			 * The device completes in order; anything else means its
			 * state cannot be trusted. Leave the entry: the reset
			 * drops the whole ring.
			 */
			dev_err_ratelimited(dev, "PE%u: completion for job %llu, expected %llu\n",
					    pe->index, job_id, rj ? rj->hw_job_id : 0);
			WRITE_ONCE(pe->stopped, true);
			finished = -EIO;
			break;
		}
		pe->cq_head++;
		res.status = npu_status_from_hw(pe, le32_to_cpu(entry->status));
		res.info = le32_to_cpu(entry->info);
		res.start_ts = le64_to_cpu(entry->start_ts);
		res.end_ts = le64_to_cpu(entry->end_ts);
		npu_ring_finish_locked(pe, rj, &res);
		finished++;
	}
	npu_pe_wr32(pe, NPU_PE_CQ_HEAD, pe->cq_head);
	return finished;
}

/*
 * Acknowledge the PE's completion interrupt and collect its completions.
 * Acknowledge before draining: a completion that lands after the drain sets
 * the bit again, and writing CQ_HEAD while entries remain re-raises the
 * vector, so none is lost. Returns what npu_ring_drain_locked() does; 0 on
 * a stopped PE.
 */
int npu_ring_poll_locked(struct npu_pe *pe)
{
	lockdep_assert_held(&pe->lock);

	if (pe->stopped)
		return 0;
	npu_wr32(pe->ndev, NPU_REG_IRQ_STATUS, NPU_IRQ_PE_CQ(pe->index));
	return npu_ring_drain_locked(pe);
}

/* Finish the oldest job on the ring with @status; false if there is none. */
bool npu_ring_finish_oldest_locked(struct npu_pe *pe, u32 status)
{
	struct npu_ring_result res = { .status = status };
	struct npu_ring_job *rj;

	lockdep_assert_held(&pe->lock);

	rj = list_first_entry_or_null(&pe->inflight, struct npu_ring_job, node);
	if (rj)
		npu_ring_finish_locked(pe, rj, &res);
	return rj;
}

/*
 * Finish every job on the ring with @status. The single exit for jobs the
 * hardware will not complete: PE reset, device reset, loss, unplug.
 */
void npu_ring_finish_all_locked(struct npu_pe *pe, u32 status)
{
	lockdep_assert_held(&pe->lock);

	while (npu_ring_finish_oldest_locked(pe, status))
		continue;
	wake_up_all(&pe->space_wq);
}

/*
 * Abort whatever the PE is doing (PE_CTRL.RESET) and program its rings
 * again, enabled if they were. The jobs that were on the ring stay on
 * @inflight for the caller to finish (npu_recovery.c).
 */
int npu_ring_reset_locked(struct npu_pe *pe)
{
	bool was_enabled;
	u32 ctrl;
	int ret;

	lockdep_assert_held(&pe->lock);

	ctrl = npu_pe_rd32(pe, NPU_PE_CTRL);
	if (ctrl == ~0u)
		return -ENODEV;
	was_enabled = ctrl & NPU_PE_CTRL_ENABLE;
	npu_pe_wr32(pe, NPU_PE_CTRL, NPU_PE_CTRL_RESET);
	ret = readl_poll_timeout(pe->regs + NPU_PE_CTRL, ctrl,
				 ctrl == ~0u || !(ctrl & NPU_PE_CTRL_RESET),
				 NPU_POLL_INTERVAL_US, NPU_RESET_TIMEOUT_US);
	if (!ret && ctrl == ~0u)
		ret = -ENODEV;
	if (ret) {
		dev_err(npu_dev(pe->ndev), "PE%u reset failed: %d\n", pe->index, ret);
		return ret;
	}
	npu_ring_program_locked(pe);
	return was_enabled ? npu_ring_enable_locked(pe) : 0;
}
