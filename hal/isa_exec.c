// SPDX-License-Identifier: MIT
/*
 * Interpreter of the NPU instruction set. docs/hardware.md is the
 * specification; this file is its executable form.
 *
 * Every instruction goes through the same three steps, driven by the table
 * isa_ops[]: generic field checks (opcode, dtype, flags, unused fields must
 * be zero), an opcode-specific plan (argument values, the byte range of every
 * operand and the amount of work), then, once all ranges are proven inside
 * the address space and the cycle budget allows it, the execution itself.
 * Nothing is written before every check has passed, so a failing instruction
 * has no side effects.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "isa_exec.h"

/* ---- little-endian access ------------------------------------------------ */

static uint32_t ld_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void st_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Two's complement reinterpretation without implementation-defined casts. */
static int64_t as_i32(uint32_t v)
{
	return v >= 0x80000000u ? (int64_t)v - 0x100000000ll : (int64_t)v;
}

static int as_i8(uint8_t v)
{
	return v >= 0x80u ? (int)v - 0x100 : (int)v;
}

static uint8_t sat_i8(int64_t v)
{
	if (v > 127)
		v = 127;
	if (v < -128)
		v = -128;
	return (uint8_t)(v & 0xff);
}

/* ---- encode / decode ------------------------------------------------------ */

void npu_isa_decode(const uint8_t raw[NPU_INSN_SIZE], struct npu_isa_insn *insn)
{
	unsigned int i;

	insn->opcode = raw[offsetof(struct npu_insn, opcode)];
	insn->dtype = raw[offsetof(struct npu_insn, dtype)];
	insn->flags = (uint16_t)(raw[offsetof(struct npu_insn, flags)] |
				 raw[offsetof(struct npu_insn, flags) + 1] << 8);
	insn->dst = ld_le32(raw + offsetof(struct npu_insn, dst));
	insn->src0 = ld_le32(raw + offsetof(struct npu_insn, src0));
	insn->src1 = ld_le32(raw + offsetof(struct npu_insn, src1));
	for (i = 0; i < 12; i++)
		insn->arg[i] = ld_le32(raw + offsetof(struct npu_insn, arg) + 4 * i);
}

void npu_isa_encode(const struct npu_isa_insn *insn, uint8_t raw[NPU_INSN_SIZE])
{
	unsigned int i;

	raw[offsetof(struct npu_insn, opcode)] = insn->opcode;
	raw[offsetof(struct npu_insn, dtype)] = insn->dtype;
	raw[offsetof(struct npu_insn, flags)] = (uint8_t)insn->flags;
	raw[offsetof(struct npu_insn, flags) + 1] = (uint8_t)(insn->flags >> 8);
	st_le32(raw + offsetof(struct npu_insn, dst), insn->dst);
	st_le32(raw + offsetof(struct npu_insn, src0), insn->src0);
	st_le32(raw + offsetof(struct npu_insn, src1), insn->src1);
	for (i = 0; i < 12; i++)
		st_le32(raw + offsetof(struct npu_insn, arg) + 4 * i, insn->arg[i]);
}

/* ---- the plan of one instruction ------------------------------------------ */

enum { OPND_DST, OPND_SRC0, OPND_SRC1, OPND_COUNT };

#define USES_DST	(1u << OPND_DST)
#define USES_SRC0	(1u << OPND_SRC0)
#define USES_SRC1	(1u << OPND_SRC1)
#define ARG(n)		(1u << (n))
#define DTYPE(t)	(1u << (t))

struct isa_range {
	uint64_t addr;
	uint64_t len;
};

struct isa_plan {
	struct isa_range range[OPND_COUNT];	/* len 0 = operand unused */
	bool dst_must_not_overlap;	/* MATMUL: dst may not alias A or B */
	uint64_t work;			/* units of work: bytes, elements or MACs */
	uint32_t work_per_cycle;	/* per lane */
};

struct isa_op {
	const char *name;
	uint16_t flags;		/* accepted NPU_ISA_F_* bits */
	uint8_t dtypes;		/* DTYPE() mask; DTYPE(0) for ops without a dtype */
	uint8_t operands;	/* USES_* mask; unused operand fields must be 0 */
	uint16_t args;		/* ARG() mask; unused arg[] slots must be 0 */
	/* Checks argument values and fills the plan; returns a status. */
	uint32_t (*plan)(const struct npu_isa_insn *insn, struct isa_plan *plan);
	void (*exec)(uint8_t *mem, const struct npu_isa_insn *insn);
};

static unsigned int dtype_size(uint8_t dtype)
{
	return dtype == NPU_DTYPE_I32 ? 4 : 1;
}

/* ---- HALT ------------------------------------------------------------------ */

static uint32_t plan_halt(const struct npu_isa_insn *insn, struct isa_plan *plan)
{
	(void)insn;
	(void)plan;
	return NPU_STATUS_OK;
}

