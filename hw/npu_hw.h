/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Hardware interface of the NPU: PCI identity, BAR0 register map, command and
 * completion ring formats. The instructions the processing elements (PEs)
 * run are the instruction set's (isa/npu_isa.h).
 *
 * This one header is shared by the QEMU device model (hw/qemu/), the kernel
 * driver (driver/), the instruction set (isa/) and the userspace library and
 * tools (hal/, tools/), so there is exactly one definition of the device.
 * docs/hardware.md explains every item.
 *
 * All multi-byte values in registers, rings and DRAM are little-endian.
 */
#ifndef NPU_HW_H
#define NPU_HW_H

#include <linux/types.h>

/* ---- PCI identity ------------------------------------------------------ */

/*
 * 0x1234 is the ID QEMU uses for its own emulated devices (it belongs to no
 * hardware vendor); 0x4e50 ("NP") is used by no other device model.
 */
#define NPU_PCI_VENDOR_ID		0x1234
#define NPU_PCI_DEVICE_ID		0x4e50
#define NPU_PCI_CLASS			0x1200	/* processing accelerator */
#define NPU_PCI_REVISION		0x01

#define NPU_BAR_REGS			0	/* 16 KiB of registers */
#define NPU_BAR_DRAM			2	/* 64-bit prefetchable device DRAM */
#define NPU_BAR_MSIX			4	/* MSI-X table and PBA */
#define NPU_REGS_SIZE			0x4000

/* MSI-X vectors */
#define NPU_MSIX_VEC_EVENT		0	/* device events and errors */
#define NPU_MSIX_VEC_PE(pe)		(1 + (pe))	/* completions of one PE */
#define NPU_MSIX_VECTORS		3

#define NPU_MAX_PES			2
#define NPU_MAGIC			0x3055504eu	/* "NPU0" */
#define NPU_HW_REV_MAJOR		1
#define NPU_HW_REV_MINOR		1

/* ---- Global registers (BAR0) -------------------------------------------- */

#define NPU_REG_MAGIC			0x000	/* RO, NPU_MAGIC */
#define NPU_REG_HW_REV			0x004	/* RO, major << 16 | minor */
#define NPU_REG_PE_COUNT		0x008	/* RO, 2 */
#define NPU_REG_CAPS			0x00c	/* RO, NPU_CAP_* */
#define NPU_REG_DRAM_SIZE		0x010	/* RO, 64-bit, bytes */
#define NPU_REG_CLOCK_MHZ		0x018	/* RO, device clock */
#define NPU_REG_HEARTBEAT		0x01c	/* RO, +1 per ms of virtual time */
#define NPU_REG_DEV_CLOCK		0x020	/* RO, 64-bit, device clock cycles */
#define NPU_REG_DEV_CTRL		0x030	/* WO, NPU_DEV_CTRL_* */
#define NPU_REG_DEV_STATUS		0x034	/* RO, NPU_DEV_STATUS_* */
#define NPU_REG_DEV_MODE		0x038	/* RW, NPU_DEV_MODE_* */
#define NPU_REG_ERR_CAUSE		0x03c	/* RO, last NPU_ERR_* (cleared by reset) */
#define NPU_REG_IRQ_STATUS		0x040	/* RW1C, NPU_IRQ_* */
#define NPU_REG_IRQ_ENABLE		0x044	/* RW, NPU_IRQ_* */
#define NPU_REG_TEMP_MC			0x080	/* RO, millidegrees Celsius */
#define NPU_REG_POWER_UW		0x084	/* RO, microwatts */
#define NPU_REG_VOLTAGE_MV		0x088	/* RO, millivolts */
#define NPU_REG_CURRENT_MA		0x08c	/* RO, milliamperes */
/*
 * Fault injection, for testing recovery. Only with `-device npu,faults=on`
 * (then CAPS has NPU_CAP_FAULTS); otherwise these read 0 and ignore writes.
 * The same controls are QOM properties of the device, settable over QMP.
 * A fault is armed by writing its bit to FAULT_ARM with FAULT_PE_MASK,
 * FAULT_COUNT (and FAULT_DELAY_US) set first: the arming keeps the values of
 * that moment. It fires FAULT_COUNT times (0: until disarmed by writing its
 * bit to FAULT_DISARM), then disarms itself. FAULT_FIRED counts firings, for
 * tests to compare with what the driver saw. No reset (PE, device, FLR or
 * bus) changes the fault registers, so the driver's recovery keeps them; a
 * reset only clears a fault's effect (docs/hardware.md, "Fault injection").
 */
