// SPDX-License-Identifier: MIT
/*
 * Lowers one ONNX node to NPU instructions (docs/onnx.md has the mapping).
 *
 * The first data input of a node is the program's runtime input (for Add,
 * Sub, Mul and Concat every data input is); weights and biases become
 * constants; scales, zero points, shapes, pads, starts and ends become
 * instruction arguments. A case the instruction set cannot compute exactly
 * is skipped with a reason, never approximated.
 */
#include "convert.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npu_isa_encode.h"

#define ALIGN 64u
#define MAX_CODE 65536

static bool skip(struct conv *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	return false;
}

static uint64_t align_up(uint64_t v)
{
	return (v + ALIGN - 1) / ALIGN * ALIGN;
}

static uint64_t alloc(struct conv *c, uint64_t bytes)
{
	uint64_t addr = c->next;

	c->next = align_up(c->next + (bytes ? bytes : 1));
	return addr;
}

static bool add_const(struct conv *c, const void *data, size_t size, uint64_t *addr)
{
	struct conv_const *k;

	if (c->const_count == CONV_MAX_CONSTS)
		return skip(c, "more than %d constant blocks", CONV_MAX_CONSTS);
	k = &c->consts[c->const_count];
	k->data = malloc(size ? size : 1);
	if (!k->data)
		return skip(c, "out of memory");
	memcpy(k->data, data, size);
	k->size = size;
	k->addr = alloc(c, size);
	*addr = k->addr;
	c->const_count++;
	return true;
}

/* Appends one instruction (built by npu_isa_encode.h); false if the program is full. */
static bool emit(struct conv *c, struct npu_insn insn)
{
	if (c->code_count == c->code_cap) {
		size_t cap = c->code_cap ? c->code_cap * 2 : 16;
		struct npu_insn *n;

		if (cap > MAX_CODE)
			return false;
		n = realloc(c->code, cap * sizeof(*n));
		if (!n)
			return false;
		c->code = n;
		c->code_cap = cap;
	}
	c->code[c->code_count++] = insn;
	return true;
}

#define EMIT(c, insn) do {							\
		if (!emit((c), (insn)))						\
			return skip((c), "more than %d instructions", MAX_CODE);	\
	} while (0)

/* ---- tensors of the test case ------------------------------------------- */

/* The value of a node input: an initializer or a test-data tensor; NULL if absent. */
static const struct onnx_tensor *value(const struct conv *c, size_t input)
{
	const char *name;

	if (input >= c->node->input_count || !c->node->inputs[input][0])
		return NULL;
	name = c->node->inputs[input];
	for (size_t k = 0; k < c->model->initializer_count; k++)
		if (!strcmp(c->model->initializers[k].name, name))
			return &c->model->initializers[k];
	for (size_t k = 0; k < c->input_count; k++)
		if (!strcmp(c->inputs[k].name, name))
			return &c->inputs[k];
	/* Unnamed test data: by the position of the graph input. */
	for (size_t k = 0; k < c->model->input_count && k < c->input_count; k++)
		if (!strcmp(c->model->inputs[k].name, name) && !c->inputs[k].name[0])
			return &c->inputs[k];
	return NULL;
}

static const struct onnx_tensor *expected(const struct conv *c, size_t output)
{
	return output < c->output_count ? &c->outputs[output] : NULL;
}

static double elem(const struct onnx_tensor *t, size_t k)
{
	return t->f ? t->f[k] : (double)t->i[k];
}

static bool scalar(struct conv *c, const struct onnx_tensor *t, const char *what, double *out)
{
	if (!t)
		return skip(c, "%s is missing", what);
	for (size_t k = 1; k < t->count; k++)
		if (elem(t, k) != elem(t, 0))
			return skip(c, "per-axis %s (%zu values): not supported", what, t->count);
	if (!t->count)
		return skip(c, "%s is empty", what);
	*out = elem(t, 0);
	return true;
}

static int prog_dtype(int onnx_dtype)
{
	switch (onnx_dtype) {
	case ONNX_INT8: return NPU_PROG_DTYPE_INT8;
	case ONNX_UINT8: return NPU_PROG_DTYPE_UINT8;
	case ONNX_INT32: return NPU_PROG_DTYPE_INT32;
	default: return 0;
	}
}

static int isa_dtype(int prog)
{
	return prog == NPU_PROG_DTYPE_INT8 ? NPU_DTYPE_I8 :
	       prog == NPU_PROG_DTYPE_UINT8 ? NPU_DTYPE_U8 : NPU_DTYPE_I32;
}

/*
 * Host bytes of t as host_dtype: FLOAT32 from float values, INT32 from int32
 * values or from float32 bit patterns (data movement on floats), INT8/UINT8
 * from 8-bit integers.
 */
static bool host_bytes(struct conv *c, const struct onnx_tensor *t, int host_dtype,
		       uint8_t **out, size_t *size)
{
	size_t esize = host_dtype == NPU_PROG_DTYPE_INT8 || host_dtype == NPU_PROG_DTYPE_UINT8 ? 1 : 4;
	uint8_t *p = malloc(t->count * esize + 1);

	if (!p)
		return skip(c, "out of memory");
	for (size_t k = 0; k < t->count; k++) {
		if (host_dtype == NPU_PROG_DTYPE_FLOAT32 || (host_dtype == NPU_PROG_DTYPE_INT32 && t->f)) {
			float f = (float)elem(t, k);

			memcpy(p + 4 * k, &f, 4);
		} else if (esize == 4) {
			int32_t v = (int32_t)t->i[k];

			memcpy(p + 4 * k, &v, 4);
		} else {
			p[k] = (uint8_t)t->i[k];
		}
	}
	*out = p;
	*size = t->count * esize;
	return true;
}

struct qparams {
	int dtype;		/* NPU_PROG_DTYPE_INT8 or UINT8 */
	float scale;
	int32_t zero_point;
};

/*
 * A tensor descriptor for t (host shape t->dims) at a fresh DRAM address.
 * host_dtype FLOAT32 needs q (scale, zero point, device dtype); otherwise
 * the device dtype is dtype. Returns the tensor index or -1.
 */
static int add_tensor(struct conv *c, const struct onnx_tensor *t, int kind, const char *name,
		      int dtype, int host_dtype, int layout, const struct qparams *q, int compare)
{
	struct npu_prog_tensor *d;
	size_t esize, n = 1;
	int idx;

	if (c->tensor_count == CONV_MAX_TENSORS) {
		skip(c, "more than %d tensors", CONV_MAX_TENSORS);
		return -1;
	}
	if (t->rank > NPU_PROG_MAX_RANK || t->rank < 0) {
		skip(c, "rank %d: tensor descriptors hold at most %d dimensions", t->rank,
		     NPU_PROG_MAX_RANK);
		return -1;
	}
	idx = (int)c->tensor_count;
	d = &c->tensors[idx];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%.*s", NPU_PROG_NAME_LEN - 1, name);
	d->kind = (uint8_t)kind;
	d->dtype = (uint8_t)(q ? q->dtype : dtype);
	d->host_dtype = (uint8_t)host_dtype;
	/* A scalar is a 1-element vector on the device. */
	d->rank = (uint8_t)(t->rank ? t->rank : 1);
	d->layout = (uint8_t)layout;
	d->dims[0] = 1;
	for (int k = 0; k < t->rank; k++) {
		if (t->dims[k] < 1) {
			skip(c, "empty tensor (dimension %d is 0)", k);
			return -1;
		}
		d->dims[k] = (uint32_t)t->dims[k];
		n *= (size_t)t->dims[k];
	}
	esize = npu_prog_dtype_size(d->dtype);
	d->byte_size = n * esize;
	d->dram_addr = alloc(c, d->byte_size);
	d->scale = q ? q->scale : 1.0f;
	d->zero_point = q ? q->zero_point : 0;
	if (!host_bytes(c, t, host_dtype, &c->host[idx], &c->host_size[idx]))
		return -1;
	c->compare[idx] = (uint8_t)compare;
	c->tensor_count++;
	return idx;
}

/* ---- quantization parameters ------------------------------------------------ */

