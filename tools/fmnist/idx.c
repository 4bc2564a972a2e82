// SPDX-License-Identifier: MIT
/*
 * IDX files: a big-endian header (magic 0x00000803 for u8 images with three
 * dimensions, 0x00000801 for u8 labels) followed by the bytes. zlib's gzread
 * reads plain files too, so both the packaged .gz files and unpacked ones work.
 */
#include "idx.h"

#include <errno.h>
#include <stdbool.h>
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

/*
 * Opens path and reads its header, which must start with magic and give
 * 1..IDX_MAX_ITEMS items (*count); NULL (said why) if not.
 */
static gzFile open_with_header(const char *path, uint8_t *head, size_t size, uint32_t magic,
			       const char *what, uint32_t *count)
{
	gzFile f = open_idx(path);

	if (!f)
		return NULL;
	if (read_exact(f, path, head, size)) {
		gzclose(f);
		return NULL;
	}
	*count = be32(head + 4);
	if (be32(head) != magic) {
		fprintf(stderr, "%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)\n", path,
			what, be32(head), magic);
	} else if (!*count || *count > IDX_MAX_ITEMS) {
		fprintf(stderr, "%s: bad %s count %u (1 to %u)\n", path, what, *count,
			IDX_MAX_ITEMS);
	} else {
		return f;
	}
	gzclose(f);
	return NULL;
}

/* Reads the bytes after the header into a new buffer and closes f; NULL (said why) on error. */
static uint8_t *read_body(gzFile f, const char *path, size_t bytes, const char *what)
{
	uint8_t *buf = malloc(bytes);

	if (!buf) {
		fprintf(stderr, "%s: no memory for %zu bytes of %s\n", path, bytes, what);
	} else if (read_exact(f, path, buf, bytes)) {
		free(buf);
		buf = NULL;
	}
	gzclose(f);
	return buf;
}

/*
 * Reads a whole u8 IDX file: 28x28 images when rows and cols are given
 * (they receive the header's dimensions), labels when they are NULL.
 * Returns the bytes after the header, or NULL (said why).
 */
static uint8_t *read_idx(const char *path, uint32_t *count, uint32_t *rows, uint32_t *cols)
{
	bool images = rows != NULL;
	uint8_t head[16];
	size_t bytes;
	gzFile f = open_with_header(path, head, images ? 16 : 8,
				    images ? IDX_MAGIC_U8_3D : IDX_MAGIC_U8_1D,
				    images ? "image" : "label", count);

	if (!f)
		return NULL;
	bytes = *count;
	if (images) {
		*rows = be32(head + 8);
		*cols = be32(head + 12);
		if (*rows != 28 || *cols != 28) {
			fprintf(stderr, "%s: images of %ux%u pixels (want 28 x 28)\n", path,
				*rows, *cols);
			gzclose(f);
			return NULL;
		}
		bytes = (size_t)*count * *rows * *cols;
	}
	return read_body(f, path, bytes, images ? "pixels" : "labels");
}

int idx_read_images(const char *path, struct idx_images *out)
{
	memset(out, 0, sizeof(*out));
	out->pixels = read_idx(path, &out->count, &out->rows, &out->cols);
	return out->pixels ? 0 : -1;
}

int idx_read_labels(const char *path, struct idx_labels *out)
{
	memset(out, 0, sizeof(*out));
	out->labels = read_idx(path, &out->count, NULL, NULL);
	if (!out->labels)
		return -1;
	for (uint32_t i = 0; i < out->count; i++) {
		if (out->labels[i] > 9) {
			fprintf(stderr, "%s: label %u of item %u is not a class 0..9\n", path,
				out->labels[i], i);
			free(out->labels);
			out->labels = NULL;
			return -1;
		}
	}
	return 0;
}
