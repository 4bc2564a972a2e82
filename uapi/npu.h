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
 *    output-only fields are not checked on input;
 *  - arrays that may grow carry the size of one element (npu_submit.cmd_size);
 *  - NPU_IOCTL_VERSION reports the ABI version; new calls bump the minor,
 *    and a call's number and layout never change once released.
 *
 * History: 1.0 the calls VERSION .. WAIT; 1.1 NPU_IOCTL_QUERY and
 * npu_submit.cmd_size (the 1.0 reserved field, where 0 keeps the 1.0 meaning).
 */
#ifndef _UAPI_NPU_H
#define _UAPI_NPU_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define NPU_UAPI_VERSION_MAJOR	1
#define NPU_UAPI_VERSION_MINOR	1

#define NPU_IOCTL_BASE		0xBE

/*
 * Each call's number follows its struct. 1.0 declared every call _IOWR,
 * also the input-only BO_FREE; numbers are ABI and stay as they are. Calls
 * added since use the direction of their data (QUERY reads and writes its
 * struct).
 */

/**
 * struct npu_version - the ABI version (NPU_IOCTL_VERSION, any file)
 * @major: Output: NPU_UAPI_VERSION_MAJOR of the driver. A different major
 *	   is a different ABI: refuse to run.
 * @minor: Output: NPU_UAPI_VERSION_MINOR of the driver. Calls and fields of
 *	   a higher minor than this are not available.
 * @flags: Input: must be 0.
 * @reserved: Input: must be 0.
 */
struct npu_version {
	__u32 major;
	__u32 minor;
	__u32 flags;
	__u32 reserved;
};

#define NPU_IOCTL_VERSION	_IOWR(NPU_IOCTL_BASE, 0x00, struct npu_version)

/* Length of the string fields, including the terminating NUL. */
#define NPU_STRING_LEN		32

/**
 * struct npu_device_info - identity of the card and of this file
 *			    (NPU_IOCTL_DEVICE_INFO, any file)
 * @flags: Input: must be 0.
 * @index: Output: N of npuN.
 * @hw_rev: Output: hardware revision, major << 16 | minor.
 * @pe_count: Output: processing elements (PEs) on the device.
 * @pe_mask: Output: PEs this file drives, bit per PE; 0 for the management
 *	     file.
 * @fused: Output: 1 if the PEs of this file run as one unit, else 0.
 * @clock_mhz: Output: device clock, MHz.
 * @reserved0: Input: must be 0.
 * @dram_size: Output: DRAM on the device, bytes.
 * @dram_window: Output: DRAM a job of this file can address, bytes (0 for
 *		 the management file).
 * @fw_version: Output: firmware version, NUL-terminated.
 * @serial: Output: serial number, NUL-terminated.
 * @uuid: Output: device UUID, RFC 4122 byte order.
 * @busname: Output: PCI address such as "0000:00:03.0", NUL-terminated.
 * @reserved: Input: must be 0.
 */
struct npu_device_info {
	__u32 flags;
	__u32 index;
	__u32 hw_rev;
	__u32 pe_count;
	__u32 pe_mask;
	__u32 fused;
	__u32 clock_mhz;
	__u32 reserved0;
	__u64 dram_size;
	__u64 dram_window;
	char fw_version[NPU_STRING_LEN];
	char serial[NPU_STRING_LEN];
	__u8 uuid[16];
	char busname[NPU_STRING_LEN];
	__u64 reserved[4];
};

#define NPU_IOCTL_DEVICE_INFO	_IOWR(NPU_IOCTL_BASE, 0x01, struct npu_device_info)

/*
 * Buffers ("BOs") are host memory the device can DMA to and from. Handles are
 * small integers private to the open file that created or imported them.
 */

/* Largest BO, bytes (4 GiB). */
#define NPU_BO_MAX_SIZE		_BITULL(32)

/**
 * struct npu_bo_create - a BO of kernel-allocated pages, mmap-able through
 *			  this file (NPU_IOCTL_BO_CREATE, PE files)
 * @size: Input: bytes, 1..NPU_BO_MAX_SIZE, rounded up to whole pages.
 * @flags: Input: must be 0.
 * @handle: Output: the new BO's handle, > 0.
 * @mmap_offset: Output: the offset to pass to mmap() on this file.
 * @reserved: Input: must be 0.
 */
struct npu_bo_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 mmap_offset;
	__u64 reserved;
};

#define NPU_IOCTL_BO_CREATE	_IOWR(NPU_IOCTL_BASE, 0x10, struct npu_bo_create)

/* npu_bo_userptr.flags: the device only reads the memory. */
#define NPU_BO_USERPTR_READONLY	_BITUL(0)

