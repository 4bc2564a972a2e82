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

static bool tensor(struct pb *pb, struct onnx_tensor *t)
{
	struct u64s dims = { 0 }, floats = { 0 }, i32 = { 0 }, i64 = { 0 }, dbl = { 0 }, u64 = { 0 };
	const uint8_t *raw = NULL;
	size_t raw_len = 0;
	bool has_raw = false, ok = false;
	unsigned int field, wire;
	uint64_t v;

	memset(t, 0, sizeof(*t));
	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			goto out;
		switch (field) {
		case 1:
			if (!repeated(pb, wire, WT_VARINT, &dims))
				goto out;
			break;
		case 2:
			if (wire != WT_VARINT || !varint(pb, &v))
				goto bad;
			t->dtype = (int)v;
			break;
		case 4:
			if (!repeated(pb, wire, WT_FIXED32, &floats))
				goto out;
			break;
		case 5:
			if (!repeated(pb, wire, WT_VARINT, &i32))
				goto out;
			break;
		case 7:
			if (!repeated(pb, wire, WT_VARINT, &i64))
				goto out;
			break;
		case 8:
			if (!string(pb, wire, t->name, sizeof(t->name)))
				goto out;
			break;
		case 9: {
			struct pb s;

			if (wire != WT_LEN || !sub(pb, &s))
				goto bad;
			raw = s.p;
			raw_len = (size_t)(s.end - s.p);
			has_raw = true;
			break;
		}
		case 10:
			if (!repeated(pb, wire, WT_FIXED64, &dbl))
				goto out;
			break;
		case 11:
			if (!repeated(pb, wire, WT_VARINT, &u64))
				goto out;
			break;
		case 14:
			if (wire != WT_VARINT || !varint(pb, &v))
				goto bad;
			if (v != 0) {
				fail(pb, "tensor '%s' keeps its data in an external file", t->name);
				goto out;
			}
			break;
		default:
			if (!skip_field(pb, wire))
				goto out;
		}
	}
	if (dims.n > ONNX_MAX_RANK) {
		fail(pb, "tensor '%s' has rank %zu (at most %d)", t->name, dims.n, ONNX_MAX_RANK);
		goto out;
	}
	t->rank = (int)dims.n;
	t->count = 1;
	for (size_t d = 0; d < dims.n; d++) {
		t->dims[d] = (int64_t)dims.v[d];
		if (t->dims[d] < 0 || t->dims[d] > (1 << 24) ||
		    (t->dims[d] && t->count > ((size_t)1 << 28) / (size_t)t->dims[d])) {
			fail(pb, "tensor '%s' has an unreasonable shape", t->name);
			goto out;
		}
		t->count *= (size_t)t->dims[d];
	}

	size_t esize = raw_elem_size(t->dtype);

	if (!esize || t->dtype == ONNX_FLOAT16) {
		fail(pb, "tensor '%s' has element type %s, which this reader does not decode",
		     t->name, onnx_dtype_name(t->dtype));
		goto out;
	}
	if (t->count) {
		bool is_float = t->dtype == ONNX_FLOAT || t->dtype == ONNX_DOUBLE;

		if (is_float)
			t->f = calloc(t->count, sizeof(*t->f));
		else
			t->i = calloc(t->count, sizeof(*t->i));
		if (!t->f && !t->i) {
			fail(pb, "out of memory");
			goto out;
		}
	}
	if (has_raw) {
		if (raw_len != t->count * esize) {
			fail(pb, "tensor '%s': raw_data has %zu bytes, the shape needs %zu",
			     t->name, raw_len, t->count * esize);
			goto out;
		}
		for (size_t k = 0; k < t->count; k++) {
			uint64_t bits = 0;

			for (size_t b = 0; b < esize; b++)
				bits |= (uint64_t)raw[k * esize + b] << (8 * b);
			store(t, k, bits);
		}
	} else {
		const struct u64s *src;

		switch (t->dtype) {
		case ONNX_FLOAT: src = &floats; break;
		case ONNX_DOUBLE: src = &dbl; break;
		case ONNX_INT64: src = &i64; break;
		case ONNX_UINT32: case ONNX_UINT64: src = &u64; break;
		default: src = &i32; break;
		}
		if (src->n != t->count) {
			fail(pb, "tensor '%s' has %zu values, its shape needs %zu",
			     t->name, src->n, t->count);
			goto out;
		}
		for (size_t k = 0; k < t->count; k++)
			store(t, k, src->v[k]);
	}
	ok = true;
	goto out;
