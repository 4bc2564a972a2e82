/* SPDX-License-Identifier: GPL-2.0 */
/* Jobs: validation and translation of SUBMIT, completion, WAIT. */
#ifndef NPU_JOB_H
#define NPU_JOB_H

#include <linux/types.h>

#include "npu_device.h"
#include "npu_ring.h"

struct npu_bo;

/* DMA resources of one command: its BO and hardware SG list. */
struct npu_job_cmd_dma {
	struct npu_bo *bo;		/* referenced until the job finishes */
	struct npu_hw_sg *sg;		/* DMA-coherent SG list, or NULL */
	dma_addr_t sg_dma;
	size_t sg_bytes;
};

enum npu_job_state {
	NPU_JOB_STATE_QUEUED,		/* on the ring */
	NPU_JOB_STATE_DONE,		/* result waiting to be collected */
};

/**
 * struct npu_job - one submitted job
 * @file: submitting file; it outlives the job (release waits for jobs)
 * @rj: the job on its PE's ring (rj.pe: the PE that runs it)
 * @file_node: entry in npu_file.jobs, under npu_file.jobs_lock
 * @seqno: per-file sequence number
 * @state: under npu_file.jobs_lock
 * @status: enum npu_job_status, valid once @state is DONE
 * @info: device detail of a failure
 * @start_ts: device clock at start
 * @end_ts: device clock at end
 * @cmd_count: commands in the job
 * @cmds: hardware commands, built before the ring is locked
 * @dma: DMA resources of each command
 */
struct npu_job {
	struct npu_file *file;
	struct npu_ring_job rj;
	struct list_head file_node;
	u64 seqno;
	enum npu_job_state state;
	u32 status;
	u32 info;
	u64 start_ts;
	u64 end_ts;
	unsigned int cmd_count;
	struct npu_hw_cmd cmds[NPU_JOB_MAX_CMDS];
	struct npu_job_cmd_dma dma[NPU_JOB_MAX_CMDS];
};

int npu_ioctl_submit(struct npu_file *nfile, void __user *arg, bool nonblock);
int npu_ioctl_wait(struct npu_file *nfile, void __user *arg);
bool npu_file_has_finished_job(struct npu_file *nfile);
bool npu_file_can_submit(struct npu_file *nfile);
long npu_file_wait_jobs(struct npu_file *nfile, long timeout);
void npu_file_free_jobs(struct npu_file *nfile);

#endif /* NPU_JOB_H */