/* ---- COPY: memmove semantics ------------------------------------------------ */

static uint32_t plan_copy(const struct npu_isa_insn *insn, struct isa_plan *plan)
{
	uint64_t n = insn->arg[NPU_ARG_COUNT];

	plan->range[OPND_DST] = (struct isa_range){ insn->dst, n };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, n };
	plan->work = n;
	plan->work_per_cycle = NPU_ISA_COPY_BYTES_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_copy(uint8_t *mem, const struct npu_isa_insn *insn)
{
	memmove(mem + insn->dst, mem + insn->src0, insn->arg[NPU_ARG_COUNT]);
}

/* ---- MATMUL_I8 ---------------------------------------------------------------- */

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint32_t plan_matmul(const struct npu_isa_insn *insn, struct isa_plan *plan)
{
	uint64_t m = insn->arg[NPU_ARG_M];
	uint64_t n = insn->arg[NPU_ARG_N];
	uint64_t k = insn->arg[NPU_ARG_K];
	uint64_t mn = m * n;	/* < 2^64: both factors < 2^32 */

	/* 4 * m * n would overflow: certainly larger than any address space. */
	if (mn > UINT64_MAX / 4)
		return NPU_STATUS_DRAM_OOB;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, mn * 4 };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, m * k };
	plan->range[OPND_SRC1] = (struct isa_range){ insn->src1, k * n };
	plan->dst_must_not_overlap = true;
	plan->work = mul_sat(mn, k);
	plan->work_per_cycle = NPU_ISA_MACS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static void exec_matmul(uint8_t *mem, const struct npu_isa_insn *insn)
{
	uint64_t m = insn->arg[NPU_ARG_M];
	uint64_t n = insn->arg[NPU_ARG_N];
	uint64_t k = insn->arg[NPU_ARG_K];
	const uint8_t *a = mem + insn->src0;
	const uint8_t *b = mem + insn->src1;
	uint8_t *d = mem + insn->dst;
	bool accumulate = insn->flags & NPU_ISA_F_ACCUMULATE;
	uint64_t i, j, x;

	for (i = 0; i < m; i++) {
		for (j = 0; j < n; j++) {
			uint8_t *out = d + 4 * (i * n + j);
			/* |sum| <= k * 2^14 < 2^46: no int64 overflow. */
			int64_t sum = accumulate ? as_i32(ld_le32(out)) : 0;

			for (x = 0; x < k; x++)
				sum += (int64_t)as_i8(a[i * k + x]) * as_i8(b[x * n + j]);
			/* int32 accumulator: keep the low 32 bits (wrapping). */
			st_le32(out, (uint32_t)((uint64_t)sum & 0xffffffffu));
		}
	}
}

/* ---- ADD, RELU: element-wise, ascending order, each element read then written -- */

static uint32_t plan_elementwise(const struct npu_isa_insn *insn, struct isa_plan *plan,
				 bool binary)
{
	uint64_t bytes = (uint64_t)insn->arg[NPU_ARG_COUNT] * dtype_size(insn->dtype);

	plan->range[OPND_DST] = (struct isa_range){ insn->dst, bytes };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, bytes };
	if (binary)
		plan->range[OPND_SRC1] = (struct isa_range){ insn->src1, bytes };
	plan->work = insn->arg[NPU_ARG_COUNT];
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static uint32_t plan_add(const struct npu_isa_insn *insn, struct isa_plan *plan)
{
	return plan_elementwise(insn, plan, true);
}

static uint32_t plan_relu(const struct npu_isa_insn *insn, struct isa_plan *plan)
{
	return plan_elementwise(insn, plan, false);
}

static void exec_add(uint8_t *mem, const struct npu_isa_insn *insn)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;

	for (i = 0; i < count; i++) {
		if (insn->dtype == NPU_DTYPE_I8) {
			int sum = as_i8(mem[insn->src0 + i]) + as_i8(mem[insn->src1 + i]);

			mem[insn->dst + i] = sat_i8(sum);
		} else {
			uint32_t sum = ld_le32(mem + insn->src0 + 4 * i) +
				       ld_le32(mem + insn->src1 + 4 * i);

			st_le32(mem + insn->dst + 4 * i, sum);
		}
	}
}

static void exec_relu(uint8_t *mem, const struct npu_isa_insn *insn)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;

	for (i = 0; i < count; i++) {
		if (insn->dtype == NPU_DTYPE_I8) {
			uint8_t v = mem[insn->src0 + i];

			mem[insn->dst + i] = v >= 0x80u ? 0 : v;
		} else {
			uint32_t v = ld_le32(mem + insn->src0 + 4 * i);

			st_le32(mem + insn->dst + 4 * i, v >= 0x80000000u ? 0 : v);
		}
	}
}

