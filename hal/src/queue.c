// SPDX-License-Identifier: MIT
/*
 * Queues: several jobs in flight per unit, results in completion order.
 *
 * Every job uses a slot: staging buffers for its inputs and outputs on one
 * unit. A slot moves free -> inflight (submit) -> done (the unit's reaper
 * thread saw it finish) -> free (recv copied the outputs out). The number
 * of slots bounds everything: jobs on the device, results waiting for
 * recv(), and memory. One mutex protects all slot states and lists; the
 * device work (ioctls, copies) happens outside it on slots a thread owns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "runner.h"

#define QUEUE_DEFAULT_INFLIGHT 4
#define QUEUE_MAX_INFLIGHT 64
/* How often a reaper blocked in WAIT looks at the closing flag. */
#define REAPER_POLL_NS 100000000ll

enum slot_state { SLOT_FREE, SLOT_SUBMITTING, SLOT_INFLIGHT, SLOT_DONE };

struct slot {
	enum slot_state state;
	size_t unit;
	struct npu_hal_bo *bufs;	/* inputs, then outputs */
	void *context;
	uint64_t seqno;
	unsigned int in_place;		/* inputs the device reads from the caller's memory */
	npu_status status;
	char message[256];		/* detail of a failed job */
	npu_run_info info;
	uint64_t submit_ns;		/* when submit() began, for the inference span */
	uint64_t queued_ns;		/* when the driver had it */
	uint64_t done_ns;		/* when the reaper saw it finish */
	struct slot *next;		/* in a unit's inflight FIFO or the done FIFO */
};

struct unit_fifo {
	struct slot *head, *tail;
};

struct npu_queue {
	npu_runner *runner;
	size_t slot_count;
	struct slot *slots;
	unsigned int output_capacity;

	pthread_mutex_t lock;		/* protects everything below and slot states */
	pthread_cond_t slot_freed;	/* a slot became FREE, or closing */
	pthread_cond_t job_done;	/* a slot became DONE, or closing */
	pthread_cond_t job_queued;	/* a unit's inflight FIFO grew, room in done, or closing */
	struct unit_fifo *inflight;	/* per unit, submission order */
	unsigned int *unit_busy;	/* per unit: slots not FREE */
	struct unit_fifo done;
	unsigned int done_count;
	bool closing;

	size_t thread_count;
	pthread_t *reapers;
	/*
	 * Per unit, held across SUBMIT and the FIFO push so the FIFO has the
	 * driver's seqno order; taken before lock, never while holding it.
	 */
	pthread_mutex_t *submit_lock;
	size_t submit_lock_count;
};

static void fifo_push(struct unit_fifo *f, struct slot *s)
{
	s->next = NULL;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
}

static struct slot *fifo_pop(struct unit_fifo *f)
{
	struct slot *s = f->head;

	if (s) {
		f->head = s->next;
		if (!f->head)
			f->tail = NULL;
	}
	return s;
}

/* Absolute CLOCK_REALTIME deadline for pthread_cond_timedwait. */
static struct timespec deadline_after(int64_t ns)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ns / 1000000000ll;
	t.tv_nsec += ns % 1000000000ll;
	if (t.tv_nsec >= 1000000000l) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000l;
	}
	return t;
}

/* Waits on cond; returns false once the deadline (if any) has passed. */
static bool wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t timeout_ns,
		       const struct timespec *deadline)
{
	if (timeout_ns < 0) {
		pthread_cond_wait(cond, lock);
		return true;
	}
	return pthread_cond_timedwait(cond, lock, deadline) != ETIMEDOUT;
}

struct reaper_arg {
	npu_queue *q;
	size_t unit;
};

