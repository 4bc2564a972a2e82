// SPDX-License-Identifier: GPL-2.0
/* The tracepoints of npu_trace.h, instantiated once for the module. */

#define CREATE_TRACE_POINTS
#include "npu_trace.h"
