/* SPDX-License-Identifier: MIT */
/*
 * A small float multi-layer perceptron (dense layers, ReLU between them,
 * softmax cross-entropy at the end), trained with mini-batch SGD and momentum.
 * Deterministic: the same seed and data give the same weights bit for bit
 * (one thread, no fused multiply-add: build with -ffp-contract=off).
 */
#ifndef FMNIST_MLP_H
#define FMNIST_MLP_H

#include <stddef.h>
#include <stdint.h>

#define MLP_MAX_LAYERS 4

struct mlp {
	unsigned int layers;			/* dense layers */
	unsigned int dims[MLP_MAX_LAYERS + 1];	/* dims[0] inputs ... dims[layers] classes */
	float *w[MLP_MAX_LAYERS];		/* [dims[l]][dims[l+1]], row-major (K x N) */
	float *b[MLP_MAX_LAYERS];		/* [dims[l+1]] */
};

struct mlp_train_options {
	unsigned int epochs;
	unsigned int batch;		/* samples per SGD step */
	float learning_rate;		/* first epoch */
	float lr_decay;			/* learning rate factor per epoch */
	float momentum;
	uint64_t seed;			/* initial weights and shuffling */
	int verbose;
};

/* Largest layer width, for callers sizing activation buffers. */
unsigned int mlp_max_width(const struct mlp *m);

/* dims[0..layers]: sizes. Weights He-uniform from seed, biases 0. 0 or -1. */
int mlp_init(struct mlp *m, unsigned int layers, const unsigned int *dims, uint64_t seed);
void mlp_free(struct mlp *m);

/* Pixels (u8, dims[0] per image) are scaled to [0, 1] by / 255. 0 or -1. */
int mlp_train(struct mlp *m, const uint8_t *pixels, const uint8_t *labels, size_t count,
	       const struct mlp_train_options *opt);

/*
 * Forward pass of one image: acts[l] (l = 1..layers) receive the activations
 * after layer l (post-ReLU for hidden layers, logits for the last); acts[0]
 * receives the input in [0, 1]. Each buffer holds dims[l] floats. Returns the
 * predicted class.
 */
unsigned int mlp_forward(const struct mlp *m, const uint8_t *pixels, float *const *acts);

/* Fraction of images classified correctly. */
double mlp_accuracy(const struct mlp *m, const uint8_t *pixels, const uint8_t *labels,
		    size_t count);

#endif /* FMNIST_MLP_H */
