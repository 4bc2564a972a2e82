// SPDX-License-Identifier: MIT
/*
 * npu-bench: run a compiled program many times on a device spec and report
 * throughput and latency percentiles, like furiosa-bench.
 *
 *   npu-bench [-d SPEC] [-n COUNT | -t SECONDS] [-q DEPTH] [-w WORKERS] [--json] PROGRAM
 *
 * With DEPTH 0 every worker runs synchronously (npu_runner_run); otherwise
 * workers submit to a queue holding DEPTH jobs in flight per unit and the
 * main thread receives. Inputs are pseudo-random bytes from a fixed seed.
 * Latency is per job: submit (or run) call to result in hand.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npuhal.h"

#define MAX_WORKERS 64

struct bench {
	npu_runner *runner;
	npu_queue *queue;
	unsigned long count;		/* jobs to run; 0 = until the deadline */
	uint64_t deadline_ns;		/* 0 = none */
	atomic_ulong issued;		/* jobs handed out to workers */
	atomic_ulong failed;
	atomic_bool stop;		/* a worker hit an error */
	uint64_t *latency_ns;		/* per finished job, in finishing order */
	atomic_ulong finished;
	unsigned long capacity;
	uint64_t device_ns_sum;		/* device execution time (sync mode: per worker adds) */
	pthread_mutex_t lock;		/* protects device_ns_sum */
	void **inputs;			/* one buffer per input tensor, shared read-only */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Takes the next job number, or returns false when the run is over. */
static bool next_job(struct bench *b)
{
	unsigned long n;

	if (atomic_load(&b->stop))
		return false;
	if (b->deadline_ns && now_ns() >= b->deadline_ns)
		return false;
	n = atomic_fetch_add(&b->issued, 1);
	if ((b->count && n >= b->count) || n >= b->capacity) {
		atomic_fetch_sub(&b->issued, 1);
		return false;
	}
	return true;
}

static void record(struct bench *b, uint64_t latency, const npu_run_info *info)
{
	unsigned long i = atomic_fetch_add(&b->finished, 1);

	if (i < b->capacity)
		b->latency_ns[i] = latency;
	if (info && info->clock_mhz) {
		pthread_mutex_lock(&b->lock);
		b->device_ns_sum += (info->device_end - info->device_start) * 1000 / info->clock_mhz;
		pthread_mutex_unlock(&b->lock);
	}
}

static void *sync_worker(void *p)
{
	struct bench *b = p;
	size_t nout = npu_runner_output_count(b->runner);
	void *outs[NPU_PROG_MAX_TENSORS] = { 0 };

	for (size_t i = 0; i < nout; i++)
		outs[i] = malloc(npu_runner_output(b->runner, i)->byte_size);
	while (next_job(b)) {
		uint64_t t0 = now_ns();
		npu_run_info info;
		npu_status st = npu_runner_run(b->runner, (const void *const *)b->inputs, outs, &info);

		if (st) {
			fprintf(stderr, "npu-bench: %s\n", npu_last_error());
			atomic_fetch_add(&b->failed, 1);
			atomic_store(&b->stop, true);
			break;
		}
		record(b, now_ns() - t0, &info);
	}
	for (size_t i = 0; i < nout; i++)
		free(outs[i]);
	return NULL;
}