/* ---- REQUANT: i8 = sat(round_half_away((i32 * mul) / 2^shift) + zp) ---------- */

static uint32_t plan_requant(const struct npu_isa_insn *insn, struct isa_plan *plan)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT];
	int64_t zero_point = as_i32(insn->arg[NPU_ARG_ZERO_POINT]);

	if (insn->arg[NPU_ARG_SHIFT] > 62 || zero_point < -128 || zero_point > 127)
		return NPU_STATUS_BAD_DESC;
	plan->range[OPND_DST] = (struct isa_range){ insn->dst, count };
	plan->range[OPND_SRC0] = (struct isa_range){ insn->src0, count * 4 };
	plan->work = count;
	plan->work_per_cycle = NPU_ISA_ELEMS_PER_CYCLE;
	return NPU_STATUS_OK;
}

static int64_t requant_one(int64_t value, int64_t multiplier, unsigned int shift,
			   int64_t zero_point)
{
	/* |value * multiplier| <= 2^62: fits, and so does mag + 2^61. */
	int64_t prod = value * multiplier;
	int64_t mag = prod < 0 ? -prod : prod;

	if (shift > 0)
		mag = (mag + ((int64_t)1 << (shift - 1))) >> shift;
	return (prod < 0 ? -mag : mag) + zero_point;
}

static void exec_requant(uint8_t *mem, const struct npu_isa_insn *insn)
{
	uint64_t count = insn->arg[NPU_ARG_COUNT], i;
	int64_t multiplier = as_i32(insn->arg[NPU_ARG_MULTIPLIER]);
	int64_t zero_point = as_i32(insn->arg[NPU_ARG_ZERO_POINT]);
	unsigned int shift = insn->arg[NPU_ARG_SHIFT];

	for (i = 0; i < count; i++) {
		int64_t v = as_i32(ld_le32(mem + insn->src0 + 4 * i));

		mem[insn->dst + i] = sat_i8(requant_one(v, multiplier, shift, zero_point));
	}
}

/* ---- the table ---------------------------------------------------------------- */

static const struct isa_op isa_ops[NPU_ISA_COUNT] = {
	[NPU_ISA_HALT] = {
		.name = "halt", .dtypes = DTYPE(0),
		.plan = plan_halt,
	},
	[NPU_ISA_COPY] = {
		.name = "copy", .dtypes = DTYPE(0),
		.operands = USES_DST | USES_SRC0, .args = ARG(NPU_ARG_COUNT),
		.plan = plan_copy, .exec = exec_copy,
	},
	[NPU_ISA_MATMUL_I8] = {
		.name = "matmul_i8", .flags = NPU_ISA_F_ACCUMULATE, .dtypes = DTYPE(0),
		.operands = USES_DST | USES_SRC0 | USES_SRC1,
		.args = ARG(NPU_ARG_M) | ARG(NPU_ARG_N) | ARG(NPU_ARG_K),
		.plan = plan_matmul, .exec = exec_matmul,
	},
	[NPU_ISA_ADD] = {
		.name = "add", .dtypes = DTYPE(NPU_DTYPE_I8) | DTYPE(NPU_DTYPE_I32),
		.operands = USES_DST | USES_SRC0 | USES_SRC1, .args = ARG(NPU_ARG_COUNT),
		.plan = plan_add, .exec = exec_add,
	},
	[NPU_ISA_RELU] = {
		.name = "relu", .dtypes = DTYPE(NPU_DTYPE_I8) | DTYPE(NPU_DTYPE_I32),
		.operands = USES_DST | USES_SRC0, .args = ARG(NPU_ARG_COUNT),
		.plan = plan_relu, .exec = exec_relu,
	},
	[NPU_ISA_REQUANT] = {
		.name = "requant", .dtypes = DTYPE(0),
		.operands = USES_DST | USES_SRC0,
		.args = ARG(NPU_ARG_COUNT) | ARG(NPU_ARG_MULTIPLIER) | ARG(NPU_ARG_SHIFT) |
			ARG(NPU_ARG_ZERO_POINT),
		.plan = plan_requant, .exec = exec_requant,
	},
};

const char *npu_isa_opcode_name(unsigned int opcode)
{
	return opcode < NPU_ISA_COUNT ? isa_ops[opcode].name : NULL;
}

static bool range_inside(const struct isa_range *r, uint64_t mem_size)
{
	return r->addr <= mem_size && r->len <= mem_size - r->addr;
}

static bool ranges_overlap(const struct isa_range *a, const struct isa_range *b)
{
	return a->len && b->len && a->addr < b->addr + b->len && b->addr < a->addr + a->len;
}

