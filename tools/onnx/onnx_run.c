// SPDX-License-Identifier: MIT
/*
 * The runner of converted ONNX test cases (see onnx_run.h).
 *
 * Per case: load the program, turn each host-form input into device bytes
 * with the HAL's tensor step (quantize + lower), run, turn each output back
 * (unlower + dequantize) and compare: integers and moved bytes exactly,
 * floats within the case's tolerance (ONNX's rtol 1e-3, atol 1e-7).
 */
#include "onnx_run.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS 64
#define MAX_IO_TENSORS 16
#define DETAIL_MAX 160

struct op_count {
	char op[40];
	unsigned int cases, ran, passed, failed, skipped;
};

struct io_tensor {
	uint32_t compare;
	float rtol, atol;
	uint64_t size;
	uint8_t *data;
};

static bool read_exact(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n;
}

static bool load_io(const char *path, struct io_tensor *io, size_t *count, char *detail)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	uint32_t n;
	bool ok;

	*count = 0;
	if (!f) {
		snprintf(detail, DETAIL_MAX, "cannot open %.100s", path);
		return false;
	}
	ok = read_exact(f, magic, 8) && !memcmp(magic, "NPUONNX1", 8) && read_exact(f, &n, 4) &&
	     n <= MAX_IO_TENSORS;
	for (uint32_t k = 0; ok && k < n; k++) {
		uint32_t index;

		ok = read_exact(f, &index, 4) && index == k && read_exact(f, &io[k].compare, 4) &&
		     read_exact(f, &io[k].rtol, 4) && read_exact(f, &io[k].atol, 4) &&
		     read_exact(f, &io[k].size, 8) && io[k].size < (1u << 30);
		if (!ok)
			break;
		io[k].data = malloc(io[k].size ? io[k].size : 1);
		ok = io[k].data && read_exact(f, io[k].data, io[k].size);
		*count = k + 1;
	}
	fclose(f);
	if (!ok)
		snprintf(detail, DETAIL_MAX, "%.100s is damaged", path);
	return ok;
}

static double host_value(const struct npu_prog_tensor *t, const uint8_t *p, size_t k)
{
	switch (t->host_dtype) {
	case NPU_PROG_DTYPE_INT8:
		return (int8_t)p[k];
	case NPU_PROG_DTYPE_UINT8:
		return p[k];
	case NPU_PROG_DTYPE_INT32: {
		int32_t v;

		memcpy(&v, p + 4 * k, 4);
		return v;
	}
	default: {
		float f;

		memcpy(&f, p + 4 * k, 4);
		return f;
	}
	}
}

/* Compares output t; on a mismatch writes the first one into detail. */
static bool compare(const struct npu_prog_tensor *t, const struct io_tensor *want,
		    const uint8_t *got, char *detail)
{
	size_t n = npu_tensor_elements(t), bad = 0, first = 0;

	for (size_t k = 0; k < n; k++) {
		double g = host_value(t, got, k), w = host_value(t, want->data, k);
		bool same;

		if (want->compare == 1)
			same = fabs(g - w) <= want->atol + want->rtol * fabs(w) ||
			       (isnan(g) && isnan(w));
		else
			same = !memcmp(got + k * npu_prog_dtype_size(t->host_dtype),
				       want->data + k * npu_prog_dtype_size(t->host_dtype),
				       npu_prog_dtype_size(t->host_dtype));
		if (!same && !bad++)
			first = k;
	}
	if (bad)
		snprintf(detail, DETAIL_MAX, "%s: %zu of %zu differ, first [%zu] got %.9g want %.9g",
			 t->name, bad, n, first, host_value(t, got, first),
			 host_value(t, want->data, first));
	return !bad;
}

