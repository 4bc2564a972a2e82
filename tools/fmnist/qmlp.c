// SPDX-License-Identifier: MIT
/*
 * Quantization of a trained MLP and its NPU program. Per batch of B images
 * and per dense layer l (K -> N):
 *
 *   matmul_i8 dst=ACC_l a=IN_l b=W_l m=B n=N k=K       int32 [B x N]
 *   add.i32   dst=ACC_l src0=ACC_l src1=BIAS_l n=B*N   bias tiled B times
 *   hidden layers only:
 *   relu.i32  dst=ACC_l src=ACC_l n=B*N
 *   requant   dst=IN_l+1 src=ACC_l n=B*N multiplier shift zero_point=-128
 *
 * and the last layer's ACC is the output. The bias is tiled in the constants
 * (B copies) because ADD is element-wise; it costs B*N*4 bytes of DRAM.
 */
#include "qmlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npu_isa_encode.h"
#include "npuhal.h"

#define ACT_ZERO_POINT (-128)
#define IMAGE_SIDE 28

/* Round half away from zero, like the ISA, for the constants. */
static int64_t round_away(double v)
{
	return (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
}

static int32_t clamp32(int64_t v, int64_t lo, int64_t hi)
{
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

int8_t qmlp_requant(int32_t v, int32_t multiplier, uint32_t shift, int32_t zero_point)
{
	int64_t p = (int64_t)v * multiplier, r;

	if (shift == 0) {
		r = p;
	} else {
		uint64_t mag = p < 0 ? (uint64_t)0 - (uint64_t)p : (uint64_t)p;

		mag = (mag + (1ull << (shift - 1))) >> shift;
		r = p < 0 ? -(int64_t)mag : (int64_t)mag;
	}
	return (int8_t)clamp32(r + zero_point, -128, 127);
}

/*
 * real multiplier = multiplier / 2^shift with multiplier in [2^30, 2^31):
 * 31 bits of precision. 0 or -1 if the value is out of the ISA's range.
 */
static int split_multiplier(double real, int32_t *multiplier, uint32_t *shift)
{
	int exp;
	double frac = frexp(real, &exp);	/* real = frac * 2^exp, frac in [0.5, 1) */
	int64_t m = round_away(frac * 2147483648.0);

	if (!(real > 0) || !isfinite(real))
		return -1;
	if (m == 2147483648ll) {
		m /= 2;
		exp++;
	}
	if (31 - exp < 1 || 31 - exp > 62)
		return -1;
	*multiplier = (int32_t)m;
	*shift = (uint32_t)(31 - exp);
	return 0;
}

void qmlp_free(struct qmlp *q)
{
	for (unsigned int l = 0; l < MLP_MAX_LAYERS; l++) {
		free(q->l[l].w);
		free(q->l[l].bias);
		q->l[l].w = NULL;
		q->l[l].bias = NULL;
	}
}

/* Largest activation of each hidden layer over the calibration images. */
static int calibrate(const struct mlp *m, const uint8_t *pixels, size_t count, float *max)
{
	float *acts[MLP_MAX_LAYERS + 1] = { 0 };
	int ok = 1;

	for (unsigned int l = 0; l <= m->layers; l++) {
		ok &= (acts[l] = malloc(m->dims[l] * sizeof(float))) != NULL;
		max[l] = 0.0f;
	}
	for (size_t i = 0; ok && i < count; i++) {
		mlp_forward(m, pixels + i * m->dims[0], acts);
		for (unsigned int l = 1; l < m->layers; l++)
			for (unsigned int j = 0; j < m->dims[l]; j++)
				max[l] = acts[l][j] > max[l] ? acts[l][j] : max[l];
	}
	for (unsigned int l = 0; l <= m->layers; l++)
		free(acts[l]);
	if (!ok)
		fprintf(stderr, "no memory for calibration\n");
	return ok ? 0 : -1;
}

int qmlp_quantize(const struct mlp *m, const uint8_t *calib_pixels, size_t calib_count,
		  struct qmlp *q)
{
	float max_act[MLP_MAX_LAYERS + 1];
	float in_scale = 1.0f / 255.0f;

	memset(q, 0, sizeof(*q));
	q->layers = m->layers;
	if (calibrate(m, calib_pixels, calib_count, max_act))
		return -1;
	for (unsigned int l = 0; l < m->layers; l++) {
		struct qlayer *ql = &q->l[l];
		size_t k = m->dims[l], n = m->dims[l + 1];
		float wmax = 0.0f;

		ql->k = (unsigned int)k;
		ql->n = (unsigned int)n;
		ql->in_scale = in_scale;
		ql->in_zero_point = ACT_ZERO_POINT;
		ql->w = malloc(k * n);
		ql->bias = malloc(n * sizeof(int32_t));
		if (!ql->w || !ql->bias) {
			fprintf(stderr, "no memory for the quantized layer %u\n", l);
			qmlp_free(q);
			return -1;
		}
		for (size_t i = 0; i < k * n; i++)
			wmax = fabsf(m->w[l][i]) > wmax ? fabsf(m->w[l][i]) : wmax;
		ql->w_scale = wmax > 0 ? wmax / 127.0f : 1.0f;
		for (size_t i = 0; i < k * n; i++)
			ql->w[i] = (int8_t)clamp32(round_away(m->w[l][i] / ql->w_scale), -127, 127);
		for (size_t j = 0; j < n; j++) {
			/* sum_k s_in (x_k - zp) s_w w_kj: the -zp * sum_k w_kj part is constant. */
			int64_t colsum = 0, b;

			for (size_t i = 0; i < k; i++)
				colsum += ql->w[i * n + j];
			b = round_away((double)m->b[l][j] / ((double)in_scale * ql->w_scale)) -
			    (int64_t)ql->in_zero_point * colsum;
			if (b < INT32_MIN || b > INT32_MAX) {
				fprintf(stderr, "layer %u: bias %zu does not fit in int32\n", l, j);
				qmlp_free(q);
				return -1;
			}
			ql->bias[j] = (int32_t)b;
		}
		if (l + 1 == m->layers) {
			q->logit_scale = in_scale * ql->w_scale;
			break;
		}
		/* ReLU output in [0, max]: 256 steps from zero point -128. */
		ql->out_scale = max_act[l + 1] > 0 ? max_act[l + 1] / 255.0f : 1.0f;
		ql->out_zero_point = ACT_ZERO_POINT;
		if (split_multiplier((double)in_scale * ql->w_scale / ql->out_scale,
				     &ql->multiplier, &ql->shift)) {
			fprintf(stderr, "layer %u: requantization scale out of the ISA's range\n", l);
			qmlp_free(q);
			return -1;
		}
		in_scale = ql->out_scale;
	}
	return 0;
}

void qmlp_forward(const struct qmlp *q, const int8_t *input, int32_t *logits, int32_t *scratch)
{
	int8_t act[4096];	/* mlp_init caps widths at 4096 */
	int32_t *acc = scratch;

	for (unsigned int i = 0; i < q->l[0].k; i++)
		act[i] = input[i];
	for (unsigned int l = 0; l < q->layers; l++) {
		const struct qlayer *ql = &q->l[l];
		int32_t *out = l + 1 == q->layers ? logits : acc;

		for (unsigned int j = 0; j < ql->n; j++) {
			int32_t sum = ql->bias[j];

			for (unsigned int i = 0; i < ql->k; i++)
				sum += act[i] * ql->w[i * ql->n + j];
			out[j] = sum;
		}
		if (l + 1 == q->layers)
			break;
		for (unsigned int j = 0; j < ql->n; j++)
			act[j] = qmlp_requant(out[j] > 0 ? out[j] : 0, ql->multiplier, ql->shift,
					      ql->out_zero_point);
	}
}

/* ---- the program ---------------------------------------------------------- */

struct layout {
	uint64_t next;
};

static uint32_t place(struct layout *lay, uint64_t bytes)
{
	uint64_t at = lay->next;

	lay->next = (at + bytes + NPU_PROG_ALIGN - 1) / NPU_PROG_ALIGN * NPU_PROG_ALIGN;
	return (uint32_t)at;
}

#define CHECK(call, what)                                                                   \
	do {                                                                                \
		npu_status st_ = (call);                                                    \
		if (st_ != NPU_OK) {                                                        \
			fprintf(stderr, "%s: %s: %s\n", what, npu_strerror(st_),            \
				npu_last_error());                                          \
			goto out;                                                           \
		}                                                                           \
	} while (0)

int qmlp_emit_program(const struct qmlp *q, unsigned int batch, void **data, size_t *size)
{
	/* Per layer: matmul, add, relu, requant; then halt, rounded up to 64-byte units. */
	struct npu_insn code[MLP_MAX_LAYERS * 4 + 1];
	uint32_t w_at[MLP_MAX_LAYERS], bias_at[MLP_MAX_LAYERS], acc_at[MLP_MAX_LAYERS];
	uint32_t in_at[MLP_MAX_LAYERS];
	struct layout lay = { .next = 0 };
	unsigned int ninsn = 0, last = q->layers - 1;
	npu_program_builder *b = NULL;
	int32_t *tiled = NULL;
	int ret = -1;

	if (!batch || batch > 4096 || q->l[0].k != IMAGE_SIDE * IMAGE_SIDE) {
		fprintf(stderr, "batch %u must be 1..4096 and the input 28x28\n", batch);
		return -1;
	}
	/* DRAM: code, then constants, then tensors and scratch. */
	place(&lay, sizeof(code));
	for (unsigned int l = 0; l < q->layers; l++) {
		w_at[l] = place(&lay, (uint64_t)q->l[l].k * q->l[l].n);
		bias_at[l] = place(&lay, (uint64_t)batch * q->l[l].n * 4);
	}
	for (unsigned int l = 0; l < q->layers; l++) {
		in_at[l] = place(&lay, (uint64_t)batch * q->l[l].k);
		acc_at[l] = place(&lay, (uint64_t)batch * q->l[l].n * 4);
	}
	if (lay.next > UINT32_MAX) {
		fprintf(stderr, "the program needs %llu bytes of DRAM, more than 4 GiB\n",
			(unsigned long long)lay.next);
		return -1;
	}

	for (unsigned int l = 0; l < q->layers; l++) {
		const struct qlayer *ql = &q->l[l];
		uint32_t count = batch * ql->n;

		code[ninsn++] = npu_insn_matmul(acc_at[l], in_at[l], w_at[l], batch, ql->n, ql->k,
						false);
		code[ninsn++] = npu_insn_add(NPU_DTYPE_I32, acc_at[l], acc_at[l], bias_at[l], count);
		if (l == last)
			break;
		code[ninsn++] = npu_insn_relu(NPU_DTYPE_I32, acc_at[l], acc_at[l], count);
		code[ninsn++] = npu_insn_requant(in_at[l + 1], acc_at[l], count, ql->multiplier,
						 ql->shift, ql->out_zero_point);
	}
	code[ninsn++] = npu_insn_halt();

	CHECK(npu_program_builder_new("warboy", 1, lay.next, &b), "program");
	CHECK(npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code,
					      ninsn * sizeof(code[0])),
	      "code section");
	for (unsigned int l = 0; l < q->layers; l++) {
		const struct qlayer *ql = &q->l[l];

		CHECK(npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, w_at[l], ql->w,
						      (size_t)ql->k * ql->n),
		      "weights section");
		tiled = malloc((size_t)batch * ql->n * sizeof(int32_t));
		if (!tiled) {
			fprintf(stderr, "no memory for the tiled bias\n");
			goto out;
		}
		for (unsigned int r = 0; r < batch; r++)
			memcpy(tiled + (size_t)r * ql->n, ql->bias, ql->n * sizeof(int32_t));
		CHECK(npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, bias_at[l], tiled,
						      (size_t)batch * ql->n * 4),
		      "bias section");
		free(tiled);
		tiled = NULL;
	}
	{
		struct npu_prog_tensor in = {
			.name = "image", .kind = NPU_TENSOR_INPUT, .dtype = NPU_PROG_DTYPE_INT8,
			.host_dtype = NPU_PROG_DTYPE_FLOAT32, .rank = 4,
			.layout = NPU_LAYOUT_ROW_MAJOR,
			.dims = { batch, 1, IMAGE_SIDE, IMAGE_SIDE },
			.dram_addr = in_at[0], .byte_size = (uint64_t)batch * q->l[0].k,
			.scale = q->l[0].in_scale, .zero_point = q->l[0].in_zero_point,
		};
		struct npu_prog_tensor out = {
			.name = "logits", .kind = NPU_TENSOR_OUTPUT,
			.dtype = NPU_PROG_DTYPE_INT32, .host_dtype = NPU_PROG_DTYPE_FLOAT32,
			.rank = 2, .layout = NPU_LAYOUT_ROW_MAJOR, .dims = { batch, q->l[last].n },
			.dram_addr = acc_at[last], .byte_size = (uint64_t)batch * q->l[last].n * 4,
			.scale = q->logit_scale, .zero_point = 0,
		};

		CHECK(npu_program_builder_add_tensor(b, &in), "input tensor");
		CHECK(npu_program_builder_add_tensor(b, &out), "output tensor");
	}
	CHECK(npu_program_builder_finish(b, data, size), "program");
	ret = 0;
out:
	free(tiled);
	npu_program_builder_free(b);
	return ret;
}
