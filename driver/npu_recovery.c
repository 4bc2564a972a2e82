// SPDX-License-Identifier: GPL-2.0
/*
 * Recovery: hang detection, PE and device resets, loss of the device.
 *
 * Anyone who detects a fault (the completion IRQ thread, the event IRQ
 * thread, the watchdog) calls npu_recovery_trigger(), which records what to
 * reset and queues npu_device.reset_work. Requests that arrive while the
 * work is pending are merged into one run, so concurrent triggers collapse
 * into one reset. Close, debugfs and the PCI reset callbacks reset
 * synchronously, serialised with the work by npu_device.reset_lock.
 *
 * A reset stops the PE (or the device), resets it, finishes every job that
 * was on its ring (NPU_JOB_HANG for the oldest job of a PE that hung, else
 * NPU_JOB_CANCELLED), reprograms the rings and accepts work again. The
 * other PE keeps running unless the whole device had to be reset. Each
 * reset is counted (sysfs), logged, announced by a uevent and, when the
 * device misbehaved, recorded in a devcoredump.
 *
 * The watchdog runs every job_timeout_ms / 4 (50 ms .. 1 s). A PE with work
 * whose SQ_HEAD and CQ_TAIL have not moved for job_timeout_ms is hung, unless
 * polling its completion ring finds entries whose interrupt was lost; those
 * are collected without a reset and counted in missed_irq_count. The
 * watchdog also resets the device when DEV_STATUS shows FATAL or HEARTBEAT
 * stops, and declares it lost when registers read all-ones.
 */

#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/module.h>

#include "npu_coredump.h"
#include "npu_hw_ops.h"
#include "npu_recovery.h"
#include "npu_ring.h"
#include "npu_trace.h"

/* Device resets for a stopped heartbeat before the device is declared failed. */
#define NPU_HEARTBEAT_MAX_RESETS	3

/* Ask the work to give up on the device: finish its jobs, state FAILED. */
#define NPU_RESET_GIVE_UP		BIT(NPU_MAX_PES + 2)

static const char * const npu_state_names[] = {
	[NPU_STATE_READY] = "ready",
	[NPU_STATE_RESETTING] = "resetting",
	[NPU_STATE_FAILED] = "failed",
	[NPU_STATE_LOST] = "lost",
};

const char *npu_recovery_state_name(struct npu_device *ndev)
{
	return npu_state_names[READ_ONCE(ndev->state)];
}

/* What open() of a PE file answers in the current state (0: go ahead). */
int npu_recovery_open_errno(struct npu_device *ndev)
{
	switch (READ_ONCE(ndev->state)) {
	case NPU_STATE_RESETTING:
		return -EAGAIN;
	case NPU_STATE_FAILED:
		return -EIO;
	case NPU_STATE_LOST:
		return -ENODEV;
	default:
		return 0;
	}
}

static void npu_recovery_uevent(struct npu_device *ndev, const char *event, int pe,
				enum npu_reset_reason reason)
{
	char event_var[32], pe_var[20], reason_var[40];
	char *envp[4];

	snprintf(event_var, sizeof(event_var), "NPU_EVENT=%s", event);
	if (pe < 0)
		snprintf(pe_var, sizeof(pe_var), "NPU_PE=all");
	else
		snprintf(pe_var, sizeof(pe_var), "NPU_PE=%d", pe);
	snprintf(reason_var, sizeof(reason_var), "NPU_REASON=%s", npu_reset_reason_name(reason));
	envp[0] = event_var;
	envp[1] = pe_var;
	envp[2] = reason_var;
	envp[3] = NULL;
	kobject_uevent_env(&npu_dev(ndev)->kobj, KOBJ_CHANGE, envp);
}

/* Faults of the device get a coredump; resets users asked for do not. */
static bool npu_reason_dumps(enum npu_reset_reason reason)
{
	return reason != NPU_REASON_MANUAL && reason != NPU_REASON_CLOSE &&
	       reason != NPU_REASON_PCI_RESET;
}

/* Finish the jobs a reset took from the PE: the oldest hung if @guilty. */
static unsigned int npu_recovery_finish_jobs_locked(struct npu_pe *pe, bool guilty)
{
	unsigned int count = pe->inflight_count;

	lockdep_assert_held(&pe->lock);

	if (guilty)
		npu_ring_finish_oldest_locked(pe, NPU_JOB_HANG);
	npu_ring_finish_all_locked(pe, NPU_JOB_CANCELLED);
	/* Completions of jobs issued before now cannot be trusted any more. */
	pe->stale_job_id = pe->next_job_id;
	pe->wd_progress_at = jiffies;
	return count;
}

