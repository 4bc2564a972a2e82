/* SPDX-License-Identifier: GPL-2.0 */
/* Per-file usage in /proc/<pid>/fdinfo/<fd>. */
#ifndef NPU_FDINFO_H
#define NPU_FDINFO_H

#include "npu_device.h"

struct file;
struct seq_file;

u64 npu_fdinfo_new_client_id(void);
void npu_fdinfo_account_job(struct npu_file *nfile, unsigned int pe_index, u64 start_ts,
			    u64 end_ts);
void npu_show_fdinfo(struct seq_file *m, struct file *filp);

#endif /* NPU_FDINFO_H */
