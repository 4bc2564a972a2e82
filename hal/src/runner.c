// SPDX-License-Identifier: MIT
/*
 * Runners: a program loaded into the DRAM of every unit of a session, and
 * synchronous runs.
 *
 * A run is one job per unit: COPY_TO_DRAM of each input from a staging
 * buffer, EXEC of the code section, COPY_FROM_DRAM of each output. A PE runs
 * its commands in order, so jobs queued on one unit never see each other's
 * tensors in DRAM even though they use the same addresses.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "runner.h"

/* PEs of a unit that get a copy of the program: both for /dev/npuN. */
static unsigned int unit_pe_targets(const struct npu_session_unit *su, uint32_t *pes)
{
	if (!su->info.fused && __builtin_popcount(su->info.pe_mask) > 1) {
		pes[0] = 0;
		pes[1] = 1;
		return 2;
	}
	pes[0] = 0;
	return 1;
}

static npu_status check_fits(const npu_program *p, const struct npu_session_unit *su)
{
	const struct npu_prog_header *h = npu_program_header(p);
	unsigned int unit_pes = su->info.fused ? su->info.pe_count : 1;

	if (h->pe_count != unit_pes)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT,
				"the program needs %u %s PE(s) but %s is %s: use a %s spec",
				h->pe_count, h->pe_count > 1 ? "fused" : "single", su->unit.name,
				su->info.fused ? "a fused pair" : "one PE at a time",
				h->pe_count > 1 ? "warboy(2)*N or npu:X:0-1" : "warboy(1)*N or npu:X:Y");
	if (h->dram_size > su->info.dram_window)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT,
				"the program needs %llu bytes of DRAM, %s offers %llu",
				(unsigned long long)h->dram_size, su->unit.name,
				(unsigned long long)su->info.dram_window);
	return NPU_OK;
}

/* Copies the code and constant sections into the unit's DRAM (each PE for npuN). */
static npu_status load_sections(const npu_program *p, const struct npu_session_unit *su,
				int64_t timeout_ns)
{
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS];
	struct npu_hal_bo bos[NPU_PROG_MAX_SECTIONS];
	uint32_t pes[2], n = 0;
	unsigned int npes = unit_pe_targets(su, pes);
	npu_status st = NPU_OK;

	memset(bos, 0, sizeof(bos));
	for (size_t i = 0; i < npu_program_section_count(p) && !st; i++) {
		const struct npu_prog_section *s = npu_program_section(p, i);

		if (s->type == NPU_PROG_SECTION_TENSORS)
			continue;
		st = npu_bo_new(su->fd, s->size, &bos[n]);
		if (st)
			break;
		memcpy(bos[n].map, npu_program_section_data(p, i), s->size);
		cmds[n] = (struct npu_job_cmd){
			.op = NPU_JOB_CMD_COPY_TO_DRAM, .handle = bos[n].handle,
			.dram_addr = s->dram_addr, .length = s->size,
		};
		n++;
	}
	for (unsigned int k = 0; k < npes && !st; k++) {
		struct npu_wait w;
		uint64_t seqno;

		st = npu_job_submit(su, su->info.fused || npes == 1 ? 0 : pes[k], cmds, n, &seqno);
		if (!st)
			st = npu_job_wait(su, seqno, timeout_ns, &w);
	}
	for (uint32_t i = 0; i < n; i++)
		npu_bo_delete(&bos[i]);
	return st;
}

static npu_status unit_init(npu_runner *r, struct npu_runner_unit *ru)
{
	npu_status st;

	ru->staging = calloc(r->input_count + r->output_count, sizeof(*ru->staging));
	if (!ru->staging)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for staging buffers");
	for (size_t i = 0; i < r->input_count + r->output_count; i++) {
		const struct npu_prog_tensor *t = i < r->input_count ?
			r->inputs[i] : r->outputs[i - r->input_count];

		st = npu_bo_new(ru->su->fd, t->byte_size, &ru->staging[i]);
		if (st)
			return st;
	}
	if (pthread_mutex_init(&ru->lock, NULL))
		return npu_fail(NPU_ERR_NO_MEMORY, "cannot create a mutex");
	ru->lock_ready = 1;
	return NPU_OK;
}

