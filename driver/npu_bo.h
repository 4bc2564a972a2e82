/* SPDX-License-Identifier: GPL-2.0 */
/* Buffer objects: host memory the device reaches by DMA. */
#ifndef NPU_BO_H
#define NPU_BO_H

#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/scatterlist.h>

#include "npu_drv.h"

/*
 * mmap offsets: handle << NPU_BO_MMAP_SHIFT. Every BO is at most
 * NPU_BO_MAX_SIZE (1 << 32) bytes, so the ranges of two handles never meet.
 */
#define NPU_BO_MMAP_SHIFT	32
#define NPU_BO_MAX_HANDLE	0xffffu

/**
 * struct npu_bo - a buffer object
 * @ref: the file's handle and every job using the BO hold a reference
 * @ndev: device the BO is DMA-mapped for (referenced)
 * @size: bytes, a page multiple
 * @npages: @size in pages
 * @pages: the pages (allocated by the driver)
 * @sgt: DMA-mapped scatter list of @pages
 */
struct npu_bo {
	struct kref ref;
	struct npu_device *ndev;
	u64 size;
	unsigned long npages;
	struct page **pages;
	struct sg_table sgt;
};

int npu_ioctl_bo_create(struct npu_file *nfile, void __user *arg);
int npu_ioctl_bo_free(struct npu_file *nfile, void __user *arg);
struct npu_bo *npu_bo_lookup(struct npu_file *nfile, u32 handle);
void npu_bo_put(struct npu_bo *bo);
int npu_bo_mmap(struct npu_file *nfile, struct vm_area_struct *vma);
void npu_file_free_bos(struct npu_file *nfile);

#endif /* NPU_BO_H */
