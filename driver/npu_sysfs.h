/* SPDX-License-Identifier: GPL-2.0 */
/* sysfs attributes of the device files and the hwmon sensors. */
#ifndef NPU_SYSFS_H
#define NPU_SYSFS_H

#include "npu_drv.h"

extern const struct attribute_group *npu_mgmt_groups[];
extern const struct attribute_group *npu_pe_node_groups[];

int npu_hwmon_register(struct npu_device *ndev);

#endif /* NPU_SYSFS_H */