/* Collects a unit's jobs in submission order (a PE completes them in order). */
static void *reaper(void *p)
{
	struct reaper_arg *a = p;
	npu_queue *q = a->q;
	struct npu_runner_unit *ru = &q->runner->units[a->unit];
	const struct npu_session_unit *su = ru->su;
	size_t unit = a->unit;

	free(a);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct slot *s = q->inflight[unit].head;
		struct npu_wait w;
		npu_status st;

		if (!s) {
			if (q->closing)
				break;
			pthread_cond_wait(&q->job_queued, &q->lock);
			continue;
		}
		/* Hold finished jobs back while the done list is full (backpressure). */
		if (q->done_count >= q->output_capacity && !q->closing) {
			pthread_cond_wait(&q->job_queued, &q->lock);
			continue;
		}
		pthread_mutex_unlock(&q->lock);
		st = npu_job_wait(su, s->seqno, REAPER_POLL_NS, &w);
		pthread_mutex_lock(&q->lock);
		if (st == NPU_ERR_TIMEOUT)
			continue;
		fifo_pop(&q->inflight[unit]);
		s->status = st;
		if (st)
			snprintf(s->message, sizeof(s->message), "%s", npu_last_error());
		s->info = (npu_run_info){
			.device_start = w.start_ts, .device_end = w.end_ts,
			.clock_mhz = su->info.clock_mhz, .unit = (unsigned int)unit,
			.inputs_in_place = s->in_place,
		};
		s->done_ns = npu_prof_now_ns();
		if (!st)
			npu_prof_device_span(NPU_RUNNER_PROF(q->runner), &ru->clock, su->unit.name,
					     w.start_ts, w.end_ts, su->info.clock_mhz, s->done_ns,
					     s->seqno);
		s->state = SLOT_DONE;
		fifo_push(&q->done, s);
		q->done_count++;
		pthread_cond_broadcast(&q->job_done);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void queue_free(npu_queue *q)
{
	for (size_t i = 0; q->slots && i < q->slot_count; i++) {
		struct slot *s = &q->slots[i];

		for (size_t k = 0; s->bufs && k < q->runner->input_count + q->runner->output_count; k++)
			npu_bo_delete(&s->bufs[k]);
		free(s->bufs);
	}
	for (size_t u = 0; u < q->submit_lock_count; u++)
		pthread_mutex_destroy(&q->submit_lock[u]);
	free(q->submit_lock);
	free(q->slots);
	free(q->inflight);
	free(q->unit_busy);
	free(q->reapers);
	pthread_cond_destroy(&q->slot_freed);
	pthread_cond_destroy(&q->job_done);
	pthread_cond_destroy(&q->job_queued);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

npu_status npu_queue_create(npu_runner *r, const npu_queue_options *opts, npu_queue **out)
{
	unsigned int depth = opts && opts->inflight_per_unit ? opts->inflight_per_unit :
			     QUEUE_DEFAULT_INFLIGHT;
	size_t nbufs;
	npu_queue *q;
	npu_status st = NPU_OK;

	if (!r || !out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "runner and out must not be NULL");
	*out = NULL;
	if (depth > QUEUE_MAX_INFLIGHT)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "inflight_per_unit %u is above %d",
				depth, QUEUE_MAX_INFLIGHT);
	q = calloc(1, sizeof(*q));
	if (!q)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a queue");
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->slot_freed, NULL);
	pthread_cond_init(&q->job_done, NULL);
	pthread_cond_init(&q->job_queued, NULL);
	q->runner = r;
	q->slot_count = r->unit_count * depth;
	q->output_capacity = opts && opts->output_capacity ? opts->output_capacity :
			     (unsigned int)q->slot_count;
	q->slots = calloc(q->slot_count, sizeof(*q->slots));
	q->inflight = calloc(r->unit_count, sizeof(*q->inflight));
	q->reapers = calloc(r->unit_count, sizeof(*q->reapers));
	q->unit_busy = calloc(r->unit_count, sizeof(*q->unit_busy));
	q->submit_lock = calloc(r->unit_count, sizeof(*q->submit_lock));
	if (!q->slots || !q->inflight || !q->reapers || !q->unit_busy || !q->submit_lock) {
		queue_free(q);
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for %zu queue slots", q->slot_count);
	}
	for (; q->submit_lock_count < r->unit_count; q->submit_lock_count++)
		pthread_mutex_init(&q->submit_lock[q->submit_lock_count], NULL);
	nbufs = r->input_count + r->output_count;
	for (size_t i = 0; i < q->slot_count && !st; i++) {
		struct slot *s = &q->slots[i];

		s->unit = i % r->unit_count;
		s->bufs = calloc(nbufs, sizeof(*s->bufs));
		if (!s->bufs) {
			st = npu_fail(NPU_ERR_NO_MEMORY, "no memory for queue slots");
			break;
		}
		for (size_t k = 0; k < nbufs && !st; k++) {
			const struct npu_prog_tensor *t = k < r->input_count ?
				r->inputs[k] : r->outputs[k - r->input_count];

			st = npu_bo_new(r->units[s->unit].su->fd, t->byte_size, &s->bufs[k]);
		}
	}
	for (size_t u = 0; u < r->unit_count && !st; u++) {
		struct reaper_arg *a = malloc(sizeof(*a));

		/* Filled before the thread starts: it reads and frees a at once. */
		if (a) {
			a->q = q;
			a->unit = u;
		}
		if (!a || pthread_create(&q->reapers[u], NULL, reaper, a)) {
			free(a);
			st = npu_fail(NPU_ERR_NO_MEMORY, "cannot start a completion thread");
			break;
		}
		q->thread_count++;
	}
	if (st) {
		npu_queue_destroy(q);
		return st;
	}
	*out = q;
	return NPU_OK;
}

