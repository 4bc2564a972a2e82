// SPDX-License-Identifier: GPL-2.0
/*
 * Jobs: SUBMIT validates and translates user commands into hardware commands
 * (BO ranges become hardware scatter-gather lists), pushes them on a PE's
 * ring and returns a per-file sequence number at once. The ring reports
 * each job's end through npu_job_done(); WAIT collects each result exactly
 * once.
 *
 * Lifetime: a job is allocated with its commands (struct_size()) and holds
 * a reference on its file. Its own references: the file's jobs xarray
 * (index: the seqno) until WAIT collects it or release drops it, and the
 * ring while the job is on it. The last one frees the job and lets go of
 * the file, whose context therefore outlives every job.
 */

#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "npu_bo.h"
#include "npu_fdinfo.h"
#include "npu_job.h"
#include "npu_ring.h"
#include "npu_trace.h"
#include "npu_uapi.h"

/* True if [start, start + len) lies inside [0, limit), without overflow. */
static bool npu_range_ok(u64 start, u64 len, u64 limit)
{
	return len <= limit && start <= limit - len;
}

static void npu_job_free(struct kref *ref)
{
	struct npu_job *job = container_of(ref, struct npu_job, ref);

	npu_file_put(job->file);
	kfree(job);
}

static void npu_job_put(struct npu_job *job)
{
	kref_put(&job->ref, npu_job_free);
}

static void npu_job_release_dma(struct npu_job *job)
{
	struct device *dev = npu_dev(job->file->ndev);
	unsigned int i;

	for (i = 0; i < job->cmd_count; i++) {
		struct npu_job_hwcmd *d = &job->cmds[i];

		if (d->sg)
			dma_free_coherent(dev, d->sg_bytes, d->sg, d->sg_dma);
		d->sg = NULL;
		if (d->bo) {
			/* An importer's exporter owns the CPU side of its buffer. */
			if (d->bo->kind != NPU_BO_IMPORT)
				dma_sync_sgtable_for_cpu(dev, d->bo->sgt, d->bo->dir);
			npu_bo_put(d->bo);
		}
		d->bo = NULL;
	}
}

/*
 * The ring's report that a job left it, with its result: record it, wake
 * the job's waiters and drop the ring's reference. Called with the job's
 * pe->lock held.
 */
static void npu_job_done(struct npu_ring_job *rj, const struct npu_ring_result *res)
{
	struct npu_job *job = container_of(rj, struct npu_job, rj);
	struct npu_file *nfile = job->file;

	lockdep_assert_held(&rj->pe->lock);

	/* The device tells when a job started only in its completion. */
	if (res->start_ts)
		trace_npu_job_start(nfile, rj, job->seqno, res->start_ts);
	trace_npu_job_done(nfile, rj, job->seqno, res);
	npu_job_release_dma(job);

	mutex_lock(&nfile->jobs_lock);
	job->status = res->status;
	job->info = res->info;
	job->start_ts = res->start_ts;
	job->end_ts = res->end_ts;
	xa_set_mark(&nfile->jobs, job->seqno, NPU_JOB_DONE);
	npu_fdinfo_account_job(nfile, rj->pe->index, res->start_ts, res->end_ts);
	nfile->inflight_count--;
	nfile->finished_events++;
	wake_up_all(&nfile->wq);
	mutex_unlock(&nfile->jobs_lock);
	npu_job_put(job);
}