static void unit_fini(npu_runner *r, struct npu_runner_unit *ru)
{
	if (ru->staging)
		for (size_t i = 0; i < r->input_count + r->output_count; i++)
			npu_bo_delete(&ru->staging[i]);
	free(ru->staging);
	if (ru->lock_ready)
		pthread_mutex_destroy(&ru->lock);
}

npu_status npu_runner_create(npu_session *s, const npu_program *p, npu_runner **out)
{
	uint64_t t0 = npu_prof_now_ns();
	npu_runner *r;
	npu_status st;

	if (!s || !p || !out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "session, program and out must not be NULL");
	*out = NULL;
	if (npu_program_tensor_count(p) > NPU_JOB_MAX_CMDS - 1)
		return npu_fail(NPU_ERR_UNSUPPORTED,
				"the program has %zu tensors; a run moves at most %d",
				npu_program_tensor_count(p), NPU_JOB_MAX_CMDS - 1);
	if (atomic_exchange(&s->has_runner, true))
		return npu_fail(NPU_ERR_BUSY,
				"the session already runs a program, which lives in its DRAM: destroy that runner first, or open another session");
	r = calloc(1, sizeof(*r) + s->count * sizeof(r->units[0]));
	if (!r) {
		atomic_store(&s->has_runner, false);
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a runner");
	}
	r->session = s;
	r->program = p;
	r->unit_count = s->count;
	for (size_t i = 0; i < npu_program_tensor_count(p); i++) {
		const struct npu_prog_tensor *t = npu_program_tensor(p, i);

		if (t->kind == NPU_TENSOR_INPUT)
			r->inputs[r->input_count++] = t;
		else
			r->outputs[r->output_count++] = t;
	}
	for (size_t i = 0; i < npu_program_section_count(p); i++) {
		const struct npu_prog_section *sec = npu_program_section(p, i);

		if (sec->type == NPU_PROG_SECTION_CODE) {
			r->code_addr = sec->dram_addr;
			r->code_size = sec->size;
		}
	}
	for (size_t u = 0; u < s->count; u++) {
		r->units[u].su = &s->units[u];
		st = check_fits(p, &s->units[u]);
		if (!st)
			st = load_sections(p, &s->units[u], npu_context_job_timeout_ns(s->ctx));
		if (!st)
			st = unit_init(r, &r->units[u]);
		if (st) {
			r->unit_count = u + 1;
			npu_runner_destroy(r);
			return st;
		}
	}
	npu_prof_host_span(&s->ctx->prof, "load", t0, npu_prof_now_ns(), 0);
	*out = r;
	return NPU_OK;
}

void npu_runner_destroy(npu_runner *r)
{
	if (!r)
		return;
	for (size_t u = 0; u < r->unit_count; u++)
		unit_fini(r, &r->units[u]);
	atomic_store(&r->session->has_runner, false);
	free(r);
}

size_t npu_runner_input_count(const npu_runner *r)
{
	return r ? r->input_count : 0;
}

size_t npu_runner_output_count(const npu_runner *r)
{
	return r ? r->output_count : 0;
}

const struct npu_prog_tensor *npu_runner_input(const npu_runner *r, size_t i)
{
	return r && i < r->input_count ? r->inputs[i] : NULL;
}

const struct npu_prog_tensor *npu_runner_output(const npu_runner *r, size_t i)
{
	return r && i < r->output_count ? r->outputs[i] : NULL;
}

uint32_t npu_runner_build_job(const npu_runner *r, const uint32_t *handles,
			      struct npu_job_cmd *cmds)
{
	uint32_t n = 0;