/* Runs one case; false with detail on a failure. */
static bool run_case(const char *dir, const char *name, npu_session *session, char *detail)
{
	struct io_tensor io[MAX_IO_TENSORS] = { 0 };
	const void *inputs[MAX_IO_TENSORS];
	void *outputs[MAX_IO_TENSORS], *device[MAX_IO_TENSORS] = { 0 };
	uint8_t *got[MAX_IO_TENSORS] = { 0 };
	npu_program *program = NULL;
	npu_runner *runner = NULL;
	size_t io_count = 0, tensor_count, ni = 0, no = 0;
	char path[4096];
	npu_status st;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/%s.npuprog", dir, name);
	st = npu_program_load(path, &program);
	if (st != NPU_OK) {
		snprintf(detail, DETAIL_MAX, "load: %s", npu_last_error());
		return false;
	}
	snprintf(path, sizeof(path), "%s/%s.npuio", dir, name);
	if (!load_io(path, io, &io_count, detail))
		goto out;
	tensor_count = npu_program_tensor_count(program);
	if (tensor_count != io_count) {
		snprintf(detail, DETAIL_MAX, "%zu tensors in the program, %zu in the data",
			 tensor_count, io_count);
		goto out;
	}
	for (size_t k = 0; k < tensor_count; k++) {
		const struct npu_prog_tensor *t = npu_program_tensor(program, k);

		if (io[k].size != npu_tensor_host_bytes(t)) {
			snprintf(detail, DETAIL_MAX, "tensor %s: %llu data bytes, %zu expected", t->name,
				 (unsigned long long)io[k].size, npu_tensor_host_bytes(t));
			goto out;
		}
		device[k] = calloc(1, t->byte_size ? t->byte_size : 1);
		got[k] = calloc(1, io[k].size ? io[k].size : 1);
		if (!device[k] || !got[k]) {
			snprintf(detail, DETAIL_MAX, "out of memory");
			goto out;
		}
		if (t->kind == NPU_TENSOR_INPUT) {
			if (npu_tensor_to_device(t, io[k].data, device[k]) != NPU_OK) {
				snprintf(detail, DETAIL_MAX, "quantize/lower %s: %s", t->name,
					 npu_last_error());
				goto out;
			}
			inputs[ni++] = device[k];
		} else {
			outputs[no++] = device[k];
		}
	}
	if (session) {
		st = npu_runner_create(session, program, &runner);
		if (st == NPU_OK)
			st = npu_runner_run(runner, inputs, outputs, NULL);
	} else {
		st = npu_cpu_run(program, inputs, outputs, NULL);
	}
	if (st != NPU_OK) {
		snprintf(detail, DETAIL_MAX, "run: %s", npu_last_error());
		goto out;
	}
	ok = true;
	for (size_t k = 0; k < tensor_count; k++) {
		const struct npu_prog_tensor *t = npu_program_tensor(program, k);

		if (t->kind != NPU_TENSOR_OUTPUT)
			continue;
		if (npu_tensor_from_device(t, device[k], got[k]) != NPU_OK) {
			snprintf(detail, DETAIL_MAX, "unlower/dequantize %s: %s", t->name,
				 npu_last_error());
			ok = false;
			break;
		}
		if (!compare(t, &io[k], got[k], detail)) {
			ok = false;
			break;
		}
	}
out:
	if (runner)
		npu_runner_destroy(runner);
	npu_program_free(program);
	for (size_t k = 0; k < MAX_IO_TENSORS; k++) {
		free(io[k].data);
		free(device[k]);
		free(got[k]);
	}
	return ok;
}

static struct op_count *op_entry(struct op_count *ops, size_t *n, const char *op)
{
	for (size_t k = 0; k < *n; k++)
		if (!strcmp(ops[k].op, op))
			return &ops[k];
	if (*n == MAX_OPS)
		return &ops[MAX_OPS - 1];
	memset(&ops[*n], 0, sizeof(ops[*n]));
	snprintf(ops[*n].op, sizeof(ops[*n].op), "%s", op);
	return &ops[(*n)++];
}

static int by_op(const void *a, const void *b)
{
	return strcmp(((const struct op_count *)a)->op, ((const struct op_count *)b)->op);
}

bool onnx_run_dir(const char *dir, npu_session *session, const char *filter, FILE *out,
		  struct onnx_run_totals *totals)
{
	struct op_count ops[MAX_OPS];
	size_t op_n = 0;
	char path[4096], line[1024];
	FILE *manifest;

	memset(totals, 0, sizeof(*totals));
	snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
	manifest = fopen(path, "r");
	if (!manifest) {
		fprintf(out, "cannot open %s (build it with 'make onnx')\n", path);
		return false;
	}
	fprintf(out, "%-52s %-18s %-6s %s\n", "case", "operator", "result", "detail");
	while (fgets(line, sizeof(line), manifest)) {
		char *name = strtok(line, "\t\n"), *op = strtok(NULL, "\t\n");
		char *status = strtok(NULL, "\t\n"), *reason = strtok(NULL, "\n");
		char detail[DETAIL_MAX] = "";
		struct op_count *oc;
		const char *result;

		if (!name || !op || !status)
			continue;
		if (filter && !strstr(name, filter))
			continue;
		oc = op_entry(ops, &op_n, op);
		oc->cases++;
		totals->cases++;
		if (!strcmp(status, "run")) {
			bool pass = run_case(dir, name, session, detail);

			oc->ran++;
			totals->ran++;
			oc->passed += pass;
			oc->failed += !pass;
			totals->passed += pass;
			totals->failed += !pass;
			result = pass ? "pass" : "FAIL";
		} else {
			oc->skipped++;
			totals->skipped++;
			result = "skip";
			snprintf(detail, sizeof(detail), "%s", reason ? reason : "");
		}
		fprintf(out, "%-52s %-18s %-6s %s\n", name, op, result, detail);
	}
	fclose(manifest);
	qsort(ops, op_n, sizeof(ops[0]), by_op);
	fprintf(out, "\n%-18s %6s %6s %6s %6s %6s\n", "operator", "cases", "ran", "passed", "failed",
		"skipped");
	for (size_t k = 0; k < op_n; k++)
		fprintf(out, "%-18s %6u %6u %6u %6u %6u\n", ops[k].op, ops[k].cases, ops[k].ran,
			ops[k].passed, ops[k].failed, ops[k].skipped);
	fprintf(out, "%-18s %6u %6u %6u %6u %6u\n", "total", totals->cases, totals->ran,
		totals->passed, totals->failed, totals->skipped);
	return true;
}
