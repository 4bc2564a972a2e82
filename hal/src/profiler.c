// SPDX-License-Identifier: MIT
/*
 * The profiler: when NPU_PROFILER_OUTPUT_PATH (or FURIOSA_PROFILER_OUTPUT_PATH)
 * names a file, every host step (load, enqueue, feed inputs, wait, fetch
 * outputs) and every job's device execution is written there as a Chrome
 * trace event (JSON, opens in Perfetto and chrome://tracing). Durations are
 * also kept per span name for npu_profiler_print_summary().
 *
 * Host spans use CLOCK_MONOTONIC. Device spans come from the device's own
 * start/end cycle counters; each unit's device clock is placed on the host
 * timeline by the first job it finishes (its end = when the host saw it),
 * so device spans line up with the host's within a wait's latency.
 *
 * Each context has its own profiler (the 1.0 functions use the default
 * context's), guarded by one mutex: recording is thread-safe. The trace file
 * is opened at the first run that records, and completed by npu_prof_fini()
 * (the default context's at exit).
 */
#define _GNU_SOURCE /* gettid() */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "profiler.h"

#include "context.h"

#define MAX_SAMPLES_PER_NAME (1u << 24)	/* 128 MiB of durations at most */

uint64_t npu_prof_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void npu_prof_init(struct npu_profiler *p, npu_context *ctx)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->ctx = ctx;
}

static void close_trace_locked(struct npu_profiler *p)
{
	if (p->trace) {
		fputs("\n]\n", p->trace);
		fclose(p->trace);
		p->trace = NULL;
	}
}

void npu_prof_close_trace(struct npu_profiler *p)
{
	pthread_mutex_lock(&p->lock);
	close_trace_locked(p);
	pthread_mutex_unlock(&p->lock);
}

void npu_prof_fini(struct npu_profiler *p)
{
	pthread_mutex_lock(&p->lock);
	close_trace_locked(p);
	for (size_t i = 0; i < p->name_count; i++)
		free(p->names[i].ns);
	p->name_count = 0;
	free(p->path);
	p->path = NULL;
	pthread_mutex_unlock(&p->lock);
}

static void prof_start_locked(struct npu_profiler *p)
{
	if (!p->path)
		return;
	p->trace = fopen(p->path, "w");
	if (!p->trace) {
		npu_ctx_log(p->ctx, NPU_LOG_WARN, "profiler: cannot write %s; tracing is off",
			    p->path);
		return;
	}
	fputs("[", p->trace);
	p->first_event = true;
	atomic_store(&p->summary_enabled, true);
	npu_ctx_log(p->ctx, NPU_LOG_INFO, "profiler: writing a Chrome trace to %s", p->path);
}

bool npu_prof_enabled(struct npu_profiler *p)
{
	if (!atomic_load_explicit(&p->started, memory_order_acquire)) {
		pthread_mutex_lock(&p->lock);
		if (!atomic_load(&p->started)) {
			prof_start_locked(p);
			atomic_store_explicit(&p->started, true, memory_order_release);
		}
		pthread_mutex_unlock(&p->lock);
	}
	return atomic_load(&p->summary_enabled);
}

bool npu_ctx_profiler_enabled(npu_context *ctx)
{
	return ctx && npu_prof_enabled(&ctx->prof);
}

bool npu_profiler_enabled(void)
{
	return npu_ctx_profiler_enabled(npu_default_context());
}

void npu_ctx_profiler_enable_summary(npu_context *ctx)
{
	if (!ctx)
		return;
	npu_prof_enabled(&ctx->prof);
	atomic_store(&ctx->prof.summary_enabled, true);
}

void npu_profiler_enable_summary(void)
{
	npu_ctx_profiler_enable_summary(npu_default_context());
}

static struct npu_prof_samples *samples_for(struct npu_profiler *p, const char *name)
{
	for (size_t i = 0; i < p->name_count; i++)
		if (!strcmp(p->names[i].name, name))
			return &p->names[i];
	if (p->name_count == NPU_PROF_MAX_SPAN_NAMES)
		return NULL;
	snprintf(p->names[p->name_count].name, sizeof(p->names[0].name), "%s", name);
	return &p->names[p->name_count++];
}

static void add_sample(struct npu_profiler *p, const char *name, uint64_t dur_ns)
{
	struct npu_prof_samples *s = samples_for(p, name);

	if (!s || s->count == MAX_SAMPLES_PER_NAME)
		return;
	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *bigger = realloc(s->ns, cap * sizeof(*bigger));

		if (!bigger)
			return;
		s->ns = bigger;
		s->cap = cap;
	}
	s->ns[s->count++] = dur_ns;
}

/* One complete ("X") event; ts and dur in microseconds, as Chrome expects. */
static void write_event(struct npu_profiler *p, const char *name, const char *track,
			unsigned int tid, double ts_us, double dur_us, uint64_t job)
{
	if (!p->trace)
		return;
	fprintf(p->trace,
		"%s\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":\"%s\",\"tid\":%u,"
		"\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"job\":%llu}}",
		p->first_event ? "" : ",", name, tid ? "host" : "device", track, tid, ts_us, dur_us,
		(unsigned long long)job);
	p->first_event = false;
}

