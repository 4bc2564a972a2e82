// SPDX-License-Identifier: MIT
/*
 * Blocked int8 matrix multiply for the MAC instructions, after GotoBLAS and
 * BLIS: B is packed once per KC x NC block and A once per MC x KC block into
 * int16 panels laid out for a register-blocked micro-kernel that computes an
 * MR x NR tile of C. Panels interleave pairs along the depth, so that one
 * multiply-add of 16-bit pairs into 32-bit lanes (pmaddwd) does two steps of
 * the dot product for eight columns at once. The AVX2 micro-kernel is chosen
 * at run time if the CPU has it; the portable one is the same algorithm in
 * plain C. Centred operands are at most 255 in magnitude, so a product
 * (< 2^16) and a pair sum (< 2^17) are exact in int32 and only the additions
 * into C wrap, modulo 2^32 as in the reference loops.
 */
#include <stdlib.h>
#include <string.h>

#include "isa_gemm.h"
#include "isa_le.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define ISA_GEMM_X86 1
#include <immintrin.h>
#else
#define ISA_GEMM_X86 0
#endif

/*
 * Tile and block sizes: 12 accumulators of 8 lanes hold the 6 x 16 tile in
 * AVX2 registers; a KC-deep B panel of NR columns (8 KiB) stays in L1, an
 * MC x KC A block (48 KiB) and a KC x NC B block (256 KiB) in L2.
 */
#define MR 6u
#define NR 16u
#define KC 256u		/* even: the panels hold pairs */
#define MC 96u		/* a multiple of MR */
#define NC 512u		/* a multiple of NR */

typedef void isa_kernel_fn(const int16_t *ap, const int16_t *bp, unsigned int pairs,
			   uint32_t acc[MR * NR]);

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* ---- micro-kernels: acc = A panel (MR rows) x B panel (NR columns) -------- */

static void kernel_portable(const int16_t *ap, const int16_t *bp, unsigned int pairs,
			    uint32_t acc[MR * NR])
{
	unsigned int p, r, c;

	memset(acc, 0, MR * NR * sizeof(*acc));
	for (p = 0; p < pairs; p++, ap += 2 * MR, bp += 2 * NR) {
		for (r = 0; r < MR; r++) {
			int32_t a0 = ap[2 * r], a1 = ap[2 * r + 1];

			for (c = 0; c < NR; c++)
				acc[r * NR + c] += (uint32_t)(a0 * bp[2 * c] + a1 * bp[2 * c + 1]);
		}
	}
}

#if ISA_GEMM_X86
__attribute__((target("avx2")))
static __m256i pair_of(const int16_t *a)
{
	int32_t v;

	memcpy(&v, a, sizeof(v));
	return _mm256_set1_epi32(v);
}

/* One row of the tile: two vectors of eight columns. */
#define ROW(r)								\
	do {								\
		__m256i a = pair_of(ap + 2 * (r));			\
		c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(a, b0)); \
		c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(a, b1)); \
	} while (0)

#define STORE(r)							\
	do {								\
		_mm256_storeu_si256((__m256i *)(acc + (r) * NR), c##r##0); \
		_mm256_storeu_si256((__m256i *)(acc + (r) * NR + 8), c##r##1); \
	} while (0)

__attribute__((target("avx2")))
static void kernel_avx2(const int16_t *ap, const int16_t *bp, unsigned int pairs,
			uint32_t acc[MR * NR])
{
	__m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
	__m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
	__m256i c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	unsigned int p;

	for (p = 0; p < pairs; p++, ap += 2 * MR, bp += 2 * NR) {
		__m256i b0 = _mm256_loadu_si256((const __m256i *)bp);
		__m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + 16));

		ROW(0);
		ROW(1);
		ROW(2);
		ROW(3);
		ROW(4);
		ROW(5);
	}
	STORE(0);
	STORE(1);
	STORE(2);
	STORE(3);
	STORE(4);
	STORE(5);
}

#undef ROW
#undef STORE
#endif

static isa_kernel_fn *pick_kernel(bool portable)
{
#if ISA_GEMM_X86
	if (!portable && __builtin_cpu_supports("avx2"))
		return kernel_avx2;
#endif
	(void)portable;
	return kernel_portable;
}

const char *isa_gemm_kernel_name(void)
{
	return pick_kernel(false) == kernel_portable ? "portable" : "avx2";
}

/* ---- packing ----------------------------------------------------------- */

/*
 * B(x0 .. x0+kc, j0 .. j0+nc) into panels of NR columns, each pairs x NR x 2:
 * panel[(p * NR + c) * 2 + t] = B(x0 + 2p + t, j0 + c), zero outside.
 */
