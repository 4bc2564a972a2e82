/* SPDX-License-Identifier: GPL-2.0 */
/* Device coredumps of a reset caused by a device fault. */
#ifndef NPU_COREDUMP_H
#define NPU_COREDUMP_H

#include "npu_device.h"

void npu_coredump(struct npu_device *ndev, u32 pe_mask, enum npu_reset_reason reason,
		  u32 guilty_mask);

#endif /* NPU_COREDUMP_H */