void npu_prof_host_span(struct npu_profiler *p, const char *name, uint64_t start_ns,
			uint64_t end_ns, uint64_t job)
{
	char track[32];

	if (!npu_prof_enabled(p))
		return;
	snprintf(track, sizeof(track), "host %d", (int)getpid());
	pthread_mutex_lock(&p->lock);
	add_sample(p, name, end_ns - start_ns);
	write_event(p, name, track, (unsigned int)gettid(), start_ns / 1e3,
		    (end_ns - start_ns) / 1e3, job);
	pthread_mutex_unlock(&p->lock);
}

void npu_prof_device_span(struct npu_profiler *p, struct npu_prof_clock *clock, const char *unit,
			  uint64_t start_cycles, uint64_t end_cycles, uint32_t clock_mhz,
			  uint64_t seen_ns, uint64_t job)
{
	double start_us, end_us;

	if (!npu_prof_enabled(p) || !clock_mhz || end_cycles < start_cycles)
		return;
	start_us = (double)start_cycles / clock_mhz;
	end_us = (double)end_cycles / clock_mhz;
	pthread_mutex_lock(&p->lock);
	if (!clock->valid) {
		clock->offset_us = seen_ns / 1e3 - end_us;
		clock->valid = true;
	}
	add_sample(p, "device", (uint64_t)((end_us - start_us) * 1e3));
	write_event(p, "execute", unit, 0, start_us + clock->offset_us, end_us - start_us, job);
	pthread_mutex_unlock(&p->lock);
}

npu_status npu_ctx_profiler_flush(npu_context *ctx)
{
	struct npu_profiler *p;

	if (!ctx)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");
	p = &ctx->prof;
	pthread_mutex_lock(&p->lock);
	if (p->trace && fflush(p->trace)) {
		pthread_mutex_unlock(&p->lock);
		return npu_fail(NPU_ERR_IO, "profiler: cannot write the trace file %s", p->path);
	}
	pthread_mutex_unlock(&p->lock);
	return NPU_OK;
}

npu_status npu_profiler_flush(void)
{
	return npu_ctx_profiler_flush(npu_default_context());
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values; p in tenths of a percent (999 = 99.9%). */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned int p)
{
	size_t rank = (p * n + 999) / 1000;

	return v[rank ? rank - 1 : 0];
}

npu_status npu_latency_stats(const uint64_t *values_ns, size_t count, npu_latency_summary *out)
{
	uint64_t *v;
	long double sum = 0;

	if (!values_ns || !out || !count)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "no latencies to summarize");
	v = malloc(count * sizeof(*v));
	if (!v)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for %zu latencies", count);
	memcpy(v, values_ns, count * sizeof(*v));
	qsort(v, count, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < count; i++)
		sum += v[i];
	*out = (npu_latency_summary){
		.count = count, .min_ns = v[0], .max_ns = v[count - 1],
		.mean_ns = (uint64_t)(sum / count),
		.median_ns = count % 2 ? v[count / 2] : (v[count / 2 - 1] + v[count / 2]) / 2,
		.p90_ns = percentile(v, count, 900), .p95_ns = percentile(v, count, 950),
		.p97_ns = percentile(v, count, 970), .p99_ns = percentile(v, count, 990),
		.p999_ns = percentile(v, count, 999),
	};
	free(v);
	return NPU_OK;
}

void npu_latency_print(FILE *out, const char *title, const npu_latency_summary *s)
{
	fprintf(out,
		"================================================\n"
		"  %s\n"
		"================================================\n"
		"%-32s: %zu\n"
		"%-32s: %llu\n%-32s: %llu\n%-32s: %llu\n%-32s: %llu\n"
		"%-32s: %llu\n%-32s: %llu\n%-32s: %llu\n%-32s: %llu\n%-32s: %llu\n",
		title, "Inference counts", s->count,
		"Min latency (ns)", (unsigned long long)s->min_ns,
		"Max latency (ns)", (unsigned long long)s->max_ns,
		"Mean latency (ns)", (unsigned long long)s->mean_ns,
		"Median latency (ns)", (unsigned long long)s->median_ns,
		"90.0 percentile latency (ns)", (unsigned long long)s->p90_ns,
		"95.0 percentile latency (ns)", (unsigned long long)s->p95_ns,
		"97.0 percentile latency (ns)", (unsigned long long)s->p97_ns,
		"99.0 percentile latency (ns)", (unsigned long long)s->p99_ns,
		"99.9 percentile latency (ns)", (unsigned long long)s->p999_ns);
}

void npu_ctx_profiler_print_summary(npu_context *ctx, FILE *out)
{
	static const char *const order[] = { "inference", "device", "load", "feed_inputs",
					     "enqueue", "wait", "fetch_outputs" };
	struct npu_profiler *p;

	if (!ctx || !out)
		return;
	p = &ctx->prof;
	pthread_mutex_lock(&p->lock);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < p->name_count; i++) {
			npu_latency_summary s;
			char title[64];

			if (strcmp(p->names[i].name, order[k]) || !p->names[i].count)
				continue;
			if (npu_latency_stats(p->names[i].ns, p->names[i].count, &s))
				continue;
			snprintf(title, sizeof(title), "%s%s Summary",
				 k == 0 ? "Inference Results" : p->names[i].name,
				 k == 0 ? "" : " span");
			npu_latency_print(out, title, &s);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void npu_profiler_print_summary(FILE *out)
{
	npu_ctx_profiler_print_summary(npu_default_context(), out);
}
