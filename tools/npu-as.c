// SPDX-License-Identifier: MIT
/*
 * npu-as: assembles the text form of an NPU program (docs/assembly.md) into
 * a program container (docs/program-format.md).
 *
 *   npu-as SOURCE.s -o PROGRAM.npuprog
 *
 * Three passes: .equ symbols, then tensors (whose names become symbols for
 * their DRAM addresses), then instructions and data, so names may be used
 * before they are declared. Errors name the file, line and what was expected.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa_desc.h"
#include "npuhal.h"

#define MAX_LINE 4096
#define MAX_SYMBOLS 256
#define MAX_TOKENS 512
#define MAX_CODE (1u << 20)	/* instructions */

struct symbol {
	char name[NPU_PROG_NAME_LEN];
	int64_t value;
};

struct const_block {
	uint64_t addr;
	uint8_t *data;
	size_t size, cap;
};

struct assembler {
	const char *path;
	int line;
	char arch[NPU_PROG_ARCH_LEN];
	unsigned int pes;
	uint64_t dram, code_addr;
	struct symbol symbols[MAX_SYMBOLS];
	size_t symbol_count;
	struct npu_insn *code;
	size_t code_count;
	struct const_block consts[NPU_PROG_MAX_SECTIONS - 2];
	size_t const_count;
	struct npu_prog_tensor tensors[NPU_PROG_MAX_TENSORS];
	size_t tensor_count;
	int errors;
};

static void error(struct assembler *as, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", as->path, as->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	as->errors++;
}

static const struct symbol *find_symbol(const struct assembler *as, const char *name)
{
	for (size_t i = 0; i < as->symbol_count; i++)
		if (!strcmp(as->symbols[i].name, name))
			return &as->symbols[i];
	return NULL;
}

static bool define_symbol(struct assembler *as, const char *name, int64_t value)
{
	if (strlen(name) >= NPU_PROG_NAME_LEN || !(isalpha((unsigned char)name[0]) || name[0] == '_')) {
		error(as, "'%s' is not a valid name (a letter or _ first, at most %d characters)",
		      name, NPU_PROG_NAME_LEN - 1);
		return false;
	}
	if (find_symbol(as, name)) {
		error(as, "'%s' is defined twice", name);
		return false;
	}
	if (as->symbol_count == MAX_SYMBOLS) {
		error(as, "too many symbols (at most %d)", MAX_SYMBOLS);
		return false;
	}
	strcpy(as->symbols[as->symbol_count].name, name);
	as->symbols[as->symbol_count++].value = value;
	return true;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* NUMBER, NAME, NAME+NUMBER or NAME-NUMBER. */
static bool eval(struct assembler *as, const char *text, int64_t *out)
{
	char name[NPU_PROG_NAME_LEN + 1];
	const struct symbol *sym;
	const char *op;
	int64_t offset = 0;
	size_t len;

	if (parse_int(text, out))
		return true;
	op = strpbrk(text + 1, "+-");
	len = op ? (size_t)(op - text) : strlen(text);
	if (len >= sizeof(name) || (op && !parse_int(op + 1, &offset))) {
		error(as, "'%s' is not a number or NAME[+-NUMBER]", text);
		return false;
	}
	memcpy(name, text, len);
	name[len] = '\0';
	sym = find_symbol(as, name);
	if (!sym) {
		error(as, "unknown symbol '%s'", name);
		return false;
	}
	*out = sym->value + (op && *op == '-' ? -offset : offset);
	return true;
}

static bool eval_range(struct assembler *as, const char *text, int64_t min, int64_t max,
		       int64_t *out)
{
	if (!eval(as, text, out))
		return false;
	if (*out < min || *out > max) {
		error(as, "%s = %lld is out of range [%lld, %lld]", text, (long long)*out,
		      (long long)min, (long long)max);
		return false;
	}
	return true;
}

/* eval_range for an operand written name=text: errors name the operand. */
static bool eval_named(struct assembler *as, const char *name, const char *text, int64_t min,
		       int64_t max, int64_t *out)
{
	if (!eval(as, text, out))
		return false;
	if (*out < min || *out > max) {
		error(as, "%s=%s is out of range [%lld, %lld]", name, text, (long long)min,
		      (long long)max);
		return false;
	}
	return true;
}

/* Splits a line into tokens; brackets keep "[8, 24]" together. Comments start with # or ;. */
static size_t tokenize(char *line, char **tok)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p || *p == '#' || *p == ';')
			break;
		if (n == MAX_TOKENS)
			break;
		tok[n++] = p;
		if (*p == '"') {
			char *q = strchr(p + 1, '"');

			p = q ? q + 1 : p + strlen(p);
		} else {
			int depth = 0;

			while (*p && (depth || (!isspace((unsigned char)*p) && *p != ','))) {
				depth += *p == '[';
				depth -= *p == ']';
				p++;
			}
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int dtype_by_name(const char *s)
{
	static const char *const names[] = { [NPU_PROG_DTYPE_INT8] = "int8",
					     [NPU_PROG_DTYPE_UINT8] = "uint8",
					     [NPU_PROG_DTYPE_INT32] = "int32",
					     [NPU_PROG_DTYPE_FLOAT32] = "float32" };

	for (int i = 1; i <= NPU_PROG_DTYPE_FLOAT32; i++)
		if (!strcmp(s, names[i]))
			return i;
	return 0;
}

/* "[2, 3, 4]" -> dims; returns the rank or 0. */
static unsigned int parse_list(struct assembler *as, const char *text, uint32_t *out, unsigned int max)
{
	char buf[256], *save = NULL;
	unsigned int n = 0;
	size_t len = strlen(text);

	if (len < 2 || text[0] != '[' || text[len - 1] != ']' || len >= sizeof(buf)) {
		error(as, "expected a list like [8, 24], got '%s'", text);
		return 0;
	}
	memcpy(buf, text + 1, len - 2);
	buf[len - 2] = '\0';
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		int64_t v;

		if (n == max) {
			error(as, "more than %u entries in '%s'", max, text);
			return 0;
		}
		if (!eval_range(as, t, 0, UINT32_MAX, &v))
			return 0;
		out[n++] = (uint32_t)v;
	}
	return n;
}

