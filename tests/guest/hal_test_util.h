/* SPDX-License-Identifier: MIT */
/* Programs the libnpuhal guest tests run, built with the HAL's program builder. */
#ifndef HAL_TEST_UTIL_H
#define HAL_TEST_UTIL_H

#include <stdint.h>

#include "npuhal.h"

/*
 * y[m x n] int32 = x[m x k] int8 * w[k x n] int8, w a constant section, for
 * `pes` PEs (1, or 2 fused). Input "x", output "y". NULL (with
 * npu_last_error() set) if the builder refuses it.
 */
npu_program *hal_test_matmul_program(unsigned int pes, uint32_t m, uint32_t k, uint32_t n,
				     const int8_t *w);

/* y = x, `bytes` int8 bytes copied on one PE: for in-place inputs. */
npu_program *hal_test_copy_program(uint64_t bytes);

/*
 * Opens a session on spec and a runner of prog on it, asserting both with
 * npu_last_error() in the log. A macro: the ASSERTs act on the calling test
 * or setup (include kselftest_harness.h first).
 */
#define HAL_TEST_OPEN_RUNNER(spec, prog, session, runner) do { \
	ASSERT_EQ(NPU_OK, npu_session_open((spec), NULL, (session))) \
		TH_LOG("session '%s': %s", (spec), npu_last_error()); \
	ASSERT_EQ(NPU_OK, npu_runner_create(*(session), (prog), (runner))) \
		TH_LOG("runner: %s", npu_last_error()); \
} while (0)

/* Destroys the runner, closes the session and frees the program (each may be NULL). */
void hal_test_close(npu_runner *runner, npu_session *session, npu_program *program);

#endif /* HAL_TEST_UTIL_H */
