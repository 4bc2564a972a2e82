/* SPDX-License-Identifier: MIT */
/*
 * The compiled-program container (".npuprog"), version 1.
 *
 * docs/program-format.md describes it for people; this header is the one
 * definition for code. All integers are little-endian; structures have no
 * implicit padding. A file is:
 *
 *   struct npu_prog_header                 at offset 0
 *   struct npu_prog_section[section_count] at header.section_table
 *   section payloads                       anywhere after the table, 64-byte aligned
 *
 * The loader validates every offset and length before it reads through them.
 */
#ifndef NPU_PROGRAM_H
#define NPU_PROGRAM_H

#include <stdint.h>

#define NPU_PROG_MAGIC		"NPUPROG\0"
#define NPU_PROG_MAGIC_LEN	8
#define NPU_PROG_VERSION_MAJOR	1	/* incompatible changes */
#define NPU_PROG_VERSION_MINOR	0	/* compatible additions */
#define NPU_PROG_ALIGN		64
#define NPU_PROG_MAX_SECTIONS	16
#define NPU_PROG_MAX_TENSORS	64
#define NPU_PROG_MAX_RANK	6
#define NPU_PROG_NAME_LEN	32
#define NPU_PROG_ARCH_LEN	16

struct npu_prog_header {
	uint8_t magic[NPU_PROG_MAGIC_LEN];	/* NPU_PROG_MAGIC */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t header_size;		/* sizeof(struct npu_prog_header) */
	char arch[NPU_PROG_ARCH_LEN];	/* "warboy", NUL-padded */
	uint32_t pe_count;		/* 1: one PE; 2: fused PE pair */
	uint32_t section_count;		/* 1..NPU_PROG_MAX_SECTIONS */
	uint64_t file_size;		/* bytes, the whole file */
	uint32_t section_table;		/* offset of the section table */
	uint32_t crc32;			/* CRC-32/ISO-HDLC of the file with this field 0 */
	uint64_t dram_size;		/* bytes of the DRAM window the program uses */
	uint64_t reserved[2];		/* 0 */
};

enum npu_prog_section_type {
	NPU_PROG_SECTION_CODE = 1,	/* instructions, loaded at dram_addr */
	NPU_PROG_SECTION_CONST = 2,	/* weights, biases, tables, loaded at dram_addr */
	NPU_PROG_SECTION_TENSORS = 3,	/* struct npu_prog_tensor[] */
};

struct npu_prog_section {
	uint32_t type;			/* enum npu_prog_section_type */
	uint32_t flags;			/* 0 */
	uint64_t offset;		/* in the file, NPU_PROG_ALIGN aligned */
	uint64_t size;			/* bytes in the file */
	uint64_t dram_addr;		/* CODE, CONST: load address; TENSORS: 0 */
};

enum npu_prog_tensor_kind {
	NPU_TENSOR_INPUT = 1,
	NPU_TENSOR_OUTPUT = 2,
};

enum npu_prog_dtype {
	NPU_PROG_DTYPE_INT8 = 1,
	NPU_PROG_DTYPE_UINT8 = 2,
	NPU_PROG_DTYPE_INT32 = 3,
	NPU_PROG_DTYPE_FLOAT32 = 4,
};

/* How a tensor's elements are ordered in device DRAM. */
enum npu_prog_layout {
	NPU_LAYOUT_ROW_MAJOR = 0,	/* as dims[], last dimension fastest */
	NPU_LAYOUT_NHWC = 1,		/* host NCHW tensor stored channels-last */
};

struct npu_prog_tensor {
	char name[NPU_PROG_NAME_LEN];	/* NUL-terminated, unique per kind */
	uint8_t kind;			/* enum npu_prog_tensor_kind */
	uint8_t dtype;			/* enum npu_prog_dtype of the device tensor */
	uint8_t host_dtype;		/* what callers pass: FLOAT32 = (de)quantize on host */
	uint8_t rank;			/* 1..NPU_PROG_MAX_RANK */
	uint8_t layout;			/* enum npu_prog_layout */
	uint8_t reserved0[3];		/* 0 */
	uint32_t dims[NPU_PROG_MAX_RANK];	/* host shape; unused dims 0 */
	uint32_t pad[NPU_PROG_MAX_RANK];	/* device padding added after each dim */
	uint64_t dram_addr;		/* where the device tensor lives */
	uint64_t byte_size;		/* device bytes, padding included */
	float scale;			/* quantization: real = scale * (q - zero_point) */
	int32_t zero_point;
	uint64_t reserved1[2];		/* 0 */
};

#endif /* NPU_PROGRAM_H */