static int npu_recovery_reset_pe(struct npu_pe *pe, enum npu_reset_reason reason, bool guilty)
{
	struct npu_device *ndev = pe->ndev;
	unsigned int jobs;
	int ret;

	lockdep_assert_held(&ndev->reset_lock);

	if (npu_reason_dumps(reason))
		npu_coredump(ndev, BIT(pe->index), reason, guilty ? BIT(pe->index) : 0);

	/* The fused mode must not change while the PE is down. */
	mutex_lock(&ndev->owner_lock);
	mutex_lock(&pe->lock);
	WRITE_ONCE(pe->stopped, true);
	ret = npu_ring_reset_locked(pe);
	jobs = npu_recovery_finish_jobs_locked(pe, guilty);
	if (!ret)
		WRITE_ONCE(pe->stopped, false);
	atomic_inc(&pe->reset_count);
	mutex_unlock(&pe->lock);
	mutex_unlock(&ndev->owner_lock);
	wake_up_all(&pe->space_wq);

	dev_warn(npu_dev(ndev), "PE%u reset (%s): %u job(s) finished%s%s\n", pe->index,
		 npu_reset_reason_name(reason), jobs, guilty && jobs ? ", the oldest as hung" : "",
		 ret ? ", PE did not restart" : "");
	trace_npu_reset(ndev, pe->index, reason, ret);
	npu_recovery_uevent(ndev, "reset", pe->index, reason);
	return ret;
}

/* Stop taking and running work: the first half of every device reset. */
static void npu_recovery_quiesce(struct npu_device *ndev)
{
	unsigned int i;

	lockdep_assert_held(&ndev->owner_lock);

	WRITE_ONCE(ndev->state, NPU_STATE_RESETTING);
	npu_wr32(ndev, NPU_REG_IRQ_ENABLE, 0);
	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];

		mutex_lock(&pe->lock);
		WRITE_ONCE(pe->stopped, true);
		npu_pe_wr32(pe, NPU_PE_CTRL, 0);
		mutex_unlock(&pe->lock);
	}
}

/*
 * The second half, once the device was reset (@hw_ret: how that went):
 * finish the jobs it dropped, restore the mode, rings and interrupts, and
 * accept work again; or leave the device FAILED.
 */
static int npu_recovery_restart(struct npu_device *ndev, u32 guilty_mask, int hw_ret)
{
	unsigned int i;
	int ret = hw_ret;

	lockdep_assert_held(&ndev->owner_lock);

	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];

		mutex_lock(&pe->lock);
		npu_recovery_finish_jobs_locked(pe, guilty_mask & BIT(i));
		if (!ret)
			npu_ring_program_locked(pe);
		atomic_inc(&pe->reset_count);
		mutex_unlock(&pe->lock);
	}
	if (!ret) {
		npu_wr32(ndev, NPU_REG_IRQ_ENABLE, NPU_IRQ_ALL);
		if (ndev->fused) {
			npu_wr32(ndev, NPU_REG_DEV_MODE, NPU_DEV_MODE_FUSED);
			if (npu_rd32(ndev, NPU_REG_DEV_MODE) != NPU_DEV_MODE_FUSED)
				ret = -EIO;
		}
	}
	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];
		int err = 0;

		mutex_lock(&pe->lock);
		/* Fused jobs all run on PE0's ring; PE1 stays disabled. */
		if (!ret && !(ndev->fused && i))
			err = npu_ring_enable_locked(pe);
		if (err && !ret)
			ret = err;
		mutex_unlock(&pe->lock);
	}
	for (i = 0; i < ndev->pe_count; i++) {
		WRITE_ONCE(ndev->pe[i].stopped, ret != 0);
		wake_up_all(&ndev->pe[i].space_wq);
	}
	WRITE_ONCE(ndev->state, ret ? NPU_STATE_FAILED : NPU_STATE_READY);
	return ret;
}

