/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the reliability tests (faults_*_test, isolation_test,
 * ioctl_fuzz_test, the reliability agent): arming the device model's fault
 * switches (through the driver's debugfs when it has them, else by writing
 * BAR0 directly), the driver's recovery state in sysfs (reset counters,
 * device_state, job timeout), devcoredumps, and self-checking jobs whose
 * results prove that a completion belongs to the job that was submitted.
 *
 * Like npu_util.h: functions return 0 or a negative errno and never abort;
 * no global state.
 */
#ifndef NPU_FAULT_UTIL_H
#define NPU_FAULT_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npu_util.h"

/* One card with its BAR0 mapped read-write and its driver directories. */
struct npu_fault_dev {
	unsigned int card;
	char busname[NPU_STRING_LEN];
	char mgmt_dir[PATH_MAX];	/* /sys/class/npu_mgmt/npuN_mgmt */
	char debugfs[PATH_MAX];		/* the driver's fault knobs, or "" */
	volatile uint8_t *regs;		/* BAR0, NPU_REGS_SIZE bytes */
	uint32_t caps;			/* NPU_REG_CAPS */
};

int npu_fault_dev_open(unsigned int card, struct npu_fault_dev *dev);
void npu_fault_dev_close(struct npu_fault_dev *dev);
static inline bool npu_fault_supported(const struct npu_fault_dev *dev)
{
	return dev->caps & NPU_CAP_FAULTS;
}

uint32_t npu_fault_reg_read(const struct npu_fault_dev *dev, uint32_t off);
void npu_fault_reg_write(const struct npu_fault_dev *dev, uint32_t off, uint32_t val);

/*
 * Arms the NPU_FAULT_* bits for the PEs in pe_mask, firing `count` times
 * (0: until disarmed), NPU_FAULT_LATE delaying by delay_us.
 */
int npu_fault_arm(const struct npu_fault_dev *dev, uint32_t bits, uint32_t pe_mask,
		  uint32_t count, uint32_t delay_us);
int npu_fault_disarm(const struct npu_fault_dev *dev, uint32_t bits);
/* FAULT_FIRED: firings since the last device reset. */
uint32_t npu_fault_fired(const struct npu_fault_dev *dev);
/* "debugfs" or "BAR0": how faults are armed. */
const char *npu_fault_via(const struct npu_fault_dev *dev);
const char *npu_fault_name(uint32_t bit);

/* Resets the driver counted: pe = 0/1 for one PE, -1 for the whole device. */
int npu_reset_count(const struct npu_fault_dev *dev, int pe, uint64_t *count);
/* Sum of the device's and both PEs' reset counters (-ENOENT if none exists). */
int npu_reset_total(const struct npu_fault_dev *dev, uint64_t *total);
/* device_state ("ready", "resetting", "failed"), without newline. */
int npu_device_state(const struct npu_fault_dev *dev, char *buf, size_t len);
/* Polls device_state until "ready" (or the file is missing); -ETIMEDOUT. */
int npu_wait_ready(const struct npu_fault_dev *dev, unsigned int timeout_ms);

/* The job timeout of the card in ms (sysfs, else the module parameter). */
int npu_job_timeout_get(const struct npu_fault_dev *dev, unsigned int *ms);
int npu_job_timeout_set(const struct npu_fault_dev *dev, unsigned int ms);

/*
 * Devcoredumps of this card: *count dumps, *bytes of data in all, each read
 * and then freed (written to). The first dump's first line goes to first.
 */
int npu_coredump_collect(const struct npu_fault_dev *dev, unsigned int *count, size_t *bytes,
			 char *first, size_t first_len);

/*
 * Self-checking jobs: job k copies a program and 4 KiB of fresh random data
 * of slot k % slots into DRAM, runs the program (an on-device COPY to another
 * DRAM range) and copies the result back to the slot of the output BO. The
 * output proves that the job ran completely and that its completion is its
 * own: each submission uses new data.
 */
#define NPU_VJOB_BYTES		4096u
#define NPU_VJOB_DRAM_STRIDE	0x4000u

struct npu_vjob_ctx {
	int fd;
	uint32_t pe;			/* SUBMIT's pe */
	unsigned int slots;
	uint64_t dram_base;		/* first slot's offset in the file's window */
	struct npu_bo in, out, prog;
	struct npu_rng rng;
};

int npu_vjob_init(struct npu_vjob_ctx *ctx, int fd, uint32_t pe, unsigned int slots,
		  uint64_t dram_base, uint64_t seed);
void npu_vjob_fini(struct npu_vjob_ctx *ctx);
int npu_vjob_submit(struct npu_vjob_ctx *ctx, unsigned int slot, uint64_t *seqno);
/* 0 when the output slot equals the input slot, -EBADMSG otherwise. */
int npu_vjob_check(const struct npu_vjob_ctx *ctx, unsigned int slot);

/* What became of jobs. */
struct npu_tally {
	unsigned long submitted, completed;	/* WAIT returned a result */
	unsigned long ok, bad_data;		/* OK, and OK with wrong output */
	unsigned long status[8];		/* per enum npu_job_status */
	unsigned long errno_mismatch;		/* WAIT errno not matching the status */
	unsigned long never;			/* no result within the deadline */
};

/*
 * WAIT for seqno up to timeout_ms and account for it; returns the job status
 * (>= 0), or -errno when no result came.
 */
int npu_tally_wait(struct npu_tally *t, int fd, uint64_t seqno, unsigned int timeout_ms,
		   struct npu_wait *out);
void npu_tally_add(struct npu_tally *sum, const struct npu_tally *t);
const char *npu_job_status_name(uint32_t status);

/* Writes val to a sysfs/debugfs file; 0 or -errno. */
int npu_write_file(const char *path, const char *val);

#endif /* NPU_FAULT_UTIL_H */