#define NPU_REG_FAULT_ARM		0x0a0	/* W: arm NPU_FAULT_* bits; R: armed bits */
#define NPU_REG_FAULT_DISARM		0x0a4	/* W: disarm NPU_FAULT_* bits */
#define NPU_REG_FAULT_PE_MASK		0x0a8	/* RW: PEs the PE faults apply to (bit per PE) */
#define NPU_REG_FAULT_COUNT		0x0ac	/* RW: firings per arming, 0 = unlimited */
#define NPU_REG_FAULT_DELAY_US		0x0b0	/* RW: NPU_FAULT_LATE extra latency, microseconds */
#define NPU_REG_FAULT_FIRED		0x0b4	/* RO: total firings since power-on */
/*
 * Test hook, also only with faults=on: writing NPU_IRQ_PE_CQ(pe) bits sets
 * them in IRQ_STATUS and sends their vectors at once, as if a completion had
 * been written (none is). Drivers use it to measure interrupt delivery.
 */
#define NPU_REG_TEST_IRQ		0x0b8	/* WO: NPU_IRQ_PE_CQ() bits to raise now */
#define NPU_TEST_IRQ_ALL		(NPU_IRQ_PE_CQ(0) | NPU_IRQ_PE_CQ(1))

#define NPU_FAULT_HANG			(1u << 0)	/* a command never ends (PE BUSY) */
#define NPU_FAULT_DROP_IRQ		(1u << 1)	/* completion without its MSI-X */
#define NPU_FAULT_DMA			(1u << 2)	/* a DMA command fails with DMA_FAULT */
#define NPU_FAULT_BAD_COMPLETION	(1u << 3)	/* a completion entry with a wrong job_id */
#define NPU_FAULT_HEARTBEAT		(1u << 4)	/* HEARTBEAT stops (firmware dead) */
#define NPU_FAULT_FATAL			(1u << 5)	/* DEV_STATUS.FATAL, ERR_FATAL, IRQ */
#define NPU_FAULT_LINK_DOWN		(1u << 6)	/* reads ~0, no DMA/IRQ till PCI reset */
#define NPU_FAULT_LATE			(1u << 7)	/* completions arrive FAULT_DELAY_US late */
#define NPU_FAULT_ALL			0xffu
/* NPU_FAULT_BAD_COMPLETION writes the job_id XOR this value. */
#define NPU_FAULT_BAD_JOB_ID_XOR	0xdeadbeefdeadbeefull

#define NPU_REG_FW_VERSION		0x100	/* RO, 32 bytes, NUL-padded ASCII */
#define NPU_REG_SERIAL			0x120	/* RO, 32 bytes, NUL-padded ASCII */
#define NPU_REG_UUID			0x140	/* RO, 16 bytes, RFC 4122 order */
#define NPU_ID_STRING_LEN		32
#define NPU_UUID_LEN			16

#define NPU_CAP_FUSED			(1u << 0)	/* PE0+PE1 fused mode */
#define NPU_CAP_FAULTS			(1u << 1)	/* fault injection registers work */

#define NPU_DEV_CTRL_RESET		(1u << 0)	/* reset the whole device */

#define NPU_DEV_STATUS_READY		(1u << 0)	/* accepts register writes */
#define NPU_DEV_STATUS_FATAL		(1u << 1)	/* needs a device reset */

#define NPU_DEV_MODE_FUSED		(1u << 0)	/* only while both PEs are disabled */

