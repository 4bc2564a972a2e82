// SPDX-License-Identifier: MIT
/*
 * Protobuf wire-format reader for ONNX test cases (see onnx_pb.h).
 *
 * The wire format: each field is a varint key (field number << 3 | wire
 * type) and a value: 0 varint, 1 fixed64, 2 length-delimited (bytes,
 * strings, sub-messages, packed repeated scalars), 5 fixed32. A repeated
 * scalar may come packed (one type-2 field) or one field per value; both are
 * accepted. Every length is checked against the enclosing message.
 */
#include "onnx_pb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pb {
	const uint8_t *p, *end;
	char *err;
	size_t errlen;
	bool failed;
};

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

static bool fail(struct pb *pb, const char *fmt, ...)
{
	va_list ap;

	if (!pb->failed) {
		va_start(ap, fmt);
		vsnprintf(pb->err, pb->errlen, fmt, ap);
		va_end(ap);
		pb->failed = true;
	}
	return false;
}

/* A sub-reader failed: its message is already in the shared buffer. */
static bool propagate(struct pb *pb)
{
	pb->failed = true;
	return false;
}

static bool varint(struct pb *pb, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned int shift = 0; shift < 64; shift += 7) {
		if (pb->p >= pb->end)
			return fail(pb, "truncated varint");
		uint8_t b = *pb->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return fail(pb, "varint longer than 10 bytes");
}

static bool fixed(struct pb *pb, unsigned int bytes, uint64_t *out)
{
	uint64_t v = 0;

	if ((size_t)(pb->end - pb->p) < bytes)
		return fail(pb, "truncated fixed%u field", bytes * 8);
	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)pb->p[i] << (8 * i);
	pb->p += bytes;
	*out = v;
	return true;
}

/* A length-delimited value as a sub-reader. */
static bool sub(struct pb *pb, struct pb *out)
{
	uint64_t len;

	if (!varint(pb, &len))
		return false;
	if (len > (uint64_t)(pb->end - pb->p))
		return fail(pb, "length %llu runs past the end of its message",
			    (unsigned long long)len);
	*out = *pb;
	out->end = pb->p + len;
	pb->p += len;
	return true;
}

static bool key(struct pb *pb, unsigned int *field, unsigned int *wire)
{
	uint64_t k;

	if (!varint(pb, &k))
		return false;
	*field = (unsigned int)(k >> 3);
	*wire = (unsigned int)(k & 7);
	if (*field == 0)
		return fail(pb, "field number 0");
	return true;
}

static bool skip_field(struct pb *pb, unsigned int wire)
{
	uint64_t v;
	struct pb s;

	switch (wire) {
	case WT_VARINT:
		return varint(pb, &v);
	case WT_FIXED64:
		return fixed(pb, 8, &v);
	case WT_FIXED32:
		return fixed(pb, 4, &v);
	case WT_LEN:
		return sub(pb, &s);
	default:
		return fail(pb, "unsupported wire type %u", wire);
	}
}

static bool string(struct pb *pb, unsigned int wire, char *out, size_t size)
{
	struct pb s;
	size_t len;

	if (wire != WT_LEN)
		return fail(pb, "a string field has wire type %u", wire);
	if (!sub(pb, &s))
		return false;
	len = (size_t)(s.end - s.p);
	if (len >= size)
		return fail(pb, "name of %zu bytes is too long (at most %zu)", len, size - 1);
	memcpy(out, s.p, len);
	out[len] = '\0';
	return true;
}

/* Growable arrays of raw 64-bit values, for repeated scalar fields. */
struct u64s {
	uint64_t *v;
	size_t n, cap;
};

static bool push(struct pb *pb, struct u64s *a, uint64_t v)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		uint64_t *nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv)
			return fail(pb, "out of memory");
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = v;
	return true;
}

/*
 * A repeated scalar, packed or not: kind is WT_VARINT, WT_FIXED32 or
 * WT_FIXED64, the encoding the schema gives the field.
 */
