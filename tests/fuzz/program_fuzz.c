// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the program container parser. Each input is parsed
 * as given and again with its CRC fixed up, so the fuzzer gets past the
 * checksum into section and tensor validation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "npuhal.h"

static void parse(const uint8_t *data, size_t size)
{
	npu_program *p = NULL;

	if (npu_program_from_bytes(data, size, &p) == NPU_OK) {
		/* Touch everything a user of a loaded program may touch. */
		for (size_t i = 0; i < npu_program_section_count(p); i++) {
			const struct npu_prog_section *s = npu_program_section(p, i);
			const uint8_t *d = npu_program_section_data(p, i);

			if (s->size)
				(void)(volatile uint8_t)(d[0] ^ d[s->size - 1]);
		}
		for (size_t i = 0; i < npu_program_tensor_count(p); i++)
			(void)strlen(npu_program_tensor(p, i)->name);
		npu_program_free(p);
	} else if (p) {
		abort();	/* failure must leave *out NULL */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npu_prog_header h;
	uint8_t *copy;

	parse(data, size);
	if (size < sizeof(h))
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memcpy(&h, copy, sizeof(h));
	h.crc32 = 0;
	memcpy(copy, &h, sizeof(h));
	h.crc32 = npu_crc32(0, copy, size);
	memcpy(copy, &h, sizeof(h));
	parse(copy, size);
	free(copy);
	return 0;
}