/* .input/.output NAME DTYPE [dims] at ADDR [host=DTYPE] [scale=F] [zero_point=N] [layout=L] [pad=[..]] */
static void tensor_directive(struct assembler *as, char **tok, size_t n, int kind)
{
	struct npu_prog_tensor t = { .kind = (uint8_t)kind };
	int64_t addr;
	uint64_t elems = 1;

	if (n < 6 || strcmp(tok[4], "at") != 0) {
		error(as, "usage: %s NAME DTYPE [DIMS] at ADDR [host=DTYPE scale=F zero_point=N layout=row_major|nhwc pad=[..]]",
		      tok[0]);
		return;
	}
	snprintf(t.name, sizeof(t.name), "%s", tok[1]);
	t.dtype = (uint8_t)dtype_by_name(tok[2]);
	if (!t.dtype || t.dtype == NPU_PROG_DTYPE_FLOAT32) {
		error(as, "device dtype '%s': use int8, uint8 or int32", tok[2]);
		return;
	}
	t.host_dtype = t.dtype;
	t.rank = (uint8_t)parse_list(as, tok[3], t.dims, NPU_PROG_MAX_RANK);
	if (!t.rank || !eval_range(as, tok[5], 0, INT64_MAX, &addr))
		return;
	t.dram_addr = (uint64_t)addr;
	for (size_t i = 6; i < n; i++) {
		char *eq = strchr(tok[i], '=');
		int64_t v;

		if (!eq) {
			error(as, "expected key=value, got '%s'", tok[i]);
			return;
		}
		*eq++ = '\0';
		if (!strcmp(tok[i], "host")) {
			t.host_dtype = (uint8_t)dtype_by_name(eq);
			if (!t.host_dtype)
				error(as, "unknown dtype '%s'", eq);
		} else if (!strcmp(tok[i], "scale")) {
			char *end;

			t.scale = strtof(eq, &end);
			if (*end || !(t.scale > 0))
				error(as, "scale must be a positive number, got '%s'", eq);
		} else if (!strcmp(tok[i], "zero_point")) {
			if (eval_named(as, tok[i], eq, INT32_MIN, INT32_MAX, &v))
				t.zero_point = (int32_t)v;
		} else if (!strcmp(tok[i], "layout")) {
			if (!strcmp(eq, "row_major"))
				t.layout = NPU_LAYOUT_ROW_MAJOR;
			else if (!strcmp(eq, "nhwc"))
				t.layout = NPU_LAYOUT_NHWC;
			else
				error(as, "layout is row_major or nhwc, got '%s'", eq);
		} else if (!strcmp(tok[i], "pad")) {
			if (parse_list(as, eq, t.pad, NPU_PROG_MAX_RANK) != t.rank)
				error(as, "pad needs %u entries, one per dimension", t.rank);
		} else {
			error(as, "unknown tensor attribute '%s'", tok[i]);
		}
	}
	for (unsigned int d = 0; d < t.rank; d++)
		elems *= (uint64_t)t.dims[d] + t.pad[d];
	t.byte_size = elems * npu_prog_dtype_size(t.dtype);
	if (as->tensor_count == NPU_PROG_MAX_TENSORS) {
		error(as, "too many tensors (at most %d)", NPU_PROG_MAX_TENSORS);
		return;
	}
	as->tensors[as->tensor_count++] = t;
	define_symbol(as, t.name, (int64_t)t.dram_addr);
}

