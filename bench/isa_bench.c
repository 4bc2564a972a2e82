// SPDX-License-Identifier: MIT
/*
 * The instruction executor's compute speed on the host, single thread, in
 * MAC/s: MATMUL_I8 and CONV2D run by each engine of isa/isa_exec.h (fast,
 * portable, reference) through npu_isa_run_engine(), against OpenBLAS's
 * sgemm (one thread) on the same shapes, all measured in this run. Prints
 * one JSON line per measurement (bench/README.md) and a table.
 *
 * Usage: isa-bench [--short]   (--short: small repeat counts, for CI)
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isa_exec.h"
#include "npu_isa_encode.h"

/* cblas_sgemm's constants (cblas.h): row-major, no transposition. */
#define CBLAS_ROW_MAJOR	101
#define CBLAS_NO_TRANS	111

typedef void sgemm_fn(int order, int ta, int tb, int m, int n, int k, float alpha,
		      const float *a, int lda, const float *b, int ldb, float beta, float *c,
		      int ldc);
typedef void set_threads_fn(int n);

struct blas {
	void *lib;
	sgemm_fn *sgemm;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* OpenBLAS, one thread; false with a message if it is not installed. */
static bool blas_open(struct blas *blas)
{
	set_threads_fn *set_threads;

	blas->lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!blas->lib) {
		fprintf(stderr, "isa-bench: cannot load OpenBLAS (%s); install libopenblas0 "
			"(make setup does)\n", dlerror());
		return false;
	}
	*(void **)&blas->sgemm = dlsym(blas->lib, "cblas_sgemm");
	*(void **)&set_threads = dlsym(blas->lib, "openblas_set_num_threads");
	if (!blas->sgemm || !set_threads) {
		fprintf(stderr, "isa-bench: libopenblas.so.0 lacks cblas_sgemm or "
			"openblas_set_num_threads\n");
		dlclose(blas->lib);
		return false;
	}
	set_threads(1);
	return true;
}

/*
 * Best seconds per call of fn over repeats, after one warm-up call; repeats
 * until min_s has passed (at least 3 calls) so short shapes are not noise.
 */
static double best_time(void (*fn)(void *), void *arg, double min_s)
{
	double best = 1e30, start = now_s();
	unsigned int calls = 0;

	fn(arg);
	while (calls < 3 || now_s() - start < min_s) {
		double t0 = now_s(), dt;

		fn(arg);
		dt = now_s() - t0;
		if (dt < best)
			best = dt;
		calls++;
	}
	return best;
}

/* ---- the executor -------------------------------------------------------- */

struct isa_case {
	enum npu_isa_engine engine;
	uint8_t *mem;
	uint64_t mem_size;
	uint32_t status;
};

static void run_isa(void *arg)
{
	struct isa_case *c = arg;
	struct npu_isa_result res;

	c->status = npu_isa_run_engine(c->engine, c->mem, c->mem_size, 0, 2 * NPU_INSN_SIZE,
				       UINT64_MAX, 1, &res);
}

/* ---- sgemm on the same shape -------------------------------------------- */

struct sgemm_case {
	const struct blas *blas;
	int m, n, k;
	float *a, *b, *c;
};

static void run_sgemm(void *arg)
{
	struct sgemm_case *c = arg;

	c->blas->sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, c->m, c->n, c->k, 1.0f,
		       c->a, c->k, c->b, c->n, 0.0f, c->c, c->n);
}

static double sgemm_macs_per_s(const struct blas *blas, int m, int n, int k, double min_s)
{
	struct sgemm_case c = { .blas = blas, .m = m, .n = n, .k = k };
	double t;
	size_t i;

	c.a = malloc(sizeof(float) * (size_t)m * k);
	c.b = malloc(sizeof(float) * (size_t)k * n);
	c.c = malloc(sizeof(float) * (size_t)m * n);
	if (!c.a || !c.b || !c.c) {
		free(c.a);
		free(c.b);
		free(c.c);
		return 0;
	}
	for (i = 0; i < (size_t)m * k; i++)
		c.a[i] = (float)(i % 251) / 251.0f;
	for (i = 0; i < (size_t)k * n; i++)
		c.b[i] = (float)(i % 241) / 241.0f;
	t = best_time(run_sgemm, &c, min_s);
	free(c.a);
	free(c.b);
	free(c.c);
	return (double)m * n * k / t;
}

/* ---- shapes ---------------------------------------------------------------- */

struct shape {
	const char *name;
	bool conv;
	uint32_t m, n, k;			/* matmul; for conv the im2col product */
	struct npu_isa_conv_shape cs;		/* conv */
	struct npu_isa_window win;
};

