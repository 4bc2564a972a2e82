/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioctl ABI of the npu driver (/dev/npuN, /dev/npuNpeY, /dev/npuNpeY-Z,
 * /dev/npuN_mgmt). docs/driver.md describes every call and errno.
 *
 * Rules that keep the ABI growable:
 *  - every field has an explicit width and natural alignment, no implicit
 *    padding, the same layout for 32- and 64-bit userspace;
 *  - every "flags" field rejects unknown bits with EINVAL;
 *  - every "reserved" field must be zero on input (EINVAL otherwise);
 *  - NPU_IOCTL_VERSION reports the ABI version; new calls bump the minor.
 */
#ifndef _UAPI_NPU_H
#define _UAPI_NPU_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define NPU_UAPI_VERSION_MAJOR	1
#define NPU_UAPI_VERSION_MINOR	0

#define NPU_IOCTL_BASE		0xBE

/* NPU_IOCTL_VERSION: any file. */
struct npu_version {
	__u32 major;		/* out: NPU_UAPI_VERSION_MAJOR */
	__u32 minor;		/* out: NPU_UAPI_VERSION_MINOR */
	__u32 flags;		/* in: must be 0 */
	__u32 reserved;		/* must be 0 */
};

#define NPU_STRING_LEN		32

/* NPU_IOCTL_DEVICE_INFO: any file, including the management file. */
struct npu_device_info {
	__u32 flags;		/* in: must be 0 */
	__u32 index;		/* out: N of npuN */
	__u32 hw_rev;		/* out: major << 16 | minor */
	__u32 pe_count;		/* out: PEs on the device */
	__u32 pe_mask;		/* out: PEs this file drives (0: management) */
	__u32 fused;		/* out: 1 if the PEs of this file run as one unit */
	__u32 clock_mhz;	/* out: device clock */
	__u32 reserved0;
	__u64 dram_size;	/* out: DRAM on the device, bytes */
	__u64 dram_window;	/* out: DRAM a job of this file can address, bytes */
	char fw_version[NPU_STRING_LEN];	/* out: NUL-terminated */
	char serial[NPU_STRING_LEN];		/* out: NUL-terminated */
	__u8 uuid[16];				/* out */
	char busname[NPU_STRING_LEN];		/* out: PCI address, "0000:00:03.0" */
	__u64 reserved[4];
};

/*
 * Buffers ("BOs") are host memory the device can DMA to and from. Handles are
 * small integers private to the open file that created or imported them.
 */
#define NPU_BO_MAX_SIZE		(1ull << 32)

/* NPU_IOCTL_BO_CREATE: kernel-allocated pages, mmap-able through this file. */
struct npu_bo_create {
	__u64 size;		/* in: bytes, 1..NPU_BO_MAX_SIZE, rounded up to pages */
	__u32 flags;		/* in: must be 0 */
	__u32 handle;		/* out */
	__u64 mmap_offset;	/* out: pass to mmap() on this file */
	__u64 reserved;
};

#define NPU_BO_USERPTR_READONLY	(1u << 0)	/* the device only reads it */

/* NPU_IOCTL_BO_USERPTR: pin user memory for DMA until freed or closed. */
struct npu_bo_userptr {
	__u64 user_ptr;		/* in: page aligned */
	__u64 size;		/* in: bytes, page multiple, <= NPU_BO_MAX_SIZE */
	__u32 flags;		/* in: NPU_BO_USERPTR_* */
	__u32 handle;		/* out */
};

/* NPU_IOCTL_BO_FREE */
struct npu_bo_free {
	__u32 handle;		/* in */
	__u32 reserved;
};

#define NPU_BO_EXPORT_CLOEXEC	(1u << 0)

/* NPU_IOCTL_BO_EXPORT: a created BO as a dma-buf file descriptor. */
struct npu_bo_export {
	__u32 handle;		/* in */
	__u32 flags;		/* in: NPU_BO_EXPORT_* */
	__s32 fd;		/* out */
	__u32 reserved;
};

/* NPU_IOCTL_BO_IMPORT: a dma-buf from any exporter as a BO of this file. */
struct npu_bo_import {
	__s32 fd;		/* in */
	__u32 flags;		/* in: must be 0 */
	__u32 handle;		/* out */
	__u32 reserved;
	__u64 size;		/* out: bytes */
};

/* Commands of a job, executed in order. */
enum npu_job_cmd_op {
	NPU_JOB_CMD_NOP		= 0,
	NPU_JOB_CMD_COPY_TO_DRAM	= 1,	/* BO range -> DRAM */
	NPU_JOB_CMD_COPY_FROM_DRAM	= 2,	/* DRAM -> BO range */
	NPU_JOB_CMD_EXEC	= 3,	/* run the program at dram_addr */
	NPU_JOB_CMD_FENCE	= 4,	/* earlier commands have finished */
};

