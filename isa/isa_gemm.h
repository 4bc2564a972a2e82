/* SPDX-License-Identifier: MIT */
/*
 * The fast path of the multiply-accumulate instructions (MATMUL_I8, CONV2D):
 * C(i, j) += sum over x of A(i, x) * B(x, j) for zero-point-centred 8-bit
 * operands, accumulated in int32 modulo 2^32. isa_exec.c builds the operand
 * views, and runs its reference loops instead if it cannot allocate the
 * workspace.
 */
#ifndef NPU_ISA_GEMM_H
#define NPU_ISA_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct isa_gemm;

/*
 * Writes A(i, x0), ..., A(i, x0 + depth - 1) (centred values) to out[0,
 * depth). MATMUL_I8 reads a row of its A operand, CONV2D gathers one output
 * position's receptive field (im2col), writing 0 for padding.
 */
typedef void isa_gemm_row_fn(const struct isa_gemm *g, uint64_t i, uint64_t x0,
			     unsigned int depth, int16_t *out);

struct isa_gemm {
	uint64_t m, n, k;
	isa_gemm_row_fn *a_row;
	const void *a_ctx;		/* for a_row */
	/* B(x, j) is tb[b[x * b_x + j * b_j]]: the byte, centred by the table. */
	const uint8_t *b;
	uint64_t b_x, b_j;
	const int16_t *tb;
	/* C(i, j): int32, little-endian, at c + 4 * (i * ldc + j). */
	uint8_t *c;
	uint64_t ldc;
};

/* Bytes of working memory isa_gemm_i8() needs for g (at most about 310 KiB). */
size_t isa_gemm_workspace(const struct isa_gemm *g);

/*
 * Adds A x B to C, using `workspace` (isa_gemm_workspace(g) bytes, aligned
 * for int16_t) for the packed panels, with the host's best micro-kernel or
 * with the portable C one if `portable` (so that tests check both on any
 * machine). Results are bit-identical to the reference loops: each product
 * and each sum of two products fits in an int32, and additions modulo 2^32
 * give the same result in any order.
 */
void isa_gemm_i8(const struct isa_gemm *g, bool portable, void *workspace);

/* The micro-kernel isa_gemm_i8() uses on this host ("avx2", "portable"). */
const char *isa_gemm_kernel_name(void);

#endif /* NPU_ISA_GEMM_H */
