/* SPDX-License-Identifier: MIT */
/* Internal view of runners and the job helpers shared with queues. */
#ifndef NPUHAL_RUNNER_H
#define NPUHAL_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>

#include "profiler.h"
#include "session.h"

/* A driver buffer mapped into this process. */
struct npu_hal_bo {
	int fd;
	uint32_t handle;	/* 0: none */
	uint64_t size;
	void *map;
};

struct npu_runner_unit {
	struct npu_session_unit *su;
	pthread_mutex_t lock;		/* serializes synchronous runs on this unit */
	int lock_ready;
	struct npu_hal_bo *staging;	/* inputs, then outputs */
	struct npu_prof_clock clock;	/* device clock on the host timeline */
};

struct npu_runner {
	npu_session *session;
	const npu_program *program;
	const struct npu_prog_tensor *inputs[NPU_PROG_MAX_TENSORS];
	const struct npu_prog_tensor *outputs[NPU_PROG_MAX_TENSORS];
	size_t input_count, output_count;
	uint64_t code_addr, code_size;
	atomic_size_t next_unit;	/* round-robin over units */
	size_t unit_count;
	struct npu_runner_unit units[];
};

/* /dev/npuN (two independent PEs): let the driver pick; other files: PE 0. */
#define NPU_PE_ANY_IF_ALL(su) \
	(!(su)->info.fused && __builtin_popcount((su)->info.pe_mask) > 1 ? NPU_PE_ANY : 0)

npu_status npu_bo_new(int fd, uint64_t size, struct npu_hal_bo *bo);
void npu_bo_delete(struct npu_hal_bo *bo);
npu_status npu_job_submit(const struct npu_session_unit *su, uint32_t pe,
			  const struct npu_job_cmd *cmds, uint32_t count, uint64_t *seqno);
/* Waits for seqno (or NPU_WAIT_ANY); a failed job is NPU_ERR_JOB_FAILED with *w filled. */
npu_status npu_job_wait(const struct npu_session_unit *su, uint64_t seqno, int64_t timeout_ns,
			struct npu_wait *w);
const char *npu_job_status_text(uint32_t status);
int64_t npu_run_timeout_ns(void);
/* The commands of one run; handles[] names the BO of each input, then each output. */
uint32_t npu_runner_build_job(const npu_runner *r, const uint32_t *handles,
			      struct npu_job_cmd *cmds);
/*
 * A read-only userptr BO over an input the device can read in place
 * (page-aligned, at least NPU_IN_PLACE_MIN_BYTES), or 0: copy it instead.
 * A submitted job keeps the BO alive, so npu_runner_unpin() may follow the
 * SUBMIT at once.
 */
uint32_t npu_runner_pin_input(const struct npu_session_unit *su, const void *p, uint64_t size);
/*
 * Puts a run's inputs where the job reads them: pinned in place (in_place
 * and npu_runner_pin_input() agrees; pinned[i] and handles[i] name the BO)
 * or copied into staging (pinned[i] = 0). Returns how many are in place.
 */
unsigned int npu_runner_feed_inputs(const npu_runner *r, const struct npu_session_unit *su,
				    const struct npu_hal_bo *staging, const void *const *inputs,
				    bool in_place, uint32_t *handles, uint32_t *pinned);
/* Frees the pinned BOs' handles, e.g. right after SUBMIT. */
void npu_runner_unpin_inputs(const npu_runner *r, const struct npu_session_unit *su,
			     const uint32_t *pinned);
/* handles[] of staging buffers (inputs, then outputs). */
void npu_runner_staging_handles(const npu_runner *r, const struct npu_hal_bo *staging,
				uint32_t *handles);

#endif /* NPUHAL_RUNNER_H */