/* True if every value of t is q * scale (q integer in [lo, hi]) up to rounding. */
static bool fits(const struct onnx_tensor *t, double scale, int lo, int hi)
{
	for (size_t k = 0; k < t->count; k++) {
		double v = elem(t, k), q = nearbyint(v / scale);

		if (q < lo || q > hi || fabs(v - q * scale) > 1e-6 * fmax(1.0, fabs(v)))
			return false;
	}
	return true;
}

/*
 * A common int8 (else uint8) quantization, zero point 0, that represents
 * every value of the given tensors exactly: scales 2^e / d, largest first.
 * Float tensors only; integer tensors keep their own type.
 */
static bool pick_quant(struct conv *c, const struct onnx_tensor *const *ts, size_t n,
		       struct qparams *q)
{
	static const int divisors[] = { 1, 3, 5, 7, 9 };
	double maxabs = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ts[i]->count; k++)
			maxabs = fmax(maxabs, fabs(elem(ts[i], k)));
	for (int e = 16; e >= -24; e--) {
		for (size_t d = 0; d < sizeof(divisors) / sizeof(divisors[0]); d++) {
			double s = ldexp(1.0, e) / divisors[d];

			/* Narrow candidates to those that can hold the largest value. */
			if (maxabs / s > 255.5)
				continue;
			for (int u = 0; u < 2; u++) {
				bool ok = true;

				for (size_t i = 0; i < n && ok; i++)
					ok = fits(ts[i], (float)s, u ? 0 : -128, u ? 255 : 127);
				if (ok) {
					q->dtype = u ? NPU_PROG_DTYPE_UINT8 : NPU_PROG_DTYPE_INT8;
					q->scale = (float)s;
					q->zero_point = 0;
					return true;
				}
			}
		}
	}
	return skip(c, "float values not exactly representable in int8/uint8 (|max| %.4g)",
		    maxabs);
}

/* r = m / 2^s with the largest s <= 62 keeping |m| < 2^31 (docs/hardware.md 10.1). */
static bool fixed_point(struct conv *c, double r, int32_t *m, uint32_t *s)
{
	if (!(fabs(r) < 2147483648.0) || r == 0) {
		*m = 0;
		*s = 0;
		if (r == 0)
			return true;
		return skip(c, "requantization factor %g out of range", r);
	}
	for (int shift = 62; shift >= 0; shift--) {
		double v = nearbyint(fabs(r) * ldexp(1.0, shift));

		if (v < 2147483648.0) {
			*m = (int32_t)(r < 0 ? -v : v);
			*s = (uint32_t)shift;
			return true;
		}
	}
	return skip(c, "requantization factor %g out of range", r);
}

/* ---- strided copies -------------------------------------------------------------- */

/*
 * Copies an n-d box: element (i0..i{rank-1}) from src + Σ ik·ss[k] to
 * dst + Σ ik·ds[k] (byte strides), as few COPY_NDs as possible: dimensions
 * of count 1 vanish, dimensions contiguous on both sides merge, and more
 * than 4 left are looped over on the host.
 */
static bool copy_box(struct conv *c, uint64_t dst, int64_t src, int rank, const int64_t *count,
		     const int64_t *ss, const int64_t *ds, unsigned int esize)
{
	int64_t cn[ONNX_MAX_RANK + 1], sn[ONNX_MAX_RANK + 1], dn[ONNX_MAX_RANK + 1];
	int r = 0;
	unsigned int dt = esize == 1 ? NPU_DTYPE_I8 : esize == 2 ? NPU_DTYPE_I16 :
			  esize == 4 ? NPU_DTYPE_I32 : NPU_DTYPE_I64;
	uint32_t nd_count[NPU_ND_DIMS];
	int32_t nd_src[NPU_ND_DIMS], nd_dst[NPU_ND_DIMS];

	for (int k = 0; k < rank; k++) {
		if (count[k] == 0)
			return true;
		if (count[k] == 1)
			continue;
		if (r && sn[r - 1] == ss[k] * count[k] && dn[r - 1] == ds[k] * count[k]) {
			cn[r - 1] *= count[k];
			sn[r - 1] = ss[k];
			dn[r - 1] = ds[k];
			continue;
		}
		cn[r] = count[k];
		sn[r] = ss[k];
		dn[r] = ds[k];
		r++;
	}
	/* Innermost unit-stride run on both sides: a plain COPY is cheaper. */
	if (r == 0 || (r == 1 && sn[0] == esize && dn[0] == esize)) {
		EMIT(c, npu_insn_copy((uint32_t)dst, (uint32_t)src,
				      (uint32_t)((r ? cn[0] : 1) * esize)));
		return true;
	}
	if (r > NPU_ND_DIMS) {
		for (int64_t i = 0; i < cn[0]; i++)
			if (!copy_box(c, dst + (uint64_t)(i * dn[0]), src + i * sn[0], r - 1, cn + 1,
				      sn + 1, dn + 1, esize))
				return false;
		return true;
	}
	for (int k = 0; k < NPU_ND_DIMS; k++) {
		int j = k - (NPU_ND_DIMS - r);

		nd_count[k] = j < 0 ? 1 : (uint32_t)cn[j];
		nd_src[k] = j < 0 ? 0 : (int32_t)sn[j];
		nd_dst[k] = j < 0 ? 0 : (int32_t)dn[j];
	}
	EMIT(c, npu_insn_copy_nd(dt, (uint32_t)dst, (uint32_t)src, nd_count, nd_src, nd_dst));
	return true;
}

static void dense_strides(int rank, const int64_t *dims, unsigned int esize, int64_t *strides)
{
	int64_t s = esize;

	for (int k = rank - 1; k >= 0; k--) {
		strides[k] = s;
		s *= dims[k];
	}
}

/*
 * Data-movement cases: the element type the device moves. Floats move as
 * their 32-bit patterns (INT32 tensors on both sides), integers as
 * themselves; 64-bit and other types are not in the container's dtypes.
 */
static bool movement_dtype(struct conv *c, const struct onnx_tensor *t, int *dtype,
			   unsigned int *esize)
{
	switch (t->dtype) {
	case ONNX_FLOAT: case ONNX_INT32:
		*dtype = NPU_PROG_DTYPE_INT32;
		*esize = 4;
		return true;
	case ONNX_INT8:
		*dtype = NPU_PROG_DTYPE_INT8;
		*esize = 1;
		return true;
	case ONNX_UINT8:
		*dtype = NPU_PROG_DTYPE_UINT8;
		*esize = 1;
		return true;
	default:
		return skip(c, "%s data: the container has no %s type", onnx_dtype_name(t->dtype),
			    onnx_dtype_name(t->dtype));
	}
}

/* Input 0 and output 0 as same-type tensors for a data-movement op. */
static bool movement_io(struct conv *c, int *in_idx, int *out_idx, unsigned int *esize)
{
	const struct onnx_tensor *x = value(c, 0), *y = expected(c, 0);
	int dtype;

	if (!x || !y)
		return skip(c, "missing input or expected output");
	if (!movement_dtype(c, x, &dtype, esize))
		return false;
	*in_idx = add_tensor(c, x, NPU_TENSOR_INPUT, c->node->inputs[0], dtype, dtype, 0, NULL,
			     IO_EXACT);
	if (*in_idx < 0)
		return false;
	*out_idx = add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], dtype, dtype, 0, NULL,
			      IO_EXACT);
	return *out_idx >= 0;
}

/* Tensor xi's bytes copied to tensor yi, which has as many. */
static bool emit_tensor_copy(struct conv *c, int yi, int xi)
{
	EMIT(c, npu_insn_copy((uint32_t)c->tensors[yi].dram_addr,
			      (uint32_t)c->tensors[xi].dram_addr,
			      (uint32_t)c->tensors[yi].byte_size));
	return true;
}

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity: the bytes do not move. */
static bool lower_reshape(struct conv *c)
{
	int xi, yi;
	unsigned int esize;

	if (!movement_io(c, &xi, &yi, &esize))
		return false;
	if (c->tensors[xi].byte_size != c->tensors[yi].byte_size)
		return skip(c, "input and output sizes differ");
	return emit_tensor_copy(c, yi, xi);
}

