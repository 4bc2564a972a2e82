/* SPDX-License-Identifier: MIT */
/*
 * Converting one single-operator ONNX test case into a program container
 * plus its input and expected-output tensors (tools/onnx/convert.c).
 */
#ifndef ONNX_CONVERT_H
#define ONNX_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npuhal.h"
#include "npu_isa.h"
#include "onnx_pb.h"

#define CONV_MAX_TENSORS 8
#define CONV_MAX_CONSTS 12
#define CONV_REASON_MAX 200

/* How the runner compares an output with the expected one. */
enum io_compare {
	IO_EXACT = 0,		/* byte for byte (integers, data movement) */
	IO_TOLERANCE = 1,	/* float32: |got - want| <= atol + rtol * |want| */
};

struct conv_const {
	uint64_t addr;
	uint8_t *data;
	size_t size;
};

/* A case being converted: the ONNX side, and the program being built. */
struct conv {
	const char *name;
	const struct onnx_model *model;
	const struct onnx_node *node;
	struct onnx_tensor inputs[ONNX_MAX_IO];		/* test_data_set_0/input_*.pb */
	size_t input_count;
	struct onnx_tensor outputs[ONNX_MAX_IO];	/* test_data_set_0/output_*.pb */
	size_t output_count;

	struct npu_insn *code;
	size_t code_count, code_cap;
	struct conv_const consts[CONV_MAX_CONSTS];
	size_t const_count;
	uint64_t next;					/* DRAM allocator */
	struct npu_prog_tensor tensors[CONV_MAX_TENSORS];
	uint8_t *host[CONV_MAX_TENSORS];		/* host-form data of each tensor */
	size_t host_size[CONV_MAX_TENSORS];
	uint8_t compare[CONV_MAX_TENSORS];
	size_t tensor_count;
	char reason[CONV_REASON_MAX];			/* why the case was skipped */
};

/* Lowers c->node into c (false: skipped or failed, c->reason says why). */
bool convert_case(struct conv *c);
void conv_free(struct conv *c);

/*
 * Converts every case of node_dir (e.g. /usr/share/libonnx-testdata/data/node)
 * whose single node is an operator the converter knows into out_dir:
 * CASE.npuprog, CASE.npuio and manifest.tsv (case, operator, run|skip,
 * reason). False on an I/O error (message on stderr).
 */
bool onnx_convert_dir(const char *node_dir, const char *out_dir, size_t *converted,
		      size_t *skipped);

/* ONNX's default tolerances of the backend test runner. */
#define ONNX_RTOL 1e-3f
#define ONNX_ATOL 1e-7f

/* The .npuio file: "NPUONNX1", u32 count, then per tensor u32 index, u32
 * compare, f32 rtol, f32 atol, u64 size, size bytes (host form). */
#define NPUIO_MAGIC "NPUONNX1"

#endif /* ONNX_CONVERT_H */
