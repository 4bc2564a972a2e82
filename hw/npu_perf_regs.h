/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The performance counters of a PE that sysfs perf_regs shows, in the order
 * it shows them, after CycleCount and CycleCountHigh (the two halves of
 * NPU_PE_PERF_CYCLES): NPU_PERF_REG(name, register), the name in Warboy's
 * `Name: 0xhex` format and the 64-bit register's offset in the PE's block.
 * The driver and the tests both read this one list.
 *
 * An X-macro list, so it has no include guard: define NPU_PERF_REG(name,
 * reg), include this file where the entries belong, undefine it again.
 */
NPU_PERF_REG("TaskExecutionTime", NPU_PE_PERF_TASK_CYCLES)
NPU_PERF_REG("TensorExecutionTime", NPU_PE_PERF_TENSOR_CYCLES)
NPU_PERF_REG("DmaExecutionTime", NPU_PE_PERF_DMA_CYCLES)
NPU_PERF_REG("InstructionCount", NPU_PE_PERF_INSTRUCTIONS)
NPU_PERF_REG("CommandCount", NPU_PE_PERF_COMMANDS)
NPU_PERF_REG("JobCount", NPU_PE_PERF_JOBS)
NPU_PERF_REG("ErrorCount", NPU_PE_PERF_ERRORS)
NPU_PERF_REG("DmaToDeviceBytes", NPU_PE_PERF_DMA_TO_DEV_BYTES)
NPU_PERF_REG("DmaFromDeviceBytes", NPU_PE_PERF_DMA_FROM_DEV_BYTES)
NPU_PERF_REG("DmaCommandCount", NPU_PE_PERF_DMA_COMMANDS)