/* Describe bytes [offset, offset + length) of a BO as a hardware SG list. */
static noinline int npu_job_build_sg(struct npu_job *job, unsigned int i, u64 offset, u64 length)
{
	struct npu_job_hwcmd *d = &job->cmds[i];
	struct device *dev = npu_dev(job->file->ndev);
	struct sg_table *sgt = d->bo->sgt;
	struct scatterlist *sg;
	unsigned int pass, k, count = 0;

	/* Pass 0 counts the entries, pass 1 fills them. */
	for (pass = 0; pass < 2; pass++) {
		u64 seg_start = 0, end = offset + length;
		unsigned int n = 0;

		for_each_sgtable_dma_sg(sgt, sg, k) {
			u64 seg_end = seg_start + sg_dma_len(sg);
			u64 from = max(seg_start, offset);
			u64 to = min(seg_end, end);

			if (from < to) {
				if (pass) {
					d->sg[n].addr = cpu_to_le64(sg_dma_address(sg) +
								    (from - seg_start));
					d->sg[n].length = cpu_to_le32(to - from);
					d->sg[n].reserved = 0;
				}
				n++;
			}
			seg_start = seg_end;
			if (seg_start >= end)
				break;
		}
		if (pass)
			break;
		count = n;
		if (!count)
			return -EINVAL;
		if (count > NPU_SG_MAX_ENTRIES)
			return -E2BIG;
		d->sg_bytes = count * sizeof(*d->sg);
		d->sg = dma_alloc_coherent(dev, d->sg_bytes, &d->sg_dma, GFP_KERNEL);
		if (!d->sg)
			return -ENOMEM;
	}

	if (d->bo->kind != NPU_BO_IMPORT)
		dma_sync_sgtable_for_device(dev, sgt, d->bo->dir);
	d->hw.sg_count = cpu_to_le32(count);
	d->hw.sg_addr = cpu_to_le64(d->sg_dma);
	return 0;
}

ALLOW_ERROR_INJECTION(npu_job_build_sg, ERRNO);

static int npu_job_build_cmd(struct npu_job *job, unsigned int i,
			     const struct npu_job_cmd *uc, u64 window)
{
	struct npu_job_hwcmd *c = &job->cmds[i];
	struct npu_hw_cmd *hw = &c->hw;

	if (uc->flags || uc->reserved)
		return -EINVAL;

	switch (uc->op) {
	case NPU_JOB_CMD_NOP:
	case NPU_JOB_CMD_FENCE:
		if (uc->handle || uc->offset || uc->dram_addr || uc->length ||
		    uc->cycle_budget)
			return -EINVAL;
		hw->opcode = uc->op == NPU_JOB_CMD_NOP ? NPU_OP_NOP : NPU_OP_FENCE;
		return 0;

	case NPU_JOB_CMD_EXEC:
		if (uc->handle || uc->offset)
			return -EINVAL;
		if (!uc->length || uc->length % NPU_INSN_SIZE ||
		    !npu_range_ok(uc->dram_addr, uc->length, window))
			return -EINVAL;
		hw->opcode = NPU_OP_EXEC;
		hw->dram_addr = cpu_to_le64(uc->dram_addr);
		hw->length = cpu_to_le64(uc->length);
		hw->cycle_budget = cpu_to_le64(uc->cycle_budget);
		return 0;

	case NPU_JOB_CMD_COPY_TO_DRAM:
	case NPU_JOB_CMD_COPY_FROM_DRAM:
		if (uc->cycle_budget || !uc->length ||
		    !npu_range_ok(uc->dram_addr, uc->length, window))
			return -EINVAL;
		c->bo = npu_bo_lookup(job->file, uc->handle);
		if (!c->bo)
			return -ENOENT;
		if (!npu_range_ok(uc->offset, uc->length, c->bo->size))
			return -EINVAL;
		/* The device must not write a read-only user buffer. */
		if (uc->op == NPU_JOB_CMD_COPY_FROM_DRAM && c->bo->readonly)
			return -EACCES;
		hw->opcode = uc->op == NPU_JOB_CMD_COPY_TO_DRAM ?
			     NPU_OP_DMA_TO_DEV : NPU_OP_DMA_FROM_DEV;
		hw->dram_addr = cpu_to_le64(uc->dram_addr);
		hw->length = cpu_to_le64(uc->length);
		return npu_job_build_sg(job, i, uc->offset, uc->length);

	default:
		return -EINVAL;
	}
}