static bool lower_transpose(struct conv *c)
{
	const struct onnx_tensor *x = value(c, 0);
	const struct onnx_attr *perm = onnx_attr_find(c->node, "perm");
	int64_t ss[ONNX_MAX_RANK], ds[ONNX_MAX_RANK], count[ONNX_MAX_RANK], xs[ONNX_MAX_RANK];
	unsigned int esize;
	int xi, yi;

	if (!movement_io(c, &xi, &yi, &esize))
		return false;
	dense_strides(x->rank, x->dims, esize, xs);
	for (int k = 0; k < x->rank; k++) {
		int64_t p = perm ? perm->ints[k] : x->rank - 1 - k;

		if (perm && ((int)perm->int_count != x->rank || perm->too_long))
			return skip(c, "perm has %zu entries for rank %d", perm->int_count, x->rank);
		if (p < 0 || p >= x->rank)
			return skip(c, "perm entry %lld out of range", (long long)p);
		count[k] = x->dims[p];
		ss[k] = xs[p];
	}
	dense_strides(x->rank, count, esize, ds);
	return copy_box(c, c->tensors[yi].dram_addr, (int64_t)c->tensors[xi].dram_addr, x->rank,
			count, ss, ds, esize);
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Slice (opset 10+: starts, ends, axes, steps are inputs, taken as constants). */
static bool lower_slice(struct conv *c)
{
	const struct onnx_tensor *x = value(c, 0), *starts = value(c, 1), *ends = value(c, 2);
	const struct onnx_tensor *axes = value(c, 3), *steps = value(c, 4), *y = expected(c, 0);
	int64_t xs[ONNX_MAX_RANK], ss[ONNX_MAX_RANK], ds[ONNX_MAX_RANK], count[ONNX_MAX_RANK];
	int64_t base;
	unsigned int esize;
	int xi, yi;

	if (!starts || !ends)
		return skip(c, "Slice with attributes (opset < 10) is not converted");
	if (!movement_io(c, &xi, &yi, &esize))
		return false;
	dense_strides(x->rank, x->dims, esize, xs);
	base = (int64_t)c->tensors[xi].dram_addr;
	for (int k = 0; k < x->rank; k++) {
		count[k] = x->dims[k];
		ss[k] = xs[k];
	}
	for (size_t j = 0; j < starts->count; j++) {
		int64_t axis = axes ? axes->i[j] : (int64_t)j, step = steps ? steps->i[j] : 1;
		int64_t dim, start = starts->i[j], end = ends->i[j], n;

		if (axis < 0)
			axis += x->rank;
		if (axis < 0 || axis >= x->rank || step == 0)
			return skip(c, "bad axis or step");
		dim = x->dims[axis];
		if (start < 0)
			start += dim;
		if (end < 0)
			end += dim;
		if (step > 0) {
			start = clamp64(start, 0, dim);
			end = clamp64(end, 0, dim);
			n = end > start ? (end - start + step - 1) / step : 0;
		} else {
			start = clamp64(start, 0, dim - 1);
			end = clamp64(end, -1, dim - 1);
			n = start > end ? (start - end - step - 1) / -step : 0;
		}
		count[axis] = n;
		base += start * xs[axis];
		ss[axis] = xs[axis] * step;
	}
	for (int k = 0; k < x->rank; k++)
		if (k >= y->rank || count[k] != y->dims[k])
			return skip(c, "computed output shape differs from the expected one");
	dense_strides(x->rank, count, esize, ds);
	return copy_box(c, c->tensors[yi].dram_addr, base, x->rank, count, ss, ds, esize);
}

static bool lower_concat(struct conv *c)
{
	const struct onnx_attr *axis_attr = onnx_attr_find(c->node, "axis");
	const struct onnx_tensor *y = expected(c, 0);
	int64_t ys[ONNX_MAX_RANK], xs[ONNX_MAX_RANK], axis, offset = 0;
	int idx[ONNX_MAX_IO], yi, dtype = 0;
	unsigned int esize = 0;

	if (!y || !axis_attr)
		return skip(c, "missing axis or expected output");
	axis = axis_attr->i < 0 ? axis_attr->i + y->rank : axis_attr->i;
	if (axis < 0 || axis >= y->rank)
		return skip(c, "axis out of range");
	for (size_t i = 0; i < c->node->input_count; i++) {
		const struct onnx_tensor *x = value(c, i);
		char name[NPU_PROG_NAME_LEN];

		if (!x || x->rank != y->rank)
			return skip(c, "input %zu missing or of another rank", i);
		if (!movement_dtype(c, x, &dtype, &esize))
			return false;
		snprintf(name, sizeof(name), "%.*s", NPU_PROG_NAME_LEN - 1, c->node->inputs[i]);
		idx[i] = add_tensor(c, x, NPU_TENSOR_INPUT, name, dtype, dtype, 0, NULL, IO_EXACT);
		if (idx[i] < 0)
			return false;
	}
	yi = add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], dtype, dtype, 0, NULL,
			IO_EXACT);
	if (yi < 0)
		return false;
	dense_strides(y->rank, y->dims, esize, ys);
	for (size_t i = 0; i < c->node->input_count; i++) {
		const struct onnx_tensor *x = value(c, i);

		dense_strides(x->rank, x->dims, esize, xs);
		if (!copy_box(c, c->tensors[yi].dram_addr + (uint64_t)(offset * ys[axis]),
			      (int64_t)c->tensors[idx[i]].dram_addr, x->rank, x->dims, xs, ys, esize))
			return false;
		offset += x->dims[axis];
	}
	return true;
}

/*
 * Pad: constant fills the output with the value (FILL) and copies the input
 * into its interior; edge and reflect copy every border region from the
 * input with stride 0 (edge) or a negative stride (reflect).
 */
static bool lower_pad(struct conv *c)
{
	const struct onnx_tensor *x = value(c, 0), *pads = value(c, 1), *cval = value(c, 2);
	const struct onnx_attr *mode_attr = onnx_attr_find(c->node, "mode");
	const char *mode = mode_attr ? mode_attr->s : "constant";
	int64_t xs[ONNX_MAX_RANK], ys[ONNX_MAX_RANK], ydims[ONNX_MAX_RANK];
	int64_t before[ONNX_MAX_RANK], after[ONNX_MAX_RANK];
	unsigned int esize;
	int xi, yi, rank;
	size_t regions = 1;

	if (!pads)
		return skip(c, "Pad with a pads attribute (opset < 11) is not converted");
	if (value(c, 3))
		return skip(c, "Pad with axes is not converted");
	if (!movement_io(c, &xi, &yi, &esize))
		return false;
	rank = x->rank;
	if ((int)pads->count != 2 * rank)
		return skip(c, "pads has %zu entries for rank %d", pads->count, rank);
	for (int k = 0; k < rank; k++) {
		before[k] = pads->i[k];
		after[k] = pads->i[k + rank];
		if (before[k] < 0 || after[k] < 0)
			return skip(c, "negative pads (cropping) not converted");
		ydims[k] = x->dims[k] + before[k] + after[k];
		if (strcmp(mode, "constant") &&
		    (before[k] || after[k]) && (x->dims[k] < 1 ||
		    (!strcmp(mode, "reflect") && (before[k] >= x->dims[k] || after[k] >= x->dims[k]))))
			return skip(c, "%s padding wider than the input", mode);
		regions *= 3;
	}
	dense_strides(rank, x->dims, esize, xs);
	dense_strides(rank, ydims, esize, ys);
	if (!strcmp(mode, "constant")) {
		int64_t v = 0;

		if (cval && cval->count) {
			if (cval->f) {
				float f = (float)cval->f[0];
				int32_t bits;

				memcpy(&bits, &f, 4);
				v = bits;
			} else {
				v = cval->i[0];
			}
		}
		EMIT(c, npu_insn_fill(isa_dtype(c->tensors[yi].dtype),
				      (uint32_t)c->tensors[yi].dram_addr,
				      (uint32_t)(c->tensors[yi].byte_size / esize), (int32_t)v));
		regions = 1;	/* only the interior is copied */
	} else if (strcmp(mode, "edge") && strcmp(mode, "reflect")) {
		return skip(c, "Pad mode '%s' not converted", mode);
	}
	/* Region r picks, per dimension, 0 = interior, 1 = before, 2 = after. */
	for (size_t r = 0; r < regions; r++) {
		int64_t count[ONNX_MAX_RANK], ss[ONNX_MAX_RANK];
		int64_t src = (int64_t)c->tensors[xi].dram_addr, dst = (int64_t)c->tensors[yi].dram_addr;
		size_t code = r;

		for (int k = rank - 1; k >= 0; k--) {
			int part = (int)(code % 3);

			code /= 3;
			if (part == 0) {
				count[k] = x->dims[k];
				ss[k] = xs[k];
				dst += before[k] * ys[k];
			} else if (part == 1) {
				count[k] = before[k];
				/* output i < before reads input before - i (reflect) or 0 (edge) */
				if (!strcmp(mode, "edge")) {
					ss[k] = 0;
				} else {
					src += before[k] * xs[k];
					ss[k] = -xs[k];
				}
			} else {
				count[k] = after[k];
				dst += (before[k] + x->dims[k]) * ys[k];
				if (!strcmp(mode, "edge")) {
					src += (x->dims[k] - 1) * xs[k];
					ss[k] = 0;
				} else {
					src += (x->dims[k] - 2) * xs[k];
					ss[k] = -xs[k];
				}
			}
		}
		if (!copy_box(c, (uint64_t)dst, src, rank, count, ss, ys, esize))
			return false;
	}
	return true;
}

