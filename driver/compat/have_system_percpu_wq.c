// SPDX-License-Identifier: GPL-2.0
/* system_percpu_wq, the new name of system_wq (which is to be removed). */
#include <linux/workqueue.h>

struct workqueue_struct *npu_probe(void);

struct workqueue_struct *npu_probe(void)
{
	return system_percpu_wq;
}
