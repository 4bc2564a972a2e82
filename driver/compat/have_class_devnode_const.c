// SPDX-License-Identifier: GPL-2.0
/* struct class's devnode() takes a const struct device (since 6.2). */
#include <linux/device.h>

static char *npu_probe_devnode(const struct device *dev, umode_t *mode)
{
	return NULL;
}

struct class npu_probe_class = {
	.name = "npu_probe",
	.devnode = npu_probe_devnode,
};
