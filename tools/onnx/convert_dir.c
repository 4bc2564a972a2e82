// SPDX-License-Identifier: MIT
/*
 * Converts a directory of ONNX node test cases (see convert.h).
 *
 * For every case of an operator the converter knows (docs/onnx.md), it writes
 * OUT_DIR/CASE.npuprog and OUT_DIR/CASE.npuio (the inputs and expected
 * outputs, in the tensors' host form), or records why the case is skipped.
 * OUT_DIR/manifest.tsv lists every case: name, operator, "run" or "skip",
 * and the reason. Deterministic: cases in name order, no timestamps.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert.h"

static const char *const known_ops[] = {
	"MatMulInteger", "QLinearMatMul", "MatMul", "ConvInteger", "QLinearConv", "Conv",
	"Relu", "Clip", "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool",
	"Add", "Sub", "Mul", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity",
	"Transpose", "Slice", "Pad", "Concat", "QuantizeLinear", "DequantizeLinear",
};

static bool known(const char *op)
{
	for (size_t k = 0; k < sizeof(known_ops) / sizeof(known_ops[0]); k++)
		if (!strcmp(known_ops[k], op))
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Reads test_data_set_0/{input,output}_K.pb while they exist. */
static bool read_data(const char *dir, const char *kind, struct onnx_tensor *ts, size_t *count,
		      char *err, size_t errlen)
{
	char path[8192];

	*count = 0;
	for (size_t k = 0; k < ONNX_MAX_IO; k++) {
		snprintf(path, sizeof(path), "%s/test_data_set_0/%s_%zu.pb", dir, kind, k);
		if (!file_exists(path))
			break;
		if (!onnx_read_tensor(path, &ts[k], err, errlen))
			return false;
		(*count)++;
	}
	return true;
}

static bool write_all(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (!f) {
		fprintf(stderr, "npu-onnx: cannot create %s: %s\n", path, strerror(errno));
		return false;
	}
	ok = fwrite(data, 1, size, f) == size;
	ok = fclose(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "npu-onnx: cannot write %s\n", path);
	return ok;
}

static bool put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
}

static bool write_io(const char *path, const struct conv *c)
{
	FILE *f = fopen(path, "wb");
	uint32_t count = (uint32_t)c->tensor_count;
	bool ok;

	if (!f) {
		fprintf(stderr, "npu-onnx: cannot create %s: %s\n", path, strerror(errno));
		return false;
	}
	ok = put(f, NPUIO_MAGIC, 8) && put(f, &count, 4);
	for (uint32_t k = 0; ok && k < count; k++) {
		uint32_t cmp = c->compare[k];
		float rtol = ONNX_RTOL, atol = ONNX_ATOL;
		uint64_t size = c->host_size[k];

		ok = put(f, &k, 4) && put(f, &cmp, 4) && put(f, &rtol, 4) && put(f, &atol, 4) &&
		     put(f, &size, 8) && put(f, c->host[k], size);
	}
	ok = fclose(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "npu-onnx: cannot write %s\n", path);
	return ok;
}

/* The container of a converted case. */
static bool write_program(const char *path, struct conv *c)
{
	npu_program_builder *b = NULL;
	uint64_t code_addr = c->next;
	uint64_t code_size = c->code_count * sizeof(struct npu_insn);
	uint64_t dram = (code_addr + code_size + 63) / 64 * 64;
	void *data = NULL;
	size_t size = 0;
	npu_status st;

	st = npu_program_builder_new("warboy", 1, dram, &b);
	for (size_t k = 0; st == NPU_OK && k < c->const_count; k++)
		st = npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, c->consts[k].addr,
						     c->consts[k].data, c->consts[k].size);
	if (st == NPU_OK)
		st = npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, code_addr, c->code,
						     code_size);
	for (size_t k = 0; st == NPU_OK && k < c->tensor_count; k++)
		st = npu_program_builder_add_tensor(b, &c->tensors[k]);
	if (st == NPU_OK)
		st = npu_program_builder_finish(b, &data, &size);
	npu_program_builder_free(b);
	if (st != NPU_OK) {
		snprintf(c->reason, sizeof(c->reason), "program builder: %s", npu_last_error());
		return false;
	}
	bool ok = write_all(path, data, size);

	free(data);
	return ok;
}

