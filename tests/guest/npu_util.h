/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the guest tests: opening the device files, buffers,
 * job submission, program building, a deterministic PRNG, raw BAR0 access
 * through sysfs and C reference implementations of the instruction set.
 *
 * Functions return 0 or a negative errno and never abort, so tests decide
 * themselves between ASSERT_* and EXPECT_*. Nothing here keeps global state.
 */
#ifndef NPU_UTIL_H
#define NPU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "npu.h"
#include "npu_hw.h"
#include "npu_isa.h"
#include "npu_isa_encode.h"

/* The files of one device, in the order the exclusivity matrix uses. */
enum npu_file_kind {
	NPU_FILE_ALL,		/* /dev/npuN: both PEs, jobs pick a PE */
	NPU_FILE_PE0,		/* /dev/npuNpe0 */
	NPU_FILE_PE1,		/* /dev/npuNpe1 */
	NPU_FILE_FUSED,		/* /dev/npuNpe0-1 */
	NPU_FILE_MGMT,		/* /dev/npuN_mgmt */
	NPU_FILE_KIND_COUNT
};

/* Writes "/dev/npu0pe1" etc. into buf. */
void npu_file_path(char *buf, size_t len, unsigned int dev, enum npu_file_kind kind);
const char *npu_file_kind_name(enum npu_file_kind kind);
/* PEs whose ownership the file takes (bit per PE); 0 for the management file. */
unsigned int npu_file_pe_mask(enum npu_file_kind kind);

/* open(2) of a device file; returns the fd or -errno. */
int npu_open(unsigned int dev, enum npu_file_kind kind, int extra_flags);
/* True if /dev/npu<dev>_mgmt exists (driver loaded, device probed). */
bool npu_device_present(unsigned int dev);

int npu_device_info(int fd, struct npu_device_info *info);

/* A kernel-allocated buffer mapped into this process. */
struct npu_bo {
	int fd;
	uint32_t handle;
	uint64_t size;
	uint8_t *map;
};

int npu_bo_alloc(int fd, uint64_t size, struct npu_bo *bo);
void npu_bo_release(struct npu_bo *bo);

/* Command constructors. */
struct npu_job_cmd npu_cmd_to_dram(const struct npu_bo *bo, uint64_t bo_off,
				   uint64_t dram_addr, uint64_t len);
struct npu_job_cmd npu_cmd_from_dram(const struct npu_bo *bo, uint64_t bo_off,
				     uint64_t dram_addr, uint64_t len);
struct npu_job_cmd npu_cmd_exec(uint64_t dram_addr, uint64_t len, uint64_t budget);

/* SUBMIT; returns 0 and the seqno, or -errno. */
int npu_submit(int fd, uint32_t pe, const struct npu_job_cmd *cmds, uint32_t count,
	       uint64_t *seqno);
/* WAIT; returns 0, or -errno (-EIO with *out filled for a failed job). */
int npu_wait(int fd, uint64_t seqno, int64_t timeout_ns, struct npu_wait *out);
/* SUBMIT then WAIT forever; returns as npu_wait. */
int npu_run(int fd, uint32_t pe, const struct npu_job_cmd *cmds, uint32_t count,
	    struct npu_wait *out);

/* Copy len bytes of host data into DRAM through a temporary BO (synchronous). */
int npu_write_dram(int fd, uint32_t pe, uint64_t dram_addr, const void *data, uint64_t len);
int npu_read_dram(int fd, uint32_t pe, uint64_t dram_addr, void *data, uint64_t len);

/*
 * Programs: an instruction array is built in host memory with the encoders of
 * npu_isa_encode.h (npu_insn_matmul(), ...), then written to DRAM.
 * Write the program at prog_addr and EXEC it; returns as npu_wait.
 */
int npu_run_program(int fd, uint32_t pe, uint64_t prog_addr, const struct npu_insn *insns,
		    unsigned int count, struct npu_wait *out);

/* Deterministic PRNG (xorshift64*), one state per user: thread safe. */
struct npu_rng {
	uint64_t state;
};

void npu_rng_seed(struct npu_rng *rng, uint64_t seed);
uint64_t npu_rng_next(struct npu_rng *rng);
void npu_rng_fill(struct npu_rng *rng, void *buf, size_t len);

/* C references of the instruction set (row-major matrices). */
void npu_ref_matmul_i8(int32_t *dst, const int8_t *a, const int8_t *b, uint32_t m,
		       uint32_t n, uint32_t k, bool accumulate);
int8_t npu_ref_sat_i8(int64_t v);
int8_t npu_ref_requant(int32_t v, int32_t multiplier, uint32_t shift, int32_t zero_point);

/* Index of the first differing byte, or -1 when equal. */
ssize_t npu_first_diff(const void *a, const void *b, size_t len);

/*
 * Raw BAR0 of the PCI function whose address is busname ("0000:00:03.0"),
 * mapped read-only from sysfs resource0.
 */
struct npu_bar {
	volatile uint8_t *regs;
	size_t size;
};

int npu_bar_map(const char *busname, struct npu_bar *bar);
void npu_bar_unmap(struct npu_bar *bar);
uint32_t npu_bar_read32(const struct npu_bar *bar, uint32_t off);
uint64_t npu_bar_read64(const struct npu_bar *bar, uint32_t off);
/* One 8-byte access: a consistent snapshot of DEV_CLOCK. */
uint64_t npu_bar_read64_once(const struct npu_bar *bar, uint32_t off);
void npu_bar_read_bytes(const struct npu_bar *bar, uint32_t off, void *buf, size_t len);

/*
 * PCI addresses of every function with the NPU vendor/device ID, sorted;
 * returns the count (at most max) or -errno.
 */
int npu_pci_find(char names[][NPU_STRING_LEN], int max);

/*
 * The 6.1 kselftest harness runs the test body even when FIXTURE_SETUP called
 * SKIP(); every TEST_F using a skipping setup starts with this.
 */
#define NPU_RETURN_IF_SKIPPED() do { if (_metadata->skip) return; } while (0)

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t npu_now_ns(void);

#endif /* NPU_UTIL_H */
