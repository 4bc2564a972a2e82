/* SPDX-License-Identifier: GPL-2.0 */
/* sysfs attributes of the device files. */
#ifndef NPU_SYSFS_H
#define NPU_SYSFS_H

#include <linux/sysfs.h>

#include "npu_device.h"

const struct attribute_group **npu_sysfs_groups(enum npu_node_kind kind);

#endif /* NPU_SYSFS_H */
