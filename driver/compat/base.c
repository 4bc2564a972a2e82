// SPDX-License-Identifier: GPL-2.0
/* Must compile: proves the probes' compiler and flags work at all. */
#include <linux/module.h>

int npu_probe(void);

int npu_probe(void)
{
	return 0;
}