	for (size_t i = 0; i < r->input_count; i++)
		cmds[n++] = (struct npu_job_cmd){
			.op = NPU_JOB_CMD_COPY_TO_DRAM, .handle = handles[i],
			.dram_addr = r->inputs[i]->dram_addr, .length = r->inputs[i]->byte_size,
		};
	cmds[n++] = (struct npu_job_cmd){
		.op = NPU_JOB_CMD_EXEC, .dram_addr = r->code_addr, .length = r->code_size,
	};
	for (size_t i = 0; i < r->output_count; i++)
		cmds[n++] = (struct npu_job_cmd){
			.op = NPU_JOB_CMD_COPY_FROM_DRAM, .handle = handles[r->input_count + i],
			.dram_addr = r->outputs[i]->dram_addr, .length = r->outputs[i]->byte_size,
		};
	return n;
}

void npu_runner_staging_handles(const npu_runner *r, const struct npu_hal_bo *staging,
				uint32_t *handles)
{
	for (size_t i = 0; i < r->input_count + r->output_count; i++)
		handles[i] = staging[i].handle;
}

unsigned int npu_runner_feed_inputs(const npu_runner *r, const struct npu_session_unit *su,
				    const struct npu_hal_bo *staging, const void *const *inputs,
				    bool in_place, uint32_t *handles, uint32_t *pinned)
{
	unsigned int count = 0;

	for (size_t i = 0; i < r->input_count; i++) {
		pinned[i] = in_place ? npu_bo_pin(su->fd, inputs[i], r->inputs[i]->byte_size) : 0;
		if (pinned[i]) {
			handles[i] = pinned[i];
			count++;
		} else {
			memcpy(staging[i].map, inputs[i], r->inputs[i]->byte_size);
		}
	}
	return count;
}

void npu_runner_unpin_inputs(const npu_runner *r, const struct npu_session_unit *su,
			     const uint32_t *pinned)
{
	for (size_t i = 0; i < r->input_count; i++)
		if (pinned[i])
			npu_bo_unpin(su->fd, pinned[i]);
}

npu_status npu_runner_run(npu_runner *r, const void *const *inputs, void *const *outputs,
			  npu_run_info *info)
{
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS];
	uint32_t handles[2 * NPU_JOB_MAX_CMDS], pinned[NPU_JOB_MAX_CMDS];
	unsigned int in_place;
	struct npu_runner_unit *ru;
	struct npu_wait w;
	uint64_t seqno = 0, t[5];
	uint32_t n;
	size_t u;
	npu_status st;

	if (!r || (r->input_count && !inputs) || !outputs)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "runner, inputs and outputs must not be NULL");
	for (size_t i = 0; i < r->input_count; i++)
		if (!inputs[i])
			return npu_fail(NPU_ERR_INVALID_ARGUMENT, "input %zu ('%s') is NULL", i,
					r->inputs[i]->name);
	for (size_t i = 0; i < r->output_count; i++)
		if (!outputs[i])
			return npu_fail(NPU_ERR_INVALID_ARGUMENT, "output %zu ('%s') is NULL", i,
					r->outputs[i]->name);

	u = atomic_fetch_add(&r->next_unit, 1) % r->unit_count;
	ru = &r->units[u];
	pthread_mutex_lock(&ru->lock);
	t[0] = npu_prof_now_ns();
	npu_runner_staging_handles(r, ru->staging, handles);
	in_place = npu_runner_feed_inputs(r, ru->su, ru->staging, inputs, true, handles, pinned);
	n = npu_runner_build_job(r, handles, cmds);
	t[1] = npu_prof_now_ns();
	st = npu_job_submit(ru->su, NPU_PE_ANY_IF_ALL(ru->su), cmds, n, &seqno);
	/* A queued job keeps its buffers alive: the handles can go at once. */
	npu_runner_unpin_inputs(r, ru->su, pinned);
	t[2] = npu_prof_now_ns();
	if (!st)
		st = npu_job_wait(ru->su, seqno, npu_context_job_timeout_ns(r->session->ctx), &w);
	t[3] = npu_prof_now_ns();
	if (!st) {
		for (size_t i = 0; i < r->output_count; i++)
			memcpy(outputs[i], ru->staging[r->input_count + i].map,
			       r->outputs[i]->byte_size);
		if (info) {
			info->device_start = w.start_ts;
			info->device_end = w.end_ts;
			info->clock_mhz = ru->su->info.clock_mhz;
			info->unit = (unsigned int)u;
			info->inputs_in_place = in_place;
		}
	}
	t[4] = npu_prof_now_ns();
	if (!st && npu_prof_enabled(NPU_RUNNER_PROF(r))) {
		struct npu_profiler *prof = NPU_RUNNER_PROF(r);

		npu_prof_host_span(prof, "feed_inputs", t[0], t[1], seqno);
		npu_prof_host_span(prof, "enqueue", t[1], t[2], seqno);
		npu_prof_host_span(prof, "wait", t[2], t[3], seqno);
		npu_prof_host_span(prof, "fetch_outputs", t[3], t[4], seqno);
		npu_prof_host_span(prof, "inference", t[0], t[4], seqno);
		npu_prof_device_span(prof, &ru->clock, ru->su->unit.name, w.start_ts, w.end_ts,
				     ru->su->info.clock_mhz, t[3], seqno);
	}
	pthread_mutex_unlock(&ru->lock);
	return st;
}