bad:
	fail(pb, "tensor field %u has the wrong wire type %u", field, wire);
out:
	free(dims.v);
	free(floats.v);
	free(i32.v);
	free(i64.v);
	free(dbl.v);
	free(u64.v);
	if (!ok)
		onnx_tensor_free(t);
	return ok;
}

static bool attribute(struct pb *pb, struct onnx_attr *a)
{
	unsigned int field, wire;
	struct u64s ints = { 0 };
	uint64_t v;
	bool ok = false;

	memset(a, 0, sizeof(*a));
	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			goto out;
		switch (field) {
		case 1:
			if (!string(pb, wire, a->name, sizeof(a->name)))
				goto out;
			break;
		case 2: {
			float f;
			uint32_t b;

			if (wire != WT_FIXED32 || !fixed(pb, 4, &v))
				goto bad;
			b = (uint32_t)v;
			memcpy(&f, &b, sizeof(f));
			a->f = f;
			break;
		}
		case 3:
			if (wire != WT_VARINT || !varint(pb, &v))
				goto bad;
			a->i = (int64_t)v;
			break;
		case 4: {
			struct pb s;
			size_t len;

			if (wire != WT_LEN || !sub(pb, &s))
				goto bad;
			len = (size_t)(s.end - s.p);
			if (len >= sizeof(a->s))
				len = sizeof(a->s) - 1;
			memcpy(a->s, s.p, len);
			a->s[len] = '\0';
			break;
		}
		case 5: {
			struct pb s;

			if (!message(pb, wire, &s))
				goto out;
			if (a->t)
				onnx_tensor_free(a->t);
			else
				a->t = calloc(1, sizeof(*a->t));
			if (!a->t) {
				fail(pb, "out of memory");
				goto out;
			}
			if (!tensor(&s, a->t)) {
				propagate(pb);
				goto out;
			}
			break;
		}
		case 8:
			if (!repeated(pb, wire, WT_VARINT, &ints))
				goto out;
			break;
		case 20:
			if (wire != WT_VARINT || !varint(pb, &v))
				goto bad;
			a->type = (int)v;
			break;
		default:
			if (!skip_field(pb, wire))
				goto out;
		}
	}
	a->int_count = ints.n;
	a->too_long = ints.n > ONNX_MAX_ATTR_INTS;
	for (size_t k = 0; k < ints.n && k < ONNX_MAX_ATTR_INTS; k++)
		a->ints[k] = (int64_t)ints.v[k];
	ok = true;
	goto out;
bad:
	fail(pb, "attribute field %u has the wrong wire type %u", field, wire);
out:
	free(ints.v);
	return ok;
}

static bool node(struct pb *pb, struct onnx_node *n)
{
	unsigned int field, wire;
	struct pb s;

	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			return false;
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
			break;
		}
		case 4:
			if (!string(pb, wire, n->op_type, sizeof(n->op_type)))
				return false;
			break;
		case 5:
			if (n->attr_count == ONNX_MAX_ATTRS)
				return fail(pb, "node has more than %d attributes", ONNX_MAX_ATTRS);
			if (!message(pb, wire, &s))
				return false;
			if (!attribute(&s, &n->attrs[n->attr_count++]))
				return propagate(pb);
			break;
		case 7:
			if (!string(pb, wire, n->domain, sizeof(n->domain)))
				return false;
			break;
		default:
			if (!skip_field(pb, wire))
				return false;
		}
	}
	return true;
}

