/* SPDX-License-Identifier: MIT */
/* Library log messages: a context's log function or stderr, filtered by its level. */
#ifndef NPUHAL_LOG_H
#define NPUHAL_LOG_H

#include <stdbool.h>

#include "error.h"
#include "npuhal.h"

void npu_ctx_log(npu_context *ctx, npu_log_level level, const char *fmt, ...) NPU_PRINTF(3, 4);
/* "INFO", "warn", ... (any case) into *level; false if text names no level. */
bool npu_log_level_parse(const char *text, npu_log_level *level);

#endif /* NPUHAL_LOG_H */
