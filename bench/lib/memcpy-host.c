// SPDX-License-Identifier: MIT
/*
 * memcpy-host: host memcpy bandwidth, the floor of the model's DMA (its data
 * copy is a host memcpy). Usage: memcpy-host REPS SIZE... (bytes); prints
 * "SIZE GB/s" per size, the median of REPS copies between two prefaulted
 * buffers. Built and run by bench/dma.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long reps = argc > 2 ? strtoul(argv[1], NULL, 10) : 0;
	uint64_t max = 0, *t;
	char *src, *dst;

	if (reps < 1 || reps > 1000) {
		fprintf(stderr, "usage: memcpy-host REPS SIZE...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		uint64_t s = strtoull(argv[i], NULL, 10);

		if (!s) {
			fprintf(stderr, "memcpy-host: bad size '%s'\n", argv[i]);
			return 2;
		}
		max = s > max ? s : max;
	}
	src = malloc(max);
	dst = malloc(max);
	t = calloc(reps, sizeof(*t));
	if (!src || !dst || !t) {
		fprintf(stderr, "memcpy-host: %s\n", strerror(ENOMEM));
		return 1;
	}
	memset(src, 3, max);
	memset(dst, 4, max);
	for (int i = 2; i < argc; i++) {
		uint64_t s = strtoull(argv[i], NULL, 10);

		for (unsigned long r = 0; r < reps; r++) {
			uint64_t t0 = now_ns();

			memcpy(dst, src, s);
			t[r] = now_ns() - t0;
		}
		qsort(t, reps, sizeof(*t), cmp_u64);
		/* dst is read so the copies cannot be elided. */
		printf("%llu %.4f %d\n", (unsigned long long)s, (double)s / (double)t[reps / 2],
		       dst[s - 1]);
	}
	free(src);
	free(dst);
	free(t);
	return 0;
}