struct npu_job_cmd {
	__u32 op;		/* enum npu_job_cmd_op */
	__u32 flags;		/* must be 0 */
	__u32 handle;		/* COPY_*: BO; else 0 */
	__u32 reserved;
	__u64 offset;		/* COPY_*: bytes into the BO; else 0 */
	__u64 dram_addr;	/* COPY_*, EXEC: offset in the file's DRAM window */
	__u64 length;		/* COPY_*: bytes, > 0; EXEC: program bytes, n * 64 */
	__u64 cycle_budget;	/* EXEC: 0 = device default; else 0 */
};

#define NPU_JOB_MAX_CMDS	16
#define NPU_PE_ANY		0xffffffffu

/* NPU_IOCTL_SUBMIT: queue a job; returns at once with its sequence number. */
struct npu_submit {
	__u64 cmds;		/* in: user pointer to struct npu_job_cmd[cmd_count] */
	__u32 cmd_count;	/* in: 1..NPU_JOB_MAX_CMDS */
	__u32 flags;		/* in: must be 0 */
	__u32 pe;		/* in: /dev/npuN: PE 0, 1 or NPU_PE_ANY; others: 0 */
	__u32 reserved;
	__u64 seqno;		/* out: > 0, increasing per open file */
};

/* Job status, as reported by NPU_IOCTL_WAIT */
enum npu_job_status {
	NPU_JOB_OK		= 0,
	NPU_JOB_BAD_DESC	= 1,	/* device: malformed command or instruction */
	NPU_JOB_DRAM_OOB	= 2,	/* device: DRAM access outside the window */
	NPU_JOB_DMA_FAULT	= 3,	/* device: host memory access failed */
	NPU_JOB_TIMEOUT		= 4,	/* device: program exceeded its cycle budget */
	NPU_JOB_HANG		= 5,	/* driver: no progress within the job timeout */
	NPU_JOB_CANCELLED	= 6,	/* driver: aborted by a reset or by close */
	NPU_JOB_DEVICE_LOST	= 7,	/* driver: the device went away */
};

#define NPU_WAIT_ANY		0	/* seqno: the oldest finished job */

/*
 * NPU_IOCTL_WAIT: wait for a job to finish and collect its result. A job's
 * result is collected exactly once. Returns 0 if the job finished with
 * NPU_JOB_OK, EIO if it finished with any other status (the struct is filled
 * in either case), ETIME if timeout_ns passed first, ENOENT for an unknown or
 * already collected seqno.
 */
struct npu_wait {
	__u64 seqno;		/* in: job, or NPU_WAIT_ANY; out: the job collected */
	__s64 timeout_ns;	/* in: relative; 0 = do not block, < 0 = forever */
	__u32 flags;		/* in: must be 0 */
	__u32 status;		/* out: enum npu_job_status */
	__u32 info;		/* out: device detail, failing cmd << 16 | insn */
	__u32 pe;		/* out: PE that ran the job */
	__u64 start_ts;		/* out: device clock cycles */
	__u64 end_ts;		/* out: device clock cycles */
	__u64 reserved;
};

#define NPU_IOCTL_VERSION	_IOWR(NPU_IOCTL_BASE, 0x00, struct npu_version)
#define NPU_IOCTL_DEVICE_INFO	_IOWR(NPU_IOCTL_BASE, 0x01, struct npu_device_info)
#define NPU_IOCTL_BO_CREATE	_IOWR(NPU_IOCTL_BASE, 0x10, struct npu_bo_create)
#define NPU_IOCTL_BO_USERPTR	_IOWR(NPU_IOCTL_BASE, 0x11, struct npu_bo_userptr)
#define NPU_IOCTL_BO_FREE	_IOWR(NPU_IOCTL_BASE, 0x12, struct npu_bo_free)
#define NPU_IOCTL_BO_EXPORT	_IOWR(NPU_IOCTL_BASE, 0x13, struct npu_bo_export)
#define NPU_IOCTL_BO_IMPORT	_IOWR(NPU_IOCTL_BASE, 0x14, struct npu_bo_import)
#define NPU_IOCTL_SUBMIT	_IOWR(NPU_IOCTL_BASE, 0x20, struct npu_submit)
#define NPU_IOCTL_WAIT		_IOWR(NPU_IOCTL_BASE, 0x21, struct npu_wait)

#endif /* _UAPI_NPU_H */