static void *queue_worker(void *p)
{
	struct bench *b = p;

	while (next_job(b)) {
		/* The context carries the submit time. */
		uintptr_t t0 = (uintptr_t)now_ns();
		/* The inputs never change: large ones need no copy per job. */
		npu_status st = npu_queue_submit_in_place(b->queue,
							  (const void *const *)b->inputs,
							  (void *)t0, -1);

		if (st) {
			fprintf(stderr, "npu-bench: %s\n", npu_last_error());
			atomic_fetch_sub(&b->issued, 1);
			atomic_store(&b->stop, true);
			break;
		}
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: npu-bench [-d SPEC] [-n COUNT | -t SECONDS] [-q DEPTH] [-w WORKERS] [--json] PROGRAM\n"
		"  -d SPEC     device spec (default: FURIOSA_DEVICES, NPU_DEVNAME, else warboy(2)*1)\n"
		"  -n COUNT    jobs to run (default 1000)\n"
		"  -t SECONDS  run for this long instead\n"
		"  -q DEPTH    jobs in flight per device file (default 4; 0 = synchronous runs)\n"
		"  -w WORKERS  submitting threads (default 1)\n");
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && *s && !*end && *out <= max;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long count = 1000, seconds = 0, depth = 4, workers = 1;
	const char *spec = NULL;
	struct bench b = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[MAX_WORKERS];
	npu_latency_summary lat;
	npu_program *prog = NULL;
	npu_session *session = NULL;
	bool json = false;
	uint64_t start, elapsed;
	unsigned long done;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "d:n:t:q:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			spec = optarg;
			break;
		case 'n':
			if (!parse_ulong(optarg, 100000000ul, &count) || !count)
				goto bad_usage;
			break;
		case 't':
			if (!parse_ulong(optarg, 86400, &seconds) || !seconds)
				goto bad_usage;
			break;
		case 'q':
			if (!parse_ulong(optarg, 64, &depth))
				goto bad_usage;
			break;
		case 'w':
			if (!parse_ulong(optarg, MAX_WORKERS, &workers) || !workers)
				goto bad_usage;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (optind + 1 != argc)
		goto bad_usage;

	if (npu_program_load(argv[optind], &prog) ||
	    npu_session_open(spec, NULL, &session) ||
	    npu_runner_create(session, prog, &b.runner)) {
		fprintf(stderr, "npu-bench: %s\n", npu_last_error());
		goto out;
	}
	if (depth && npu_queue_create(b.runner, &(npu_queue_options){ .inflight_per_unit =
					(unsigned int)depth }, &b.queue)) {
		fprintf(stderr, "npu-bench: %s\n", npu_last_error());
		goto out;
	}
	b.count = seconds ? 0 : count;
	b.capacity = seconds ? 50000000ul : count;
	b.latency_ns = malloc(b.capacity * sizeof(*b.latency_ns));
	b.inputs = calloc(NPU_PROG_MAX_TENSORS, sizeof(*b.inputs));
	if (!b.latency_ns || !b.inputs) {
		fprintf(stderr, "npu-bench: out of memory\n");
		goto out;
	}
	srand(1);
	for (size_t i = 0; i < npu_runner_input_count(b.runner); i++) {
		size_t n = npu_runner_input(b.runner, i)->byte_size;
		unsigned char *buf = npu_alloc_tensor(n);

		if (!buf)
			goto out;
		for (size_t k = 0; k < n; k++)
			buf[k] = (unsigned char)rand();
		b.inputs[i] = buf;
	}

	start = now_ns();
	b.deadline_ns = seconds ? start + seconds * 1000000000ull : 0;
	for (unsigned long w = 0; w < workers; w++)
		pthread_create(&th[w], NULL, depth ? queue_worker : sync_worker, &b);
	if (depth) {
		size_t nout = npu_runner_output_count(b.runner);
		void *outs[NPU_PROG_MAX_TENSORS] = { 0 };

		for (size_t i = 0; i < nout; i++)
			outs[i] = malloc(npu_runner_output(b.runner, i)->byte_size);
		/* Receive until every issued job is back and no more will be issued. */
		for (;;) {
			unsigned long got = atomic_load(&b.finished) + atomic_load(&b.failed);
			npu_run_info info;
			void *ctx;
			npu_status st;

			if (got >= atomic_load(&b.issued) &&
			    (atomic_load(&b.stop) || (b.count && got >= b.count) ||
			     (b.deadline_ns && now_ns() >= b.deadline_ns)))
				break;
			st = npu_queue_recv(b.queue, 100000000, &ctx, outs, &info);
			if (st == NPU_ERR_TIMEOUT)
				continue;
			if (st) {
				fprintf(stderr, "npu-bench: %s\n", npu_last_error());
				atomic_fetch_add(&b.failed, 1);
				atomic_store(&b.stop, true);
				continue;
			}
			record(&b, now_ns() - (uint64_t)(uintptr_t)ctx, &info);
		}
		for (size_t i = 0; i < nout; i++)
			free(outs[i]);
	}
	for (unsigned long w = 0; w < workers; w++)
		pthread_join(th[w], NULL);
	elapsed = now_ns() - start;
	done = atomic_load(&b.finished);
	if (done > b.capacity)
		done = b.capacity;
	if (!done || npu_latency_stats(b.latency_ns, done, &lat)) {
		fprintf(stderr, "npu-bench: no job finished\n");
		goto out;
	}
	if (json) {
		printf("{\"version\": 1, \"program\": \"%s\", \"units\": %zu, \"depth\": %lu, "
		       "\"workers\": %lu, \"jobs\": %lu, \"failed\": %lu, \"elapsed_seconds\": %.6f, "
		       "\"qps\": %.2f, \"mean_device_ns\": %llu, \"latency_ns\": {\"min\": %llu, "
		       "\"mean\": %llu, \"median\": %llu, \"p90\": %llu, \"p95\": %llu, "
		       "\"p99\": %llu, \"p99_9\": %llu, \"max\": %llu}}\n",
		       argv[optind], npu_session_unit_count(session), depth, workers, done,
		       atomic_load(&b.failed), elapsed / 1e9, done / (elapsed / 1e9),
		       (unsigned long long)(b.device_ns_sum / done),
		       (unsigned long long)lat.min_ns, (unsigned long long)lat.mean_ns,
		       (unsigned long long)lat.median_ns, (unsigned long long)lat.p90_ns,
		       (unsigned long long)lat.p95_ns, (unsigned long long)lat.p99_ns,
		       (unsigned long long)lat.p999_ns, (unsigned long long)lat.max_ns);
	} else {
		printf("Program          : %s\n", argv[optind]);
		printf("Device files     : %zu (", npu_session_unit_count(session));
		for (size_t i = 0; i < npu_session_unit_count(session); i++)
			printf("%s%s", i ? ", " : "", npu_session_unit_name(session, i));
		printf(")\nQueue depth      : %lu per device file, %lu worker(s)\n", depth, workers);
		printf("Jobs             : %lu (%lu failed)\n", done, atomic_load(&b.failed));
		printf("Elapsed          : %.3f s\n", elapsed / 1e9);
		printf("Throughput (QPS) : %.2f\n", done / (elapsed / 1e9));
		printf("Mean device time : %llu ns\n", (unsigned long long)(b.device_ns_sum / done));
		npu_latency_print(stdout, "Inference Results Summary", &lat);
	}
	if (npu_profiler_enabled())
		npu_profiler_print_summary(stderr);
	rc = atomic_load(&b.failed) ? 1 : 0;
out:
	npu_queue_destroy(b.queue);
	npu_runner_destroy(b.runner);
	npu_session_close(session);
	npu_program_free(prog);
	if (b.inputs)
		for (size_t i = 0; i < NPU_PROG_MAX_TENSORS; i++)
			npu_free_tensor(b.inputs[i]);
	free(b.inputs);
	free(b.latency_ns);
	return rc;
bad_usage:
	usage(stderr);
	return 2;
}
