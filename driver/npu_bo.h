/* SPDX-License-Identifier: GPL-2.0 */
/* Buffer objects: host memory the device reaches by DMA. */
#ifndef NPU_BO_H
#define NPU_BO_H

#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/scatterlist.h>

#include "npu_device.h"

/*
 * mmap offsets: handle << NPU_BO_MMAP_SHIFT. Every BO is at most
 * NPU_BO_MAX_SIZE (1 << 32) bytes, so the ranges of two handles never meet.
 */
#define NPU_BO_MMAP_SHIFT	32
#define NPU_BO_MAX_HANDLE	0xffffu

enum npu_bo_kind {
	NPU_BO_KERNEL,		/* BO_CREATE: driver pages, mmap and export */
	NPU_BO_USERPTR,		/* BO_USERPTR: pinned user pages */
	NPU_BO_IMPORT,		/* BO_IMPORT: another exporter's dma-buf */
};

/**
 * struct npu_bo - a buffer object
 * @ref: the file's handle, every job using the BO and every dma-buf
 *	 exported from it hold a reference
 * @ndev: device the BO is DMA-mapped for (referenced)
 * @kind: where the memory comes from
 * @size: bytes, a page multiple
 * @npages: @size in pages (KERNEL, USERPTR)
 * @pages: the pages (KERNEL, USERPTR)
 * @readonly: the device may only read the BO (USERPTR READONLY)
 * @dir: DMA direction of the mapping
 * @sgt: DMA-mapped scatter list: &@own_sgt or the importer's mapping
 * @own_sgt: scatter list of @pages
 * @attach: dma-buf attachment (IMPORT)
 * @locked_mm: USERPTR: the mm whose locked_vm (RLIMIT_MEMLOCK) the pinned
 *	       pages are charged to, grabbed until release
 */
struct npu_bo {
	struct kref ref;
	struct npu_device *ndev;
	enum npu_bo_kind kind;
	u64 size;
	unsigned long npages;
	struct page **pages;
	bool readonly;
	enum dma_data_direction dir;
	struct sg_table *sgt;
	struct sg_table own_sgt;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;		/* IMPORT: the buffer, referenced until release */
	struct mm_struct *locked_mm;
	struct list_head dev_node;	/* on ndev->bos while DMA-mapped */
	bool dma_unmapped;		/* under ndev->bos_lock: remove unmapped it */
};

int npu_ioctl_bo_create(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);
int npu_ioctl_bo_free(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);
int npu_ioctl_bo_userptr(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);
struct npu_bo *npu_bo_new(struct npu_device *ndev, enum npu_bo_kind kind, u64 size);
void npu_bo_discard(struct npu_bo *bo);
int npu_bo_add_handle(struct npu_file *nfile, struct npu_bo *bo, u32 *handle);
void npu_bo_remove_handle(struct npu_file *nfile, u32 handle);
struct npu_bo *npu_bo_lookup(struct npu_file *nfile, u32 handle);
void npu_bo_put(struct npu_bo *bo);
int npu_bo_charge(struct npu_file *nfile, u64 bytes);
void npu_bo_uncharge(struct npu_file *nfile, u64 bytes);
int npu_bo_mmap(struct npu_file *nfile, struct vm_area_struct *vma);
void npu_file_free_bos(struct npu_file *nfile);
void npu_bo_track(struct npu_bo *bo);
void npu_device_unmap_bos(struct npu_device *ndev);

#endif /* NPU_BO_H */
