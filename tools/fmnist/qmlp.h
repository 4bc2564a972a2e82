/* SPDX-License-Identifier: MIT */
/*
 * The int8 version of an MLP and the NPU program that runs it.
 *
 * Scheme (docs/fashion-mnist.md): every activation is int8 with zero point
 * -128 (asymmetric, the full 8 bits for values >= 0: the input is in [0, 1]
 * and hidden activations follow a ReLU); weights are symmetric per-tensor
 * int8; biases int32 at scale s_in * s_w, with the input zero point folded in
 * (bias' = bias - zp_in * column sums of W). A hidden layer's int32 result is
 * brought to the next scale by REQUANT: multiplier / 2^shift, rounded half
 * away from zero, exactly as the ISA defines. The last layer's int32 logits
 * are the output (scale s_in * s_w, zero point 0).
 */
#ifndef FMNIST_QMLP_H
#define FMNIST_QMLP_H

#include <stddef.h>
#include <stdint.h>

#include "mlp.h"

struct qlayer {
	unsigned int k, n;
	int8_t *w;		/* [k][n] */
	int32_t *bias;		/* [n], input zero point folded in */
	float in_scale, w_scale;
	int32_t in_zero_point;
	/* Hidden layers: REQUANT to the next layer's input. */
	float out_scale;
	int32_t out_zero_point;
	int32_t multiplier;
	uint32_t shift;
};

struct qmlp {
	unsigned int layers;
	struct qlayer l[MLP_MAX_LAYERS];
	float logit_scale;	/* of the int32 output */
};

/*
 * Quantizes m; the hidden activation ranges come from the float model run
 * on `count` calibration images (their maximum). 0 or -1 with a message.
 */
int qmlp_quantize(const struct mlp *m, const uint8_t *calib_pixels, size_t calib_count,
		  struct qmlp *q);
void qmlp_free(struct qmlp *q);

/* The ISA's REQUANT of one value (docs/hardware.md §10.1). */
int8_t qmlp_requant(int32_t v, int32_t multiplier, uint32_t shift, int32_t zero_point);

/*
 * Integer reference, written from the scheme independently of the ISA
 * interpreter: int32 logits of one image given as device int8 input (the
 * quantized pixels). scratch: (max layer width) int32.
 */
void qmlp_forward(const struct qmlp *q, const int8_t *input, int32_t *logits, int32_t *scratch);

/* Quantized input pixel: (p / 255) at scale 1/255, zero point -128 = p - 128. */
static inline int8_t qmlp_quantize_pixel(uint8_t p)
{
	return (int8_t)((int)p - 128);
}

/*
 * Builds the program container: `batch` images per run, input "image"
 * int8 [batch, 1, 28, 28] (host float32, scale 1/255, zero point -128),
 * output "logits" int32 [batch, classes] (host float32). *data is malloc'ed.
 */
int qmlp_emit_program(const struct qmlp *q, unsigned int batch, void **data, size_t *size);

#endif /* FMNIST_QMLP_H */