static int npu_recovery_reset_device(struct npu_device *ndev, enum npu_reset_reason reason,
				     u32 guilty_mask)
{
	int ret;

	lockdep_assert_held(&ndev->reset_lock);

	if (npu_reason_dumps(reason))
		npu_coredump(ndev, NPU_RESET_PE_MASK, reason, guilty_mask);

	mutex_lock(&ndev->owner_lock);
	npu_recovery_quiesce(ndev);
	ret = npu_hw_reset_device(ndev);
	ret = npu_recovery_restart(ndev, guilty_mask, ret);
	atomic_inc(&ndev->device_resets);
	mutex_unlock(&ndev->owner_lock);

	if (ret)
		dev_err(npu_dev(ndev), "device reset (%s) failed: %d; device marked failed\n",
			npu_reset_reason_name(reason), ret);
	else
		dev_warn(npu_dev(ndev), "device reset (%s)\n", npu_reset_reason_name(reason));
	trace_npu_reset(ndev, -1, reason, ret);
	npu_recovery_uevent(ndev, ret ? "failed" : "reset", -1, reason);
	return ret;
}

/* Give up on a device that keeps failing: its jobs end, opens get EIO. */
static void npu_recovery_give_up(struct npu_device *ndev, enum npu_reset_reason reason)
{
	mutex_lock(&ndev->owner_lock);
	npu_recovery_quiesce(ndev);
	npu_recovery_restart(ndev, 0, -EIO);
	mutex_unlock(&ndev->owner_lock);
	dev_err(npu_dev(ndev), "device keeps failing (%s); marked failed\n",
		npu_reset_reason_name(reason));
	trace_npu_reset(ndev, -1, reason, -EIO);
	npu_recovery_uevent(ndev, "failed", -1, reason);
}

static void npu_recovery_lost_locked(struct npu_device *ndev)
{
	unsigned int i;

	lockdep_assert_held(&ndev->reset_lock);

	if (READ_ONCE(ndev->state) == NPU_STATE_LOST)
		return;
	dev_err(npu_dev(ndev), "device lost (registers read all-ones); failing all its jobs\n");
	WRITE_ONCE(ndev->state, NPU_STATE_LOST);
	/* Every file operation now answers ENODEV, as after unplug. */
	npu_dev_mark_gone(ndev);
	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];

		mutex_lock(&pe->lock);
		WRITE_ONCE(pe->stopped, true);
		npu_ring_finish_all_locked(pe, NPU_JOB_DEVICE_LOST);
		mutex_unlock(&pe->lock);
	}
	trace_npu_reset(ndev, -1, NPU_REASON_LINK_LOSS, -ENODEV);
	npu_recovery_uevent(ndev, "lost", -1, NPU_REASON_LINK_LOSS);
}

/* The device is gone for good (PCI permanent failure). */
void npu_recovery_mark_lost(struct npu_device *ndev)
{
	mutex_lock(&ndev->reset_lock);
	npu_recovery_lost_locked(ndev);
	mutex_unlock(&ndev->reset_lock);
}

/* Carry out a reset request; the caller holds nothing. */
static int npu_recovery_run(struct npu_device *ndev, u32 request,
			    enum npu_reset_reason reason, u32 guilty_mask)
{
	int state, idx, ret = 0;
	unsigned int i;

	mutex_lock(&ndev->reset_lock);
	/* A lost device is gone too. */
	if (!npu_dev_enter(ndev, &idx)) {
		mutex_unlock(&ndev->reset_lock);
		return -ENODEV;
	}
	state = READ_ONCE(ndev->state);
	/* A PCI reset in progress restarts everything itself. */
	if (state == NPU_STATE_RESETTING) {
		ret = -EAGAIN;
		goto out;
	}
	if (request & NPU_RESET_LOST) {
		if (npu_rd32(ndev, NPU_REG_MAGIC) == ~0u) {
			npu_recovery_lost_locked(ndev);
			ret = -ENODEV;
			goto out;
		}
		/* One all-ones read, but the device answers: not lost. */
		request &= ~NPU_RESET_LOST;
	}
	if (request & NPU_RESET_GIVE_UP) {
		if (state != NPU_STATE_FAILED)
			npu_recovery_give_up(ndev, reason);
		ret = -EIO;
		goto out;
	}
	/* Only a device reset may bring back a failed device. */
	if (state == NPU_STATE_FAILED && !(request & NPU_RESET_DEVICE)) {
		ret = -EIO;
		goto out;
	}
	if (request & NPU_RESET_DEVICE) {
		ret = npu_recovery_reset_device(ndev, reason, guilty_mask);
		goto out;
	}
	for (i = 0; i < ndev->pe_count; i++) {
		if (!(request & BIT(i)))
			continue;
		ret = npu_recovery_reset_pe(&ndev->pe[i], reason, guilty_mask & BIT(i));
		if (ret) {
			/* A PE that does not come back needs the whole device reset. */
			ret = npu_recovery_reset_device(ndev, reason, 0);
			break;
		}
	}
out:
	npu_dev_exit(ndev, idx);
	mutex_unlock(&ndev->reset_lock);
	return ret;
}