static bool repeated(struct pb *pb, unsigned int wire, unsigned int kind, struct u64s *a)
{
	uint64_t v;

	if (wire == WT_LEN) {
		struct pb s;

		if (!sub(pb, &s))
			return false;
		while (s.p < s.end) {
			bool ok = kind == WT_VARINT ? varint(&s, &v) :
				  fixed(&s, kind == WT_FIXED32 ? 4 : 8, &v);

			if (!ok)
				return propagate(pb);
			if (!push(pb, a, v))
				return false;
		}
		return true;
	}
	if (wire != kind)
		return fail(pb, "repeated field has wire type %u, expected %u", wire, kind);
	if (kind == WT_VARINT ? !varint(pb, &v) : !fixed(pb, kind == WT_FIXED32 ? 4 : 8, &v))
		return false;
	return push(pb, a, v);
}

static bool message(struct pb *pb, unsigned int wire, struct pb *out)
{
	if (wire != WT_LEN)
		return fail(pb, "a message field has wire type %u", wire);
	return sub(pb, out);
}

const char *onnx_dtype_name(int dtype)
{
	static const char *const names[] = {
		[ONNX_FLOAT] = "float", [ONNX_UINT8] = "uint8", [ONNX_INT8] = "int8",
		[ONNX_UINT16] = "uint16", [ONNX_INT16] = "int16", [ONNX_INT32] = "int32",
		[ONNX_INT64] = "int64", [ONNX_STRING] = "string", [ONNX_BOOL] = "bool",
		[ONNX_FLOAT16] = "float16", [ONNX_DOUBLE] = "double", [ONNX_UINT32] = "uint32",
		[ONNX_UINT64] = "uint64",
	};

	if (dtype > 0 && (size_t)dtype < sizeof(names) / sizeof(names[0]) && names[dtype])
		return names[dtype];
	return "unknown-dtype";
}

bool onnx_dtype_is_int(int dtype)
{
	switch (dtype) {
	case ONNX_UINT8: case ONNX_INT8: case ONNX_UINT16: case ONNX_INT16:
	case ONNX_INT32: case ONNX_INT64: case ONNX_BOOL: case ONNX_UINT32: case ONNX_UINT64:
		return true;
	default:
		return false;
	}
}

static size_t raw_elem_size(int dtype)
{
	switch (dtype) {
	case ONNX_UINT8: case ONNX_INT8: case ONNX_BOOL:
		return 1;
	case ONNX_UINT16: case ONNX_INT16: case ONNX_FLOAT16:
		return 2;
	case ONNX_FLOAT: case ONNX_INT32: case ONNX_UINT32:
		return 4;
	case ONNX_INT64: case ONNX_DOUBLE: case ONNX_UINT64:
		return 8;
	default:
		return 0;
	}
}

/* Widen one raw little-endian element (or one typed-field value) of dtype. */
static void store(struct onnx_tensor *t, size_t idx, uint64_t bits)
{
	switch (t->dtype) {
	case ONNX_FLOAT: {
		uint32_t b = (uint32_t)bits;
		float f;

		memcpy(&f, &b, sizeof(f));
		t->f[idx] = f;
		break;
	}
	case ONNX_DOUBLE: {
		double d;

		memcpy(&d, &bits, sizeof(d));
		t->f[idx] = d;
		break;
	}
	case ONNX_UINT8: t->i[idx] = (uint8_t)bits; break;
	case ONNX_INT8: t->i[idx] = (int8_t)bits; break;
	case ONNX_UINT16: t->i[idx] = (uint16_t)bits; break;
	case ONNX_INT16: t->i[idx] = (int16_t)bits; break;
	case ONNX_INT32: t->i[idx] = (int32_t)bits; break;
	case ONNX_UINT32: t->i[idx] = (uint32_t)bits; break;
	case ONNX_BOOL: t->i[idx] = bits != 0; break;
	default: t->i[idx] = (int64_t)bits; break;	/* INT64, UINT64 */
	}
}

/*
 * Every message reader is one loop over (field, wire type) keys; each message
 * supplies only what it does with one field: read its value, or skip it.
 */
typedef bool field_reader(struct pb *pb, unsigned int field, unsigned int wire, void *ctx);

