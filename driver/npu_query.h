/* SPDX-License-Identifier: GPL-2.0 */
/* NPU_IOCTL_QUERY: capabilities and limits (uapi 1.1). */
#ifndef NPU_QUERY_H
#define NPU_QUERY_H

struct npu_file;

int npu_ioctl_query(struct npu_file *nfile, void __user *arg);

#endif /* NPU_QUERY_H */
