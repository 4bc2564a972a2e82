/* SPDX-License-Identifier: MIT */
/* Recording spans for the profiler (see profiler.c); each context owns one. */
#ifndef NPUHAL_PROFILER_H
#define NPUHAL_PROFILER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "npuhal.h"

#define NPU_PROF_MAX_SPAN_NAMES 16

struct npu_prof_samples {
	char name[32];
	uint64_t *ns;
	size_t count, cap;
};

struct npu_profiler {
	pthread_mutex_t lock;		/* protects everything below but started */
	atomic_bool started;		/* the trace file was opened (or tried) */
	char *path;			/* the trace file; NULL: none */
	npu_context *ctx;		/* for log messages */
	FILE *trace;
	bool first_event;
	atomic_bool summary_enabled;
	struct npu_prof_samples names[NPU_PROF_MAX_SPAN_NAMES];
	size_t name_count;
};

/* Where a unit's device clock sits on the host timeline (set by its first job). */
struct npu_prof_clock {
	bool valid;
	double offset_us;
};

void npu_prof_init(struct npu_profiler *p, npu_context *ctx);
/* Completes the trace file; later spans only go to the summary. */
void npu_prof_close_trace(struct npu_profiler *p);
/* Completes the trace file and frees the samples. */
void npu_prof_fini(struct npu_profiler *p);
/* Opens the trace file on first use; true if spans are recorded. */
bool npu_prof_enabled(struct npu_profiler *p);
uint64_t npu_prof_now_ns(void);
/* A host step of job `job` (0 if none) from start_ns to end_ns (CLOCK_MONOTONIC). */
void npu_prof_host_span(struct npu_profiler *p, const char *name, uint64_t start_ns,
			uint64_t end_ns, uint64_t job);
/* A job's execution on a unit, from device cycles; seen_ns is when the host saw it end. */
void npu_prof_device_span(struct npu_profiler *p, struct npu_prof_clock *clock, const char *unit,
			  uint64_t start_cycles, uint64_t end_cycles, uint32_t clock_mhz,
			  uint64_t seen_ns, uint64_t job);

#endif /* NPUHAL_PROFILER_H */
