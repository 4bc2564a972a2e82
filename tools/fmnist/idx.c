// SPDX-License-Identifier: MIT
/*
 * IDX files: a big-endian header (magic 0x00000803 for u8 images with three
 * dimensions, 0x00000801 for u8 labels) followed by the bytes. zlib's gzread
 * reads plain files too, so both the packaged .gz files and unpacked ones work.
 */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_U8_1D 0x00000801u
#define IDX_MAGIC_U8_3D 0x00000803u
#define IDX_MAX_ITEMS 1000000u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads exactly size bytes; 0 or -1 with a message. */
static int read_exact(gzFile f, const char *path, void *buf, size_t size)
{
	uint8_t *p = buf;

	while (size) {
		unsigned int chunk = size > (1u << 30) ? 1u << 30 : (unsigned int)size;
		int n = gzread(f, p, chunk);

		if (n <= 0) {
			int err;
			const char *msg = gzerror(f, &err);

			fprintf(stderr, "%s: %s\n", path,
				n == 0 ? "file ends before the data its header announces" : msg);
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

static gzFile open_idx(const char *path)
{
	gzFile f = gzopen(path, "rb");

	if (!f)
		fprintf(stderr, "%s: cannot open: %s (install dataset-fashion-mnist: make setup)\n",
			path, errno ? strerror(errno) : "out of memory");
	return f;
}

/* Opens path and reads its header, which must start with magic; NULL (said why) if not. */
static gzFile open_with_header(const char *path, uint8_t *head, size_t size, uint32_t magic,
			       const char *what)
{
	gzFile f = open_idx(path);

	if (!f)
		return NULL;
	if (read_exact(f, path, head, size)) {
		gzclose(f);
		return NULL;
	}
	if (be32(head) != magic) {
		fprintf(stderr, "%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)\n", path,
			what, be32(head), magic);
		gzclose(f);
		return NULL;
	}
	return f;
}

int idx_read_images(const char *path, struct idx_images *out)
{
	uint8_t head[16];
	size_t bytes;
	gzFile f;

	memset(out, 0, sizeof(*out));
	f = open_with_header(path, head, sizeof(head), IDX_MAGIC_U8_3D, "image");
	if (!f)
		return -1;
	out->count = be32(head + 4);
	out->rows = be32(head + 8);
	out->cols = be32(head + 12);
	if (!out->count || out->count > IDX_MAX_ITEMS || out->rows != 28 || out->cols != 28) {
		fprintf(stderr, "%s: unexpected shape %ux%ux%u (want N x 28 x 28, N <= %u)\n",
			path, out->count, out->rows, out->cols, IDX_MAX_ITEMS);
		goto fail;
	}
	bytes = (size_t)out->count * out->rows * out->cols;
	out->pixels = malloc(bytes);
	if (!out->pixels) {
		fprintf(stderr, "%s: no memory for %zu bytes of pixels\n", path, bytes);
		goto fail;
	}
	if (read_exact(f, path, out->pixels, bytes))
		goto fail;
	gzclose(f);
	return 0;
fail:
	free(out->pixels);
	out->pixels = NULL;
	gzclose(f);
	return -1;
}

int idx_read_labels(const char *path, struct idx_labels *out)
{
	uint8_t head[8];
	gzFile f;

	memset(out, 0, sizeof(*out));
	f = open_with_header(path, head, sizeof(head), IDX_MAGIC_U8_1D, "label");
	if (!f)
		return -1;
	out->count = be32(head + 4);
	if (!out->count || out->count > IDX_MAX_ITEMS) {
		fprintf(stderr, "%s: bad label count %u\n", path, out->count);
		goto fail;
	}
	out->labels = malloc(out->count);
	if (!out->labels) {
		fprintf(stderr, "%s: no memory for %u labels\n", path, out->count);
		goto fail;
	}
	if (read_exact(f, path, out->labels, out->count))
		goto fail;
	for (uint32_t i = 0; i < out->count; i++) {
		if (out->labels[i] > 9) {
			fprintf(stderr, "%s: label %u of item %u is not a class 0..9\n", path,
				out->labels[i], i);
			goto fail;
		}
	}
	gzclose(f);
	return 0;
fail:
	free(out->labels);
	out->labels = NULL;
	gzclose(f);
	return -1;
}
