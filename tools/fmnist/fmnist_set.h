/* SPDX-License-Identifier: MIT */
/*
 * The image-set file the Fashion-MNIST trainer writes for the test VM
 * ("fmnist-test-1000.bin"): a handful of test images with their labels and
 * the classes the host predicted with the CPU reference runner, so the guest
 * needs neither the dataset nor zlib. Little-endian:
 *
 *   struct fmnist_set_header             at 0
 *   uint8_t labels[count]                true classes, 0..9
 *   uint8_t predicted[count]             host int8 predictions (npu_cpu_run)
 *   uint8_t pixels[count][rows * cols]   row-major, 0..255 (0 = background)
 */
#ifndef FMNIST_SET_H
#define FMNIST_SET_H

#include <stdint.h>

#define FMNIST_SET_MAGIC	"FMNSET1"	/* 8 bytes with the NUL */
#define FMNIST_CLASSES		10

struct fmnist_set_header {
	char magic[8];		/* FMNIST_SET_MAGIC */
	uint32_t count;		/* images */
	uint32_t rows, cols;	/* 28, 28 */
	uint32_t reserved[3];	/* 0 */
};

#endif /* FMNIST_SET_H */