/* ---- quantization at the edges of the program ---------------------------------------- */

/*
 * QuantizeLinear: a float32 host input, quantized by the HAL's tensor step
 * (the descriptor's scale and zero point), copied to the integer output.
 * DequantizeLinear: the other way round. The device only moves the bytes.
 */
/* variant: 'q' QuantizeLinear, 'd' DequantizeLinear. */
static bool lower_quantize(struct conv *c, char variant)
{
	bool quantize = variant == 'q';
	const struct onnx_tensor *x = value(c, 0), *y = expected(c, 0);
	const struct onnx_tensor *zp = value(c, 2);
	struct qparams q;
	double scale, zero = 0;
	int xi, yi;

	if (!x || !y)
		return skip(c, "missing input or expected output");
	if (!scalar(c, value(c, 1), "scale", &scale) || (zp && !scalar(c, zp, "zero point", &zero)))
		return false;
	q.dtype = prog_dtype(quantize ? (zp ? zp->dtype : ONNX_UINT8) : x->dtype);
	if (q.dtype != NPU_PROG_DTYPE_INT8 && q.dtype != NPU_PROG_DTYPE_UINT8)
		return skip(c, "%s quantized type", onnx_dtype_name(quantize ? zp->dtype : x->dtype));
	q.scale = (float)scale;
	q.zero_point = (int32_t)zero;
	if (quantize) {
		if (x->dtype != ONNX_FLOAT)
			return skip(c, "%s input (float32 only)", onnx_dtype_name(x->dtype));
		xi = add_tensor(c, x, NPU_TENSOR_INPUT, c->node->inputs[0], 0,
				NPU_PROG_DTYPE_FLOAT32, 0, &q, IO_EXACT);
		if (xi < 0)
			return false;
		yi = add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], q.dtype, q.dtype, 0,
				NULL, IO_EXACT);
	} else {
		if (y->dtype != ONNX_FLOAT)
			return skip(c, "%s output (float32 only)", onnx_dtype_name(y->dtype));
		xi = add_tensor(c, x, NPU_TENSOR_INPUT, c->node->inputs[0], q.dtype, q.dtype, 0,
				NULL, IO_EXACT);
		if (xi < 0)
			return false;
		yi = add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], 0,
				NPU_PROG_DTYPE_FLOAT32, 0, &q, IO_TOLERANCE);
	}
	if (yi < 0)
		return false;
	return emit_tensor_copy(c, yi, xi);
}

/* ---- element-wise ------------------------------------------------------------------- */

/* Relu on float32: RELU.I32 on the bit patterns (sign bit set -> +0). */
static bool lower_relu(struct conv *c)
{
	const struct onnx_tensor *x = value(c, 0);
	int xi, yi;
	unsigned int esize;

	if (!x)
		return skip(c, "missing input");
	if (x->dtype != ONNX_FLOAT && x->dtype != ONNX_INT32 && x->dtype != ONNX_INT8)
		return skip(c, "%s Relu", onnx_dtype_name(x->dtype));
	if (!movement_io(c, &xi, &yi, &esize))
		return false;
	EMIT(c, npu_insn_relu(esize == 4 ? NPU_DTYPE_I32 : NPU_DTYPE_I8,
			      (uint32_t)c->tensors[yi].dram_addr, (uint32_t)c->tensors[xi].dram_addr,
			      (uint32_t)(c->tensors[yi].byte_size / esize)));
	return true;
}

/* Clip on integer tensors: CLIP with the bounds (absent: the type's range). */
static bool lower_clip(struct conv *c)
{
	const struct onnx_tensor *x = value(c, 0), *lo = value(c, 1), *hi = value(c, 2);
	int xi, yi, dtype;
	unsigned int esize;
	int64_t tmin, tmax, vmin, vmax;

	if (!x)
		return skip(c, "missing input");
	if (onnx_attr_find(c->node, "min") || onnx_attr_find(c->node, "max"))
		return skip(c, "Clip with attributes (opset < 11) is not converted");
	dtype = prog_dtype(x->dtype);
	if (!dtype)
		return skip(c, "%s Clip: float values are not integers the device can compare",
			    onnx_dtype_name(x->dtype));
	tmin = dtype == NPU_PROG_DTYPE_INT8 ? -128 : dtype == NPU_PROG_DTYPE_UINT8 ? 0 : INT32_MIN;
	tmax = dtype == NPU_PROG_DTYPE_INT8 ? 127 : dtype == NPU_PROG_DTYPE_UINT8 ? 255 : INT32_MAX;
	vmin = lo && lo->count ? lo->i[0] : tmin;
	vmax = hi && hi->count ? hi->i[0] : tmax;
	if (vmin > vmax)
		return skip(c, "min > max (ONNX then gives max everywhere)");
	if (!movement_io(c, &xi, &yi, &esize))
		return false;
	EMIT(c, npu_insn_clip(isa_dtype(dtype), (uint32_t)c->tensors[yi].dram_addr,
			      (uint32_t)c->tensors[xi].dram_addr,
			      (uint32_t)(c->tensors[yi].byte_size / esize), (int32_t)vmin,
			      (int32_t)vmax));
	return true;
}

/* b's elements repeat with period L over a's when b's shape is a suffix of a's. */
static bool broadcast_len(const struct onnx_tensor *a, const struct onnx_tensor *b, size_t *len)
{
	int skip_dims = a->rank - b->rank;

	if (skip_dims < 0)
		return false;
	for (int k = 0; k < b->rank; k++)
		if (b->dims[k] != a->dims[k + skip_dims] && b->dims[k] != 1)
			return false;
	/* Leading 1s of b are fine; an inner 1 against a larger dimension is not a suffix. */
	for (int k = 0; k < b->rank; k++)
		if (b->dims[k] == 1 && a->dims[k + skip_dims] != 1) {
			for (int j = k; j < b->rank; j++)
				if (b->dims[j] != 1)
					return false;
			break;
		}
	*len = b->count == a->count ? 0 : b->count;
	return true;
}

/*
 * Add, Sub, Mul. Integer tensors: ADD (WRAP) for Add; ADD_RQ / MUL_RQ with
 * unit multipliers for Sub and Mul, which saturate where ONNX wraps, so a
 * case whose exact result leaves the type is skipped. Float tensors: only
 * when every input and output value is exactly an int8/uint8 multiple of
 * some scale; then the quantized instruction with fixed-point multipliers.
 */
