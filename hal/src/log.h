/* SPDX-License-Identifier: MIT */
/* Library log messages on stderr, filtered by NPU_LOG_LEVEL / FURIOSA_LOG_LEVEL. */
#ifndef NPUHAL_LOG_H
#define NPUHAL_LOG_H

#include "error.h"
#include "npuhal.h"

void npu_log(npu_log_level level, const char *fmt, ...) NPU_PRINTF(2, 3);

#define npu_info(...) npu_log(NPU_LOG_INFO, __VA_ARGS__)
#define npu_warn(...) npu_log(NPU_LOG_WARN, __VA_ARGS__)
#define npu_error(...) npu_log(NPU_LOG_ERROR, __VA_ARGS__)

#endif /* NPUHAL_LOG_H */