static void pack_b(const struct isa_gemm *g, uint64_t x0, unsigned int kc, uint64_t j0,
		   unsigned int nc, int16_t *panel)
{
	unsigned int pairs = (kc + 1) / 2, jr, c, x;

	for (jr = 0; jr < nc; jr += NR, panel += 2 * NR * pairs) {
		unsigned int cols = (unsigned int)min_u64(NR, nc - jr);

		memset(panel, 0, 2 * NR * pairs * sizeof(*panel));
		for (x = 0; x < kc; x++) {
			const uint8_t *src = g->b + (x0 + x) * g->b_x + (j0 + jr) * g->b_j;
			int16_t *dst = panel + (x / 2) * 2 * NR + (x & 1);

			for (c = 0; c < cols; c++)
				dst[2 * c] = g->tb[src[c * g->b_j]];
		}
	}
}

/*
 * A(i0 .. i0+mc, x0 .. x0+kc) into panels of MR rows, each pairs x MR x 2:
 * panel[(p * MR + r) * 2 + t] = A(i0 + r, x0 + 2p + t), zero outside.
 */
static void pack_a(const struct isa_gemm *g, uint64_t i0, unsigned int mc, uint64_t x0,
		   unsigned int kc, int16_t *panel, int16_t *row)
{
	unsigned int pairs = (kc + 1) / 2, ir, r, x;

	for (ir = 0; ir < mc; ir += MR, panel += 2 * MR * pairs) {
		unsigned int rows = (unsigned int)min_u64(MR, mc - ir);

		memset(panel, 0, 2 * MR * pairs * sizeof(*panel));
		for (r = 0; r < rows; r++) {
			g->a_row(g, i0 + ir + r, x0, kc, row);
			for (x = 0; x < kc; x++)
				panel[(x / 2) * 2 * MR + 2 * r + (x & 1)] = row[x];
		}
	}
}

static void add_tile(const struct isa_gemm *g, uint64_t i0, uint64_t j0, unsigned int rows,
		     unsigned int cols, const uint32_t acc[MR * NR])
{
	unsigned int r, c;

	for (r = 0; r < rows; r++) {
		uint8_t *out = g->c + 4 * ((i0 + r) * g->ldc + j0);

		for (c = 0; c < cols; c++)
			st_le32(out + 4 * c, ld_le32(out + 4 * c) + acc[r * NR + c]);
	}
}

/* Block sizes of g: KC, NC and MC, or less for a smaller product. */
static void block_sizes(const struct isa_gemm *g, unsigned int *kc, unsigned int *nc,
			unsigned int *mc)
{
	*kc = (unsigned int)min_u64(KC, round_up(g->k, 2));
	*nc = (unsigned int)min_u64(NC, round_up(g->n, NR));
	*mc = (unsigned int)min_u64(MC, round_up(g->m, MR));
}

size_t isa_gemm_workspace(const struct isa_gemm *g)
{
	unsigned int kc, nc, mc;

	block_sizes(g, &kc, &nc, &mc);
	return ((size_t)kc * nc + (size_t)kc * mc + kc) * sizeof(int16_t);
}

void isa_gemm_i8(const struct isa_gemm *g, bool portable, void *workspace)
{
	isa_kernel_fn *kernel = pick_kernel(portable);
	unsigned int kc_max, nc_max, mc_max;
	int16_t *bpanel = workspace, *apanel, *row;
	uint32_t acc[MR * NR];
	uint64_t jc, pc, ic;

	block_sizes(g, &kc_max, &nc_max, &mc_max);
	apanel = bpanel + (size_t)kc_max * nc_max;
	row = apanel + (size_t)kc_max * mc_max;
	for (jc = 0; jc < g->n; jc += NC) {
		unsigned int nc = (unsigned int)min_u64(NC, g->n - jc);

		for (pc = 0; pc < g->k; pc += KC) {
			unsigned int kc = (unsigned int)min_u64(KC, g->k - pc);
			unsigned int pairs = (kc + 1) / 2;

			pack_b(g, pc, kc, jc, nc, bpanel);
			for (ic = 0; ic < g->m; ic += MC) {
				unsigned int mc = (unsigned int)min_u64(MC, g->m - ic);
				unsigned int jr, ir;

				pack_a(g, ic, mc, pc, kc, apanel, row);
				for (jr = 0; jr < nc; jr += NR) {
					for (ir = 0; ir < mc; ir += MR) {
						kernel(apanel + (size_t)ir * 2 * pairs,
						       bpanel + (size_t)jr * 2 * pairs, pairs, acc);
						add_tile(g, ic + ir, jc + jr,
							 (unsigned int)min_u64(MR, mc - ir),
							 (unsigned int)min_u64(NR, nc - jr), acc);
					}
				}
			}
		}
	}
}