/* TypeProto.Tensor: elem_type = 1, shape = 2 (TensorShapeProto: dim = 1). */
static bool tensor_type(struct pb *pb, struct onnx_value_info *vi)
{
	unsigned int field, wire;
	uint64_t v;
	struct pb s, d;

	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			return false;
		if (field == 1 && wire == WT_VARINT) {
			if (!varint(pb, &v))
				return false;
			vi->dtype = (int)v;
		} else if (field == 2) {
			if (!message(pb, wire, &s))
				return false;
			vi->rank = 0;
			while (s.p < s.end) {
				if (!key(&s, &field, &wire))
					return propagate(pb);
				if (field != 1) {
					if (!skip_field(&s, wire))
						return propagate(pb);
					continue;
				}
				if (!message(&s, wire, &d))
					return propagate(pb);
				if (vi->rank == ONNX_MAX_RANK)
					return fail(pb, "'%s' has rank above %d", vi->name, ONNX_MAX_RANK);
				vi->dims[vi->rank] = -1;
				while (d.p < d.end) {
					if (!key(&d, &field, &wire))
						return propagate(pb);
					if (field == 1 && wire == WT_VARINT) {
						if (!varint(&d, &v))
							return propagate(pb);
						vi->dims[vi->rank] = (int64_t)v;
					} else if (!skip_field(&d, wire)) {
						return propagate(pb);
					}
				}
				vi->rank++;
			}
		} else if (!skip_field(pb, wire)) {
			return false;
		}
	}
	return true;
}

static bool value_info(struct pb *pb, struct onnx_value_info *vi)
{
	unsigned int field, wire;
	struct pb s, tt;

	memset(vi, 0, sizeof(*vi));
	vi->rank = -1;
	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			return false;
		if (field == 1) {
			if (!string(pb, wire, vi->name, sizeof(vi->name)))
				return false;
		} else if (field == 2) {
			if (!message(pb, wire, &s))
				return false;
			while (s.p < s.end) {	/* TypeProto: tensor_type = 1 */
				if (!key(&s, &field, &wire))
					return propagate(pb);
				if (field == 1) {
					if (!message(&s, wire, &tt) || !tensor_type(&tt, vi))
						return propagate(pb);
				} else if (!skip_field(&s, wire)) {
					return propagate(pb);
				}
			}
		} else if (!skip_field(pb, wire)) {
			return false;
		}
	}
	return true;
}

static bool graph(struct pb *pb, struct onnx_model *m)
{
	unsigned int field, wire;
	struct pb s;

	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			return false;
		switch (field) {
		case 1:
			if (!message(pb, wire, &s))
				return false;
			if (m->node_count < ONNX_MAX_NODES && !node(&s, &m->nodes[m->node_count]))
				return propagate(pb);
			m->node_count++;
			m->too_many_nodes = m->node_count > ONNX_MAX_NODES;
			break;
		case 5:
			if (m->initializer_count == ONNX_MAX_IO)
				return fail(pb, "more than %d initializers", ONNX_MAX_IO);
			if (!message(pb, wire, &s))
				return false;
			if (!tensor(&s, &m->initializers[m->initializer_count]))
				return propagate(pb);
			m->initializer_count++;
			break;
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
			break;
		}
		default:
			if (!skip_field(pb, wire))
				return false;
		}
	}
	return true;
}

static bool model(struct pb *pb, struct onnx_model *m)
{
	unsigned int field, wire;
	struct pb s;
	uint64_t v;

	while (pb->p < pb->end) {
		if (!key(pb, &field, &wire))
			return false;
		if (field == 7) {
			if (!message(pb, wire, &s) || !graph(&s, m))
				return propagate(pb);
		} else if (field == 8) {	/* OperatorSetIdProto: domain = 1, version = 2 */
			char domain[ONNX_NAME_MAX] = "";
			int64_t version = 0;

			if (!message(pb, wire, &s))
				return false;
			while (s.p < s.end) {
				if (!key(&s, &field, &wire))
					return propagate(pb);
				if (field == 1) {
					if (!string(&s, wire, domain, sizeof(domain)))
						return propagate(pb);
				} else if (field == 2 && wire == WT_VARINT) {
					if (!varint(&s, &v))
						return propagate(pb);
					version = (int64_t)v;
				} else if (!skip_field(&s, wire)) {
					return propagate(pb);
				}
			}
			if (!domain[0] || !strcmp(domain, "ai.onnx"))
				m->opset = version;
		} else if (!skip_field(pb, wire)) {
			return false;
		}
	}
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
	ok = is_model ? model(&pb, out) : tensor(&pb, out);
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
