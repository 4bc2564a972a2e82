// SPDX-License-Identifier: MIT
/* Status texts and the per-thread detail message. */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

#define NPU_ERROR_MESSAGE_MAX 512

static _Thread_local char last_error[NPU_ERROR_MESSAGE_MAX];

static const char *const status_text[NPU_HAL_STATUS_COUNT] = {
	[NPU_OK] = "ok", [NPU_ERR_INVALID_ARGUMENT] = "invalid argument",
	[NPU_ERR_NOT_FOUND] = "not found", [NPU_ERR_BUSY] = "busy",
	[NPU_ERR_NO_MEMORY] = "out of memory", [NPU_ERR_IO] = "I/O error",
	[NPU_ERR_TIMEOUT] = "timed out", [NPU_ERR_NO_DEVICE] = "no device",
	[NPU_ERR_BAD_PROGRAM] = "bad program", [NPU_ERR_JOB_FAILED] = "job failed",
	[NPU_ERR_CLOSED] = "closed", [NPU_ERR_UNSUPPORTED] = "unsupported",
};

const char *npu_strerror(npu_status status)
{
	if ((unsigned int)status >= NPU_HAL_STATUS_COUNT || !status_text[status])
		return "unknown status";
	return status_text[status];
}

const char *npu_last_error(void)
{
	return last_error;
}

npu_status npu_fail(npu_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return status;
}
