// SPDX-License-Identifier: MIT
/*
 * npu-inspect: shows what is in a program container: header, sections,
 * tensor descriptors and the disassembled code. With --asm it prints the
 * program as assembly source that npu-as turns back into the same file.
 *
 *   npu-inspect [--asm] PROGRAM.npuprog
 */
#include <stdio.h>
#include <string.h>

#include "isa_desc.h"
#include "npuhal.h"

static const char *dtype_name(unsigned int d)
{
	switch (d) {
	case NPU_PROG_DTYPE_INT8:
		return "int8";
	case NPU_PROG_DTYPE_UINT8:
		return "uint8";
	case NPU_PROG_DTYPE_INT32:
		return "int32";
	case NPU_PROG_DTYPE_FLOAT32:
		return "float32";
	}
	return "?";
}

static void print_list(const uint32_t *v, unsigned int n)
{
	printf("[");
	for (unsigned int i = 0; i < n; i++)
		printf("%s%u", i ? ", " : "", v[i]);
	printf("]");
}

static void print_insn(const struct npu_insn *insn)
{
	const struct isa_desc *desc = isa_desc_of(insn->opcode);
	const char *mnemonic = desc ? isa_desc_mnemonic(desc, insn->dtype) : NULL;
	struct npu_insn copy = *insn;

	if (!mnemonic) {
		printf(".insn opcode=%u dtype=%u flags=%u dst=%u src0=%u src1=%u", insn->opcode,
		       insn->dtype, insn->flags, insn->dst, insn->src0, insn->src1);
		for (int i = 0; i < 12; i++)
			if (insn->arg[i])
				printf(" arg%d=%u", i, insn->arg[i]);
		return;
	}
	printf("%s", mnemonic);
	for (int k = 0; k < ISA_MAX_OPERANDS && desc->operands[k].name; k++) {
		const struct isa_operand *op = &desc->operands[k];
		int64_t v = isa_operand_get(&copy, op);

		/* an operand that implies a flag (bias=) is only shown with it */
		if (op->sets_flag && !(copy.flags & op->sets_flag))
			continue;
		copy.flags &= (uint16_t)~op->sets_flag;
		if (op->is_signed)
			printf(" %s=%lld", op->name, (long long)v);
		else if (op->field <= ISA_FIELD_SRC1 || op->sets_flag)
			printf(" %s=0x%llx", op->name, (unsigned long long)v);
		else
			printf(" %s=%llu", op->name, (unsigned long long)v);
		isa_operand_clear(&copy, op);
	}
	for (int k = 0; k < ISA_MAX_FLAGS && desc->flags[k].name; k++) {
		if (copy.flags & desc->flags[k].bit) {
			printf(" %s", desc->flags[k].name);
			copy.flags &= (uint16_t)~desc->flags[k].bit;
		}
	}
	/* Fields this mnemonic does not use but that are set: the device rejects them. */
	if (copy.flags || copy.dst || copy.src0 || copy.src1)
		printf("    # also sets unused fields: flags=%u dst=%u src0=%u src1=%u", copy.flags,
		       copy.dst, copy.src0, copy.src1);
}

static void print_tensor(const struct npu_prog_tensor *t, int as_source)
{
	printf("%s%s %s %s ", as_source ? "" : "  ", t->kind == NPU_TENSOR_INPUT ? ".input" : ".output",
	       t->name, dtype_name(t->dtype));
	print_list(t->dims, t->rank);
	printf(" at 0x%llx", (unsigned long long)t->dram_addr);
	if (t->host_dtype != t->dtype)
		printf(" host=%s", dtype_name(t->host_dtype));
	if (t->scale != 0.0f)
		printf(" scale=%.9g", t->scale);
	if (t->zero_point)
		printf(" zero_point=%d", t->zero_point);
	if (t->layout == NPU_LAYOUT_NHWC)
		printf(" layout=nhwc");
	for (unsigned int d = 0; d < t->rank; d++)
		if (t->pad[d]) {
			printf(" pad=");
			print_list(t->pad, t->rank);
			break;
		}
	if (!as_source)
		printf("    # %llu bytes", (unsigned long long)t->byte_size);
	printf("\n");
}

static void print_const(const uint8_t *d, uint64_t size, uint64_t addr)
{
	for (uint64_t off = 0; off < size; off += 32) {
		printf(".const 0x%llx u8", (unsigned long long)(addr + off));
		for (uint64_t i = off; i < size && i < off + 32; i++)
			printf(" %u", d[i]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	const struct npu_prog_header *h;
	const char *path = NULL;
	npu_program *p;
	int as_source = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--asm"))
			as_source = 1;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr, "usage: npu-inspect [--asm] PROGRAM.npuprog\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: npu-inspect [--asm] PROGRAM.npuprog\n");
		return 2;
	}
	if (npu_program_load(path, &p)) {
		fprintf(stderr, "npu-inspect: %s\n", npu_last_error());
		return 1;
	}
	h = npu_program_header(p);
	if (as_source) {
		printf("# disassembled from %s\n.arch %s\n.pes %u\n.dram 0x%llx\n", path, h->arch,
		       h->pe_count, (unsigned long long)h->dram_size);
	} else {
		printf("Program        : %s\nFormat         : %u.%u, CRC 0x%08x, %llu bytes\n"
		       "Target         : %s, %u PE%s\nDRAM used      : %llu bytes\n", path,
		       h->version_major, h->version_minor, h->crc32, (unsigned long long)h->file_size,
		       h->arch, h->pe_count, h->pe_count > 1 ? "s (fused)" : "",
		       (unsigned long long)h->dram_size);
		printf("Sections       :\n");
		for (size_t i = 0; i < npu_program_section_count(p); i++) {
			const struct npu_prog_section *s = npu_program_section(p, i);
			static const char *const names[] = { "?", "code", "const", "tensors" };

			printf("  %-8s %8llu bytes at file offset 0x%llx", names[s->type <= 3 ? s->type : 0],
			       (unsigned long long)s->size, (unsigned long long)s->offset);
			if (s->type != NPU_PROG_SECTION_TENSORS)
				printf(", DRAM 0x%llx", (unsigned long long)s->dram_addr);
			printf("\n");
		}
		printf("Tensors        :\n");
	}
	for (size_t i = 0; i < npu_program_tensor_count(p); i++)
		print_tensor(npu_program_tensor(p, i), as_source);
	for (size_t i = 0; i < npu_program_section_count(p); i++) {
		const struct npu_prog_section *s = npu_program_section(p, i);
		const uint8_t *d = npu_program_section_data(p, i);

		if (s->type == NPU_PROG_SECTION_CONST && as_source)
			print_const(d, s->size, s->dram_addr);
		if (s->type != NPU_PROG_SECTION_CODE)
			continue;
		printf(as_source ? ".code 0x%llx\n" : "Code at DRAM 0x%llx:\n",
		       (unsigned long long)s->dram_addr);
		for (uint64_t k = 0; k < s->size / sizeof(struct npu_insn); k++) {
			struct npu_insn insn;

			memcpy(&insn, d + k * sizeof(insn), sizeof(insn));
			if (!as_source)
				printf("  %4llu: ", (unsigned long long)k);
			else
				printf("    ");
			print_insn(&insn);
			printf("\n");
		}
	}
	npu_program_free(p);
	return 0;
}