/* A program of one instruction and HALT, operands filled with a pattern. */
static uint8_t *build(const struct shape *s, uint64_t *mem_size)
{
	uint64_t a_len, b_len, d_len, a = 4096, b, d;
	struct npu_insn insn, halt = npu_insn_halt();
	uint8_t *mem;
	uint64_t i;

	if (s->conv) {
		a_len = (uint64_t)s->cs.n * s->cs.h * s->cs.w * s->cs.cin;
		b_len = (uint64_t)s->cs.cout * s->win.kh * s->win.kw * (s->cs.cin / s->cs.groups);
	} else {
		a_len = (uint64_t)s->m * s->k;
		b_len = (uint64_t)s->k * s->n;
	}
	d_len = 4ull * s->m * s->n;
	b = a + a_len;
	d = (b + b_len + 63) & ~63ull;
	*mem_size = d + d_len;
	mem = calloc(1, *mem_size);
	if (!mem)
		return NULL;
	for (i = a; i < d; i++)
		mem[i] = (uint8_t)(i * 2654435761u >> 11);
	if (s->conv)
		insn = npu_insn_conv2d(NPU_DTYPE_A_U8, 0, (uint32_t)d, (uint32_t)a, (uint32_t)b,
				       &s->cs, &s->win, 0, 128, 3);
	else
		insn = npu_insn_matmul_q(NPU_DTYPE_A_U8, 0, (uint32_t)d, (uint32_t)a, (uint32_t)b,
					 s->m, s->n, s->k, 128, 3, 0);
	npu_isa_encode(&insn, mem);
	npu_isa_encode(&halt, mem + NPU_INSN_SIZE);
	return mem;
}

static double isa_macs_per_s(const struct shape *s, enum npu_isa_engine engine, double min_s,
			     bool *ok)
{
	struct isa_case c = { .engine = engine };
	double t;

	c.mem = build(s, &c.mem_size);
	if (!c.mem) {
		*ok = false;
		return 0;
	}
	t = best_time(run_isa, &c, min_s);
	if (c.status != NPU_STATUS_OK)
		*ok = false;
	free(c.mem);
	return (double)s->m * s->n * s->k / t;
}

static void json(const char *metric, double value, const char *unit, const char *goal, int met)
{
	printf("{\"bench\":\"emulator\",\"metric\":\"%s\",\"value\":%.4g,\"unit\":\"%s\"",
	       metric, value, unit);
	if (goal)
		printf(",\"goal\":\"%s\",\"met\":%s", goal, met ? "true" : "false");
	printf("}\n");
}

int main(int argc, char **argv)
{
	bool short_run = argc > 1 && !strcmp(argv[1], "--short");
	double min_s = short_run ? 0.02 : 0.5;
	const struct shape shapes[] = {
		{ .name = "matmul_256x256x256", .m = 256, .n = 256, .k = 256 },
		{ .name = "matmul_64x256x64", .m = 64, .n = 64, .k = 256 },
		{
			/* 3x3, 64 -> 64 channels on 32x32, pad 1: M = 1024, K = 576, N = 64 */
			.name = "conv_32x32x64_3x3x64", .conv = true, .m = 32 * 32, .n = 64,
			.k = 9 * 64,
			.cs = { .n = 1, .h = 32, .w = 32, .cin = 64, .cout = 64, .groups = 1 },
			.win = { .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
				 .pt = 1, .pl = 1, .pb = 1, .pr = 1 },
		},
	};
	struct blas blas;
	bool ok = true;
	unsigned int i;
	char metric[96];

	if (argc > 2 || (argc == 2 && !short_run)) {
		fprintf(stderr, "usage: isa-bench [--short]\n");
		return 2;
	}
	if (!blas_open(&blas))
		return 1;
	printf("# executor micro-kernel: %s; OpenBLAS sgemm, 1 thread\n", npu_isa_fast_kernel());
	printf("# %-22s %12s %12s %12s %12s %9s %9s\n", "shape", "fast MAC/s", "portable",
	       "reference", "sgemm", "fast/ref", "fast/blas");
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		double fast = isa_macs_per_s(s, NPU_ISA_ENGINE_FAST, min_s, &ok);
		double portable = isa_macs_per_s(s, NPU_ISA_ENGINE_PORTABLE, min_s, &ok);
		/* The reference is slow: one call is long enough to time. */
		double ref = isa_macs_per_s(s, NPU_ISA_ENGINE_REFERENCE, 0, &ok);
		double sgemm = sgemm_macs_per_s(&blas, (int)s->m, (int)s->n, (int)s->k, min_s);
		bool headline = i == 0;

		if (!fast || !ref || !sgemm)
			ok = false;
		snprintf(metric, sizeof(metric), "%s_fast_macs_per_s", s->name);
		json(metric, fast, "MAC/s", NULL, 0);
		snprintf(metric, sizeof(metric), "%s_portable_macs_per_s", s->name);
		json(metric, portable, "MAC/s", NULL, 0);
		snprintf(metric, sizeof(metric), "%s_reference_macs_per_s", s->name);
		json(metric, ref, "MAC/s", NULL, 0);
		snprintf(metric, sizeof(metric), "%s_sgemm_macs_per_s", s->name);
		json(metric, sgemm, "MAC/s", NULL, 0);
		snprintf(metric, sizeof(metric), "%s_fast_over_reference", s->name);
		json(metric, ref ? fast / ref : 0, "ratio", headline ? ">=20" : NULL,
		     ref && fast / ref >= 20);
		snprintf(metric, sizeof(metric), "%s_fast_over_sgemm", s->name);
		json(metric, sgemm ? fast / sgemm : 0, "ratio", headline ? ">=0.5" : NULL,
		     sgemm && fast / sgemm >= 0.5);
		printf("# %-22s %12.3g %12.3g %12.3g %12.3g %9.1f %9.2f\n", s->name, fast, portable,
		       ref, sgemm, ref ? fast / ref : 0, sgemm ? fast / sgemm : 0);
	}
	dlclose(blas.lib);
	if (!ok)
		fprintf(stderr, "isa-bench: a measurement failed (see above)\n");
	return ok ? 0 : 1;
}