static bool lower_binary(struct conv *c, char op)
{
	const struct onnx_tensor *a = value(c, 0), *b = value(c, 1), *y = expected(c, 0);
	struct qparams qa, qb, qy;
	size_t len;
	int ai, bi, yi;
	int32_t ma, mb;
	uint32_t s;

	if (!a || !b || !y)
		return skip(c, "missing input or expected output");
	if (!broadcast_len(a, b, &len) || a->count != y->count)
		return skip(c, "broadcast other than b's shape being a suffix of a's");
	if (a->dtype == ONNX_FLOAT) {
		const struct onnx_tensor *ta[] = { a }, *tb[] = { b }, *ty[] = { y };

		if (!pick_quant(c, ta, 1, &qa) || !pick_quant(c, tb, 1, &qb) ||
		    !pick_quant(c, ty, 1, &qy))
			return false;
		if (qa.dtype != qb.dtype || qa.dtype != qy.dtype) {
			/* one instruction has one element type: use uint8 only if all can */
			const struct onnx_tensor *all[] = { a, b, y };

			if (!pick_quant(c, all, 3, &qa))
				return false;
			qb = qy = qa;
		}
		ai = add_tensor(c, a, NPU_TENSOR_INPUT, c->node->inputs[0], 0, NPU_PROG_DTYPE_FLOAT32,
				0, &qa, IO_EXACT);
		bi = ai < 0 ? -1 : add_tensor(c, b, NPU_TENSOR_INPUT, c->node->inputs[1], 0,
					      NPU_PROG_DTYPE_FLOAT32, 0, &qb, IO_EXACT);
		yi = bi < 0 ? -1 : add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], 0,
					      NPU_PROG_DTYPE_FLOAT32, 0, &qy, IO_TOLERANCE);
	} else {
		int dtype = prog_dtype(a->dtype);
		int64_t lo, hi;

		if (dtype != NPU_PROG_DTYPE_INT8 && dtype != NPU_PROG_DTYPE_UINT8)
			return skip(c, "%s %s: not an 8-bit type", onnx_dtype_name(a->dtype),
				    c->node->op_type);
		lo = dtype == NPU_PROG_DTYPE_INT8 ? -128 : 0;
		hi = dtype == NPU_PROG_DTYPE_INT8 ? 127 : 255;
		if (op != '+')
			for (size_t k = 0; k < a->count; k++) {
				int64_t bv = b->i[len ? k % len : k];
				int64_t v = op == '-' ? a->i[k] - bv : a->i[k] * bv;

				if (v < lo || v > hi)
					return skip(c, "results leave %s (ONNX wraps, the device saturates)",
						    onnx_dtype_name(a->dtype));
			}
		qa.dtype = qb.dtype = qy.dtype = dtype;
		qa.scale = qb.scale = qy.scale = 1;
		qa.zero_point = qb.zero_point = qy.zero_point = 0;
		ai = add_tensor(c, a, NPU_TENSOR_INPUT, c->node->inputs[0], dtype, dtype, 0, NULL,
				IO_EXACT);
		bi = ai < 0 ? -1 : add_tensor(c, b, NPU_TENSOR_INPUT, c->node->inputs[1], dtype,
					      dtype, 0, NULL, IO_EXACT);
		yi = bi < 0 ? -1 : add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], dtype,
					      dtype, 0, NULL, IO_EXACT);
		if (yi >= 0 && op == '+' && !len) {
			EMIT(c, npu_insn_add_f(isa_dtype(dtype), NPU_ISA_F_WRAP,
					       (uint32_t)c->tensors[yi].dram_addr,
					       (uint32_t)c->tensors[ai].dram_addr,
					       (uint32_t)c->tensors[bi].dram_addr, (uint32_t)a->count));
			return true;
		}
		if (yi >= 0 && op == '+')
			for (size_t k = 0; k < a->count; k++) {
				int64_t v = a->i[k] + b->i[k % len];

				if (v < lo || v > hi)
					return skip(c, "broadcast Add leaves %s (ADD_RQ saturates)",
						    onnx_dtype_name(a->dtype));
			}
	}
	if (yi < 0)
		return false;
	if (op == '*') {
		if (!fixed_point(c, (double)qa.scale * qb.scale / qy.scale, &ma, &s))
			return false;
		mb = 0;
	} else {
		/* one shift for both: the smaller of the two exact-fit shifts */
		uint32_t sa, sb;
		double ra = (double)qa.scale / qy.scale, rb = (double)qb.scale / qy.scale;

		if (op == '-')
			rb = -rb;
		if (!fixed_point(c, ra, &ma, &sa) || !fixed_point(c, rb, &mb, &sb))
			return false;
		s = sa < sb ? sa : sb;
		if (s > 30)
			s = 30;	/* keeps (a - za) * m inside 64 bits for any 8-bit a */
		ma = (int32_t)nearbyint(ra * ldexp(1.0, (int)s));
		mb = (int32_t)nearbyint(rb * ldexp(1.0, (int)s));
	}
	EMIT(c, npu_insn_binary_rq(op == '*' ? NPU_ISA_MUL_RQ : NPU_ISA_ADD_RQ, isa_dtype(qy.dtype),
				   (uint32_t)c->tensors[yi].dram_addr,
				   (uint32_t)c->tensors[ai].dram_addr,
				   (uint32_t)c->tensors[bi].dram_addr, (uint32_t)a->count,
				   (struct npu_isa_rq_zero_points){ qa.zero_point, qb.zero_point,
								    qy.zero_point },
				   ma, mb, s, (uint32_t)len));
	return true;
}

/* ---- windows: pooling and convolution ------------------------------------------------ */

struct window {
	int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow;
};

/* The instruction's window: kernel kh x kw, strides, dilations and pads of g. */
static struct npu_isa_window isa_window(const struct window *g, int64_t kh, int64_t kw)
{
	return (struct npu_isa_window){ (uint32_t)kh, (uint32_t)kw, (uint32_t)g->sh,
					(uint32_t)g->sw, (uint32_t)g->dh, (uint32_t)g->dw,
					(uint32_t)g->pt, (uint32_t)g->pl, (uint32_t)g->pb,
					(uint32_t)g->pr };
}

/*
 * Copies the node's int attribute `name`, which must have n entries, to
 * *out[0..n); leaves them alone if the node has no such attribute.
 * wrong_count: the skip reason for another number of entries (one %zu).
 */
static bool attr_ints(struct conv *c, const char *name, size_t n, int64_t *const out[],
		      const char *wrong_count)
{
	const struct onnx_attr *a = onnx_attr_find(c->node, name);

	if (!a)
		return true;
	if (a->int_count != n)
		return skip(c, wrong_count, a->int_count);
	for (size_t i = 0; i < n; i++)
		*out[i] = a->ints[i];
	return true;
}

/*
 * ONNX's window attributes for a 2-d NCHW input of H x W: kernel (from the
 * attribute or the weights), strides, dilations, pads / auto_pad, ceil_mode
 * (turned into extra bottom/right padding, which the pools ignore).
 */
static bool window_geometry(struct conv *c, int64_t h, int64_t w, int64_t kh, int64_t kw,
			    struct window *g)
{
	const struct onnx_attr *a;
	const char *auto_pad = "NOTSET";
	bool ceil_mode = false;
	int64_t in[2] = { h, w }, *k[2] = { &g->kh, &g->kw }, *s[2] = { &g->sh, &g->sw };
	int64_t *d[2] = { &g->dh, &g->dw }, *b[2] = { &g->pt, &g->pl }, *e[2] = { &g->pb, &g->pr };
	int64_t *o[2] = { &g->oh, &g->ow }, *pads[4] = { &g->pt, &g->pl, &g->pb, &g->pr };

