/* SPDX-License-Identifier: MIT */
/*
 * Interpreter of the NPU instruction set (isa/npu_isa.h, docs/hardware.md).
 *
 * Pure portable C11 with no dependencies beyond libc, so the same file runs
 * inside the QEMU device model (hw/qemu/npu*.c) and in the HAL's CPU
 * reference runner. It keeps no global state and is thread-safe
 * as long as two callers do not share the same memory.
 */
#ifndef NPU_ISA_EXEC_H
#define NPU_ISA_EXEC_H

#include <stdint.h>

#include "npu_isa.h"

/* Fixed cost of every instruction (fetch, decode, issue), in PE cycles. */
#define NPU_ISA_ISSUE_CYCLES		8u
/* Per-lane throughputs; a fused unit has two lanes. */
#define NPU_ISA_COPY_BYTES_PER_CYCLE	64u
#define NPU_ISA_MACS_PER_CYCLE		256u
#define NPU_ISA_ELEMS_PER_CYCLE		32u

struct npu_isa_result {
	uint32_t status;	/* enum npu_hw_status */
	/*
	 * On error: index of the failing instruction. On success: number of
	 * instructions fetched (HALT included).
	 */
	uint64_t insn_index;
	uint64_t retired;	/* instructions that completed (HALT included) */
	uint64_t cycles;	/* tensor cycles consumed, budget included on TIMEOUT */
};

/*
 * The decoder and the encoder: a struct npu_insn holds the fields in host
 * byte order, the device reads 64 little-endian bytes.
 */
void npu_isa_decode(const uint8_t raw[NPU_INSN_SIZE], struct npu_insn *insn);
void npu_isa_encode(const struct npu_insn *insn, uint8_t raw[NPU_INSN_SIZE]);

/*
 * Validates one decoded instruction against an address space of mem_size
 * bytes: NPU_STATUS_OK, NPU_STATUS_BAD_DESC (malformed) or
 * NPU_STATUS_DRAM_OOB (an operand range leaves the address space).
 * On OK, *cycles (if not NULL) receives its cost on a unit with `lanes` lanes.
 * Without memory it cannot check operand contents (REQUANT_PC's table
 * shifts, validation step 5): npu_isa_run*() do.
 */
uint32_t npu_isa_check(const struct npu_insn *insn, uint64_t mem_size,
		       unsigned int lanes, uint64_t *cycles);

/*
 * Runs the program of prog_len bytes at prog_addr in mem[0, mem_size).
 * lanes: 1 for one PE, 2 for the fused unit (0 is treated as 1).
 * cycle_budget: 0 means NPU_DEFAULT_CYCLE_BUDGET.
 * Fills *res and returns res->status.
 */
uint32_t npu_isa_run(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr,
		     uint64_t prog_len, uint64_t cycle_budget, unsigned int lanes,
		     struct npu_isa_result *res);

/* Returned by npu_isa_run_slice(): the slice ended, the program did not. */
#define NPU_ISA_YIELD			0x100u

/*
 * Runs part of a program, so that a caller can bound the host time spent
 * at once (the QEMU model runs small programs inline and hands big ones to
 * a worker thread). Continues from the state in *res: insn_index is the
 * next instruction, cycles and retired accumulate; start with *res zeroed.
 * Before running an instruction that would take the cycles of this slice
 * above slice_cycles, it stops and returns NPU_ISA_YIELD with *res ready for
 * the next call. Budget, bounds and field checks come first, so a failing
 * instruction fails in the slice that reaches it, whatever its size.
 * npu_isa_run() is one slice with no limit.
 */
uint32_t npu_isa_run_slice(uint8_t *mem, uint64_t mem_size, uint64_t prog_addr,
			   uint64_t prog_len, uint64_t cycle_budget, unsigned int lanes,
			   uint64_t slice_cycles, struct npu_isa_result *res);

/*
 * How instructions are executed; all three give bit-identical results (the
 * host tests compare them on random programs). The device model and the CPU
 * runner use FAST through npu_isa_run*().
 */
enum npu_isa_engine {
	/* MATMUL_I8 and CONV2D as blocked matrix products (isa_gemm.c) with the
	 * host's best micro-kernel; everything else as REFERENCE. */
	NPU_ISA_ENGINE_FAST,
	/* The same, with the portable C micro-kernel. */
	NPU_ISA_ENGINE_PORTABLE,
	/* The specification's loops, unoptimised: what the others are checked against. */
	NPU_ISA_ENGINE_REFERENCE,
};

/* npu_isa_run() with the given engine. */
uint32_t npu_isa_run_engine(enum npu_isa_engine engine, uint8_t *mem, uint64_t mem_size,
			    uint64_t prog_addr, uint64_t prog_len, uint64_t cycle_budget,
			    unsigned int lanes, struct npu_isa_result *res);

/* The micro-kernel NPU_ISA_ENGINE_FAST uses on this host: "avx2" or "portable". */
const char *npu_isa_fast_kernel(void);

/* Name of an opcode ("matmul_i8"), or NULL if unknown. */
const char *npu_isa_opcode_name(unsigned int opcode);

#endif /* NPU_ISA_EXEC_H */
