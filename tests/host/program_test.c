// SPDX-License-Identifier: MIT
/* Program container: a valid file loads; every kind of damage gets its own clear error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "crc32.h"
#include "npuhal.h"

#define DRAM 4096

static struct npu_prog_tensor tensor(const char *name, int kind, uint64_t addr, uint32_t n)
{
	struct npu_prog_tensor t = {
		.kind = (uint8_t)kind, .dtype = NPU_PROG_DTYPE_INT8,
		.host_dtype = NPU_PROG_DTYPE_FLOAT32, .rank = 2, .layout = NPU_LAYOUT_ROW_MAJOR,
		.dims = { 2, n }, .dram_addr = addr, .byte_size = 2ull * n,
		.scale = 0.5f, .zero_point = -3,
	};

	strcpy(t.name, name);
	return t;
}

/* A small valid program: 2 instructions, 96 bytes of constants, one input, one output. */
static void *build_valid(size_t *size)
{
	uint8_t code[128] = { 0x01 }, consts[96];
	struct npu_prog_tensor in = tensor("input", NPU_TENSOR_INPUT, 1024, 8);
	struct npu_prog_tensor out = tensor("logits", NPU_TENSOR_OUTPUT, 2048, 5);
	npu_program_builder *b;
	void *data;

	memset(consts, 0x5a, sizeof(consts));
	if (npu_program_builder_new("warboy", 1, DRAM, &b) ||
	    npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code, sizeof(code)) ||
	    npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, 512, consts, sizeof(consts)) ||
	    npu_program_builder_add_tensor(b, &in) || npu_program_builder_add_tensor(b, &out) ||
	    npu_program_builder_finish(b, &data, size)) {
		fprintf(stderr, "build_valid: %s\n", npu_last_error());
		abort();
	}
	npu_program_builder_free(b);
	return data;
}

static void fix_crc(uint8_t *data, size_t size)
{
	struct npu_prog_header *h = (struct npu_prog_header *)data;

	h->crc32 = 0;
	h->crc32 = npu_crc32(0, data, size);
}

/* Loads data and expects BAD_PROGRAM with `words` in the message. */
static int rejected_with(const void *data, size_t size, const char *words)
{
	npu_program *p = (npu_program *)&p;

	if (npu_program_from_bytes(data, size, &p) != NPU_ERR_BAD_PROGRAM || p)
		return 0;
	if (!strstr(npu_last_error(), words)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", npu_last_error(), words);
		return 0;
	}
	return 1;
}

FIXTURE(prog)
{
	uint8_t *data;
	size_t size;
	struct npu_prog_header *h;
	struct npu_prog_section *sec;
	struct npu_prog_tensor *tensors;
};

FIXTURE_SETUP(prog)
{
	self->data = build_valid(&self->size);
	self->h = (struct npu_prog_header *)self->data;
	self->sec = (struct npu_prog_section *)(self->data + self->h->section_table);
	self->tensors = (struct npu_prog_tensor *)(self->data + self->sec[2].offset);
}

FIXTURE_TEARDOWN(prog)
{
	free(self->data);
}

TEST_F(prog, valid_program_loads_with_its_fields)
{
	npu_program *p;
	const struct npu_prog_tensor *t;

	ASSERT_EQ(NPU_OK, npu_program_from_bytes(self->data, self->size, &p))
		TH_LOG("%s", npu_last_error());
	EXPECT_STREQ("warboy", npu_program_header(p)->arch);
	EXPECT_EQ(1u, npu_program_header(p)->pe_count);
	ASSERT_EQ(3u, npu_program_section_count(p));
	EXPECT_EQ((uint32_t)NPU_PROG_SECTION_CODE, npu_program_section(p, 0)->type);
	EXPECT_EQ(128u, npu_program_section(p, 0)->size);
	EXPECT_EQ(0x01, ((const uint8_t *)npu_program_section_data(p, 0))[0]);
	EXPECT_EQ(512u, npu_program_section(p, 1)->dram_addr);
	EXPECT_EQ(0x5a, ((const uint8_t *)npu_program_section_data(p, 1))[95]);
	ASSERT_EQ(2u, npu_program_tensor_count(p));
	t = npu_program_tensor(p, 1);
	EXPECT_STREQ("logits", t->name);
	EXPECT_EQ(NPU_TENSOR_OUTPUT, t->kind);
	EXPECT_EQ(10u, t->byte_size);
	EXPECT_EQ(NULL, npu_program_tensor(p, 2));
	EXPECT_EQ(NULL, npu_program_section(p, 3));
	npu_program_free(p);
}

TEST_F(prog, every_truncation_is_rejected)
{
	for (size_t len = 0; len < self->size; len++) {
		ASSERT_TRUE(rejected_with(self->data, len, "truncated")) TH_LOG("length %zu", len);
	}
}