	memset(g, 0, sizeof(*g));
	g->kh = kh;
	g->kw = kw;
	g->sh = g->sw = g->dh = g->dw = 1;
	if (!attr_ints(c, "kernel_shape", 2, k, "%zu-d window (2-d only)") ||
	    !attr_ints(c, "strides", 2, s, "strides of %zu entries") ||
	    !attr_ints(c, "dilations", 2, d, "dilations of %zu entries") ||
	    !attr_ints(c, "pads", 4, pads, "pads of %zu entries"))
		return false;
	if ((a = onnx_attr_find(c->node, "auto_pad")))
		auto_pad = a->s;
	if ((a = onnx_attr_find(c->node, "ceil_mode")))
		ceil_mode = a->i != 0;
	if ((a = onnx_attr_find(c->node, "storage_order")) && a->i)
		return skip(c, "storage_order=1 (column-major indices)");
	for (int i = 0; i < 2; i++) {
		int64_t ek = *d[i] * (*k[i] - 1) + 1;

		if (*k[i] < 1 || *s[i] < 1 || *d[i] < 1 || *k[i] > 65535 || *s[i] > 255 || *d[i] > 255)
			return skip(c, "kernel, stride or dilation out of the instruction's range");
		if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
			int64_t out = (in[i] + *s[i] - 1) / *s[i];
			int64_t total = (out - 1) * *s[i] + ek - in[i];

			if (total < 0)
				total = 0;
			*b[i] = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : (total + 1) / 2;
			*e[i] = total - *b[i];
		} else if (!strcmp(auto_pad, "VALID")) {
			*b[i] = *e[i] = 0;
		} else if (strcmp(auto_pad, "NOTSET")) {
			return skip(c, "auto_pad '%s'", auto_pad);
		}
		if (in[i] + *b[i] + *e[i] < ek)
			return skip(c, "window larger than the padded input");
		*o[i] = (in[i] + *b[i] + *e[i] - ek) / *s[i] + 1;
		if (ceil_mode) {
			int64_t oc = (in[i] + *b[i] + *e[i] - ek + *s[i] - 1) / *s[i] + 1;

			/* ONNX drops a last window that starts in the end padding */
			if ((oc - 1) * *s[i] >= in[i] + *b[i])
				oc--;
			if (oc > *o[i]) {
				*e[i] += (oc - 1) * *s[i] + ek - (in[i] + *b[i] + *e[i]);
				*o[i] = oc;
			}
		}
		if (*b[i] > 255 || *e[i] > 255)
			return skip(c, "padding above 255");
	}
	return true;
}

static bool check_output_shape(struct conv *c, const struct onnx_tensor *y, int64_t n, int64_t ch,
			       const struct window *g)
{
	if (y->rank != 4 || y->dims[0] != n || y->dims[1] != ch || y->dims[2] != g->oh ||
	    y->dims[3] != g->ow)
		return skip(c, "computed output shape [%lld,%lld,%lld,%lld] differs from the expected one",
			    (long long)n, (long long)ch, (long long)g->oh, (long long)g->ow);
	return true;
}

/*
 * MaxPool, AveragePool and their global forms on NCHW (stored NHWC) int8 or
 * uint8 tensors, or float tensors exactly representable in one int8/uint8
 * quantization shared by input and output (pooling keeps the scale).
 */
/* variant: 'm' max, 'a' average; upper case for the global forms. */
static bool lower_pool(struct conv *c, char variant)
{
	bool average = variant == 'a' || variant == 'A', global = variant == 'M' || variant == 'A';
	const struct onnx_tensor *x = value(c, 0), *y = expected(c, 0);
	const struct onnx_attr *a;
	struct qparams q;
	struct window g;
	bool count_pad = false;
	int xi, yi, host;
	struct npu_isa_window win;

	if (!x || !y)
		return skip(c, "missing input or expected output");
	if (c->output_count > 1)
		return skip(c, "the Indices output is not supported");
	if (x->rank != 4)
		return skip(c, "%d-d pooling (2-d only)", x->rank - 2);
	if (global) {
		memset(&g, 0, sizeof(g));
		g.kh = g.oh = x->dims[2];
		g.kw = g.ow = x->dims[3];
		g.sh = g.sw = g.dh = g.dw = 1;
		g.oh = g.ow = 1;
	} else if (!window_geometry(c, x->dims[2], x->dims[3], 1, 1, &g)) {
		return false;
	}
	if ((a = onnx_attr_find(c->node, "count_include_pad")))
		count_pad = a->i != 0;
	if (average && (g.dh != 1 || g.dw != 1))
		return skip(c, "dilated average pooling");
	if (g.pt >= g.dh * (g.kh - 1) + 1 || g.pb >= g.dh * (g.kh - 1) + 1 ||
	    g.pl >= g.dw * (g.kw - 1) + 1 || g.pr >= g.dw * (g.kw - 1) + 1)
		return skip(c, "a pad as large as the kernel");
	if (g.kh > 65535 || g.kw > 65535)
		return skip(c, "kernel above 65535");
	if (!check_output_shape(c, y, x->dims[0], x->dims[1], &g))
		return false;
	if (x->dtype == ONNX_FLOAT) {
		const struct onnx_tensor *ts[] = { x, y };

		if (!pick_quant(c, ts, 2, &q))
			return false;
		host = NPU_PROG_DTYPE_FLOAT32;
	} else if (x->dtype == ONNX_INT8 || x->dtype == ONNX_UINT8) {
		q.dtype = prog_dtype(x->dtype);
		q.scale = 1;
		q.zero_point = 0;
		host = q.dtype;
	} else {
		return skip(c, "%s pooling", onnx_dtype_name(x->dtype));
	}
	xi = add_tensor(c, x, NPU_TENSOR_INPUT, c->node->inputs[0], q.dtype, host, NPU_LAYOUT_NHWC,
			host == NPU_PROG_DTYPE_FLOAT32 ? &q : NULL, IO_EXACT);
	if (xi < 0)
		return false;
	yi = add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], q.dtype, host, NPU_LAYOUT_NHWC,
			host == NPU_PROG_DTYPE_FLOAT32 ? &q : NULL,
			host == NPU_PROG_DTYPE_FLOAT32 ? IO_TOLERANCE : IO_EXACT);
	if (yi < 0)
		return false;
	win = isa_window(&g, g.kh, g.kw);
	EMIT(c, npu_insn_pool(average ? NPU_ISA_AVGPOOL : NPU_ISA_MAXPOOL, isa_dtype(q.dtype),
			      average && count_pad ? NPU_ISA_F_COUNT_PAD : 0,
			      (uint32_t)c->tensors[yi].dram_addr, (uint32_t)c->tensors[xi].dram_addr,
			      (uint32_t)x->dims[0], (uint32_t)x->dims[2], (uint32_t)x->dims[3],
			      (uint32_t)x->dims[1], &win,
			      average && count_pad ? q.zero_point : 0));
	return true;
}

/* Requantizes the i32 accumulators at acc (n elements, C channels) into output yi. */
static bool requant(struct conv *c, uint64_t acc, size_t n, int yi, const double *ratios,
		    size_t channels, int32_t zero_point)
{
	const struct npu_prog_tensor *y = &c->tensors[yi];

	if (channels == 1) {
		int32_t m;
		uint32_t s;

		if (!fixed_point(c, ratios[0], &m, &s))
			return false;
		EMIT(c, npu_insn_requant_to(isa_dtype(y->dtype), (uint32_t)y->dram_addr,
					    (uint32_t)acc, (uint32_t)n, m, s, zero_point));
	} else {
		struct npu_requant_entry *table = calloc(channels, sizeof(*table));
		uint64_t addr;
		bool ok = table != NULL;

		for (size_t k = 0; ok && k < channels; k++)
			ok = fixed_point(c, ratios[k], &table[k].multiplier, &table[k].shift);
		ok = ok && add_const(c, table, channels * sizeof(*table), &addr);
		free(table);
		if (!ok)
			return c->reason[0] ? false : skip(c, "out of memory");
		EMIT(c, npu_insn_requant_pc(isa_dtype(y->dtype), (uint32_t)y->dram_addr,
					    (uint32_t)acc, (uint32_t)addr, (uint32_t)n,
					    (uint32_t)channels, zero_point));
	}
	return true;
}

static bool quant_operand(struct conv *c, const struct onnx_tensor *t, const char *what)
{
	if (!t)
		return skip(c, "%s is missing", what);
	if (t->dtype != ONNX_INT8 && t->dtype != ONNX_UINT8)
		return skip(c, "%s is %s (int8/uint8 only)", what, onnx_dtype_name(t->dtype));
	return true;
}

