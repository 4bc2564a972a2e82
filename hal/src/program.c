// SPDX-License-Identifier: MIT
/*
 * Loading and validating program containers (hal/include/npu_program.h).
 *
 * Validation happens once, here, before anything reads through an offset:
 * later code (sessions, the CPU runner, the inspector) relies on a loaded
 * npu_program being internally consistent.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "devspec.h"
#include "error.h"
#include "npuhal.h"
#include "tensor.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the program container is little-endian and read in place: port the loader"
#endif

/* A program file bigger than this is certainly not one of ours. */
#define NPU_PROG_MAX_FILE_SIZE (1ull << 32)

struct npu_program {
	size_t size;
	const struct npu_prog_header *header;
	const struct npu_prog_section *sections;
	const struct npu_prog_tensor *tensors;
	size_t tensor_count;
	uint8_t data[];		/* the file, 8-byte aligned by malloc */
};

static npu_status bad(const char *fmt, ...) NPU_PRINTF(1, 2);

static npu_status bad(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return npu_fail(NPU_ERR_BAD_PROGRAM, "bad program: %s", msg);
}

/* For printing any unsigned field with %llu. */
#define U(x) ((unsigned long long)(x))

size_t npu_prog_dtype_size(unsigned int dtype)
{
	switch (dtype) {
	case NPU_PROG_DTYPE_INT8:
	case NPU_PROG_DTYPE_UINT8:
		return 1;
	case NPU_PROG_DTYPE_INT32:
	case NPU_PROG_DTYPE_FLOAT32:
		return 4;
	}
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* [a, a+alen) and [b, b+blen) intersect; lengths are non-zero and in range. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* addr + len <= limit without overflow */
static bool fits(uint64_t addr, uint64_t len, uint64_t limit)
{
	return addr <= limit && len <= limit - addr;
}

static npu_status check_header(const struct npu_prog_header *h, size_t size)
{
	const struct npu_arch_info *arch;
	uint64_t table_end;

	if (memcmp(h->magic, NPU_PROG_MAGIC, NPU_PROG_MAGIC_LEN) != 0)
		return bad("not an NPU program (the file does not start with \"NPUPROG\")");
	if (h->version_major != NPU_PROG_VERSION_MAJOR)
		return bad("format version %u.%u; this library reads version %d.x",
			   h->version_major, h->version_minor, NPU_PROG_VERSION_MAJOR);
	if (h->header_size < sizeof(*h) || h->header_size > size)
		return bad("header size %u is out of range", h->header_size);
	if (h->file_size != size)
		return bad("%s: the header says %llu bytes, the file has %zu",
			   h->file_size > size ? "truncated" : "oversized", U(h->file_size), size);
	if (!memchr(h->arch, '\0', sizeof(h->arch)) || h->arch[0] == '\0')
		return bad("the target architecture name is empty or not terminated");
	arch = npu_arch_lookup(h->arch);
	if (!arch)
		return bad("unknown target architecture '%s'", h->arch);
	if (h->pe_count != 1 && h->pe_count != arch->pes)
		return bad("PE count %u: a %s program runs on 1 PE or %u fused PEs",
			   h->pe_count, arch->name, arch->pes);
	if (h->section_count == 0 || h->section_count > NPU_PROG_MAX_SECTIONS)
		return bad("%u sections; 1..%d allowed", h->section_count, NPU_PROG_MAX_SECTIONS);
	if (h->section_table % 8 || h->section_table < h->header_size)
		return bad("section table offset %u is misaligned or inside the header",
			   h->section_table);
	table_end = (uint64_t)h->section_table +
		    (uint64_t)h->section_count * sizeof(struct npu_prog_section);
	if (table_end > size)
		return bad("truncated: the section table ends at %llu, the file at %zu",
			   U(table_end), size);
	if (h->dram_size == 0 || h->dram_size % NPU_PROG_ALIGN)
		return bad("DRAM size %llu is zero or not a multiple of 64", U(h->dram_size));
	if (h->reserved[0] || h->reserved[1])
		return bad("reserved header fields are not zero");
	return NPU_OK;
}

static npu_status check_sections(const struct npu_prog_header *h,
				 const struct npu_prog_section *s, size_t *tensors_index)
{
	uint64_t table_end = (uint64_t)h->section_table +
			     (uint64_t)h->section_count * sizeof(*s);
	unsigned int code = 0, tensors = 0;

	for (uint32_t i = 0; i < h->section_count; i++) {
		const struct npu_prog_section *si = &s[i];

		if (si->type < NPU_PROG_SECTION_CODE || si->type > NPU_PROG_SECTION_TENSORS)
			return bad("section %u has unknown type %u", i, si->type);
		if (si->flags)
			return bad("section %u has unknown flags 0x%x", i, si->flags);
		if (si->offset % NPU_PROG_ALIGN || si->offset < table_end)
			return bad("section %u offset %llu is misaligned or overlaps the header",
				   i, U(si->offset));
		if (si->size == 0 || !fits(si->offset, si->size, h->file_size))
			return bad("section %u (%llu bytes) is empty or runs past the end of the file",
				   i, U(si->size));
		for (uint32_t j = 0; j < i; j++)
			if (overlaps(si->offset, si->size, s[j].offset, s[j].size))
				return bad("sections %u and %u overlap in the file", j, i);
		switch (si->type) {
		case NPU_PROG_SECTION_CODE:
			code++;
			if (si->size % NPU_PROG_ALIGN)
				return bad("code section size %llu is not a multiple of 64",
					   U(si->size));
			/* fall through */
		case NPU_PROG_SECTION_CONST:
			if (!fits(si->dram_addr, si->size, h->dram_size))
				return bad("section %u is loaded past the program's DRAM size %llu",
					   i, U(h->dram_size));
			for (uint32_t j = 0; j < i; j++)
				if (s[j].type != NPU_PROG_SECTION_TENSORS &&
				    overlaps(si->dram_addr, si->size, s[j].dram_addr, s[j].size))
					return bad("sections %u and %u overlap in DRAM", j, i);
			break;
		case NPU_PROG_SECTION_TENSORS:
			tensors++;
			*tensors_index = i;
			if (si->dram_addr)
				return bad("tensor section %u has a DRAM address", i);
			if (si->size % sizeof(struct npu_prog_tensor) ||
			    si->size / sizeof(struct npu_prog_tensor) > NPU_PROG_MAX_TENSORS)
				return bad("tensor section size %llu is not n * 128 with n <= %d",
					   U(si->size), NPU_PROG_MAX_TENSORS);
			break;
		}
	}
	if (code != 1 || tensors != 1)
		return bad("%u code and %u tensor sections; exactly one of each is required",
			   code, tensors);
	return NPU_OK;
}

static npu_status check_tensor(const struct npu_prog_header *h, const struct npu_prog_tensor *t,
			       size_t i)
{
	uint64_t elems;
	size_t esize = npu_prog_dtype_size(t->dtype);

	if (!memchr(t->name, '\0', sizeof(t->name)) || t->name[0] == '\0')
		return bad("tensor %zu has an empty or unterminated name", i);
	if (t->kind != NPU_TENSOR_INPUT && t->kind != NPU_TENSOR_OUTPUT)
		return bad("tensor '%s' has unknown kind %u", t->name, t->kind);
	if (!esize || t->dtype == NPU_PROG_DTYPE_FLOAT32)
		return bad("tensor '%s' has device dtype %u; int8, uint8 or int32 expected",
			   t->name, t->dtype);
	if (!npu_prog_dtype_size(t->host_dtype))
		return bad("tensor '%s' has unknown host dtype %u", t->name, t->host_dtype);
	if (t->host_dtype != t->dtype && t->host_dtype != NPU_PROG_DTYPE_FLOAT32)
		return bad("tensor '%s': host dtype %u must equal the device dtype or be float32 (%d)",
			   t->name, t->host_dtype, NPU_PROG_DTYPE_FLOAT32);
	if (t->host_dtype == NPU_PROG_DTYPE_FLOAT32 &&
	    (!isfinite(t->scale) || !(t->scale > 0.0f)))
		return bad("tensor '%s' is quantized on the host but its scale is not a positive number",
			   t->name);
	if (t->rank < 1 || t->rank > NPU_PROG_MAX_RANK)
		return bad("tensor '%s' has rank %u; 1..%d allowed", t->name, t->rank,
			   NPU_PROG_MAX_RANK);
	if (t->layout > NPU_LAYOUT_NHWC || (t->layout == NPU_LAYOUT_NHWC && t->rank != 4))
		return bad("tensor '%s' has layout %u with rank %u (NHWC needs rank 4)",
			   t->name, t->layout, t->rank);
	if (!all_zero(t->reserved0, sizeof(t->reserved0)) ||
	    !all_zero(t->reserved1, sizeof(t->reserved1)))
		return bad("tensor '%s' has non-zero reserved fields", t->name);
	for (unsigned int d = 0; d < NPU_PROG_MAX_RANK; d++) {
		if (d >= t->rank) {
			if (t->dims[d] || t->pad[d])
				return bad("tensor '%s' has dims past its rank %u", t->name,
					   t->rank);
			continue;
		}
		if (!t->dims[d])
			return bad("tensor '%s' dimension %u is 0", t->name, d);
	}
	elems = npu_tensor_device_elements(t);
	if (elems == UINT64_MAX)
		return bad("tensor '%s' is too large", t->name);
	if (t->byte_size != elems * esize)
		return bad("tensor '%s' byte size %llu does not match its shape (%llu)", t->name,
			   U(t->byte_size), U(elems * esize));
	if (!fits(t->dram_addr, t->byte_size, h->dram_size))
		return bad("tensor '%s' at DRAM %llu lies past the program's DRAM size %llu",
			   t->name, U(t->dram_addr), U(h->dram_size));
	return NPU_OK;
}

static npu_status check_tensors(const struct npu_prog_header *h,
				const struct npu_prog_section *s,
				const struct npu_prog_tensor *t, size_t n)
{
	unsigned int outputs = 0;
	npu_status st;

	for (size_t i = 0; i < n; i++) {
		st = check_tensor(h, &t[i], i);
		if (st)
			return st;
		outputs += t[i].kind == NPU_TENSOR_OUTPUT;
		for (uint32_t k = 0; k < h->section_count; k++)
			if (s[k].type != NPU_PROG_SECTION_TENSORS &&
			    overlaps(t[i].dram_addr, t[i].byte_size, s[k].dram_addr, s[k].size))
				return bad("tensor '%s' overlaps section %u in DRAM", t[i].name, k);
		for (size_t j = 0; j < i; j++) {
			if (t[j].kind != t[i].kind)
				continue;
			if (strcmp(t[j].name, t[i].name) == 0)
				return bad("two tensors are named '%s'", t[i].name);
			if (overlaps(t[i].dram_addr, t[i].byte_size, t[j].dram_addr, t[j].byte_size))
				return bad("tensor '%s' overlaps tensor '%s' in DRAM",
					   t[i].name, t[j].name);
		}
	}
	if (!outputs)
		return bad("the program has no output tensor");
	return NPU_OK;
}

npu_status npu_program_from_bytes(const void *data, size_t size, npu_program **out)
{
	struct npu_prog_header hcopy;
	size_t tensors_index = 0;
	npu_program *p;
	uint32_t crc;
	npu_status st;

	if (!out || (!data && size))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "data and out must not be NULL");
	*out = NULL;
	if (size < sizeof(struct npu_prog_header))
		return bad("truncated: %zu bytes, the header alone needs %zu",
			   size, sizeof(hcopy));
	if (size > NPU_PROG_MAX_FILE_SIZE)
		return bad("oversized: %zu bytes, at most %llu", size, NPU_PROG_MAX_FILE_SIZE);

	p = malloc(sizeof(*p) + size);
	if (!p)
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory for a %zu-byte program", size);
	memcpy(p->data, data, size);
	p->size = size;
	p->header = (const struct npu_prog_header *)p->data;

	st = check_header(p->header, size);
	if (st)
		goto fail;
	/* CRC over the file with the crc32 field zeroed. */
	memcpy(&hcopy, p->header, sizeof(hcopy));
	hcopy.crc32 = 0;
	crc = npu_crc32(0, &hcopy, sizeof(hcopy));
	crc = npu_crc32(crc, p->data + sizeof(hcopy), size - sizeof(hcopy));
	if (crc != p->header->crc32) {
		st = bad("bad CRC: the header says 0x%08x, the contents give 0x%08x",
			 p->header->crc32, crc);
		goto fail;
	}
	p->sections = (const struct npu_prog_section *)(p->data + p->header->section_table);
	st = check_sections(p->header, p->sections, &tensors_index);
	if (st)
		goto fail;
	p->tensors = (const struct npu_prog_tensor *)(p->data +
						      p->sections[tensors_index].offset);
	p->tensor_count = p->sections[tensors_index].size / sizeof(struct npu_prog_tensor);
	st = check_tensors(p->header, p->sections, p->tensors, p->tensor_count);
	if (st)
		goto fail;
	*out = p;
	return NPU_OK;
fail:
	free(p);
	return st;
}