static npu_status queue_submit(npu_queue *q, const void *const *inputs, void *context,
			       int64_t timeout_ns, bool in_place)
{
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS];
	uint32_t handles[2 * NPU_JOB_MAX_CMDS], pinned[NPU_JOB_MAX_CMDS];
	const struct npu_session_unit *su;
	struct timespec deadline = deadline_after(timeout_ns > 0 ? timeout_ns : 0);
	uint64_t t0 = npu_prof_now_ns(), t1, t2 = 0, seqno = 0;
	struct slot *s = NULL;
	npu_runner *r;
	uint32_t n;
	npu_status st;

	if (!q || (q->runner->input_count && !inputs))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "queue and inputs must not be NULL");
	r = q->runner;
	for (size_t i = 0; i < r->input_count; i++)
		if (!inputs[i])
			return npu_fail(NPU_ERR_INVALID_ARGUMENT, "input %zu ('%s') is NULL", i,
					r->inputs[i]->name);

	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->closing) {
			pthread_mutex_unlock(&q->lock);
			return npu_fail(NPU_ERR_CLOSED, "the queue is being destroyed");
		}
		/* A free slot on the unit with the fewest busy slots. */
		for (size_t i = 0; i < q->slot_count; i++)
			if (q->slots[i].state == SLOT_FREE &&
			    (!s || q->unit_busy[q->slots[i].unit] < q->unit_busy[s->unit]))
				s = &q->slots[i];
		if (s)
			break;
		if (timeout_ns == 0 || !wait_until(&q->slot_freed, &q->lock, timeout_ns, &deadline)) {
			pthread_mutex_unlock(&q->lock);
			return npu_fail(NPU_ERR_TIMEOUT, "no free queue slot: receive results first");
		}
	}
	s->state = SLOT_SUBMITTING;
	q->unit_busy[s->unit]++;
	pthread_mutex_unlock(&q->lock);

	su = r->units[s->unit].su;
	npu_runner_staging_handles(r, s->bufs, handles);
	s->in_place = npu_runner_feed_inputs(r, su, s->bufs, inputs, in_place, handles, pinned);
	n = npu_runner_build_job(r, handles, cmds);
	t1 = npu_prof_now_ns();

	pthread_mutex_lock(&q->submit_lock[s->unit]);
	st = npu_job_submit(su, NPU_PE_ANY_IF_ALL(su), cmds, n, &s->seqno);
	/* The queued job holds the pinned BOs itself. */
	npu_runner_unpin_inputs(r, su, pinned);
	pthread_mutex_lock(&q->lock);
	if (st) {
		s->state = SLOT_FREE;
		q->unit_busy[s->unit]--;
		pthread_cond_signal(&q->slot_freed);
	} else {
		t2 = npu_prof_now_ns();
		seqno = s->seqno;
		s->context = context;
		s->submit_ns = t0;
		s->queued_ns = t2;
		s->state = SLOT_INFLIGHT;
		fifo_push(&q->inflight[s->unit], s);
		pthread_cond_broadcast(&q->job_queued);
	}
	pthread_mutex_unlock(&q->lock);
	pthread_mutex_unlock(&q->submit_lock[s->unit]);
	if (!st && npu_prof_enabled(NPU_RUNNER_PROF(r))) {
		npu_prof_host_span(NPU_RUNNER_PROF(r), "feed_inputs", t0, t1, seqno);
		npu_prof_host_span(NPU_RUNNER_PROF(r), "enqueue", t1, t2, seqno);
	}
	return st;
}