/* The PE a submission goes to, or an ERR_PTR for a bad args->pe. */
static struct npu_pe *npu_job_select_pe(struct npu_file *nfile, u32 pe_arg)
{
	struct npu_device *ndev = nfile->ndev;
	struct npu_pe *pe0 = &ndev->pe[0], *pe1 = &ndev->pe[1];

	if (nfile->kind != NPU_NODE_ALL) {
		if (pe_arg)
			return ERR_PTR(-EINVAL);
		return &ndev->pe[__ffs(nfile->pe_mask)];
	}
	if (pe_arg < ndev->pe_count)
		return &ndev->pe[pe_arg];
	if (pe_arg != NPU_PE_ANY)
		return ERR_PTR(-EINVAL);
	/* The PE with fewer jobs queued; the count is only a hint. */
	return READ_ONCE(pe1->inflight_count) < READ_ONCE(pe0->inflight_count) ? pe1 : pe0;
}

/* Reserve room for one job under the per-file cap. */
static noinline int npu_file_reserve_job(struct npu_file *nfile)
{
	int ret = 0;

	mutex_lock(&nfile->jobs_lock);
	if (nfile->job_count >= npu_max_jobs_per_file) {
		ret = -ENOSPC;
	} else {
		nfile->job_count++;
		nfile->inflight_count++;
	}
	mutex_unlock(&nfile->jobs_lock);
	return ret;
}

ALLOW_ERROR_INJECTION(npu_file_reserve_job, ERRNO);

static void npu_file_unreserve_job(struct npu_file *nfile)
{
	mutex_lock(&nfile->jobs_lock);
	nfile->job_count--;
	nfile->inflight_count--;
	mutex_unlock(&nfile->jobs_lock);
}

/*
 * Give the job its seqno, list it in the file and push it, or -EAGAIN if
 * the ring has no room for it (then it takes no seqno).
 */
static int npu_job_push_locked(struct npu_job *job, struct npu_pe *pe)
{
	struct npu_file *nfile = job->file;
	unsigned int i;
	int ret;

	lockdep_assert_held(&pe->lock);

	ret = npu_ring_begin_locked(pe, &job->rj);
	if (ret)
		return ret;
	mutex_lock(&nfile->jobs_lock);
	job->seqno = nfile->next_seqno++;
	/* The submitter's reference becomes the xarray's. */
	ret = xa_insert(&nfile->jobs, job->seqno, job, GFP_KERNEL);
	mutex_unlock(&nfile->jobs_lock);
	if (ret)
		return ret;
	for (i = 0; i < job->cmd_count; i++)
		npu_ring_emit_locked(pe, &job->rj, i, &job->cmds[i].hw);
	kref_get(&job->ref);
	npu_ring_commit_locked(pe, &job->rj);
	trace_npu_job_submit(nfile, &job->rj, job->seqno);
	return 0;
}

/*
 * Wait for ring room and push; the caller is inside npu_dev_enter(). The
 * push reads SQ_HEAD again: if the link went down since the last look, it
 * finds no room and the job waits like on a full ring, until recovery
 * declares the device lost.
 */
static int npu_job_queue(struct npu_job *job, struct npu_pe *pe, bool nonblock,
			 u64 *seqno)
{
	struct npu_device *ndev = job->file->ndev;
	int ret;

	for (;;) {
		mutex_lock(&pe->lock);
		if (npu_dev_is_gone(ndev))
			ret = -ENODEV;
		else if (READ_ONCE(ndev->state) == NPU_STATE_FAILED)
			ret = -EIO;
		else
			ret = npu_job_push_locked(job, pe);
		/* Once the lock drops, the job may be finished and collected. */
		if (!ret)
			*seqno = job->seqno;
		mutex_unlock(&pe->lock);
		if (ret != -EAGAIN)
			return ret;

		if (nonblock)
			return -EAGAIN;
		/* A reset in progress also leaves no space until it is over. */
		ret = wait_event_interruptible(pe->space_wq,
					       npu_ring_space(pe) >= job->cmd_count ||
					       npu_dev_is_gone(ndev) ||
					       READ_ONCE(ndev->state) == NPU_STATE_FAILED);
		if (ret)
			return ret;
	}
}

