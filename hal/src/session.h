/* SPDX-License-Identifier: MIT */
/* Internal view of sessions, shared with runners. */
#ifndef NPUHAL_SESSION_H
#define NPUHAL_SESSION_H

#include <stdatomic.h>

#include "alloc.h"
#include "npu.h"
#include "npuhal.h"

struct npu_session_unit {
	struct npu_unit unit;
	int fd;				/* the open device file */
	struct npu_device_info info;	/* DEVICE_INFO of that file */
};

struct npu_session {
	npu_context *ctx;		/* a reference: log, profiler, job timeout */
	/*
	 * A runner owns the DRAM of every unit (code and constants live there),
	 * so one session holds one runner at a time.
	 */
	atomic_bool has_runner;
	size_t count;
	struct npu_session_unit units[];
};

#endif /* NPUHAL_SESSION_H */
