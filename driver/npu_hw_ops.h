/* SPDX-License-Identifier: GPL-2.0 */
/* Device-level hardware operations: reset, identity, fused mode, register reads. */
#ifndef NPU_HW_OPS_H
#define NPU_HW_OPS_H

#include "npu_device.h"

int npu_hw_reset_device(struct npu_device *ndev);
int npu_hw_read_identity(struct npu_device *ndev);
int npu_hw_set_fused(struct npu_device *ndev, bool fused);
int npu_hw_read_reg(struct npu_device *ndev, u32 reg, u32 *val);
int npu_hw_write_reg(struct npu_device *ndev, u32 reg, u32 val);

#endif /* NPU_HW_OPS_H */