npu_status npu_queue_submit(npu_queue *q, const void *const *inputs, void *context,
			    int64_t timeout_ns)
{
	/* Copied: the caller may reuse its buffers as soon as this returns. */
	return queue_submit(q, inputs, context, timeout_ns, false);
}

npu_status npu_queue_submit_in_place(npu_queue *q, const void *const *inputs, void *context,
				     int64_t timeout_ns)
{
	return queue_submit(q, inputs, context, timeout_ns, true);
}

npu_status npu_queue_recv(npu_queue *q, int64_t timeout_ns, void **context,
			  void *const *outputs, npu_run_info *info)
{
	struct timespec deadline = deadline_after(timeout_ns > 0 ? timeout_ns : 0);
	npu_runner *r;
	struct slot *s;
	npu_status st;

	if (!q || !context || (q->runner->output_count && !outputs))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "queue, context and outputs must not be NULL");
	r = q->runner;
	pthread_mutex_lock(&q->lock);
	while (!(s = fifo_pop(&q->done))) {
		if (q->closing) {
			pthread_mutex_unlock(&q->lock);
			return npu_fail(NPU_ERR_CLOSED, "the queue is being destroyed");
		}
		if (timeout_ns == 0 || !wait_until(&q->job_done, &q->lock, timeout_ns, &deadline)) {
			pthread_mutex_unlock(&q->lock);
			return npu_fail(NPU_ERR_TIMEOUT, "no job finished in time");
		}
	}
	q->done_count--;
	pthread_cond_broadcast(&q->job_queued);	/* room in done for the reapers */
	pthread_mutex_unlock(&q->lock);

	*context = s->context;
	st = s->status;
	if (st == NPU_OK) {
		uint64_t t0 = npu_prof_now_ns();

		for (size_t i = 0; i < r->output_count; i++)
			if (outputs[i])
				memcpy(outputs[i], s->bufs[r->input_count + i].map,
				       r->outputs[i]->byte_size);
		if (info)
			*info = s->info;
		if (npu_prof_enabled(NPU_RUNNER_PROF(r))) {
			struct npu_profiler *prof = NPU_RUNNER_PROF(r);
			uint64_t now = npu_prof_now_ns();

			npu_prof_host_span(prof, "wait", s->queued_ns, s->done_ns, s->seqno);
			npu_prof_host_span(prof, "fetch_outputs", t0, now, s->seqno);
			npu_prof_host_span(prof, "inference", s->submit_ns, now, s->seqno);
		}
	} else {
		npu_fail(st, "%s", s->message);
	}

	pthread_mutex_lock(&q->lock);
	s->state = SLOT_FREE;
	q->unit_busy[s->unit]--;
	pthread_cond_signal(&q->slot_freed);
	pthread_mutex_unlock(&q->lock);
	return st;
}

/* Marks the queue closing and wakes every waiter (they all check closing). */
static void queue_close(npu_queue *q)
{
	pthread_cond_t *conds[] = { &q->slot_freed, &q->job_done, &q->job_queued };

	pthread_mutex_lock(&q->lock);
	q->closing = true;
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++)
		pthread_cond_broadcast(conds[i]);
	pthread_mutex_unlock(&q->lock);
}

void npu_queue_destroy(npu_queue *q)
{
	if (!q)
		return;
	queue_close(q);
	/* Reapers drain their unit's jobs before they exit: no buffer is freed under the device. */
	for (size_t i = 0; i < q->thread_count; i++)
		pthread_join(q->reapers[i], NULL);
	queue_free(q);
}