/*
 * The quantization of a two-operand integer operator (Conv, MatMul) and of its
 * int32 or requantized output. Float: a and b as exact int8 multiples, the
 * output's scale their product. Integer: the optional zero points at inputs 2
 * and 3. QLinear: scale and zero point of a (inputs 1, 2), of b (4, 5; b's
 * scale left to the caller when it may be per channel) and of y (6, 7).
 */
struct operand_names {
	const char *a, *b;		/* the operands in messages: "x", "w" */
	const char *a_prefix, *b_prefix;	/* their quantization inputs: "x_scale" */
};

struct operand_quant {
	struct qparams qa, qb, qy;
	double za, zb, zy, sa, sb, sy;
};

static bool quant_input(struct conv *c, size_t input, const char *prefix, const char *what,
			double *out)
{
	char name[ONNX_NAME_MAX];

	snprintf(name, sizeof(name), "%s_%s", prefix, what);
	return scalar(c, value(c, input), name, out);
}

static bool operand_quant(struct conv *c, char kind, const struct onnx_tensor *a,
			  const struct onnx_tensor *b, const struct onnx_tensor *y,
			  const struct operand_names *names, bool caller_b_scale,
			  struct operand_quant *q)
{
	q->za = q->zb = q->zy = 0;
	q->sa = q->sb = q->sy = 1;
	if (kind == 'f') {
		const struct onnx_tensor *ta[] = { a }, *tb[] = { b };

		if (!pick_quant(c, ta, 1, &q->qa) || !pick_quant(c, tb, 1, &q->qb))
			return false;
		/* the int32 result is exact; its scale is sa * sb */
		q->qy.dtype = NPU_PROG_DTYPE_INT32;
		q->qy.scale = q->qa.scale * q->qb.scale;
		q->qy.zero_point = 0;
		return true;
	}
	if (!quant_operand(c, a, names->a) || !quant_operand(c, b, names->b))
		return false;
	if (kind == 'q') {
		if (!quant_input(c, 1, names->a_prefix, "scale", &q->sa) ||
		    !quant_input(c, 2, names->a_prefix, "zero_point", &q->za) ||
		    (!caller_b_scale && !quant_input(c, 4, names->b_prefix, "scale", &q->sb)) ||
		    !quant_input(c, 5, names->b_prefix, "zero_point", &q->zb) ||
		    !quant_input(c, 6, "y", "scale", &q->sy) ||
		    !quant_input(c, 7, "y", "zero_point", &q->zy))
			return false;
		q->qy.dtype = prog_dtype(y->dtype);
	} else {
		if ((value(c, 2) && !quant_input(c, 2, names->a_prefix, "zero_point", &q->za)) ||
		    (value(c, 3) && !quant_input(c, 3, names->b_prefix, "zero_point", &q->zb)))
			return false;
		q->qy.dtype = NPU_PROG_DTYPE_INT32;
	}
	q->qa.dtype = prog_dtype(a->dtype);
	q->qb.dtype = prog_dtype(b->dtype);
	return true;
}

/*
 * Conv, ConvInteger, QLinearConv: CONV2D on NHWC activations and OHWI
 * weights (transposed here from ONNX's OIHW), then REQUANT(_PC) for
 * QLinearConv. Float Conv only when x and w are exactly int8 multiples of
 * some scale; its int32 result is then dequantized by the HAL.
 */
static bool lower_conv(struct conv *c, char kind)
{
	bool qlinear = kind == 'q';
	const struct onnx_tensor *x = value(c, 0), *w = value(c, qlinear ? 3 : 1), *y = expected(c, 0);
	const struct onnx_tensor *bias = value(c, qlinear ? 8 : (kind == 'f' ? 2 : 99));
	const struct onnx_attr *ga = onnx_attr_find(c->node, "group");
	struct operand_quant q;
	double *ratios = NULL;
	size_t w_scales = 1;
	int64_t groups = ga ? ga->i : 1, n, cin, h, wd, cout, kh, kw;
	struct window g;
	uint8_t *wt;
	uint64_t w_addr, b_addr = 0, acc;
	int xi, yi, host;
	struct npu_isa_conv_shape shape;
	struct npu_isa_window win;
	bool ok;

	if (!x || !w || !y)
		return skip(c, "missing input, weights or expected output");
	if (x->rank != 4 || w->rank != 4)
		return skip(c, "%d-d convolution (2-d only)", x->rank - 2);
	n = x->dims[0];
	cin = x->dims[1];
	h = x->dims[2];
	wd = x->dims[3];
	cout = w->dims[0];
	kh = w->dims[2];
	kw = w->dims[3];
	if (groups < 1 || cin % groups || cout % groups || w->dims[1] != cin / groups)
		return skip(c, "group %lld does not fit the channels", (long long)groups);
	if (!window_geometry(c, h, wd, kh, kw, &g))
		return false;
	if (g.kh != kh || g.kw != kw)
		return skip(c, "kernel_shape differs from the weights");
	if (!check_output_shape(c, y, n, cout, &g))
		return false;

	if (!operand_quant(c, kind, x, w, y, &(struct operand_names){ "x", "w", "x", "w" }, true,
			   &q))
		return false;
	if (kind == 'f') {
		if (bias)
			return skip(c, "float Conv with bias not converted");
		host = NPU_PROG_DTYPE_FLOAT32;
	} else {
		host = q.qa.dtype;
	}
	if (qlinear) {
		const struct onnx_tensor *ws = value(c, 4);

		if (!ws || !ws->count || (ws->count != 1 && (int64_t)ws->count != cout))
			return skip(c, "w_scale must have 1 or C_out values");
		w_scales = ws->count;
		ratios = calloc(w_scales, sizeof(*ratios));
		if (!ratios)
			return skip(c, "out of memory");
		for (size_t k = 0; k < w_scales; k++)
			ratios[k] = q.sa * ws->f[k] / q.sy;
	}
	/* OIHW -> OHWI */
	wt = malloc((size_t)w->count);
	if (!wt) {
		free(ratios);
		return skip(c, "out of memory");
	}
	for (int64_t o = 0; o < cout; o++)
		for (int64_t i = 0; i < w->dims[1]; i++)
			for (int64_t r = 0; r < kh; r++)
				for (int64_t s = 0; s < kw; s++) {
					size_t src = (size_t)(((o * w->dims[1] + i) * kh + r) * kw + s);
					size_t dst = (size_t)(((o * kh + r) * kw + s) * w->dims[1] + i);
					double v = kind == 'f' ? nearbyint(w->f[src] / q.qb.scale) : (double)w->i[src];

					wt[dst] = (uint8_t)(int)v;
				}
	ok = add_const(c, wt, (size_t)w->count, &w_addr);
	free(wt);
	if (ok && bias) {
		int32_t *bv = malloc((size_t)cout * 4);

		if (!bv || bias->dtype != ONNX_INT32 || (int64_t)bias->count != cout) {
			free(bv);
			free(ratios);
			return skip(c, "bias must be int32[C_out]");
		}
		for (int64_t k = 0; k < cout; k++)
			bv[k] = (int32_t)bias->i[k];
		ok = add_const(c, bv, (size_t)cout * 4, &b_addr);
		free(bv);
	}
	if (!ok) {
		free(ratios);
		return false;
	}
	xi = add_tensor(c, x, NPU_TENSOR_INPUT, c->node->inputs[0], q.qa.dtype, host, NPU_LAYOUT_NHWC,
			kind == 'f' ? &q.qa : NULL, IO_EXACT);
	yi = xi < 0 ? -1 :
	     add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], q.qy.dtype,
			kind == 'f' ? NPU_PROG_DTYPE_FLOAT32 : q.qy.dtype, NPU_LAYOUT_NHWC,
			kind == 'f' ? &q.qy : NULL, kind == 'f' ? IO_TOLERANCE : IO_EXACT);
	if (yi < 0) {
		free(ratios);
		return false;
	}
	acc = qlinear ? alloc(c, (uint64_t)(n * g.oh * g.ow * cout) * 4) : c->tensors[yi].dram_addr;
	shape = (struct npu_isa_conv_shape){ (uint32_t)n, (uint32_t)h, (uint32_t)wd, (uint32_t)cin,
					     (uint32_t)cout, (uint32_t)groups };
	win = isa_window(&g, kh, kw);
	if (!emit(c, npu_insn_conv2d((q.qa.dtype == NPU_PROG_DTYPE_UINT8 ? NPU_DTYPE_A_U8 : 0) |
				     (q.qb.dtype == NPU_PROG_DTYPE_UINT8 ? NPU_DTYPE_B_U8 : 0),
				     bias ? NPU_ISA_F_BIAS : 0, (uint32_t)acc,
				     (uint32_t)c->tensors[xi].dram_addr, (uint32_t)w_addr, &shape,
				     &win, bias ? (uint32_t)b_addr : 0, (int32_t)q.za, (int32_t)q.zb))) {
		free(ratios);
		return skip(c, "too many instructions");
	}
	ok = !qlinear || requant(c, acc, (size_t)(n * g.oh * g.ow * cout), yi, ratios, w_scales,
				 (int32_t)q.zy);
	free(ratios);
	return ok;
}