TEST_F(prog, oversized_file_is_rejected)
{
	uint8_t *big = calloc(1, self->size + 64);

	ASSERT_NE(NULL, big);
	memcpy(big, self->data, self->size);
	EXPECT_TRUE(rejected_with(big, self->size + 64, "oversized"));
	free(big);
}

TEST_F(prog, bad_crc_is_rejected)
{
	self->data[self->size - 1] ^= 1;
	EXPECT_TRUE(rejected_with(self->data, self->size, "bad CRC"));
}

TEST_F(prog, bad_magic_and_version_are_rejected)
{
	self->data[0] = 'X';
	EXPECT_TRUE(rejected_with(self->data, self->size, "not an NPU program"));
	self->data[0] = 'N';
	self->h->version_major = 2;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "format version 2.0"));
}

TEST_F(prog, wrong_arch_and_pe_count_are_rejected)
{
	npu_program *p = NULL;

	strcpy(self->h->arch, "renegade");
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "unknown target architecture 'renegade'"));
	strcpy(self->h->arch, "warboy");
	self->h->pe_count = 3;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "PE count 3"));
	self->h->pe_count = 2;
	fix_crc(self->data, self->size);
	EXPECT_EQ(NPU_OK, npu_program_from_bytes(self->data, self->size, &p));
	npu_program_free(p);
}

TEST_F(prog, section_bounds_are_checked)
{
	self->sec[1].size = self->size;	/* runs past the end */
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "runs past the end"));
	self->sec[1].size = UINT64_MAX - 10;	/* overflows offset + size */
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "runs past the end"));
	self->sec[1].size = 96;
	self->sec[1].offset = self->sec[0].offset;	/* overlaps the code in the file */
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "overlap in the file"));
}

TEST_F(prog, dram_layout_is_checked)
{
	self->sec[1].dram_addr = DRAM - 32;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "past the program's DRAM size"));
	self->sec[1].dram_addr = 64;	/* overlaps the code in DRAM */
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "overlap in DRAM"));
}

TEST_F(prog, tensor_descriptors_are_checked)
{
	struct npu_prog_tensor saved = self->tensors[1];

	self->tensors[1].byte_size = 11;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "does not match its shape"));
	self->tensors[1] = saved;
	self->tensors[1].dram_addr = DRAM - 4;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "past the program's DRAM size"));
	self->tensors[1] = saved;
	strcpy(self->tensors[1].name, "input");
	self->tensors[1].kind = NPU_TENSOR_INPUT;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "two tensors are named 'input'"));
	self->tensors[1] = saved;
	memset(self->tensors[1].name, 'x', sizeof(self->tensors[1].name));
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "unterminated name"));
	self->tensors[1] = saved;
	self->tensors[1].rank = 7;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "rank 7"));
	self->tensors[1] = saved;
	self->tensors[1].scale = 0.0f;
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "scale"));
	self->tensors[1] = saved;
	self->tensors[1].dram_addr = 512;	/* on top of the constants */
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "overlaps section 1"));
	self->tensors[1] = saved;
	self->tensors[1].kind = NPU_TENSOR_INPUT;
	strcpy(self->tensors[1].name, "second");
	fix_crc(self->data, self->size);
	EXPECT_TRUE(rejected_with(self->data, self->size, "no output tensor"));
}

TEST_F(prog, load_from_file_and_missing_file)
{
	char path[] = "/tmp/npu-program-XXXXXX";
	int fd = mkstemp(path);
	npu_program *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)self->size, write(fd, self->data, self->size));
	close(fd);
	EXPECT_EQ(NPU_OK, npu_program_load(path, &p));
	npu_program_free(p);
	unlink(path);
	EXPECT_EQ(NPU_ERR_NOT_FOUND, npu_program_load(path, &p));
	EXPECT_NE(NULL, strstr(npu_last_error(), path));
}

TEST(builder_rejects_what_a_loader_would)
{
	npu_program_builder *b;
	uint8_t code[64] = { 0 };
	void *data;
	size_t size;

	ASSERT_EQ(NPU_OK, npu_program_builder_new("warboy", 2, 4096, &b));
	ASSERT_EQ(NPU_OK, npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, 0, code, 64));
	EXPECT_EQ(NPU_ERR_BAD_PROGRAM, npu_program_builder_finish(b, &data, &size));
	EXPECT_EQ(NULL, data);
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT,
		  npu_program_builder_add_section(b, NPU_PROG_SECTION_TENSORS, 0, code, 64));
	npu_program_builder_free(b);
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT,
		  npu_program_builder_new("an-architecture-name-too-long", 1, 4096, &b));
}

TEST_HARNESS_MAIN
