// SPDX-License-Identifier: MIT
/* Submitting jobs to a unit and waiting for them, errors turned into messages. */
#include <errno.h>
#include <string.h>

#include "error.h"
#include "ioctl.h"
#include "job.h"

const char *npu_job_status_text(uint32_t status)
{
	switch (status) {
	case NPU_JOB_OK:
		return "ok";
	case NPU_JOB_BAD_DESC:
		return "malformed command or instruction";
	case NPU_JOB_DRAM_OOB:
		return "DRAM access out of bounds";
	case NPU_JOB_DMA_FAULT:
		return "host memory access failed";
	case NPU_JOB_TIMEOUT:
		return "program exceeded its cycle budget";
	case NPU_JOB_HANG:
		return "device made no progress (job timeout)";
	case NPU_JOB_CANCELLED:
		return "cancelled by a reset";
	case NPU_JOB_DEVICE_LOST:
		return "device lost";
	}
	return "unknown status";
}

npu_status npu_job_wait(const struct npu_session_unit *su, uint64_t seqno, int64_t timeout_ns,
			struct npu_wait *w)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->seqno = seqno;
	w->timeout_ns = timeout_ns;
	r = npu_ioctl_wait(su->fd, w);
	switch (r) {
	case 0:
		return NPU_OK;
	case -EIO:
		return npu_fail(NPU_ERR_JOB_FAILED,
				"job %llu failed on %s: %s (command %u, instruction %u)",
				(unsigned long long)w->seqno, su->unit.name,
				npu_job_status_text(w->status), w->info >> 16, w->info & 0xffff);
	case -ETIME:
		return npu_fail(NPU_ERR_TIMEOUT,
				"job %llu on %s did not finish within %lld ms (NPU_JOB_TIMEOUT_MS, npu_context_set_job_timeout_ms)",
				(unsigned long long)seqno, su->unit.name,
				(long long)(timeout_ns / 1000000));
	case -ENODEV:
		return npu_fail(NPU_ERR_NO_DEVICE, "%s: the device is gone", su->unit.name);
	default:
		return npu_fail(NPU_ERR_IO, "waiting for job %llu on %s: %s",
				(unsigned long long)seqno, su->unit.name, strerror(-r));
	}
}

npu_status npu_job_submit(const struct npu_session_unit *su, uint32_t pe,
			  const struct npu_job_cmd *cmds, uint32_t count, uint64_t *seqno)
{
	struct npu_submit sub = {
		.cmds = (uintptr_t)cmds, .cmd_count = count, .pe = pe,
	};
	int r = npu_ioctl_submit(su->fd, &sub);

	if (r == -ENODEV)
		return npu_fail(NPU_ERR_NO_DEVICE, "%s: the device is gone", su->unit.name);
	if (r)
		return npu_fail(r == -ENOSPC || r == -EAGAIN ? NPU_ERR_BUSY : NPU_ERR_IO,
				"cannot submit a job to %s: %s", su->unit.name, strerror(-r));
	*seqno = sub.seqno;
	return NPU_OK;
}