/* SUBMIT; the caller is inside npu_dev_enter(). */
int npu_ioctl_submit(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	struct npu_device *ndev = nfile->ndev;
	struct npu_submit __user *uargs = arg;
	struct npu_job_cmd *ucmds;
	struct npu_submit *args = data;
	struct npu_job *job;
	struct npu_pe *pe;
	unsigned int i;
	u64 window, seqno;
	int ret, stride;

	stride = npu_uapi_elem_stride(args->cmd_size, sizeof(*ucmds), NPU_JOB_CMD_MAX_SIZE);
	if (args->flags || stride < 0)
		return -EINVAL;
	if (!args->cmd_count || args->cmd_count > NPU_JOB_MAX_CMDS)
		return -EINVAL;
	pe = npu_job_select_pe(nfile, args->pe);
	if (IS_ERR(pe))
		return PTR_ERR(pe);
	window = nfile->fused ? ndev->dram_size : pe->dram_size;

	ucmds = kmalloc_array(args->cmd_count, sizeof(*ucmds), GFP_KERNEL);
	if (!ucmds)
		return -ENOMEM;
	ret = npu_uapi_copy_array(ucmds, sizeof(*ucmds), args->cmds, stride, args->cmd_count);
	if (ret) {
		kfree(ucmds);
		return ret;
	}
	job = kzalloc(struct_size(job, cmds, args->cmd_count), GFP_KERNEL);
	if (!job) {
		kfree(ucmds);
		return -ENOMEM;
	}
	kref_init(&job->ref);
	job->file = npu_file_get(nfile);
	job->cmd_count = args->cmd_count;
	job->rj.cmd_count = args->cmd_count;
	job->rj.done = npu_job_done;

	ret = npu_file_reserve_job(nfile);
	if (ret)
		goto out_free;

	for (i = 0; i < args->cmd_count; i++) {
		ret = npu_job_build_cmd(job, i, &ucmds[i], window);
		if (ret)
			goto out_unreserve;
	}
	job->cmds[args->cmd_count - 1].hw.flags |= NPU_CMD_F_END_OF_JOB;

	ret = npu_job_queue(job, pe, nonblock, &seqno);
out_unreserve:
	/*
	 * The caller's npu_dev_enter() section keeps the device bound while
	 * this unwinds: the SG lists are DMA memory.
	 */
	if (ret) {
		npu_job_release_dma(job);
		npu_file_unreserve_job(nfile);
		goto out_free;
	}
	kfree(ucmds);

	/* The job runs whatever happens now; seqno lost only on a bad pointer. */
	if (put_user(seqno, &uargs->seqno))
		return -EFAULT;
	return 0;

out_free:
	npu_job_put(job);
	kfree(ucmds);
	return ret;
}

bool npu_file_has_finished_job(struct npu_file *nfile)
{
	return xa_marked(&nfile->jobs, NPU_JOB_DONE);
}

bool npu_file_can_submit(struct npu_file *nfile)
{
	bool ok;

	mutex_lock(&nfile->jobs_lock);
	ok = nfile->job_count < npu_max_jobs_per_file;
	mutex_unlock(&nfile->jobs_lock);
	return ok;
}

/*
 * Find the job WAIT asks for (NPU_WAIT_ANY: the finished job of the lowest
 * seqno) and, if it has finished, take it out of the file for the caller,
 * with the file's reference. Returns the job, NULL if it is still running
 * (*events tells what progress to wait for) or an ERR_PTR.
 */