/* Converts one case into out_dir; false: skipped (c->reason) or a write error (no reason). */
static bool convert_one(const char *case_dir, const char *out_dir, struct conv *c)
{
	char path[8192], err[160];
	bool ok;

	for (size_t k = 0; k < c->model->input_count; k++)
		if (!c->model->inputs[k].dtype) {
			snprintf(c->reason, sizeof(c->reason), "input '%.60s' is a sequence or optional, not a tensor",
				 c->model->inputs[k].name);
			return false;
		}
	ok = read_data(case_dir, "input", c->inputs, &c->input_count, err, sizeof(err)) &&
	     read_data(case_dir, "output", c->outputs, &c->output_count, err, sizeof(err));
	if (!ok) {
		snprintf(c->reason, sizeof(c->reason), "test data: %s", err);
		return false;
	}
	if (!convert_case(c))
		return false;
	snprintf(path, sizeof(path), "%s/%s.npuprog", out_dir, c->name);
	if (!write_program(path, c))
		return false;
	snprintf(path, sizeof(path), "%s/%s.npuio", out_dir, c->name);
	return write_io(path, c);
}

bool onnx_convert_dir(const char *node_dir, const char *out_dir, size_t *converted,
		      size_t *skipped)
{
	char **names = NULL, path[8192], dir[4096], err[160];
	size_t count = 0, cap = 0;
	struct onnx_model *model = calloc(1, sizeof(*model));
	struct conv *c = calloc(1, sizeof(*c));
	FILE *manifest = NULL;
	struct dirent *e;
	bool ok = false;
	DIR *d;

	*converted = *skipped = 0;
	if (!model || !c) {
		fprintf(stderr, "npu-onnx: out of memory\n");
		goto out;
	}
	d = opendir(node_dir);
	if (!d) {
		fprintf(stderr, "npu-onnx: cannot open %s: %s (install libonnx-testdata: make setup)\n",
			node_dir, strerror(errno));
		goto out;
	}
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "test_", 5))
			continue;
		if (count == cap) {
			char **n = realloc(names, (cap ? cap * 2 : 256) * sizeof(*names));

			if (!n)
				break;
			names = n;
			cap = cap ? cap * 2 : 256;
		}
		if (!(names[count] = strdup(e->d_name)))
			break;
		count++;
	}
	closedir(d);
	if (e) {
		fprintf(stderr, "npu-onnx: out of memory\n");
		goto out;
	}
	qsort(names, count, sizeof(*names), by_name);
	if (mkdir(out_dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "npu-onnx: cannot create %s: %s\n", out_dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/manifest.tsv", out_dir);
	manifest = fopen(path, "w");
	if (!manifest) {
		fprintf(stderr, "npu-onnx: cannot create %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (size_t n = 0; n < count; n++) {
		bool done;

		snprintf(dir, sizeof(dir), "%s/%s", node_dir, names[n]);
		snprintf(path, sizeof(path), "%s/model.onnx", dir);
		/* Cases this reader cannot parse use features no listed operator needs. */
		if (!file_exists(path) || !onnx_read_model(path, model, err, sizeof(err)))
			continue;
		if (model->node_count != 1 || !known(model->nodes[0].op_type)) {
			onnx_model_free(model);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->name = names[n];
		c->model = model;
		c->node = &model->nodes[0];
		done = convert_one(dir, out_dir, c);
		if (!done && !c->reason[0]) {
			conv_free(c);
			onnx_model_free(model);
			goto out;
		}
		if (!done) {
			/* a stale program of a case that is now skipped must not run */
			snprintf(path, sizeof(path), "%s/%s.npuprog", out_dir, names[n]);
			remove(path);
			snprintf(path, sizeof(path), "%s/%s.npuio", out_dir, names[n]);
			remove(path);
		}
		fprintf(manifest, "%s\t%s\t%s\t%s\n", names[n], c->node->op_type,
			done ? "run" : "skip", done ? "" : c->reason);
		*converted += done;
		*skipped += !done;
		conv_free(c);
		onnx_model_free(model);
	}
	ok = true;
out:
	if (manifest && fclose(manifest) && ok) {
		fprintf(stderr, "npu-onnx: cannot write the manifest\n");
		ok = false;
	}
	for (size_t n = 0; n < count; n++)
		free(names[n]);
	free(names);
	free(model);
	free(c);
	return ok;
}
