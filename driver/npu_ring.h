/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Submission and completion rings of one PE. The ring knows jobs only as
 * struct npu_ring_job: it reports each one's end through the callback its
 * owner (the job layer) set, and never calls up.
 */
#ifndef NPU_RING_H
#define NPU_RING_H

#include "npu_device.h"

/* How a job left the ring: its completion entry, or the driver's verdict. */
struct npu_ring_result {
	u32 status;		/* enum npu_job_status */
	u32 info;		/* device detail of a failure */
	u64 start_ts;		/* device clock; 0 if the job never ran */
	u64 end_ts;
};

struct npu_ring_job;
typedef void (*npu_ring_done_fn)(struct npu_ring_job *rj, const struct npu_ring_result *res);

/**
 * struct npu_ring_job - a job as the ring sees it
 * @node: entry in npu_pe.inflight, under npu_pe.lock
 * @pe: PE whose ring runs the job (set by npu_ring_begin_locked())
 * @hw_job_id: id written into the commands, checked on completion
 * @cmd_count: commands the job occupies in the ring
 * @done: called once, under npu_pe.lock, when the job leaves the ring
 */
struct npu_ring_job {
	struct list_head node;
	struct npu_pe *pe;
	u64 hw_job_id;
	unsigned int cmd_count;
	npu_ring_done_fn done;
};

int npu_ring_init(struct npu_pe *pe);
int npu_ring_start(struct npu_pe *pe);
void npu_ring_stop(struct npu_pe *pe);
void npu_ring_program_locked(struct npu_pe *pe);
int npu_ring_enable_locked(struct npu_pe *pe);
int npu_ring_reset_locked(struct npu_pe *pe);
int npu_ring_poll_locked(struct npu_pe *pe);
unsigned int npu_ring_space(struct npu_pe *pe);
int npu_ring_begin_locked(struct npu_pe *pe, struct npu_ring_job *rj);
void npu_ring_emit_locked(struct npu_pe *pe, const struct npu_ring_job *rj, unsigned int i,
			  const struct npu_hw_cmd *cmd);
void npu_ring_commit_locked(struct npu_pe *pe, struct npu_ring_job *rj);
bool npu_ring_finish_oldest_locked(struct npu_pe *pe, u32 status);
void npu_ring_finish_all_locked(struct npu_pe *pe, u32 status);

#endif /* NPU_RING_H */