static bool const_append(struct assembler *as, struct const_block *c, const void *p, size_t n)
{
	if (c->size + n > c->cap) {
		size_t cap = c->cap ? c->cap : 256;
		uint8_t *bigger;

		while (cap < c->size + n)
			cap *= 2;
		bigger = realloc(c->data, cap);
		if (!bigger) {
			error(as, "out of memory");
			return false;
		}
		c->data = bigger;
		c->cap = cap;
	}
	memcpy(c->data + c->size, p, n);
	c->size += n;
	return true;
}

/* .const ADDR i8|u8|i32 V, V, ... | .const ADDR file "PATH" | .const ADDR fill BYTE COUNT */
static void const_directive(struct assembler *as, char **tok, size_t n)
{
	struct const_block *c;
	int64_t addr;

	if (n < 3) {
		error(as, "usage: .const ADDR i8|u8|i32 VALUES... | file \"PATH\" | fill BYTE COUNT");
		return;
	}
	if (!eval_range(as, tok[1], 0, INT64_MAX, &addr))
		return;
	/* A block that starts where the previous one ends continues it. */
	c = as->const_count ? &as->consts[as->const_count - 1] : NULL;
	if (!c || c->addr + c->size != (uint64_t)addr) {
		if (as->const_count == sizeof(as->consts) / sizeof(as->consts[0])) {
			error(as, "too many separate .const blocks (at most %zu)",
			      sizeof(as->consts) / sizeof(as->consts[0]));
			return;
		}
		c = &as->consts[as->const_count++];
		c->addr = (uint64_t)addr;
	}
	if (!strcmp(tok[2], "i8") || !strcmp(tok[2], "u8") || !strcmp(tok[2], "i32")) {
		bool i32 = !strcmp(tok[2], "i32"), u8 = !strcmp(tok[2], "u8");

		for (size_t i = 3; i < n; i++) {
			int64_t v;

			if (!eval_range(as, tok[i], i32 ? INT32_MIN : u8 ? 0 : -128,
					i32 ? INT32_MAX : u8 ? 255 : 127, &v))
				return;
			if (i32) {
				int32_t w = (int32_t)v;

				const_append(as, c, &w, 4);
			} else {
				uint8_t b = (uint8_t)v;

				const_append(as, c, &b, 1);
			}
		}
	} else if (!strcmp(tok[2], "fill") && n == 5) {
		int64_t byte, count;

		if (!eval_range(as, tok[3], 0, 255, &byte) ||
		    !eval_range(as, tok[4], 1, 1 << 30, &count))
			return;
		for (int64_t i = 0; i < count; i++) {
			uint8_t b = (uint8_t)byte;

			if (!const_append(as, c, &b, 1))
				return;
		}
	} else if (!strcmp(tok[2], "file") && n == 4 && tok[3][0] == '"') {
		char path[PATH_MAX], buf[65536];
		const char *slash = strrchr(as->path, '/');
		size_t got, len = strlen(tok[3]);
		FILE *f;

		tok[3][len - 1] = '\0';
		if (tok[3][1] == '/' || !slash)
			snprintf(path, sizeof(path), "%s", tok[3] + 1);
		else
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - as->path), as->path,
				 tok[3] + 1);
		f = fopen(path, "rb");
		if (!f) {
			error(as, "cannot read '%s': %s", path, strerror(errno));
			return;
		}
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			if (!const_append(as, c, buf, got))
				break;
		fclose(f);
	} else {
		error(as, "usage: .const ADDR i8|u8|i32 VALUES... | file \"PATH\" | fill BYTE COUNT");
	}
	if (!c->size)
		error(as, ".const at %lld has no data", (long long)addr);
}

