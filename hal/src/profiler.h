/* SPDX-License-Identifier: MIT */
/* Recording spans for the profiler (see profiler.c). */
#ifndef NPUHAL_PROFILER_H
#define NPUHAL_PROFILER_H

#include <stdbool.h>
#include <stdint.h>

#include "npuhal.h"

/* Where a unit's device clock sits on the host timeline (set by its first job). */
struct npu_prof_clock {
	bool valid;
	double offset_us;
};

uint64_t npu_prof_now_ns(void);
/* A host step of job `job` (0 if none) from start_ns to end_ns (CLOCK_MONOTONIC). */
void npu_prof_host_span(const char *name, uint64_t start_ns, uint64_t end_ns, uint64_t job);
/* A job's execution on a unit, from device cycles; seen_ns is when the host saw it end. */
void npu_prof_device_span(struct npu_prof_clock *clock, const char *unit, uint64_t start_cycles,
			  uint64_t end_cycles, uint32_t clock_mhz, uint64_t seen_ns, uint64_t job);

#endif /* NPUHAL_PROFILER_H */
