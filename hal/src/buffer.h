/* SPDX-License-Identifier: MIT */
/* Device buffers (driver BOs) and host memory for tensors. */
#ifndef NPUHAL_BUFFER_H
#define NPUHAL_BUFFER_H

#include <stdint.h>

#include "npuhal.h"

/* A driver buffer mapped into this process. */
struct npu_hal_bo {
	int fd;
	uint32_t handle;	/* 0: none */
	uint64_t size;
	void *map;
};

/* Creates and maps a size-byte BO on fd. */
npu_status npu_bo_new(int fd, uint64_t size, struct npu_hal_bo *bo);
/* Unmaps and frees it; a zeroed bo is a no-op. */
void npu_bo_delete(struct npu_hal_bo *bo);
/*
 * A read-only userptr BO over memory the device can read in place
 * (page-aligned, at least NPU_IN_PLACE_MIN_BYTES), or 0: copy it instead.
 * A submitted job keeps the BO alive, so npu_bo_unpin() may follow the
 * SUBMIT at once.
 */
uint32_t npu_bo_pin(int fd, const void *p, uint64_t size);
void npu_bo_unpin(int fd, uint32_t handle);

#endif /* NPUHAL_BUFFER_H */