/* IRQ_STATUS / IRQ_ENABLE bits */
#define NPU_IRQ_PE_CQ(pe)		(1u << (pe))	/* completion(s) on PE ring */
#define NPU_IRQ_ERROR			(1u << 8)	/* see ERR_CAUSE */
#define NPU_IRQ_RESET_DONE		(1u << 9)	/* device reset finished */
#define NPU_IRQ_ALL			(NPU_IRQ_PE_CQ(0) | NPU_IRQ_PE_CQ(1) | \
					 NPU_IRQ_ERROR | NPU_IRQ_RESET_DONE)

/* ERR_CAUSE values */
#define NPU_ERR_NONE			0
#define NPU_ERR_SQ_FETCH		1	/* a submission entry could not be read */
#define NPU_ERR_CQ_WRITE		2	/* a completion entry could not be written */
#define NPU_ERR_RING_CONFIG		3	/* ring enabled with a bad base or size */
#define NPU_ERR_MODE			4	/* fused mode changed with a PE enabled */
#define NPU_ERR_FATAL			5	/* internal fatal error: reset the device */

/* ---- Per-PE registers (BAR0 + NPU_PE_BASE(pe)) --------------------------- */

#define NPU_PE_BASE(pe)			(0x1000 + (pe) * 0x1000)

#define NPU_PE_CTRL			0x000	/* RW, NPU_PE_CTRL_* */
#define NPU_PE_STATUS			0x004	/* RO, NPU_PE_STATUS_* */
#define NPU_PE_DRAM_BASE		0x008	/* RO, 64-bit, partition offset in DRAM */
#define NPU_PE_DRAM_SIZE		0x010	/* RO, 64-bit, partition size */
#define NPU_PE_SQ_BASE			0x020	/* RW, 64-bit bus address */
#define NPU_PE_SQ_SIZE			0x028	/* RW, entries, power of two */
#define NPU_PE_SQ_HEAD			0x02c	/* RO, free-running consumer index */
#define NPU_PE_SQ_TAIL			0x030	/* RW, free-running producer index */
#define NPU_PE_SQ_DOORBELL		0x034	/* WO, any value: fetch up to SQ_TAIL */
#define NPU_PE_CQ_BASE			0x040	/* RW, 64-bit bus address */
#define NPU_PE_CQ_SIZE			0x048	/* RW, entries, power of two */
#define NPU_PE_CQ_HEAD			0x04c	/* RW, free-running consumer index */
#define NPU_PE_CQ_TAIL			0x050	/* RO, free-running producer index */
#define NPU_PE_PROGRESS			0x054	/* RO, cycles of command work done (1.1) */

/* Performance counters: 64-bit, read-only, cleared by PE or device reset. */
#define NPU_PE_PERF_CYCLES		0x100	/* PE clock cycles since reset */
#define NPU_PE_PERF_TASK_CYCLES		0x108	/* cycles spent executing commands */
#define NPU_PE_PERF_TENSOR_CYCLES	0x110	/* cycles spent in instructions */
#define NPU_PE_PERF_DMA_CYCLES		0x118	/* cycles spent in DMA commands */
#define NPU_PE_PERF_INSTRUCTIONS	0x120	/* instructions retired */
#define NPU_PE_PERF_COMMANDS		0x128	/* commands completed */
#define NPU_PE_PERF_JOBS		0x130	/* completion entries written */
#define NPU_PE_PERF_ERRORS		0x138	/* jobs completed with an error */
#define NPU_PE_PERF_DMA_TO_DEV_BYTES	0x140	/* host -> DRAM */
#define NPU_PE_PERF_DMA_FROM_DEV_BYTES	0x148	/* DRAM -> host */
#define NPU_PE_PERF_DMA_COMMANDS	0x150	/* DMA commands completed */
#define NPU_PE_PERF_FIRST		NPU_PE_PERF_CYCLES
#define NPU_PE_PERF_LAST		NPU_PE_PERF_DMA_COMMANDS

