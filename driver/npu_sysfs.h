/* SPDX-License-Identifier: GPL-2.0 */
/* sysfs attributes of the device files. */
#ifndef NPU_SYSFS_H
#define NPU_SYSFS_H

#include <linux/sysfs.h>

extern const struct attribute_group *npu_mgmt_groups[];
extern const struct attribute_group *npu_pe_node_groups[];

#endif /* NPU_SYSFS_H */