static uint32_t isa_plan_insn(const struct npu_isa_insn *insn, uint64_t mem_size,
			      struct isa_plan *plan)
{
	const uint32_t operand_fields[OPND_COUNT] = { insn->dst, insn->src0, insn->src1 };
	const struct isa_op *op;
	uint32_t status;
	unsigned int i;

	memset(plan, 0, sizeof(*plan));
	if (insn->opcode >= NPU_ISA_COUNT)
		return NPU_STATUS_BAD_DESC;
	op = &isa_ops[insn->opcode];
	if ((insn->flags & ~op->flags) || insn->dtype >= 8 || !(op->dtypes & DTYPE(insn->dtype)))
		return NPU_STATUS_BAD_DESC;
	for (i = 0; i < OPND_COUNT; i++)
		if (!(op->operands & (1u << i)) && operand_fields[i])
			return NPU_STATUS_BAD_DESC;
	for (i = 0; i < 12; i++)
		if (!(op->args & ARG(i)) && insn->arg[i])
			return NPU_STATUS_BAD_DESC;

	status = op->plan(insn, plan);
	if (status != NPU_STATUS_OK)
		return status;
	for (i = 0; i < OPND_COUNT; i++)
		if ((op->operands & (1u << i)) && !range_inside(&plan->range[i], mem_size))
			return NPU_STATUS_DRAM_OOB;
	if (plan->dst_must_not_overlap &&
	    (ranges_overlap(&plan->range[OPND_DST], &plan->range[OPND_SRC0]) ||
	     ranges_overlap(&plan->range[OPND_DST], &plan->range[OPND_SRC1])))
		return NPU_STATUS_BAD_DESC;
	return NPU_STATUS_OK;
}

static uint64_t isa_plan_cycles(const struct isa_plan *plan, unsigned int lanes)
{
	uint64_t per_cycle = (uint64_t)plan->work_per_cycle * lanes;
	uint64_t work_cycles = 0;

	if (per_cycle)
		work_cycles = plan->work / per_cycle + (plan->work % per_cycle != 0);
	return NPU_ISA_ISSUE_CYCLES + work_cycles;
}

uint32_t npu_isa_check(const struct npu_isa_insn *insn, uint64_t mem_size,
		       unsigned int lanes, uint64_t *cycles)
{
	struct isa_plan plan;
	uint32_t status = isa_plan_insn(insn, mem_size, &plan);

	if (status == NPU_STATUS_OK && cycles)
		*cycles = isa_plan_cycles(&plan, lanes ? lanes : 1);
	return status;
}

uint32_t npu_isa_run_slice(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr,
			   uint64_t prog_len, uint64_t cycle_budget, unsigned int lanes,
			   uint64_t slice_cycles, struct npu_isa_result *res)
{
	uint64_t count, slice_used = 0;

	if (!lanes)
		lanes = 1;
	if (!cycle_budget)
		cycle_budget = NPU_DEFAULT_CYCLE_BUDGET;

	if (prog_len == 0 || prog_len % NPU_INSN_SIZE) {
		res->status = NPU_STATUS_BAD_DESC;
		return res->status;
	}
	if (prog_addr > mem_size || prog_len > mem_size - prog_addr) {
		res->status = NPU_STATUS_DRAM_OOB;
		return res->status;
	}

	count = prog_len / NPU_INSN_SIZE;
	for (; res->insn_index < count; res->insn_index++) {
		struct npu_isa_insn insn;
		struct isa_plan plan;
		uint64_t cost;

		/* Fetched one at a time: an earlier instruction may rewrite later ones. */
		npu_isa_decode(mem + prog_addr + res->insn_index * NPU_INSN_SIZE, &insn);
		res->status = isa_plan_insn(&insn, mem_size, &plan);
		if (res->status != NPU_STATUS_OK)
			return res->status;

		cost = isa_plan_cycles(&plan, lanes);
		if (cost > cycle_budget - res->cycles) {
			/* The budget runs out inside this instruction: nothing written. */
			res->cycles = cycle_budget;
			res->status = NPU_STATUS_TIMEOUT;
			return res->status;
		}
		if (cost > slice_cycles - slice_used) {
			res->status = NPU_ISA_YIELD;
			return res->status;
		}
		slice_used += cost;
		res->cycles += cost;
		if (isa_ops[insn.opcode].exec)
			isa_ops[insn.opcode].exec(mem, &insn);
		res->retired++;
		if (insn.opcode == NPU_ISA_HALT)
			break;
	}
	res->insn_index = res->retired;
	res->status = NPU_STATUS_OK;
	return res->status;
}

uint32_t npu_isa_run(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr,
		     uint64_t prog_len, uint64_t cycle_budget, unsigned int lanes,
		     struct npu_isa_result *res)
{
	memset(res, 0, sizeof(*res));
	return npu_isa_run_slice(mem, mem_size, prog_addr, prog_len, cycle_budget, lanes,
				 UINT64_MAX, res);
}
