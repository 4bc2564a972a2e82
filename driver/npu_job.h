/* SPDX-License-Identifier: GPL-2.0 */
/* Jobs: validation and translation of SUBMIT, completion, WAIT. */
#ifndef NPU_JOB_H
#define NPU_JOB_H

#include <linux/kref.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "npu_device.h"
#include "npu_ring.h"

struct npu_bo;

/* xarray mark of npu_file.jobs: the job finished, its result waits for WAIT. */
#define NPU_JOB_DONE		XA_MARK_0

/**
 * struct npu_job_hwcmd - one command of a job as the device gets it
 * @hw: the hardware command (its job_id is stamped in the ring's copy)
 * @bo: the BO of a DMA command, referenced until the job finishes
 * @sg: DMA-coherent hardware SG list of a DMA command, or NULL
 * @sg_dma: bus address of @sg
 * @sg_bytes: size of @sg
 */
struct npu_job_hwcmd {
	struct npu_hw_cmd hw;
	struct npu_bo *bo;
	struct npu_hw_sg *sg;
	dma_addr_t sg_dma;
	size_t sg_bytes;
};

/**
 * struct npu_job - one submitted job
 * @ref: held by the file's @jobs entry until WAIT collects the result (or
 *	 release drops it) and by the ring while the job is on it
 * @file: submitting file, referenced: it outlives its jobs
 * @rj: the job on its PE's ring (rj.pe: the PE that runs it)
 * @seqno: per-file sequence number, also the job's index in npu_file.jobs
 * @status: enum npu_job_status, valid once the job is marked NPU_JOB_DONE
 * @info: device detail of a failure
 * @start_ts: device clock at start
 * @end_ts: device clock at end
 * @cmd_count: commands in the job
 * @cmds: the commands, built before the ring is locked
 *
 * The result fields are written under npu_file.jobs_lock.
 */
struct npu_job {
	struct kref ref;
	struct npu_file *file;
	struct npu_ring_job rj;
	u64 seqno;
	u32 status;
	u32 info;
	u64 start_ts;
	u64 end_ts;
	unsigned int cmd_count;
	struct npu_job_hwcmd cmds[];
};

int npu_ioctl_submit(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);
int npu_ioctl_wait(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);
bool npu_file_has_finished_job(struct npu_file *nfile);
bool npu_file_can_submit(struct npu_file *nfile);
long npu_file_wait_jobs(struct npu_file *nfile, long timeout);
void npu_file_free_jobs(struct npu_file *nfile);

#endif /* NPU_JOB_H */
