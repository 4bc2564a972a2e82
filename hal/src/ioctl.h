/* SPDX-License-Identifier: MIT */
/*
 * The driver's ioctls (uapi/npu.h), one typed wrapper each: the only place
 * libnpuhal calls ioctl(). Each returns 0 or a negative errno; SUBMIT and
 * WAIT are retried when a signal interrupts them.
 */
#ifndef NPUHAL_IOCTL_H
#define NPUHAL_IOCTL_H

#include <stdint.h>

#include "npu.h"
#include "npuhal.h"

int npu_ioctl_version(int fd, struct npu_version *version);
int npu_ioctl_device_info(int fd, struct npu_device_info *info);
int npu_ioctl_bo_create(int fd, struct npu_bo_create *create);
int npu_ioctl_bo_userptr(int fd, struct npu_bo_userptr *userptr);
int npu_ioctl_bo_free(int fd, uint32_t handle);
int npu_ioctl_submit(int fd, struct npu_submit *submit);
int npu_ioctl_wait(int fd, struct npu_wait *wait);

/*
 * Whether this library speaks the ABI version a driver reported for path:
 * any minor of NPU_UAPI_VERSION_MAJOR. NPU_ERR_UNSUPPORTED (with a message
 * naming both versions and what to update) otherwise.
 */
npu_status npu_abi_check(const char *path, const struct npu_version *version);

#endif /* NPUHAL_IOCTL_H */