#define NPU_PE_CTRL_ENABLE		(1u << 0)	/* process the submission ring */
#define NPU_PE_CTRL_RESET		(1u << 1)	/* self-clearing: abort and reset PE */

#define NPU_PE_STATUS_ENABLED		(1u << 0)
#define NPU_PE_STATUS_BUSY		(1u << 1)	/* a command is executing */
#define NPU_PE_STATUS_HALTED		(1u << 2)	/* stopped on a ring error */
#define NPU_PE_STATUS_CQ_FULL		(1u << 3)	/* waiting for CQ_HEAD to move */

#define NPU_RING_MIN_ENTRIES		2
#define NPU_RING_MAX_ENTRIES		4096

/* ---- Submission ring entries (64 bytes) --------------------------------- */

enum npu_hw_opcode {
	NPU_OP_NOP		= 0,	/* does nothing */
	NPU_OP_DMA_TO_DEV	= 1,	/* host SG list -> DRAM */
	NPU_OP_DMA_FROM_DEV	= 2,	/* DRAM -> host SG list */
	NPU_OP_EXEC		= 3,	/* run the program at dram_addr */
	NPU_OP_FENCE		= 4,	/* all earlier commands have finished */
	NPU_OP_COUNT
};

/* Last command of a job: a completion entry is written after it. */
#define NPU_CMD_F_END_OF_JOB		(1u << 0)
#define NPU_CMD_F_ALL			NPU_CMD_F_END_OF_JOB

/*
 * Ring entries live in host memory the device reads and writes by DMA, in
 * little-endian order: the __le types let sparse check that the driver
 * converts every field (cpu_to_le64() and friends).
 */
struct npu_hw_cmd {
	__u8 opcode;		/* enum npu_hw_opcode */
	__u8 flags;		/* NPU_CMD_F_* */
	__le16 reserved0;	/* must be 0 */
	__le32 sg_count;	/* DMA: entries in the SG list, >= 1 */
	__le64 job_id;		/* copied into the completion entry */
	__le64 sg_addr;		/* DMA: bus address of struct npu_hw_sg[sg_count] */
	__le64 dram_addr;	/* DMA: DRAM address; EXEC: program address */
	__le64 length;		/* DMA: bytes (sum of SG lengths); EXEC: program bytes */
	__le64 cycle_budget;	/* EXEC: cycles before TIMEOUT; 0 = device default */
	__le64 reserved1[2];	/* must be 0 */
};

#define NPU_SG_MAX_ENTRIES		65536

struct npu_hw_sg {
	__le64 addr;		/* bus address */
	__le32 length;		/* bytes, >= 1 */
	__le32 reserved;	/* must be 0 */
};

/* ---- Completion ring entries (32 bytes) --------------------------------- */

enum npu_hw_status {
	NPU_STATUS_OK		= 0,
	NPU_STATUS_BAD_DESC	= 1,	/* malformed command or instruction */
	NPU_STATUS_DRAM_OOB	= 2,	/* DRAM access outside the partition */
	NPU_STATUS_DMA_FAULT	= 3,	/* host memory access failed */
	NPU_STATUS_TIMEOUT	= 4,	/* program exceeded its cycle budget */
	NPU_STATUS_COUNT
};

struct npu_hw_completion {
	__le64 job_id;
	__le32 status;		/* enum npu_hw_status */
	__le32 info;		/* on error: cmd index in job << 16 | insn index */
	__le64 start_ts;	/* device clock when the job's first command began */
	__le64 end_ts;		/* device clock when its last command ended */
};

#define NPU_COMPLETION_INFO(cmd, insn)	(((cmd) & 0xffffu) << 16 | ((insn) & 0xffffu))

/* ---- Programs (EXEC commands) ------------------------------------------- */

/*
 * A program is a whole number of instructions of NPU_INSN_SIZE bytes; their
 * encoding is the instruction set's (isa/npu_isa.h).
 */
#define NPU_INSN_SIZE			64
#define NPU_DEFAULT_CYCLE_BUDGET	4000000000ull

#endif /* NPU_HW_H */
