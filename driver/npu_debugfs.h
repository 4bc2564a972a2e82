/* SPDX-License-Identifier: GPL-2.0 */
/* debugfs: manual reset, recovery counters, fault-injection registers. */
#ifndef NPU_DEBUGFS_H
#define NPU_DEBUGFS_H

#include "npu_device.h"

void npu_debugfs_init(void);
void npu_debugfs_exit(void);
void npu_debugfs_register(struct npu_device *ndev);
void npu_debugfs_unregister(struct npu_device *ndev);

#endif /* NPU_DEBUGFS_H */