static bool each_field(struct pb *pb, field_reader *read_field, void *ctx)
{
	unsigned int field, wire;

	while (pb->p < pb->end)
		if (!key(pb, &field, &wire) || !read_field(pb, field, wire, ctx))
			return false;
	return true;
}

/*
 * A field that must have wire type want: a sub-message's bounds (WT_LEN) in
 * *s, or a varint or fixed32 value in *v. A wrong wire type is an error that
 * names the message kind.
 */
static bool typed_field(struct pb *pb, const char *kind, unsigned int field, unsigned int wire,
			unsigned int want, uint64_t *v, struct pb *s)
{
	*v = 0;
	if (wire != want)
		return fail(pb, "%s field %u has the wrong wire type %u", kind, field, wire);
	if (want == WT_LEN)
		return sub(pb, s);
	return want == WT_VARINT ? varint(pb, v) : fixed(pb, 4, v);
}

/* What a TensorProto's fields hold until its dtype and shape say how to decode them. */
struct tensor_fields {
	struct onnx_tensor *t;
	struct u64s dims, floats, i32, i64, dbl, u64;
	const uint8_t *raw;
	size_t raw_len;
	bool has_raw;
};

static bool tensor_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct tensor_fields *tf = ctx;
	uint64_t v;
	struct pb s;
	/* The repeated scalars: field number, the encoding the schema gives them, their list. */
	const struct { unsigned int field, kind; struct u64s *list; } repeats[] = {
		{ 1, WT_VARINT, &tf->dims }, { 4, WT_FIXED32, &tf->floats },
		{ 5, WT_VARINT, &tf->i32 }, { 7, WT_VARINT, &tf->i64 },
		{ 10, WT_FIXED64, &tf->dbl }, { 11, WT_VARINT, &tf->u64 },
	};

	for (size_t k = 0; k < sizeof(repeats) / sizeof(repeats[0]); k++)
		if (repeats[k].field == field)
			return repeated(pb, wire, repeats[k].kind, repeats[k].list);
	switch (field) {
	case 2:
		if (!typed_field(pb, "tensor", field, wire, WT_VARINT, &v, &s))
			return false;
		tf->t->dtype = (int)v;
		return true;
	case 8:
		return string(pb, wire, tf->t->name, sizeof(tf->t->name));
	case 9:
		if (!typed_field(pb, "tensor", field, wire, WT_LEN, &v, &s))
			return false;
		tf->raw = s.p;
		tf->raw_len = (size_t)(s.end - s.p);
		tf->has_raw = true;
		return true;
	case 14:
		if (!typed_field(pb, "tensor", field, wire, WT_VARINT, &v, &s))
			return false;
		if (v != 0)
			return fail(pb, "tensor '%s' keeps its data in an external file", tf->t->name);
		return true;
	default:
		return skip_field(pb, wire);
	}
}