/**
 * struct npu_bo_userptr - pin user memory for DMA until it is freed or the
 *			   file closed (NPU_IOCTL_BO_USERPTR, PE files)
 * @user_ptr: Input: start of the memory, page aligned.
 * @size: Input: bytes, a multiple of the page size, 1..NPU_BO_MAX_SIZE.
 * @flags: Input: NPU_BO_USERPTR_* bits; others are EINVAL.
 * @handle: Output: the new BO's handle, > 0.
 *
 * This struct has no reserved field: its 1.0 layout has no padding that
 * could become one, and a new field would change its size and so the
 * ioctl number. @flags, which rejects unknown bits, is where it can grow.
 */
struct npu_bo_userptr {
	__u64 user_ptr;
	__u64 size;
	__u32 flags;
	__u32 handle;
};

#define NPU_IOCTL_BO_USERPTR	_IOWR(NPU_IOCTL_BASE, 0x11, struct npu_bo_userptr)

/**
 * struct npu_bo_free - drop a handle (NPU_IOCTL_BO_FREE, PE files)
 * @handle: Input: the BO. Its memory lives on until the last queued job
 *	    and the last mapping using it are gone.
 * @reserved: Input: must be 0.
 */
struct npu_bo_free {
	__u32 handle;
	__u32 reserved;
};

#define NPU_IOCTL_BO_FREE	_IOWR(NPU_IOCTL_BASE, 0x12, struct npu_bo_free)

/* npu_bo_export.flags: the new file descriptor is close-on-exec. */
#define NPU_BO_EXPORT_CLOEXEC	_BITUL(0)

/**
 * struct npu_bo_export - a BO_CREATE BO as a dma-buf file descriptor
 *			  (NPU_IOCTL_BO_EXPORT, PE files)
 * @handle: Input: the BO.
 * @flags: Input: NPU_BO_EXPORT_* bits; others are EINVAL.
 * @fd: Output: the dma-buf.
 * @reserved: Input: must be 0.
 */
struct npu_bo_export {
	__u32 handle;
	__u32 flags;
	__s32 fd;
	__u32 reserved;
};

#define NPU_IOCTL_BO_EXPORT	_IOWR(NPU_IOCTL_BASE, 0x13, struct npu_bo_export)

/**
 * struct npu_bo_import - a dma-buf from any exporter as a BO of this file
 *			  (NPU_IOCTL_BO_IMPORT, PE files)
 * @fd: Input: the dma-buf file descriptor.
 * @flags: Input: must be 0.
 * @handle: Output: the new BO's handle, > 0.
 * @reserved: Input: must be 0.
 * @size: Output: bytes of the buffer.
 */
struct npu_bo_import {
	__s32 fd;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
	__u64 size;
};

#define NPU_IOCTL_BO_IMPORT	_IOWR(NPU_IOCTL_BASE, 0x14, struct npu_bo_import)

/**
 * enum npu_job_cmd_op - commands of a job, executed in order
 * @NPU_JOB_CMD_NOP: nothing.
 * @NPU_JOB_CMD_COPY_TO_DRAM: copy a BO range to DRAM.
 * @NPU_JOB_CMD_COPY_FROM_DRAM: copy DRAM to a BO range.
 * @NPU_JOB_CMD_EXEC: run the program at dram_addr.
 * @NPU_JOB_CMD_FENCE: wait until the earlier commands have finished.
 */
enum npu_job_cmd_op {
	NPU_JOB_CMD_NOP		= 0,
	NPU_JOB_CMD_COPY_TO_DRAM	= 1,
	NPU_JOB_CMD_COPY_FROM_DRAM	= 2,
	NPU_JOB_CMD_EXEC	= 3,
	NPU_JOB_CMD_FENCE	= 4,
};

/**
 * struct npu_job_cmd - one command of a job (an element of npu_submit.cmds)
 * @op: Input: enum npu_job_cmd_op.
 * @flags: Input: must be 0.
 * @handle: Input: COPY_*: the BO; other ops: must be 0.
 * @reserved: Input: must be 0.
 * @offset: Input: COPY_*: bytes into the BO; other ops: must be 0.
 * @dram_addr: Input: COPY_*, EXEC: bytes into the file's DRAM window;
 *	       NOP, FENCE: must be 0.
 * @length: Input: COPY_*: bytes, > 0; EXEC: program bytes, a multiple of
 *	    64 (one instruction), > 0; NOP, FENCE: must be 0.
 * @cycle_budget: Input: EXEC: device clock cycles the program may run,
 *		  0 for the device's default; other ops: must be 0.
 */
struct npu_job_cmd {
	__u32 op;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
	__u64 offset;
	__u64 dram_addr;
	__u64 length;
	__u64 cycle_budget;
};

