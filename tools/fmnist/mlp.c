// SPDX-License-Identifier: MIT
/*
 * Float MLP training. Everything runs in one thread in a fixed order so the
 * result is reproducible; the inner loops are plain axpy/dot loops over
 * contiguous rows that the compiler vectorizes, and the sparse input (most
 * Fashion-MNIST pixels are 0) skips zero rows.
 */
#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* splitmix64: tiny, good enough for initialization and shuffling. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits: exact in float. */
static float rng_unit(uint64_t *state)
{
	return (float)(rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform in [0, n) without modulo bias (n small). */
static size_t rng_below(uint64_t *state, size_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = rng_next(state);
	while (v >= limit);
	return (size_t)(v % n);
}

unsigned int mlp_max_width(const struct mlp *m)
{
	unsigned int w = 0;

	for (unsigned int l = 0; l <= m->layers; l++)
		if (m->dims[l] > w)
			w = m->dims[l];
	return w;
}

int mlp_init(struct mlp *m, unsigned int layers, const unsigned int *dims, uint64_t seed)
{
	uint64_t rng = seed;

	memset(m, 0, sizeof(*m));
	if (!layers || layers > MLP_MAX_LAYERS) {
		fprintf(stderr, "an MLP has 1..%d layers, not %u\n", MLP_MAX_LAYERS, layers);
		return -1;
	}
	m->layers = layers;
	for (unsigned int l = 0; l <= layers; l++) {
		if (!dims[l] || dims[l] > 4096) {
			fprintf(stderr, "layer width %u is outside 1..4096\n", dims[l]);
			return -1;
		}
		m->dims[l] = dims[l];
	}
	for (unsigned int l = 0; l < layers; l++) {
		size_t k = dims[l], n = dims[l + 1];
		/* He-uniform: variance 2 / fan_in keeps ReLU activations in range. */
		float limit = sqrtf(6.0f / (float)k);

		m->w[l] = malloc(k * n * sizeof(float));
		m->b[l] = calloc(n, sizeof(float));
		if (!m->w[l] || !m->b[l]) {
			fprintf(stderr, "no memory for a %zux%zu layer\n", k, n);
			mlp_free(m);
			return -1;
		}
		for (size_t i = 0; i < k * n; i++)
			m->w[l][i] = (2.0f * rng_unit(&rng) - 1.0f) * limit;
	}
	return 0;
}

void mlp_free(struct mlp *m)
{
	for (unsigned int l = 0; l < MLP_MAX_LAYERS; l++) {
		free(m->w[l]);
		free(m->b[l]);
		m->w[l] = m->b[l] = NULL;
	}
}

/* out[n] = b[n] + sum_k in[k] * w[k][n], skipping zero inputs. */
static void dense(const float *restrict in, const float *restrict w, const float *restrict b,
		  float *restrict out, size_t k, size_t n)
{
	memcpy(out, b, n * sizeof(float));
	for (size_t i = 0; i < k; i++) {
		const float x = in[i];
		const float *restrict row = w + i * n;

		if (x == 0.0f)
			continue;
		for (size_t j = 0; j < n; j++)
			out[j] += x * row[j];
	}
}

unsigned int mlp_forward(const struct mlp *m, const uint8_t *pixels, float *const *acts)
{
	unsigned int best = 0, classes = m->dims[m->layers];
	float *logits = acts[m->layers];

	for (unsigned int i = 0; i < m->dims[0]; i++)
		acts[0][i] = (float)pixels[i] * (1.0f / 255.0f);
	for (unsigned int l = 0; l < m->layers; l++) {
		dense(acts[l], m->w[l], m->b[l], acts[l + 1], m->dims[l], m->dims[l + 1]);
		if (l + 1 < m->layers)
			for (unsigned int j = 0; j < m->dims[l + 1]; j++)
				acts[l + 1][j] = acts[l + 1][j] > 0.0f ? acts[l + 1][j] : 0.0f;
	}
	for (unsigned int c = 1; c < classes; c++)
		if (logits[c] > logits[best])
			best = c;
	return best;
}

struct scratch {
	float *acts[MLP_MAX_LAYERS + 1];
	float *delta[MLP_MAX_LAYERS + 1];
	float *gw[MLP_MAX_LAYERS], *gb[MLP_MAX_LAYERS];	/* gradient sums of a batch */
	float *vw[MLP_MAX_LAYERS], *vb[MLP_MAX_LAYERS];	/* momentum */
};

static void scratch_free(struct scratch *s, const struct mlp *m)
{
	for (unsigned int l = 0; l <= m->layers; l++) {
		free(s->acts[l]);
		free(s->delta[l]);
	}
	for (unsigned int l = 0; l < m->layers; l++) {
		free(s->gw[l]);
		free(s->gb[l]);
		free(s->vw[l]);
		free(s->vb[l]);
	}
}

static int scratch_alloc(struct scratch *s, const struct mlp *m)
{
	int ok = 1;

	memset(s, 0, sizeof(*s));
	for (unsigned int l = 0; l <= m->layers; l++) {
		s->acts[l] = calloc(m->dims[l], sizeof(float));
		s->delta[l] = calloc(m->dims[l], sizeof(float));
		ok &= s->acts[l] && s->delta[l];
	}
	for (unsigned int l = 0; l < m->layers; l++) {
		size_t kn = (size_t)m->dims[l] * m->dims[l + 1];

		s->gw[l] = calloc(kn, sizeof(float));
		s->vw[l] = calloc(kn, sizeof(float));
		s->gb[l] = calloc(m->dims[l + 1], sizeof(float));
		s->vb[l] = calloc(m->dims[l + 1], sizeof(float));
		ok &= s->gw[l] && s->vw[l] && s->gb[l] && s->vb[l];
	}
	if (!ok) {
		scratch_free(s, m);
		fprintf(stderr, "no memory for the training buffers\n");
	}
	return ok ? 0 : -1;
}

/* Adds one sample's gradients to s->gw/gb; returns its cross-entropy loss. */
static float backprop(const struct mlp *m, struct scratch *s, const uint8_t *pixels,
		      unsigned int label)
{
	unsigned int L = m->layers, classes = m->dims[L];
	float *logits = s->acts[L], *d = s->delta[L];
	float max = -INFINITY, sum = 0.0f;

	mlp_forward(m, pixels, s->acts);
	for (unsigned int c = 0; c < classes; c++)
		max = logits[c] > max ? logits[c] : max;
	for (unsigned int c = 0; c < classes; c++) {
		d[c] = expf(logits[c] - max);
		sum += d[c];
	}
	/* d(loss)/d(logits) = softmax - one_hot(label) */
	for (unsigned int c = 0; c < classes; c++)
		d[c] = d[c] / sum - (c == label ? 1.0f : 0.0f);

	for (unsigned int l = L; l-- > 0;) {
		size_t k = m->dims[l], n = m->dims[l + 1];
		const float *restrict in = s->acts[l], *restrict dl = s->delta[l + 1];
		float *restrict gw = s->gw[l], *restrict gb = s->gb[l];

		for (size_t j = 0; j < n; j++)
			gb[j] += dl[j];
		for (size_t i = 0; i < k; i++) {
			const float x = in[i];
			float *restrict row = gw + i * n;

			if (x == 0.0f)
				continue;
			for (size_t j = 0; j < n; j++)
				row[j] += x * dl[j];
		}
		if (l == 0)
			break;
		/* Through the ReLU: zero where the activation was clamped. */
		for (size_t i = 0; i < k; i++) {
			const float *restrict row = m->w[l] + i * n;
			float acc = 0.0f;

			if (in[i] <= 0.0f) {
				s->delta[l][i] = 0.0f;
				continue;
			}
			for (size_t j = 0; j < n; j++)
				acc += row[j] * dl[j];
			s->delta[l][i] = acc;
		}
	}
	return logf(sum) + max - logits[label];
}

static void sgd_step(struct mlp *m, struct scratch *s, float lr, float momentum, size_t batch)
{
	const float scale = lr / (float)batch;

	for (unsigned int l = 0; l < m->layers; l++) {
		size_t kn = (size_t)m->dims[l] * m->dims[l + 1], n = m->dims[l + 1];
		float *restrict w = m->w[l], *restrict vw = s->vw[l], *restrict gw = s->gw[l];
		float *restrict b = m->b[l], *restrict vb = s->vb[l], *restrict gb = s->gb[l];

		for (size_t i = 0; i < kn; i++) {
			vw[i] = momentum * vw[i] - scale * gw[i];
			w[i] += vw[i];
			gw[i] = 0.0f;
		}
		for (size_t j = 0; j < n; j++) {
			vb[j] = momentum * vb[j] - scale * gb[j];
			b[j] += vb[j];
			gb[j] = 0.0f;
		}
	}
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

int mlp_train(struct mlp *m, const uint8_t *pixels, const uint8_t *labels, size_t count,
	       const struct mlp_train_options *opt)
{
	struct scratch s;
	size_t *order = malloc(count * sizeof(*order));
	uint64_t rng = opt->seed ^ 0x5eed5eed5eed5eedull;
	float lr = opt->learning_rate;
	struct timespec t0;

	if (!order || scratch_alloc(&s, m)) {
		free(order);
		fprintf(stderr, "no memory to train\n");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		order[i] = i;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int epoch = 0; epoch < opt->epochs; epoch++) {
		double loss = 0.0;
		size_t in_batch = 0;

		for (size_t i = count; i > 1; i--) {	/* Fisher-Yates */
			size_t j = rng_below(&rng, i), t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t i = 0; i < count; i++) {
			size_t n = order[i];

			loss += backprop(m, &s, pixels + n * m->dims[0], labels[n]);
			if (++in_batch == opt->batch || i + 1 == count) {
				sgd_step(m, &s, lr, opt->momentum, in_batch);
				in_batch = 0;
			}
		}
		if (opt->verbose)
			printf("epoch %u/%u: lr %.4f, mean loss %.4f (%.1f s)\n", epoch + 1,
			       opt->epochs, lr, loss / (double)count, seconds_since(&t0));
		lr *= opt->lr_decay;
	}
	scratch_free(&s, m);
	free(order);
	return 0;
}

double mlp_accuracy(const struct mlp *m, const uint8_t *pixels, const uint8_t *labels,
		    size_t count)
{
	float *acts[MLP_MAX_LAYERS + 1] = { 0 };
	size_t correct = 0;
	int ok = 1;

	for (unsigned int l = 0; l <= m->layers; l++)
		ok &= (acts[l] = malloc(m->dims[l] * sizeof(float))) != NULL;
	for (size_t i = 0; ok && i < count; i++)
		correct += mlp_forward(m, pixels + i * m->dims[0], acts) == labels[i];
	for (unsigned int l = 0; l <= m->layers; l++)
		free(acts[l]);
	return ok && count ? (double)correct / (double)count : 0.0;
}