/* Checks the shape and decodes the values the fields gave into t. */
static bool tensor_values(struct pb *pb, const struct tensor_fields *tf)
{
	struct onnx_tensor *t = tf->t;

	if (tf->dims.n > ONNX_MAX_RANK)
		return fail(pb, "tensor '%s' has rank %zu (at most %d)", t->name, tf->dims.n,
			    ONNX_MAX_RANK);
	t->rank = (int)tf->dims.n;
	t->count = 1;
	for (size_t d = 0; d < tf->dims.n; d++) {
		t->dims[d] = (int64_t)tf->dims.v[d];
		if (t->dims[d] < 0 || t->dims[d] > (1 << 24) ||
		    (t->dims[d] && t->count > ((size_t)1 << 28) / (size_t)t->dims[d]))
			return fail(pb, "tensor '%s' has an unreasonable shape", t->name);
		t->count *= (size_t)t->dims[d];
	}

	size_t esize = raw_elem_size(t->dtype);

	if (!esize || t->dtype == ONNX_FLOAT16)
		return fail(pb, "tensor '%s' has element type %s, which this reader does not decode",
			    t->name, onnx_dtype_name(t->dtype));
	if (t->count) {
		bool is_float = t->dtype == ONNX_FLOAT || t->dtype == ONNX_DOUBLE;

		if (is_float)
			t->f = calloc(t->count, sizeof(*t->f));
		else
			t->i = calloc(t->count, sizeof(*t->i));
		if (!t->f && !t->i)
			return fail(pb, "out of memory");
	}
	if (tf->has_raw) {
		if (tf->raw_len != t->count * esize)
			return fail(pb, "tensor '%s': raw_data has %zu bytes, the shape needs %zu",
				    t->name, tf->raw_len, t->count * esize);
		for (size_t k = 0; k < t->count; k++) {
			uint64_t bits = 0;

			for (size_t b = 0; b < esize; b++)
				bits |= (uint64_t)tf->raw[k * esize + b] << (8 * b);
			store(t, k, bits);
		}
		return true;
	}

	const struct u64s *src;

	switch (t->dtype) {
	case ONNX_FLOAT: src = &tf->floats; break;
	case ONNX_DOUBLE: src = &tf->dbl; break;
	case ONNX_INT64: src = &tf->i64; break;
	case ONNX_UINT32: case ONNX_UINT64: src = &tf->u64; break;
	default: src = &tf->i32; break;
	}
	if (src->n != t->count)
		return fail(pb, "tensor '%s' has %zu values, its shape needs %zu",
			    t->name, src->n, t->count);
	for (size_t k = 0; k < t->count; k++)
		store(t, k, src->v[k]);
	return true;
}

static bool tensor(struct pb *pb, struct onnx_tensor *t)
{
	struct tensor_fields tf = { .t = t };
	bool ok;

	memset(t, 0, sizeof(*t));
	ok = each_field(pb, tensor_field, &tf) && tensor_values(pb, &tf);
	free(tf.dims.v);
	free(tf.floats.v);
	free(tf.i32.v);
	free(tf.i64.v);
	free(tf.dbl.v);
	free(tf.u64.v);
	if (!ok)
		onnx_tensor_free(t);
	return ok;
}

struct attribute_fields {
	struct onnx_attr *a;
	struct u64s ints;
};

static bool attribute_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct attribute_fields *af = ctx;
	struct onnx_attr *a = af->a;
	uint64_t v;
	struct pb s;

	switch (field) {
	case 1:
		return string(pb, wire, a->name, sizeof(a->name));
	case 2: {
		float f;
		uint32_t b;

		if (!typed_field(pb, "attribute", field, wire, WT_FIXED32, &v, &s))
			return false;
		b = (uint32_t)v;
		memcpy(&f, &b, sizeof(f));
		a->f = f;
		return true;
	}
	case 3:
		if (!typed_field(pb, "attribute", field, wire, WT_VARINT, &v, &s))
			return false;
		a->i = (int64_t)v;
		return true;
	case 4: {
		size_t len;

		if (!typed_field(pb, "attribute", field, wire, WT_LEN, &v, &s))
			return false;
		len = (size_t)(s.end - s.p);
		if (len >= sizeof(a->s))
			len = sizeof(a->s) - 1;
		memcpy(a->s, s.p, len);
		a->s[len] = '\0';
		return true;
	}
	case 5:
		if (!message(pb, wire, &s))
			return false;
		if (a->t)
			onnx_tensor_free(a->t);
		else
			a->t = calloc(1, sizeof(*a->t));
		if (!a->t)
			return fail(pb, "out of memory");
		return tensor(&s, a->t) || propagate(pb);
	case 8:
		return repeated(pb, wire, WT_VARINT, &af->ints);
	case 20:
		if (!typed_field(pb, "attribute", field, wire, WT_VARINT, &v, &s))
			return false;
		a->type = (int)v;
		return true;
	default:
		return skip_field(pb, wire);
	}
}

static bool attribute(struct pb *pb, struct onnx_attr *a)
{
	struct attribute_fields af = { .a = a };
	bool ok;

	memset(a, 0, sizeof(*a));
	ok = each_field(pb, attribute_field, &af);
	if (ok) {
		a->int_count = af.ints.n;
		a->too_long = af.ints.n > ONNX_MAX_ATTR_INTS;
		for (size_t k = 0; k < af.ints.n && k < ONNX_MAX_ATTR_INTS; k++)
			a->ints[k] = (int64_t)af.ints.v[k];
	}
	free(af.ints.v);
	return ok;
}

