// SPDX-License-Identifier: MIT
/* Writing program containers: the builder used by the assembler and converters. */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "error.h"
#include "npuhal.h"

struct builder_section {
	uint32_t type;
	uint64_t dram_addr;
	void *data;
	size_t size;
};

struct npu_program_builder {
	struct npu_prog_header header;
	struct builder_section sections[NPU_PROG_MAX_SECTIONS];
	unsigned int section_count;
	struct npu_prog_tensor tensors[NPU_PROG_MAX_TENSORS];
	unsigned int tensor_count;
};

static uint64_t align_up(uint64_t v)
{
	return (v + NPU_PROG_ALIGN - 1) & ~(uint64_t)(NPU_PROG_ALIGN - 1);
}

npu_status npu_program_builder_new(const char *arch, unsigned int pe_count, uint64_t dram_size,
				   npu_program_builder **out)
{
	npu_program_builder *b;

	if (!arch || !out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "arch and out must not be NULL");
	if (strlen(arch) >= NPU_PROG_ARCH_LEN)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "architecture name '%s' is too long", arch);
	b = calloc(1, sizeof(*b));
	if (!b)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a program builder");
	memcpy(b->header.magic, NPU_PROG_MAGIC, NPU_PROG_MAGIC_LEN);
	b->header.version_major = NPU_PROG_VERSION_MAJOR;
	b->header.version_minor = NPU_PROG_VERSION_MINOR;
	b->header.header_size = sizeof(b->header);
	strcpy(b->header.arch, arch);
	b->header.pe_count = pe_count;
	b->header.dram_size = dram_size;
	*out = b;
	return NPU_OK;
}

npu_status npu_program_builder_add_section(npu_program_builder *b, uint32_t type,
					   uint64_t dram_addr, const void *data, size_t size)
{
	struct builder_section *s;

	if (!b || (!data && size))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "builder and data must not be NULL");
	/* One slot stays free for the tensor section. */
	if (b->section_count + 1 >= NPU_PROG_MAX_SECTIONS)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "too many sections (at most %d)",
				NPU_PROG_MAX_SECTIONS - 1);
	if (type != NPU_PROG_SECTION_CODE && type != NPU_PROG_SECTION_CONST)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT,
				"section type %u: only code and constant sections are added", type);
	s = &b->sections[b->section_count];
	s->data = malloc(size ? size : 1);
	if (!s->data)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a %zu-byte section", size);
	memcpy(s->data, data, size);
	s->type = type;
	s->dram_addr = dram_addr;
	s->size = size;
	b->section_count++;
	return NPU_OK;
}

npu_status npu_program_builder_add_tensor(npu_program_builder *b,
					  const struct npu_prog_tensor *tensor)
{
	if (!b || !tensor)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "builder and tensor must not be NULL");
	if (b->tensor_count >= NPU_PROG_MAX_TENSORS)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "too many tensors (at most %d)",
				NPU_PROG_MAX_TENSORS);
	b->tensors[b->tensor_count++] = *tensor;
	return NPU_OK;
}

npu_status npu_program_builder_finish(npu_program_builder *b, void **data, size_t *size)
{
	struct npu_prog_header *h;
	struct npu_prog_section *table;
	unsigned int n;
	uint64_t off, total;
	uint8_t *buf;
	npu_program *check;
	npu_status st;

	if (!b || !data || !size)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "builder, data and size must not be NULL");
	*data = NULL;
	*size = 0;
	n = b->section_count + 1;
	off = align_up(sizeof(*h) + (uint64_t)n * sizeof(*table));
	total = off;
	for (unsigned int i = 0; i < b->section_count; i++)
		total = align_up(total + b->sections[i].size);
	total += (uint64_t)b->tensor_count * sizeof(b->tensors[0]);
	buf = calloc(1, total);
	if (!buf)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a %llu-byte program",
				(unsigned long long)total);

	h = (struct npu_prog_header *)buf;
	*h = b->header;
	h->section_count = n;
	h->section_table = sizeof(*h);
	h->file_size = total;
	table = (struct npu_prog_section *)(buf + sizeof(*h));
	for (unsigned int i = 0; i < b->section_count; i++) {
		table[i] = (struct npu_prog_section){
			.type = b->sections[i].type, .offset = off,
			.size = b->sections[i].size, .dram_addr = b->sections[i].dram_addr,
		};
		memcpy(buf + off, b->sections[i].data, b->sections[i].size);
		off = align_up(off + b->sections[i].size);
	}
	table[n - 1] = (struct npu_prog_section){
		.type = NPU_PROG_SECTION_TENSORS, .offset = off,
		.size = (uint64_t)b->tensor_count * sizeof(b->tensors[0]),
	};
	memcpy(buf + off, b->tensors, table[n - 1].size);
	h->crc32 = npu_crc32(0, buf, total);

	st = npu_program_from_bytes(buf, total, &check);
	if (st) {
		free(buf);
		return st;
	}
	npu_program_free(check);
	*data = buf;
	*size = total;
	return NPU_OK;
}

void npu_program_builder_free(npu_program_builder *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < b->section_count; i++)
		free(b->sections[i].data);
	free(b);
}
