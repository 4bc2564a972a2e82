/* SPDX-License-Identifier: GPL-2.0 */
/* hwmon sensors of the card. */
#ifndef NPU_HWMON_H
#define NPU_HWMON_H

#include "npu_device.h"

int npu_hwmon_register(struct npu_device *ndev);

#endif /* NPU_HWMON_H */