static struct npu_job *npu_wait_collect(struct npu_file *nfile, u64 seqno,
					unsigned long *events)
{
	unsigned long index = seqno;
	struct npu_job *job;

	mutex_lock(&nfile->jobs_lock);
	*events = nfile->finished_events;
	if (seqno == NPU_WAIT_ANY)
		job = xa_find(&nfile->jobs, &index, ULONG_MAX, NPU_JOB_DONE);
	else
		job = index == seqno ? xa_load(&nfile->jobs, index) : NULL;
	if (!job) {
		/* WAIT_ANY with jobs running waits for one of them. */
		job = seqno == NPU_WAIT_ANY && nfile->inflight_count ? NULL : ERR_PTR(-ENOENT);
	} else if (!xa_get_mark(&nfile->jobs, index, NPU_JOB_DONE)) {
		job = NULL;
	} else {
		xa_erase(&nfile->jobs, index);
		nfile->job_count--;
	}
	mutex_unlock(&nfile->jobs_lock);
	return job;
}

/* A job of the file finished since @events was sampled. */
static bool npu_file_progressed(struct npu_file *nfile, unsigned long events)
{
	return READ_ONCE(nfile->finished_events) != events;
}

int npu_ioctl_wait(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	struct npu_wait *args = data;
	struct npu_job *job;
	unsigned long events;
	long remaining;
	int ret;

	if (args->flags || args->reserved)
		return -EINVAL;

	if (args->timeout_ns < 0)
		remaining = MAX_SCHEDULE_TIMEOUT;
	else
		remaining = min_t(u64, nsecs_to_jiffies64(args->timeout_ns),
				  MAX_SCHEDULE_TIMEOUT - 1);

	for (;;) {
		/*
		 * Nothing will ever finish on a removed device. Sampled before
		 * collecting: a job that remove finishes (DEVICE_LOST) after a
		 * look at its state must still be returned, not ENODEV.
		 */
		bool gone = npu_dev_is_gone(nfile->ndev) && !READ_ONCE(nfile->inflight_count);

		job = npu_wait_collect(nfile, args->seqno, &events);
		if (job)
			break;
		if (gone)
			return -ENODEV;
		if (!remaining)
			return -ETIME;
		remaining = wait_event_interruptible_timeout(nfile->wq,
							     npu_file_progressed(nfile, events),
							     remaining);
		if (remaining < 0)
			return -EINTR;
	}
	/* A removed card has nothing left to give: say so, not "no such job". */
	if (IS_ERR(job) && args->seqno == NPU_WAIT_ANY && npu_dev_is_gone(nfile->ndev))
		return -ENODEV;
	if (IS_ERR(job))
		return PTR_ERR(job);

	args->seqno = job->seqno;
	args->status = job->status;
	args->info = job->info;
	args->pe = job->rj.pe->index;
	args->start_ts = job->start_ts;
	args->end_ts = job->end_ts;
	ret = job->status == NPU_JOB_OK ? 0 : -EIO;
	npu_job_put(job);

	if (copy_to_user(arg, args, sizeof(*args)))
		return -EFAULT;
	return ret;
}

/*
 * On release: wait up to @timeout (jiffies; MAX_SCHEDULE_TIMEOUT: forever)
 * for the file's jobs to finish. Returns 0 if some are still running.
 */
long npu_file_wait_jobs(struct npu_file *nfile, long timeout)
{
	return wait_event_timeout(nfile->wq, !READ_ONCE(nfile->inflight_count), timeout);
}

/*
 * Drop the results nobody collected; every job has finished. A job whose
 * completion is still returning holds the file until it is done.
 */
void npu_file_free_jobs(struct npu_file *nfile)
{
	struct npu_job *job;
	unsigned long index;

	mutex_lock(&nfile->jobs_lock);
	xa_for_each(&nfile->jobs, index, job) {
		xa_erase(&nfile->jobs, index);
		npu_job_put(job);
	}
	nfile->job_count = 0;
	mutex_unlock(&nfile->jobs_lock);
}