/* Commands per job. */
#define NPU_JOB_MAX_CMDS	16
/* Largest npu_submit.cmd_size the driver accepts, bytes. */
#define NPU_JOB_CMD_MAX_SIZE	4096
/* npu_submit.pe on /dev/npuN: the PE with fewer queued jobs. */
#define NPU_PE_ANY		0xffffffffu

/**
 * struct npu_submit - queue a job (NPU_IOCTL_SUBMIT, PE files); returns at
 *		       once with the job's sequence number
 * @cmds: Input: user pointer to @cmd_count commands, each @cmd_size bytes.
 * @cmd_count: Input: 1..NPU_JOB_MAX_CMDS.
 * @flags: Input: must be 0.
 * @pe: Input: on /dev/npuN: PE 0, 1 or NPU_PE_ANY; on other files: 0.
 * @cmd_size: Input: bytes of one element of @cmds, 0 for the 1.0 size
 *	      (sizeof(struct npu_job_cmd) as of 1.0, 48). Since 1.1: a
 *	      multiple of 8, from 48 to NPU_JOB_CMD_MAX_SIZE; bytes of an
 *	      element beyond the struct the driver knows must be 0. Other
 *	      values are EINVAL (also on a 1.0 driver, where this field was
 *	      "reserved, must be 0": pass 0 there).
 * @seqno: Output: the job's sequence number, > 0, increasing per open file.
 */
struct npu_submit {
	__u64 cmds;
	__u32 cmd_count;
	__u32 flags;
	__u32 pe;
	__u32 cmd_size;
	__u64 seqno;
};

#define NPU_IOCTL_SUBMIT	_IOWR(NPU_IOCTL_BASE, 0x20, struct npu_submit)

/**
 * enum npu_job_status - how a job ended, as reported by NPU_IOCTL_WAIT
 * @NPU_JOB_OK: the device completed every command.
 * @NPU_JOB_BAD_DESC: device: malformed command or instruction.
 * @NPU_JOB_DRAM_OOB: device: DRAM access outside the window.
 * @NPU_JOB_DMA_FAULT: device: host memory access failed.
 * @NPU_JOB_TIMEOUT: device: the program exceeded its cycle budget.
 * @NPU_JOB_HANG: driver: no progress within the job timeout.
 * @NPU_JOB_CANCELLED: driver: aborted by a reset or by close.
 * @NPU_JOB_DEVICE_LOST: driver: the device went away.
 *
 * The values count up from 0 in this order (1.0: OK 0 .. DEVICE_LOST 7).
 */
enum npu_job_status {
	NPU_JOB_OK		= 0,
	NPU_JOB_BAD_DESC,
	NPU_JOB_DRAM_OOB,
	NPU_JOB_DMA_FAULT,
	NPU_JOB_TIMEOUT,
	NPU_JOB_HANG,
	NPU_JOB_CANCELLED,
	NPU_JOB_DEVICE_LOST,
};

/* npu_wait.seqno: the oldest finished job. */
#define NPU_WAIT_ANY		0

/**
 * struct npu_wait - wait for a job to finish and collect its result
 *		     (NPU_IOCTL_WAIT, PE files)
 * @seqno: Input: the job, or NPU_WAIT_ANY. Output: the job collected.
 * @timeout_ns: Input: relative timeout, nanoseconds; 0 does not block,
 *		< 0 waits forever.
 * @flags: Input: must be 0.
 * @status: Output: enum npu_job_status.
 * @info: Output: device detail, failing command << 16 | instruction.
 * @pe: Output: the PE that ran the job.
 * @start_ts: Output: device clock cycles when the job started.
 * @end_ts: Output: device clock cycles when the job ended.
 * @reserved: Input: must be 0.
 *
 * A job's result is collected exactly once. Returns 0 if the job finished
 * with NPU_JOB_OK, EIO if it finished with any other status (the struct is
 * filled in either case), ETIME if @timeout_ns passed first, ENOENT for an
 * unknown or already collected @seqno.
 */
struct npu_wait {
	__u64 seqno;
	__s64 timeout_ns;
	__u32 flags;
	__u32 status;
	__u32 info;
	__u32 pe;
	__u64 start_ts;
	__u64 end_ts;
	__u64 reserved;
};

#define NPU_IOCTL_WAIT	_IOWR(NPU_IOCTL_BASE, 0x21, struct npu_wait)

/**
 * enum npu_query_param - what NPU_IOCTL_QUERY reports (since 1.1)
 * @NPU_QUERY_VERSION: struct npu_query_version.
 * @NPU_QUERY_CAPS: struct npu_query_caps, what the device can do.
 * @NPU_QUERY_LIMITS: struct npu_query_limits, what the driver allows.
 *
 * Other values are EINVAL; new values come with new minor versions.
 */
