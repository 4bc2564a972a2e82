/* SPDX-License-Identifier: MIT */
/*
 * A small reader of the ONNX protobuf files of the operator test cases:
 * model.onnx (ModelProto) and test_data_set_N/{input,output}_M.pb
 * (TensorProto). Only the fields a single-operator case uses are kept;
 * everything else is skipped by its wire type. Field numbers are those of
 * onnx/onnx.proto (IR version 8).
 */
#ifndef ONNX_PB_H
#define ONNX_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ONNX_MAX_RANK 8
#define ONNX_NAME_MAX 128

/* TensorProto.DataType values this converter knows. */
enum onnx_dtype {
	ONNX_FLOAT = 1,
	ONNX_UINT8 = 2,
	ONNX_INT8 = 3,
	ONNX_UINT16 = 4,
	ONNX_INT16 = 5,
	ONNX_INT32 = 6,
	ONNX_INT64 = 7,
	ONNX_STRING = 8,
	ONNX_BOOL = 9,
	ONNX_FLOAT16 = 10,
	ONNX_DOUBLE = 11,
	ONNX_UINT32 = 12,
	ONNX_UINT64 = 13,
};

/*
 * A tensor's values, widened: integer types in i[], FLOAT/DOUBLE in f[]
 * (exactly one of them is set when count > 0).
 */
struct onnx_tensor {
	char name[ONNX_NAME_MAX];
	int dtype;
	int rank;
	int64_t dims[ONNX_MAX_RANK];
	size_t count;
	int64_t *i;
	double *f;
};

enum onnx_attr_type {
	ONNX_ATTR_FLOAT = 1,
	ONNX_ATTR_INT = 2,
	ONNX_ATTR_STRING = 3,
	ONNX_ATTR_TENSOR = 4,
	ONNX_ATTR_FLOATS = 6,
	ONNX_ATTR_INTS = 7,
};

#define ONNX_MAX_ATTR_INTS 16

struct onnx_attr {
	char name[ONNX_NAME_MAX];
	int type;			/* enum onnx_attr_type; others are kept by name only */
	double f;
	int64_t i;
	char s[ONNX_NAME_MAX];
	int64_t ints[ONNX_MAX_ATTR_INTS];
	size_t int_count;		/* may exceed ONNX_MAX_ATTR_INTS: then too_long */
	bool too_long;
	struct onnx_tensor *t;
};

#define ONNX_MAX_IO 8
#define ONNX_MAX_ATTRS 16

struct onnx_node {
	char op_type[ONNX_NAME_MAX];
	char domain[ONNX_NAME_MAX];
	char inputs[ONNX_MAX_IO][ONNX_NAME_MAX];	/* "" for an omitted optional input */
	size_t input_count;
	char outputs[ONNX_MAX_IO][ONNX_NAME_MAX];
	size_t output_count;
	struct onnx_attr attrs[ONNX_MAX_ATTRS];
	size_t attr_count;
};

/* A graph input or output: its declared element type and shape. */
struct onnx_value_info {
	char name[ONNX_NAME_MAX];
	int dtype;			/* 0: not a tensor (sequence, optional, ...) */
	int rank;			/* -1: no shape */
	int64_t dims[ONNX_MAX_RANK];	/* -1: symbolic */
};

#define ONNX_MAX_NODES 32

struct onnx_model {
	int64_t opset;			/* of the default domain; 0 if absent */
	struct onnx_node nodes[ONNX_MAX_NODES];
	size_t node_count;		/* may exceed ONNX_MAX_NODES: then too_many_nodes */
	bool too_many_nodes;
	struct onnx_value_info inputs[ONNX_MAX_IO], outputs[ONNX_MAX_IO];
	size_t input_count, output_count;
	struct onnx_tensor initializers[ONNX_MAX_IO];
	size_t initializer_count;
};

/*
 * Parse a whole file. On failure return false with a message in err;
 * otherwise the result owns heap memory freed by the matching *_free().
 */
bool onnx_read_model(const char *path, struct onnx_model *model, char *err, size_t errlen);
bool onnx_read_tensor(const char *path, struct onnx_tensor *tensor, char *err, size_t errlen);
void onnx_model_free(struct onnx_model *model);
void onnx_tensor_free(struct onnx_tensor *tensor);

/* Attribute by name, or NULL. */
const struct onnx_attr *onnx_attr_find(const struct onnx_node *node, const char *name);
const char *onnx_dtype_name(int dtype);
bool onnx_dtype_is_int(int dtype);

#endif /* ONNX_PB_H */
