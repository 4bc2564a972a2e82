/* SPDX-License-Identifier: GPL-2.0 */
/* Device files: the character devices, open/release, ioctl dispatch, poll. */
#ifndef NPU_FILE_H
#define NPU_FILE_H

#include "npu_device.h"

/* Probe and remove: the five files of a card (minors index * NPU_NODE_COUNT + kind). */
int npu_file_create_nodes(struct npu_device *ndev);
void npu_file_remove_nodes(struct npu_device *ndev);

/* Module init and exit: the char device region and the class npu_mgmt. */
int npu_file_register_chrdev(void);
void npu_file_unregister_chrdev(void);

#endif /* NPU_FILE_H */