npu_status npu_runner_run_host(npu_runner *r, const void *const *inputs, void *const *outputs,
			       npu_run_info *info)
{
	void *dev_in[NPU_PROG_MAX_TENSORS] = { 0 }, *dev_out[NPU_PROG_MAX_TENSORS] = { 0 };
	uint64_t t0, t1;
	npu_status st = NPU_OK;

	if (!r || (r->input_count && !inputs) || !outputs)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "runner, inputs and outputs must not be NULL");
	t0 = npu_prof_now_ns();
	for (size_t i = 0; i < r->input_count && !st; i++) {
		dev_in[i] = malloc(r->inputs[i]->byte_size);
		if (!dev_in[i])
			st = npu_fail(NPU_ERR_NO_MEMORY, "no memory for input '%s'", r->inputs[i]->name);
		else if (!inputs[i])
			st = npu_fail(NPU_ERR_INVALID_ARGUMENT, "input %zu ('%s') is NULL", i,
				      r->inputs[i]->name);
		else
			st = npu_tensor_to_device(r->inputs[i], inputs[i], dev_in[i]);
	}
	for (size_t i = 0; i < r->output_count && !st; i++) {
		dev_out[i] = malloc(r->outputs[i]->byte_size);
		if (!dev_out[i])
			st = npu_fail(NPU_ERR_NO_MEMORY, "no memory for output '%s'",
				      r->outputs[i]->name);
		else if (!outputs[i])
			st = npu_fail(NPU_ERR_INVALID_ARGUMENT, "output %zu ('%s') is NULL", i,
				      r->outputs[i]->name);
	}
	t1 = npu_prof_now_ns();
	if (!st) {
		npu_prof_host_span(NPU_RUNNER_PROF(r), "quantize_lower", t0, t1, 0);
		st = npu_runner_run(r, (const void *const *)dev_in, dev_out, info);
	}
	t0 = npu_prof_now_ns();
	for (size_t i = 0; i < r->output_count && !st; i++)
		st = npu_tensor_from_device(r->outputs[i], dev_out[i], outputs[i]);
	if (!st)
		npu_prof_host_span(NPU_RUNNER_PROF(r), "unlower_dequantize", t0, npu_prof_now_ns(), 0);
	for (size_t i = 0; i < NPU_PROG_MAX_TENSORS; i++) {
		free(dev_in[i]);
		free(dev_out[i]);
	}
	return st;
}