static bool node_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_node *n = ctx;
	struct pb s;

	switch (field) {
	case 1:
	case 2: {
		size_t *count = field == 1 ? &n->input_count : &n->output_count;
		char (*names)[ONNX_NAME_MAX] = field == 1 ? n->inputs : n->outputs;

		if (*count == ONNX_MAX_IO)
			return fail(pb, "node has more than %d inputs or outputs", ONNX_MAX_IO);
		if (!string(pb, wire, names[*count], ONNX_NAME_MAX))
			return false;
		(*count)++;
		return true;
	}
	case 4:
		return string(pb, wire, n->op_type, sizeof(n->op_type));
	case 5:
		if (n->attr_count == ONNX_MAX_ATTRS)
			return fail(pb, "node has more than %d attributes", ONNX_MAX_ATTRS);
		if (!message(pb, wire, &s))
			return false;
		return attribute(&s, &n->attrs[n->attr_count++]) || propagate(pb);
	case 7:
		return string(pb, wire, n->domain, sizeof(n->domain));
	default:
		return skip_field(pb, wire);
	}
}

/* TensorShapeProto.Dimension: dim_value = 1; a symbolic dim_param stays -1. */
static bool dimension_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_value_info *vi = ctx;
	uint64_t v;

	if (field != 1 || wire != WT_VARINT)
		return skip_field(pb, wire);
	if (!varint(pb, &v))
		return false;
	vi->dims[vi->rank] = (int64_t)v;
	return true;
}

/* TensorShapeProto: dim = 1. */
static bool shape_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_value_info *vi = ctx;
	struct pb d;

	if (field != 1)
		return skip_field(pb, wire);
	if (!message(pb, wire, &d))
		return false;
	if (vi->rank == ONNX_MAX_RANK)
		return fail(pb, "'%s' has rank above %d", vi->name, ONNX_MAX_RANK);
	vi->dims[vi->rank] = -1;
	if (!each_field(&d, dimension_field, vi))
		return propagate(pb);
	vi->rank++;
	return true;
}

/* TypeProto.Tensor: elem_type = 1, shape = 2. */
static bool tensor_type_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_value_info *vi = ctx;
	uint64_t v;
	struct pb s;

	if (field == 1 && wire == WT_VARINT) {
		if (!varint(pb, &v))
			return false;
		vi->dtype = (int)v;
		return true;
	}
	if (field != 2)
		return skip_field(pb, wire);
	if (!message(pb, wire, &s))
		return false;
	vi->rank = 0;
	return each_field(&s, shape_field, vi) || propagate(pb);
}

/* TypeProto: tensor_type = 1. */
static bool type_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct pb tt;

	if (field != 1)
		return skip_field(pb, wire);
	return (message(pb, wire, &tt) && each_field(&tt, tensor_type_field, ctx)) ||
	       propagate(pb);
}

/* ValueInfoProto: name = 1, type = 2. */
static bool value_info_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_value_info *vi = ctx;
	struct pb s;

	if (field == 1)
		return string(pb, wire, vi->name, sizeof(vi->name));
	if (field != 2)
		return skip_field(pb, wire);
	return message(pb, wire, &s) && (each_field(&s, type_field, vi) || propagate(pb));
}

static bool value_info(struct pb *pb, struct onnx_value_info *vi)
{
	memset(vi, 0, sizeof(*vi));
	vi->rank = -1;
	return each_field(pb, value_info_field, vi);
}

