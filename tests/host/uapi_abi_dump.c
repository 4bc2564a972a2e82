// SPDX-License-Identifier: MIT
/*
 * Prints every number the 1.0 ABI fixed: ioctl numbers (which encode the
 * struct sizes), the offset of each 1.0 field, flag bits, enum values and
 * limits. uapi_header_test.sh builds it once against the frozen
 * tests/guest/abi-1.0/npu.h and once against uapi/npu.h and wants the same
 * output: 1.0 binaries see the same ABI. 1.1 names appear nowhere here, so
 * the program compiles against both headers; a field renamed since 1.0
 * (npu_submit.reserved, now cmd_size) is printed by its place.
 */
#include <stddef.h>
#include <stdio.h>

#include <npu.h>

#define N(x) printf("%-28s %#llx\n", #x, (unsigned long long)(x))
#define F(s, f) printf("%-28s %zu +%zu\n", #s "." #f, offsetof(struct s, f), \
		       sizeof(((struct s *)0)->f))

int main(void)
{
	N(NPU_UAPI_VERSION_MAJOR);
	N(NPU_IOCTL_VERSION);
	N(NPU_IOCTL_DEVICE_INFO);
	N(NPU_IOCTL_BO_CREATE);
	N(NPU_IOCTL_BO_USERPTR);
	N(NPU_IOCTL_BO_FREE);
	N(NPU_IOCTL_BO_EXPORT);
	N(NPU_IOCTL_BO_IMPORT);
	N(NPU_IOCTL_SUBMIT);
	N(NPU_IOCTL_WAIT);
	N(NPU_STRING_LEN);
	N(NPU_BO_MAX_SIZE);
	N(NPU_BO_USERPTR_READONLY);
	N(NPU_BO_EXPORT_CLOEXEC);
	N(NPU_JOB_MAX_CMDS);
	N(NPU_PE_ANY);
	N(NPU_WAIT_ANY);
	N(NPU_JOB_CMD_NOP);
	N(NPU_JOB_CMD_COPY_TO_DRAM);
	N(NPU_JOB_CMD_COPY_FROM_DRAM);
	N(NPU_JOB_CMD_EXEC);
	N(NPU_JOB_CMD_FENCE);
	N(NPU_JOB_OK);
	N(NPU_JOB_BAD_DESC);
	N(NPU_JOB_DRAM_OOB);
	N(NPU_JOB_DMA_FAULT);
	N(NPU_JOB_TIMEOUT);
	N(NPU_JOB_HANG);
	N(NPU_JOB_CANCELLED);
	N(NPU_JOB_DEVICE_LOST);
	F(npu_version, major);
	F(npu_version, minor);
	F(npu_version, flags);
	F(npu_version, reserved);
	F(npu_device_info, flags);
	F(npu_device_info, index);
	F(npu_device_info, hw_rev);
	F(npu_device_info, pe_count);
	F(npu_device_info, pe_mask);
	F(npu_device_info, fused);
	F(npu_device_info, clock_mhz);
	F(npu_device_info, reserved0);
	F(npu_device_info, dram_size);
	F(npu_device_info, dram_window);
	F(npu_device_info, fw_version);
	F(npu_device_info, serial);
	F(npu_device_info, uuid);
	F(npu_device_info, busname);
	F(npu_device_info, reserved);
	F(npu_bo_create, size);
	F(npu_bo_create, flags);
	F(npu_bo_create, handle);
	F(npu_bo_create, mmap_offset);
	F(npu_bo_create, reserved);
	F(npu_bo_userptr, user_ptr);
	F(npu_bo_userptr, size);
	F(npu_bo_userptr, flags);
	F(npu_bo_userptr, handle);
	F(npu_bo_free, handle);
	F(npu_bo_free, reserved);
	F(npu_bo_export, handle);
	F(npu_bo_export, flags);
	F(npu_bo_export, fd);
	F(npu_bo_export, reserved);
	F(npu_bo_import, fd);
	F(npu_bo_import, flags);
	F(npu_bo_import, handle);
	F(npu_bo_import, reserved);
	F(npu_bo_import, size);
	F(npu_job_cmd, op);
	F(npu_job_cmd, flags);
	F(npu_job_cmd, handle);
	F(npu_job_cmd, reserved);
	F(npu_job_cmd, offset);
	F(npu_job_cmd, dram_addr);
	F(npu_job_cmd, length);
	F(npu_job_cmd, cycle_budget);
	F(npu_submit, cmds);
	F(npu_submit, cmd_count);
	F(npu_submit, flags);
	F(npu_submit, pe);
	/* 1.0 reserved, 1.1 cmd_size: the bytes between pe and seqno */
	printf("%-28s %zu +%zu\n", "npu_submit.after_pe", offsetof(struct npu_submit, pe) + 4,
	       offsetof(struct npu_submit, seqno) - offsetof(struct npu_submit, pe) - 4);
	F(npu_submit, seqno);
	F(npu_wait, seqno);
	F(npu_wait, timeout_ns);
	F(npu_wait, flags);
	F(npu_wait, status);
	F(npu_wait, info);
	F(npu_wait, pe);
	F(npu_wait, start_ts);
	F(npu_wait, end_ts);
	F(npu_wait, reserved);
	return 0;
}