static void npu_recovery_work(struct work_struct *work)
{
	struct npu_device *ndev = container_of(work, struct npu_device, reset_work);
	u32 request, guilty_mask;
	int reason;

	spin_lock(&ndev->recovery_lock);
	request = ndev->reset_request;
	reason = ndev->reset_reason;
	guilty_mask = ndev->guilty_mask;
	ndev->reset_request = 0;
	ndev->guilty_mask = 0;
	spin_unlock(&ndev->recovery_lock);

	if (request)
		npu_recovery_run(ndev, request, reason, guilty_mask);
}

/**
 * npu_recovery_trigger - ask for a reset; safe from any process context
 * @ndev: the device
 * @request: NPU_RESET_* bits (BIT(pe) for a PE)
 * @reason: why, for the log, uevent and coredump
 * @guilty_mask: PEs whose oldest job is to be finished as NPU_JOB_HANG
 *
 * Requests made before the work runs are merged into a single reset.
 */
void npu_recovery_trigger(struct npu_device *ndev, u32 request,
			  enum npu_reset_reason reason, u32 guilty_mask)
{
	spin_lock(&ndev->recovery_lock);
	if (!ndev->recovery_off) {
		if (!ndev->reset_request || reason > ndev->reset_reason)
			ndev->reset_reason = reason;
		ndev->reset_request |= request;
		ndev->guilty_mask |= guilty_mask;
		queue_work(system_long_wq, &ndev->reset_work);
	}
	spin_unlock(&ndev->recovery_lock);
}

/**
 * npu_recovery_poll_pe_locked - collect a PE's completions
 * @pe: the PE, its lock held
 *
 * Asks for the reset the ring's state calls for: a link check when the
 * completion tail reads all-ones, a PE reset for a malformed completion.
 *
 * Return: jobs finished.
 */
unsigned int npu_recovery_poll_pe_locked(struct npu_pe *pe)
{
	int ret = npu_ring_poll_locked(pe);

	if (ret == -ENODEV)
		npu_recovery_trigger(pe->ndev, NPU_RESET_LOST, NPU_REASON_LINK_LOSS, 0);
	else if (ret == -EIO)
		npu_recovery_trigger(pe->ndev, BIT(pe->index), NPU_REASON_BAD_COMPLETION,
				     BIT(pe->index));
	return max(ret, 0);
}

/* Reset now (close, debugfs); returns 0 once the device accepts work again. */
int npu_recovery_reset_sync(struct npu_device *ndev, u32 request,
			    enum npu_reset_reason reason)
{
	return npu_recovery_run(ndev, request, reason, 0);
}

/* FLR or PCI error: stop everything before the device loses its state. */
void npu_recovery_pci_quiesce(struct npu_device *ndev)
{
	int state, idx;

	mutex_lock(&ndev->reset_lock);
	if (npu_dev_enter(ndev, &idx)) {
		state = READ_ONCE(ndev->state);
		if (!ndev->pci_quiesced &&
		    (state == NPU_STATE_READY || state == NPU_STATE_FAILED)) {
			mutex_lock(&ndev->owner_lock);
			npu_recovery_quiesce(ndev);
			mutex_unlock(&ndev->owner_lock);
			ndev->pci_quiesced = true;
		}
		npu_dev_exit(ndev, idx);
	}
	mutex_unlock(&ndev->reset_lock);
}

