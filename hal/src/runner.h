/* SPDX-License-Identifier: MIT */
/* Internal view of runners and the run helpers shared with queues. */
#ifndef NPUHAL_RUNNER_H
#define NPUHAL_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>

#include "buffer.h"
#include "context.h"
#include "job.h"
#include "profiler.h"
#include "session.h"

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

/* The profiler of the runner's context. */
#define NPU_RUNNER_PROF(r) (&(r)->session->ctx->prof)

/* The commands of one run; handles[] names the BO of each input, then each output. */
uint32_t npu_runner_build_job(const npu_runner *r, const uint32_t *handles,
			      struct npu_job_cmd *cmds);
/*
 * Puts a run's inputs where the job reads them: pinned in place (in_place
 * and npu_bo_pin() agrees; pinned[i] and handles[i] name the BO)
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