static void instruction(struct assembler *as, char **tok, size_t n)
{
	struct npu_insn insn = { 0 };
	uint8_t dtype = 0;
	const struct isa_desc *desc = isa_desc_by_mnemonic(tok[0], &dtype);
	bool raw = !strcmp(tok[0], ".insn");

	if (!desc && !raw) {
		error(as, "unknown instruction '%s'", tok[0]);
		return;
	}
	if (desc) {
		insn.opcode = desc->opcode;
		insn.dtype = dtype;
		isa_operand_defaults(desc, &insn);
	}
	for (size_t i = 1; i < n; i++) {
		char *eq = strchr(tok[i], '=');
		const struct isa_operand *op = NULL;
		int64_t v;

		if (!eq) {
			const struct isa_flag *flag = NULL;

			for (int k = 0; desc && k < ISA_MAX_FLAGS && desc->flags[k].name; k++)
				if (!strcmp(tok[i], desc->flags[k].name))
					flag = &desc->flags[k];
			if (flag) {
				insn.flags |= flag->bit;
				continue;
			}
			error(as, "%s: expected name=value, got '%s'", tok[0], tok[i]);
			return;
		}
		*eq++ = '\0';
		if (raw) {
			/* .insn opcode= dtype= flags= dst= src0= src1= arg0..arg11= */
			static const char *const raw_names[] = { "dst", "src0", "src1" };
			int field = ISA_FIELD_NONE;

			if (!strcmp(tok[i], "opcode") || !strcmp(tok[i], "dtype")) {
				if (!eval_named(as, tok[i], eq, 0, 255, &v))
					return;
				*(!strcmp(tok[i], "opcode") ? &insn.opcode : &insn.dtype) = (uint8_t)v;
				continue;
			}
			if (!strcmp(tok[i], "flags")) {
				if (!eval_named(as, tok[i], eq, 0, 65535, &v))
					return;
				insn.flags = (uint16_t)v;
				continue;
			}
			for (int k = 0; k < 3; k++)
				if (!strcmp(tok[i], raw_names[k]))
					field = ISA_FIELD_DST + k;
			if (!strncmp(tok[i], "arg", 3) && isdigit((unsigned char)tok[i][3]) &&
			    atoi(tok[i] + 3) < 12)
				field = ISA_FIELD_ARG0 + atoi(tok[i] + 3);
			if (field == ISA_FIELD_NONE) {
				error(as, ".insn: unknown field '%s'", tok[i]);
				return;
			}
			if (!eval_named(as, tok[i], eq, INT32_MIN, UINT32_MAX, &v))
				return;
			*isa_field_ptr(&insn, field) = (uint32_t)v;
			continue;
		}
		for (int k = 0; k < ISA_MAX_OPERANDS && desc->operands[k].name; k++)
			if (!strcmp(desc->operands[k].name, tok[i]))
				op = &desc->operands[k];
		if (!op) {
			char expected[256] = "";

			for (int k = 0; k < ISA_MAX_OPERANDS && desc->operands[k].name; k++)
				snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
					 "%s%s", k ? ", " : "", desc->operands[k].name);
			for (int k = 0; k < ISA_MAX_FLAGS && desc->flags[k].name; k++)
				snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
					 ", %s", desc->flags[k].name);
			error(as, "%s has no operand '%s' (it takes: %s)", tok[0], tok[i],
			      expected);
			return;
		}
		int64_t lo, hi;

		isa_operand_limits(op, &lo, &hi);
		if (!eval_named(as, tok[i], eq, lo, hi, &v))
			return;
		isa_operand_set(&insn, op, v);
		insn.flags |= op->sets_flag;
	}
	if (as->code_count == MAX_CODE) {
		error(as, "program too long (at most %u instructions)", MAX_CODE);
		return;
	}
	as->code[as->code_count++] = insn;
}

static void line_pass(struct assembler *as, char *line, int pass)
{
	char *tok[MAX_TOKENS];
	size_t n = tokenize(line, tok);
	int64_t v;

	if (!n)
		return;
	if (!strcmp(tok[0], ".equ")) {
		if (pass != 1)
			return;
		if (n != 3)
			error(as, "usage: .equ NAME VALUE");
		else if (eval(as, tok[2], &v))
			define_symbol(as, tok[1], v);
	} else if (!strcmp(tok[0], ".input") || !strcmp(tok[0], ".output")) {
		if (pass == 2)
			tensor_directive(as, tok, n,
					 tok[0][1] == 'i' ? NPU_TENSOR_INPUT : NPU_TENSOR_OUTPUT);
	} else if (pass != 3) {
		return;
	} else if (!strcmp(tok[0], ".arch")) {
		if (n != 2 || strlen(tok[1]) >= sizeof(as->arch))
			error(as, "usage: .arch NAME");
		else
			strcpy(as->arch, tok[1]);
	} else if (!strcmp(tok[0], ".pes")) {
		if (n == 2 && eval_range(as, tok[1], 1, 2, &v))
			as->pes = (unsigned int)v;
		else if (n != 2)
			error(as, "usage: .pes 1|2");
	} else if (!strcmp(tok[0], ".dram")) {
		if (n == 2 && eval_range(as, tok[1], 64, INT64_MAX, &v))
			as->dram = (uint64_t)v;
		else if (n != 2)
			error(as, "usage: .dram BYTES");
	} else if (!strcmp(tok[0], ".code")) {
		if (n == 2 && eval_range(as, tok[1], 0, INT64_MAX, &v))
			as->code_addr = (uint64_t)v;
		else if (n != 2)
			error(as, "usage: .code ADDR");
	} else if (!strcmp(tok[0], ".const")) {
		const_directive(as, tok, n);
	} else if (tok[0][0] == '.' && strcmp(tok[0], ".insn")) {
		error(as, "unknown directive '%s'", tok[0]);
	} else {
		instruction(as, tok, n);
	}
}