/* After the PCI reset: the jobs it dropped end as CANCELLED, work resumes. */
int npu_recovery_pci_restart(struct npu_device *ndev)
{
	int idx, ret = 0;

	mutex_lock(&ndev->reset_lock);
	if (!npu_dev_enter(ndev, &idx)) {
		mutex_unlock(&ndev->reset_lock);
		return 0;
	}
	if (ndev->pci_quiesced) {
		ndev->pci_quiesced = false;
		mutex_lock(&ndev->owner_lock);
		ret = npu_hw_reset_device(ndev);
		ret = npu_recovery_restart(ndev, 0, ret);
		atomic_inc(&ndev->device_resets);
		mutex_unlock(&ndev->owner_lock);
		dev_warn(npu_dev(ndev), "device restarted after a PCI reset%s\n",
			 ret ? " failed; device marked failed" : "");
		trace_npu_reset(ndev, -1, NPU_REASON_PCI_RESET, ret);
		npu_recovery_uevent(ndev, ret ? "failed" : "reset", -1, NPU_REASON_PCI_RESET);
	}
	npu_dev_exit(ndev, idx);
	mutex_unlock(&ndev->reset_lock);
	return ret;
}

/* ---- watchdog ----------------------------------------------------------- */

static unsigned long npu_watchdog_period(struct npu_device *ndev)
{
	unsigned int ms = READ_ONCE(ndev->job_timeout_ms) / 4;

	return msecs_to_jiffies(ms ? clamp(ms, 50u, 1000u) : 1000u);
}

static void npu_watchdog_arm(struct npu_device *ndev)
{
	spin_lock(&ndev->recovery_lock);
	if (!ndev->recovery_off)
		queue_delayed_work(system_percpu_wq, &ndev->watchdog, npu_watchdog_period(ndev));
	spin_unlock(&ndev->recovery_lock);
}

/* Look for lost interrupts and hangs on one PE; the caller is inside npu_dev_enter(). */
static void npu_watchdog_check_pe(struct npu_pe *pe, unsigned long now, unsigned int timeout_ms)
{
	struct npu_device *ndev = pe->ndev;
	u32 sq_head, cq_tail, status, work_done;
	unsigned int found;

	mutex_lock(&pe->lock);
	if (!pe->inflight_count || pe->stopped) {
		pe->wd_progress_at = now;
		pe->wd_cq_waiting = false;
		goto out;
	}
	sq_head = npu_pe_rd32(pe, NPU_PE_SQ_HEAD);
	cq_tail = npu_pe_rd32(pe, NPU_PE_CQ_TAIL);
	status = npu_pe_rd32(pe, NPU_PE_STATUS);
	work_done = npu_pe_rd32(pe, NPU_PE_PROGRESS);
	if (sq_head == ~0u && cq_tail == ~0u) {
		npu_recovery_trigger(ndev, NPU_RESET_LOST, NPU_REASON_LINK_LOSS, 0);
		goto out;
	}

	/* Completions still waiting a whole period later lost their interrupt. */
	if (cq_tail != pe->cq_head) {
		if (pe->wd_cq_waiting && pe->wd_cq_head == pe->cq_head) {
			found = npu_recovery_poll_pe_locked(pe);
			if (found) {
				atomic_add(found, &pe->missed_irqs);
				dev_warn_ratelimited(npu_dev(ndev), "PE%u: %u completion(s) without interrupt collected\n",
						     pe->index, found);
			}
		}
		pe->wd_cq_waiting = true;
		pe->wd_cq_head = pe->cq_head;
	} else {
		pe->wd_cq_waiting = false;
	}

	if (status & NPU_PE_STATUS_HALTED) {
		npu_recovery_trigger(ndev, BIT(pe->index), NPU_REASON_HALTED, BIT(pe->index));
		pe->wd_progress_at = now;
		goto out;
	}
	/* A long command that is still working moves PE_PROGRESS. */
	if (sq_head != pe->wd_sq_head || cq_tail != pe->wd_cq_tail ||
	    work_done != pe->wd_work_done) {
		pe->wd_sq_head = sq_head;
		pe->wd_cq_tail = cq_tail;
		pe->wd_work_done = work_done;
		pe->wd_progress_at = now;
		goto out;
	}
	if (!timeout_ms || !pe->inflight_count ||
	    time_before(now, pe->wd_progress_at + msecs_to_jiffies(timeout_ms)))
		goto out;

	/* No progress: a completion whose interrupt was lost is not a hang. */
	found = npu_recovery_poll_pe_locked(pe);
	if (found) {
		atomic_add(found, &pe->missed_irqs);
		dev_warn_ratelimited(npu_dev(ndev), "PE%u: %u completion(s) without interrupt collected\n",
				     pe->index, found);
	} else {
		dev_err(npu_dev(ndev), "PE%u: no progress for %u ms with %u job(s) queued\n",
			pe->index, timeout_ms, pe->inflight_count);
		npu_recovery_trigger(ndev, BIT(pe->index), NPU_REASON_HANG, BIT(pe->index));
	}
	pe->wd_progress_at = now;
out:
	mutex_unlock(&pe->lock);
}

