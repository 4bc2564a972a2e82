/* SPDX-License-Identifier: MIT */
/* Per-thread error detail shared by every part of the library. */
#ifndef NPUHAL_ERROR_H
#define NPUHAL_ERROR_H

#include "npuhal.h"

#if defined(__GNUC__)
#define NPU_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NPU_PRINTF(fmt, args)
#endif

/* Records a detail message for this thread and returns status, for `return npu_fail(...)`. */
npu_status npu_fail(npu_status status, const char *fmt, ...) NPU_PRINTF(2, 3);

#endif /* NPUHAL_ERROR_H */