static int assemble(struct assembler *as, FILE *in, const char *out_path)
{
	npu_program_builder *b = NULL;
	char **lines = NULL;
	size_t nlines = 0, cap = 0;
	char buf[MAX_LINE];
	void *data = NULL;
	size_t size;
	npu_status st;
	FILE *out;
	int rc = 1;

	while (fgets(buf, sizeof(buf), in)) {
		if (nlines == cap) {
			cap = cap ? 2 * cap : 256;
			lines = realloc(lines, cap * sizeof(*lines));
			if (!lines)
				return 1;
		}
		lines[nlines] = strdup(buf);
		if (!lines[nlines++])
			return 1;
	}
	for (int pass = 1; pass <= 3; pass++) {
		for (size_t i = 0; i < nlines; i++) {
			char copy[MAX_LINE];

			as->line = (int)i + 1;
			snprintf(copy, sizeof(copy), "%s", lines[i]);
			line_pass(as, copy, pass);
		}
		if (as->errors)
			goto out;
	}
	as->line = (int)nlines;
	if (!as->code_count)
		error(as, "the program has no instructions");
	if (!as->dram)
		error(as, "missing .dram BYTES (the DRAM the program uses)");
	if (as->errors)
		goto out;

	st = npu_program_builder_new(as->arch, as->pes, as->dram, &b);
	if (!st)
		st = npu_program_builder_add_section(b, NPU_PROG_SECTION_CODE, as->code_addr, as->code,
						     as->code_count * sizeof(as->code[0]));
	for (size_t i = 0; !st && i < as->const_count; i++)
		st = npu_program_builder_add_section(b, NPU_PROG_SECTION_CONST, as->consts[i].addr,
						     as->consts[i].data, as->consts[i].size);
	for (size_t i = 0; !st && i < as->tensor_count; i++)
		st = npu_program_builder_add_tensor(b, &as->tensors[i]);
	if (!st)
		st = npu_program_builder_finish(b, &data, &size);
	if (st) {
		fprintf(stderr, "%s: %s\n", as->path, npu_last_error());
		goto out;
	}
	out = fopen(out_path, "wb");
	if (!out || fwrite(data, 1, size, out) != size || fclose(out)) {
		fprintf(stderr, "npu-as: cannot write '%s': %s\n", out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	npu_program_builder_free(b);
	free(data);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
	return rc;
}

int main(int argc, char **argv)
{
	struct assembler *as;
	const char *src = NULL, *out = NULL;
	FILE *in;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: npu-as SOURCE.s -o PROGRAM.npuprog (syntax: docs/assembly.md)\n");
			return 0;
		} else if (!src && argv[i][0] != '-')
			src = argv[i];
		else {
			fprintf(stderr, "usage: npu-as SOURCE.s -o PROGRAM.npuprog\n");
			return 2;
		}
	}
	if (!src || !out) {
		fprintf(stderr, "usage: npu-as SOURCE.s -o PROGRAM.npuprog\n");
		return 2;
	}
	in = strcmp(src, "-") ? fopen(src, "r") : stdin;
	if (!in) {
		fprintf(stderr, "npu-as: cannot open '%s': %s\n", src, strerror(errno));
		return 1;
	}
	as = calloc(1, sizeof(*as));
	if (as)
		as->code = calloc(MAX_CODE, sizeof(*as->code));
	if (!as || !as->code) {
		fprintf(stderr, "npu-as: out of memory\n");
		return 1;
	}
	as->path = src;
	strcpy(as->arch, "warboy");
	as->pes = 1;
	rc = assemble(as, in, out);
	if (in != stdin)
		fclose(in);
	for (size_t i = 0; i < as->const_count; i++)
		free(as->consts[i].data);
	free(as->code);
	free(as);
	return rc;
}