static void npu_watchdog_work(struct work_struct *work)
{
	struct npu_device *ndev = container_of(to_delayed_work(work), struct npu_device, watchdog);
	unsigned int hb_timeout_ms = READ_ONCE(npu_heartbeat_timeout_ms);
	unsigned long now = jiffies;
	u32 heartbeat, status;
	unsigned int i;
	bool entered;
	int idx;

	entered = npu_dev_enter(ndev, &idx);
	if (!entered || READ_ONCE(ndev->state) != NPU_STATE_READY) {
		/* Time spent resetting is not time without a heartbeat. */
		ndev->wd_heartbeat_at = now;
		goto out;
	}
	heartbeat = npu_rd32(ndev, NPU_REG_HEARTBEAT);
	status = npu_rd32(ndev, NPU_REG_DEV_STATUS);
	if (heartbeat == ~0u && status == ~0u) {
		npu_recovery_trigger(ndev, NPU_RESET_LOST, NPU_REASON_LINK_LOSS, 0);
		goto out;
	}
	if (status & NPU_DEV_STATUS_FATAL) {
		npu_recovery_trigger(ndev, NPU_RESET_DEVICE, NPU_REASON_FATAL, 0);
		goto out;
	}
	if (heartbeat != ndev->wd_heartbeat) {
		ndev->wd_heartbeat = heartbeat;
		ndev->wd_heartbeat_at = now;
		ndev->heartbeat_resets = 0;
	} else if (hb_timeout_ms &&
		   time_after(now, ndev->wd_heartbeat_at + msecs_to_jiffies(hb_timeout_ms))) {
		dev_err(npu_dev(ndev), "heartbeat stopped at %u for %u ms\n", heartbeat,
			hb_timeout_ms);
		ndev->wd_heartbeat_at = now;
		if (++ndev->heartbeat_resets > NPU_HEARTBEAT_MAX_RESETS)
			npu_recovery_trigger(ndev, NPU_RESET_GIVE_UP, NPU_REASON_HEARTBEAT, 0);
		else
			npu_recovery_trigger(ndev, NPU_RESET_DEVICE, NPU_REASON_HEARTBEAT, 0);
		goto out;
	}
	for (i = 0; i < ndev->pe_count; i++)
		npu_watchdog_check_pe(&ndev->pe[i], now, READ_ONCE(ndev->job_timeout_ms));
out:
	if (entered)
		npu_dev_exit(ndev, idx);
	npu_watchdog_arm(ndev);
}

void npu_recovery_init(struct npu_device *ndev)
{
	mutex_init(&ndev->reset_lock);
	spin_lock_init(&ndev->recovery_lock);
	INIT_WORK(&ndev->reset_work, npu_recovery_work);
	INIT_DELAYED_WORK(&ndev->watchdog, npu_watchdog_work);
	ndev->job_timeout_ms = npu_job_timeout_ms;
	ndev->state = NPU_STATE_READY;
	/* Faults seen during probe are not recovered: probe fails instead. */
	ndev->recovery_off = true;
}

/* Start watching the device; probe calls it once the device runs. */
void npu_recovery_start(struct npu_device *ndev)
{
	unsigned int i;

	ndev->wd_heartbeat_at = jiffies;
	for (i = 0; i < ndev->pe_count; i++)
		ndev->pe[i].wd_progress_at = jiffies;
	spin_lock(&ndev->recovery_lock);
	ndev->recovery_off = false;
	spin_unlock(&ndev->recovery_lock);
	npu_watchdog_arm(ndev);
}

/* No more triggers, watchdog runs or resets; remove calls it first. */
void npu_recovery_stop(struct npu_device *ndev)
{
	spin_lock(&ndev->recovery_lock);
	ndev->recovery_off = true;
	spin_unlock(&ndev->recovery_lock);
	cancel_delayed_work_sync(&ndev->watchdog);
	cancel_work_sync(&ndev->reset_work);
}
