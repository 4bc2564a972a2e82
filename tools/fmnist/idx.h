/* SPDX-License-Identifier: MIT */
/* Reading the IDX files of (Fashion-)MNIST, gzip-compressed or not. */
#ifndef FMNIST_IDX_H
#define FMNIST_IDX_H

#include <stddef.h>
#include <stdint.h>

struct idx_images {
	uint32_t count, rows, cols;
	uint8_t *pixels;	/* count * rows * cols, row-major */
};

struct idx_labels {
	uint32_t count;
	uint8_t *labels;
};

/* Return 0, or -1 after printing what was wrong with the file to stderr. */
int idx_read_images(const char *path, struct idx_images *out);
int idx_read_labels(const char *path, struct idx_labels *out);

#endif /* FMNIST_IDX_H */
