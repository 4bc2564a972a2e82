/* SPDX-License-Identifier: MIT */
/* Jobs on a session unit: SUBMIT and WAIT with the library's status and messages. */
#ifndef NPUHAL_JOB_H
#define NPUHAL_JOB_H

#include <stdint.h>

#include "session.h"

/* /dev/npuN (two independent PEs): let the driver pick; other files: PE 0. */
#define NPU_PE_ANY_IF_ALL(su) \
	(!(su)->info.fused && __builtin_popcount((su)->info.pe_mask) > 1 ? NPU_PE_ANY : 0)

npu_status npu_job_submit(const struct npu_session_unit *su, uint32_t pe,
			  const struct npu_job_cmd *cmds, uint32_t count, uint64_t *seqno);
/* Waits for seqno (or NPU_WAIT_ANY); a failed job is NPU_ERR_JOB_FAILED with *w filled. */
npu_status npu_job_wait(const struct npu_session_unit *su, uint64_t seqno, int64_t timeout_ns,
			struct npu_wait *w);
const char *npu_job_status_text(uint32_t status);

#endif /* NPUHAL_JOB_H */