/*
 * MatMul (float, exactly int8), MatMulInteger, QLinearMatMul: A [..., M, K]
 * is the runtime input, B [K, N] or [..., K, N] a constant; one MATMUL_I8 per
 * batch matrix, then REQUANT for QLinearMatMul.
 */
static bool lower_matmul(struct conv *c, char kind)
{
	bool qlinear = kind == 'q';
	const struct onnx_tensor *a = value(c, 0), *b = value(c, qlinear ? 3 : 1), *y = expected(c, 0);
	struct operand_quant q;
	double ratio;
	int64_t m, k, nn, batches, b_batches;
	uint8_t *bq;
	uint64_t b_addr, acc;
	int ai, yi;
	bool ok;

	if (!a || !b || !y)
		return skip(c, "missing input or expected output");
	if (a->rank < 2 || b->rank < 2)
		return skip(c, "1-d MatMul operands");
	m = a->dims[a->rank - 2];
	k = a->dims[a->rank - 1];
	nn = b->dims[b->rank - 1];
	if (b->dims[b->rank - 2] != k)
		return skip(c, "inner dimensions differ");
	batches = (int64_t)a->count / (m * k);
	b_batches = (int64_t)b->count / (k * nn);
	if (b_batches != 1 && (b_batches != batches || b->rank != a->rank))
		return skip(c, "batch broadcast other than one B for all");
	if ((int64_t)y->count != batches * m * nn)
		return skip(c, "output size differs");
	if (!operand_quant(c, kind, a, b, y, &(struct operand_names){ "A", "B", "a", "b" },
			   false, &q))
		return false;
	bq = malloc(b->count);
	if (!bq)
		return skip(c, "out of memory");
	for (size_t i = 0; i < b->count; i++)
		bq[i] = (uint8_t)(int)(kind == 'f' ? nearbyint(b->f[i] / q.qb.scale) : (double)b->i[i]);
	ok = add_const(c, bq, b->count, &b_addr);
	free(bq);
	if (!ok)
		return false;
	ai = add_tensor(c, a, NPU_TENSOR_INPUT, c->node->inputs[0], q.qa.dtype,
			kind == 'f' ? NPU_PROG_DTYPE_FLOAT32 : q.qa.dtype, 0, kind == 'f' ? &q.qa : NULL,
			IO_EXACT);
	yi = ai < 0 ? -1 :
	     add_tensor(c, y, NPU_TENSOR_OUTPUT, c->node->outputs[0], q.qy.dtype,
			kind == 'f' ? NPU_PROG_DTYPE_FLOAT32 : q.qy.dtype, 0, kind == 'f' ? &q.qy : NULL,
			kind == 'f' ? IO_TOLERANCE : IO_EXACT);
	if (yi < 0)
		return false;
	acc = qlinear ? alloc(c, (uint64_t)(batches * m * nn) * 4) : c->tensors[yi].dram_addr;
	for (int64_t i = 0; i < batches; i++)
		EMIT(c, npu_insn_matmul_q((q.qa.dtype == NPU_PROG_DTYPE_UINT8 ? NPU_DTYPE_A_U8 : 0) |
					  (q.qb.dtype == NPU_PROG_DTYPE_UINT8 ? NPU_DTYPE_B_U8 : 0), 0,
					  (uint32_t)(acc + (uint64_t)(i * m * nn * 4)),
					  (uint32_t)(c->tensors[ai].dram_addr + (uint64_t)(i * m * k)),
					  (uint32_t)(b_addr + (uint64_t)(b_batches == 1 ? 0 :
									 i * k * nn)),
					  (uint32_t)m, (uint32_t)nn, (uint32_t)k, (int32_t)q.za,
					  (int32_t)q.zb, 0));
	if (!qlinear)
		return true;
	ratio = q.sa * q.sb / q.sy;
	return requant(c, acc, (size_t)(batches * m * nn), yi, &ratio, 1, (int32_t)q.zy);
}

bool convert_case(struct conv *c)
{
	/* Each lowering, the operators it takes, and by position the variant each passes. */
	static const struct lowering {
		const char *ops[5];
		bool (*lower)(struct conv *c);
		bool (*lower_variant)(struct conv *c, char variant);
		const char *variants;
	} lowerings[] = {
		{ { "MatMulInteger", "QLinearMatMul", "MatMul" }, NULL, lower_matmul, "iqf" },
		{ { "ConvInteger", "QLinearConv", "Conv" }, NULL, lower_conv, "iqf" },
		{ { "Relu" }, lower_relu, NULL, NULL },
		{ { "Clip" }, lower_clip, NULL, NULL },
		{ { "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool" }, NULL, lower_pool,
		  "maMA" },
		{ { "Add", "Sub", "Mul" }, NULL, lower_binary, "+-*" },
		{ { "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity" }, lower_reshape, NULL, NULL },
		{ { "Transpose" }, lower_transpose, NULL, NULL },
		{ { "Slice" }, lower_slice, NULL, NULL },
		{ { "Pad" }, lower_pad, NULL, NULL },
		{ { "Concat" }, lower_concat, NULL, NULL },
		{ { "QuantizeLinear", "DequantizeLinear" }, NULL, lower_quantize, "qd" },
	};
	const char *op = c->node->op_type;
	const struct lowering *lw;
	size_t slot;
	bool ok;

	if (c->node->domain[0] && strcmp(c->node->domain, "ai.onnx"))
		return skip(c, "operator domain '%s'", c->node->domain);
	for (lw = lowerings; lw < lowerings + sizeof(lowerings) / sizeof(lowerings[0]); lw++)
		for (slot = 0; slot < sizeof(lw->ops) / sizeof(lw->ops[0]) && lw->ops[slot]; slot++)
			if (!strcmp(op, lw->ops[slot]))
				goto found;
	return skip(c, "operator %s has no lowering", op);
found:
	ok = lw->lower ? lw->lower(c) : lw->lower_variant(c, lw->variants[slot]);
	if (!ok)
		return false;
	/* every output of the node must have a tensor */
	size_t outs = 0;

	for (size_t k = 0; k < c->tensor_count; k++)
		outs += c->tensors[k].kind == NPU_TENSOR_OUTPUT;
	if (outs != c->output_count)
		return skip(c, "%zu outputs, %zu converted", c->output_count, outs);
	EMIT(c, npu_insn_halt());
	return true;
}

void conv_free(struct conv *c)
{
	free(c->code);
	for (size_t k = 0; k < c->const_count; k++)
		free(c->consts[k].data);
	for (size_t k = 0; k < c->tensor_count; k++)
		free(c->host[k]);
	for (size_t k = 0; k < c->input_count; k++)
		onnx_tensor_free(&c->inputs[k]);
	for (size_t k = 0; k < c->output_count; k++)
		onnx_tensor_free(&c->outputs[k]);
	memset(c, 0, sizeof(*c));
}