static bool graph_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_model *m = ctx;
	struct pb s;

	switch (field) {
	case 1:
		if (!message(pb, wire, &s))
			return false;
		if (m->node_count < ONNX_MAX_NODES &&
		    !each_field(&s, node_field, &m->nodes[m->node_count]))
			return propagate(pb);
		m->node_count++;
		m->too_many_nodes = m->node_count > ONNX_MAX_NODES;
		return true;
	case 5:
		if (m->initializer_count == ONNX_MAX_IO)
			return fail(pb, "more than %d initializers", ONNX_MAX_IO);
		if (!message(pb, wire, &s))
			return false;
		if (!tensor(&s, &m->initializers[m->initializer_count]))
			return propagate(pb);
		m->initializer_count++;
		return true;
	case 11:
	case 12: {
		size_t *count = field == 11 ? &m->input_count : &m->output_count;
		struct onnx_value_info *vi = field == 11 ? m->inputs : m->outputs;

		if (*count == ONNX_MAX_IO)
			return fail(pb, "graph has more than %d inputs or outputs", ONNX_MAX_IO);
		if (!message(pb, wire, &s))
			return false;
		if (!value_info(&s, &vi[*count]))
			return propagate(pb);
		(*count)++;
		return true;
	}
	default:
		return skip_field(pb, wire);
	}
}

/* OperatorSetIdProto: domain = 1, version = 2. */
struct opset_fields {
	char domain[ONNX_NAME_MAX];
	int64_t version;
};

static bool opset_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct opset_fields *os = ctx;
	uint64_t v;

	if (field == 1)
		return string(pb, wire, os->domain, sizeof(os->domain));
	if (field != 2 || wire != WT_VARINT)
		return skip_field(pb, wire);
	if (!varint(pb, &v))
		return false;
	os->version = (int64_t)v;
	return true;
}

/* ModelProto: graph = 7, opset_import = 8. */
static bool model_field(struct pb *pb, unsigned int field, unsigned int wire, void *ctx)
{
	struct onnx_model *m = ctx;
	struct opset_fields os = { "", 0 };
	struct pb s;

	if (field == 7)
		return (message(pb, wire, &s) && each_field(&s, graph_field, m)) || propagate(pb);
	if (field != 8)
		return skip_field(pb, wire);
	if (!message(pb, wire, &s))
		return false;
	if (!each_field(&s, opset_field, &os))
		return propagate(pb);
	if (!os.domain[0] || !strcmp(os.domain, "ai.onnx"))
		m->opset = os.version;
	return true;
}

static uint8_t *slurp(const char *path, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "cannot size %s: %s", path, strerror(errno));
		goto out;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "cannot read %s", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	*size = (size_t)len;
out:
	fclose(f);
	return buf;
}

/* Parses the file at path as a ModelProto (into a model) or a TensorProto. */
static bool read_pb(const char *path, bool is_model, void *out, char *err, size_t errlen)
{
	size_t size = 0;
	uint8_t *buf = slurp(path, &size, err, errlen);
	struct pb pb;
	bool ok;

	if (!buf)
		return false;
	pb = (struct pb){ .p = buf, .end = buf + size, .err = err, .errlen = errlen };
	ok = is_model ? each_field(&pb, model_field, out) : tensor(&pb, out);
	free(buf);
	return ok;
}

bool onnx_read_model(const char *path, struct onnx_model *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (read_pb(path, true, m, err, errlen))
		return true;
	onnx_model_free(m);
	return false;
}

bool onnx_read_tensor(const char *path, struct onnx_tensor *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	return read_pb(path, false, t, err, errlen);
}

void onnx_tensor_free(struct onnx_tensor *t)
{
	free(t->i);
	free(t->f);
	t->i = NULL;
	t->f = NULL;
}

void onnx_model_free(struct onnx_model *m)
{
	for (size_t n = 0; n < m->node_count && n < ONNX_MAX_NODES; n++)
		for (size_t a = 0; a < m->nodes[n].attr_count; a++)
			if (m->nodes[n].attrs[a].t) {
				onnx_tensor_free(m->nodes[n].attrs[a].t);
				free(m->nodes[n].attrs[a].t);
				m->nodes[n].attrs[a].t = NULL;
			}
	for (size_t k = 0; k < m->initializer_count; k++)
		onnx_tensor_free(&m->initializers[k]);
	m->initializer_count = 0;
}

const struct onnx_attr *onnx_attr_find(const struct onnx_node *n, const char *name)
{
	for (size_t k = 0; k < n->attr_count; k++)
		if (!strcmp(n->attrs[k].name, name))
			return &n->attrs[k];
	return NULL;
}