enum npu_query_param {
	NPU_QUERY_VERSION	= 0,
	NPU_QUERY_CAPS		= 1,
	NPU_QUERY_LIMITS	= 2,
};

/**
 * struct npu_query - read one of the driver's answers (NPU_IOCTL_QUERY,
 *		      any file; since 1.1)
 * @param: Input: enum npu_query_param.
 * @size: Input: bytes of the buffer at @ptr. Output: bytes of the answer
 *	  the driver has (sizeof its struct), whatever the input was.
 * @ptr: Input: user pointer to the buffer. The driver writes min(input
 *	 @size, output @size) bytes there and leaves the rest of the buffer
 *	 as it was, so an older caller (shorter struct) gets the fields it
 *	 knows, and a newer one (longer struct) sees from @size which fields
 *	 were filled: zero the buffer first. With @size 0 nothing is written
 *	 and @ptr is not used: the call only reports the size.
 * @flags: Input: must be 0.
 * @reserved: Input: must be 0.
 *
 * Answer structs only grow at their end; their fields are output only.
 */
struct npu_query {
	__u32 param;
	__u32 size;
	__u64 ptr;
	__u32 flags;
	__u32 reserved;
};

#define NPU_IOCTL_QUERY	_IOWR(NPU_IOCTL_BASE, 0x02, struct npu_query)

/**
 * struct npu_query_version - NPU_QUERY_VERSION
 * @abi_major: NPU_UAPI_VERSION_MAJOR of the driver (as NPU_IOCTL_VERSION).
 * @abi_minor: NPU_UAPI_VERSION_MINOR of the driver (as NPU_IOCTL_VERSION).
 * @driver_version: the module's version ("1.0.0"), NUL-terminated.
 */
struct npu_query_version {
	__u32 abi_major;
	__u32 abi_minor;
	char driver_version[NPU_STRING_LEN];
};

/* npu_query_caps.flags */
/* PE0 and PE1 can run fused as one unit (/dev/npuNpe0-1). */
#define NPU_QUERY_CAP_FUSED		_BITUL(0)
/* The device has fault-injection switches (a test device). */
#define NPU_QUERY_CAP_FAULT_INJECTION	_BITUL(1)

/**
 * struct npu_query_caps - NPU_QUERY_CAPS: what the device reports
 * @hw_rev: hardware revision, major << 16 | minor. The device reports no
 *	    separate instruction-set version or list of data types: the
 *	    revision identifies both (docs/hardware.md).
 * @pe_count: processing elements (PEs).
 * @flags: NPU_QUERY_CAP_* bits.
 * @fused_pe_mask: PEs that run together when fused, bit per PE; 0 when the
 *		   device has no fused mode.
 * @clock_mhz: device clock, MHz.
 * @ring_entries: commands each PE's submission ring holds; a job takes one
 *		  per command.
 * @dram_size: DRAM on the device, bytes.
 * @pe_dram_size: DRAM of one PE's partition (the window of a job on a
 *		  single PE), bytes; fused jobs see @dram_size.
 */
struct npu_query_caps {
	__u32 hw_rev;
	__u32 pe_count;
	__u32 flags;
	__u32 fused_pe_mask;
	__u32 clock_mhz;
	__u32 ring_entries;
	__u64 dram_size;
	__u64 pe_dram_size;
};

/**
 * struct npu_query_limits - NPU_QUERY_LIMITS: what the driver allows
 * @max_job_cmds: commands per job (NPU_JOB_MAX_CMDS).
 * @job_cmd_size: bytes of the struct npu_job_cmd the driver reads; larger
 *		  npu_submit.cmd_size values must have zeros beyond it.
 * @max_bo_size: bytes of the largest BO (NPU_BO_MAX_SIZE).
 * @max_bo_bytes_per_file: bytes of BOs one file may hold (module parameter
 *			   max_bo_mb_per_file).
 * @max_bos_per_file: BO handles one file may hold (module parameter
 *		      max_bos_per_file, at most 65535).
 * @max_jobs_per_file: jobs one file may have in flight or uncollected
 *		       (module parameter max_jobs_per_file).
 * @max_sg_entries: host memory segments one COPY command may span.
 * @job_timeout_ms: a PE with work and no progress for this long is reset,
 *		    milliseconds; 0: hang detection off (sysfs job_timeout_ms).
 *
 * The per-file limits are read when the call is made: an administrator
 * may change them at any time.
 */
struct npu_query_limits {
	__u32 max_job_cmds;
	__u32 job_cmd_size;
	__u64 max_bo_size;
	__u64 max_bo_bytes_per_file;
	__u32 max_bos_per_file;
	__u32 max_jobs_per_file;
	__u32 max_sg_entries;
	__u32 job_timeout_ms;
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_NPU_H */
