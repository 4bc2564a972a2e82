/* SPDX-License-Identifier: GPL-2.0 */
/* dma-buf sharing: BO_EXPORT and BO_IMPORT. */
#ifndef NPU_DMABUF_H
#define NPU_DMABUF_H

#include "npu_device.h"

int npu_ioctl_bo_export(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);
int npu_ioctl_bo_import(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);

#endif /* NPU_DMABUF_H */