npu_status npu_program_load(const char *path, npu_program **out)
{
	FILE *f;
	void *buf = NULL;
	long len;
	npu_status st;

	if (!path || !out)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "path and out must not be NULL");
	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return npu_fail(errno == ENOENT ? NPU_ERR_NOT_FOUND : NPU_ERR_IO,
				"cannot open program '%s': %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		st = npu_fail(NPU_ERR_IO, "cannot read program '%s': %s", path, strerror(errno));
		goto out;
	}
	if ((unsigned long long)len > NPU_PROG_MAX_FILE_SIZE) {
		st = npu_fail(NPU_ERR_BAD_PROGRAM, "bad program: '%s' is %ld bytes, too large",
			      path, len);
		goto out;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf) {
		st = npu_fail(NPU_ERR_NO_MEMORY, "no memory to read '%s' (%ld bytes)", path, len);
		goto out;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		st = npu_fail(NPU_ERR_IO, "short read from program '%s'", path);
		goto out;
	}
	st = npu_program_from_bytes(buf, (size_t)len, out);
out:
	free(buf);
	fclose(f);
	return st;
}

void npu_program_free(npu_program *program)
{
	free(program);
}

const struct npu_prog_header *npu_program_header(const npu_program *program)
{
	return program ? program->header : NULL;
}

size_t npu_program_section_count(const npu_program *program)
{
	return program ? program->header->section_count : 0;
}

const struct npu_prog_section *npu_program_section(const npu_program *program, size_t index)
{
	if (!program || index >= program->header->section_count)
		return NULL;
	return &program->sections[index];
}

const void *npu_program_section_data(const npu_program *program, size_t index)
{
	const struct npu_prog_section *s = npu_program_section(program, index);

	return s ? program->data + s->offset : NULL;
}

size_t npu_program_tensor_count(const npu_program *program)
{
	return program ? program->tensor_count : 0;
}

const struct npu_prog_tensor *npu_program_tensor(const npu_program *program, size_t index)
{
	if (!program || index >= program->tensor_count)
		return NULL;
	return &program->tensors[index];
}
