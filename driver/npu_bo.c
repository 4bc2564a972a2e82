// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer objects. A BO created by BO_CREATE is a set of zeroed kernel pages,
 * DMA-mapped for the device once at creation and mapped into userspace by
 * mmap() on the file at its fake offset. BO_USERPTR pins user pages
 * (FOLL_LONGTERM) instead; BO_IMPORT (npu_dmabuf.c) maps another driver's
 * dma-buf. Handles are per file. BO_FREE drops the handle; jobs that use the
 * BO keep it alive until they finish, and userspace mappings keep their
 * pages.
 *
 * Limits: each handle is charged against the file's caps (max_bos_per_file
 * handles: ENOSPC beyond; max_bo_mb_per_file bytes: ENOMEM beyond) from
 * creation until BO_FREE or close. Pinned user pages are also charged to
 * the process's locked memory like mlock() (RLIMIT_MEMLOCK unless
 * CAP_IPC_LOCK: ENOMEM beyond) until the BO is released.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "npu_bo.h"

/* Ends the BO's DMA mapping for its device; the caller holds bos_lock. */
static void npu_bo_unmap_dma_locked(struct npu_bo *bo)
{
	lockdep_assert_held(&bo->ndev->bos_lock);

	if (bo->dma_unmapped)
		return;
	if (bo->kind == NPU_BO_IMPORT) {
		dma_buf_unmap_attachment_unlocked(bo->attach, bo->sgt, bo->dir);
		dma_buf_detach(bo->attach->dmabuf, bo->attach);
	} else {
		dma_unmap_sgtable(npu_dev(bo->ndev), bo->sgt, bo->dir, 0);
	}
	bo->dma_unmapped = true;
}

/* The BO is DMA-mapped for its device now: let remove find it. */
void npu_bo_track(struct npu_bo *bo)
{
	mutex_lock(&bo->ndev->bos_lock);
	list_add_tail(&bo->dev_node, &bo->ndev->bos);
	mutex_unlock(&bo->ndev->bos_lock);
}

/*
 * Remove, after every job ended: files may keep their BOs (and mappings
 * of the pages) for a while, but not the device's DMA mappings.
 */
void npu_device_unmap_bos(struct npu_device *ndev)
{
	struct npu_bo *bo;

	mutex_lock(&ndev->bos_lock);
	list_for_each_entry(bo, &ndev->bos, dev_node)
		npu_bo_unmap_dma_locked(bo);
	mutex_unlock(&ndev->bos_lock);
}

static void npu_bo_release(struct kref *ref)
{
	struct npu_bo *bo = container_of(ref, struct npu_bo, ref);
	unsigned long i;

	mutex_lock(&bo->ndev->bos_lock);
	if (!list_empty(&bo->dev_node)) {
		list_del_init(&bo->dev_node);
		npu_bo_unmap_dma_locked(bo);
	}
	mutex_unlock(&bo->ndev->bos_lock);

	switch (bo->kind) {
	case NPU_BO_KERNEL:
		sg_free_table(bo->sgt);
		for (i = 0; i < bo->npages; i++)
			__free_page(bo->pages[i]);
		break;
	case NPU_BO_USERPTR:
		sg_free_table(bo->sgt);
		unpin_user_pages_dirty_lock(bo->pages, bo->npages, !bo->readonly);
		account_locked_vm(bo->locked_mm, bo->npages, false);
		mmdrop(bo->locked_mm);
		break;
	case NPU_BO_IMPORT:
		dma_buf_put(bo->dmabuf);
		break;
	}
	kvfree(bo->pages);
	npu_device_put(bo->ndev);
	kfree(bo);
}

void npu_bo_put(struct npu_bo *bo)
{
	kref_put(&bo->ref, npu_bo_release);
}

/**
 * npu_bo_charge - account a new handle of @bytes to the file's caps
 * @nfile: the file that will hold the handle
 * @bytes: size of the BO
 *
 * Return: 0, -ENOSPC past max_bos_per_file, -ENOMEM past max_bo_mb_per_file.
 */
int npu_bo_charge(struct npu_file *nfile, u64 bytes)
{
	u64 max_bytes = (u64)READ_ONCE(npu_max_bo_mb_per_file) << 20;

	if (atomic_inc_return(&nfile->bo_count) > READ_ONCE(npu_max_bos_per_file)) {
		atomic_dec(&nfile->bo_count);
		return -ENOSPC;
	}
	if (atomic64_add_return(bytes, &nfile->bo_bytes) > max_bytes) {
		npu_bo_uncharge(nfile, bytes);
		return -ENOMEM;
	}
	return 0;
}

ALLOW_ERROR_INJECTION(npu_bo_charge, ERRNO);

void npu_bo_uncharge(struct npu_file *nfile, u64 bytes)
{
	atomic64_sub(bytes, &nfile->bo_bytes);
	atomic_dec(&nfile->bo_count);
}

/* An empty BO of @size bytes (rounded up to pages) with a page array. */
struct npu_bo *npu_bo_new(struct npu_device *ndev, enum npu_bo_kind kind, u64 size)
{
	struct npu_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return NULL;
	kref_init(&bo->ref);
	INIT_LIST_HEAD(&bo->dev_node);
	bo->kind = kind;
	bo->size = PAGE_ALIGN(size);
	bo->npages = bo->size >> PAGE_SHIFT;
	bo->dir = DMA_BIDIRECTIONAL;
	if (kind != NPU_BO_IMPORT) {
		bo->pages = kvcalloc(bo->npages, sizeof(*bo->pages), GFP_KERNEL);
		if (!bo->pages) {
			kfree(bo);
			return NULL;
		}
	}
	npu_device_get(ndev);
	bo->ndev = ndev;
	return bo;
}

ALLOW_ERROR_INJECTION(npu_bo_new, NULL);

/* Undo npu_bo_new() for a BO whose memory was never set up. */
void npu_bo_discard(struct npu_bo *bo)
{
	npu_device_put(bo->ndev);
	kvfree(bo->pages);
	kfree(bo);
}

/* DMA-map the BO's pages for the device. */
static noinline int npu_bo_map_pages(struct npu_bo *bo)
{
	int ret;

	ret = sg_alloc_table_from_pages(&bo->own_sgt, bo->pages, bo->npages, 0,
					bo->size, GFP_KERNEL);
	if (ret)
		return ret;
	ret = dma_map_sgtable(npu_dev(bo->ndev), &bo->own_sgt, bo->dir, 0);
	if (ret) {
		sg_free_table(&bo->own_sgt);
		return ret;
	}
	bo->sgt = &bo->own_sgt;
	npu_bo_track(bo);
	return 0;
}

ALLOW_ERROR_INJECTION(npu_bo_map_pages, ERRNO);

static struct npu_bo *npu_bo_alloc(struct npu_device *ndev, u64 size)
{
	struct npu_bo *bo;
	unsigned long i;
	int ret;

	bo = npu_bo_new(ndev, NPU_BO_KERNEL, size);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	/*
	 * Up to 4 GiB on behalf of userspace: charged to its memory cgroup,
	 * and failing with ENOMEM rather than invoking the OOM killer, which
	 * would pick some other process (these pages are in no one's RSS).
	 */
	for (i = 0; i < bo->npages; i++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_free_pages;
		}
		bo->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
					  __GFP_RETRY_MAYFAIL);
		if (!bo->pages[i]) {
			ret = -ENOMEM;
			goto err_free_pages;
		}
	}
	ret = npu_bo_map_pages(bo);
	if (ret)
		goto err_free_pages;
	return bo;

err_free_pages:
	while (i--)
		__free_page(bo->pages[i]);
	npu_bo_discard(bo);
	return ERR_PTR(ret);
}

/*
 * Give the BO a handle in the file, which owns the charge the caller made
 * for it; on failure the BO is released and the charge returned.
 */
int npu_bo_add_handle(struct npu_file *nfile, struct npu_bo *bo, u32 *handle)
{
	int ret;

	ret = xa_alloc(&nfile->bos, handle, bo, XA_LIMIT(1, NPU_BO_MAX_HANDLE), GFP_KERNEL);
	if (ret) {
		npu_bo_uncharge(nfile, bo->size);
		npu_bo_put(bo);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	return 0;
}

/* Undo npu_bo_add_handle() when the handle could not be reported. */
void npu_bo_remove_handle(struct npu_file *nfile, u32 handle)
{
	struct npu_bo *bo = xa_erase(&nfile->bos, handle);

	if (bo) {
		npu_bo_uncharge(nfile, bo->size);
		npu_bo_put(bo);
	}
}

int npu_ioctl_bo_create(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	struct npu_bo_create *args = data;
	struct npu_bo *bo;
	u32 handle;
	int ret;

	if (args->flags || args->reserved)
		return -EINVAL;
	if (!args->size || args->size > NPU_BO_MAX_SIZE)
		return -EINVAL;

	ret = npu_bo_charge(nfile, PAGE_ALIGN(args->size));
	if (ret)
		return ret;
	bo = npu_bo_alloc(nfile->ndev, args->size);
	if (IS_ERR(bo)) {
		npu_bo_uncharge(nfile, PAGE_ALIGN(args->size));
		return PTR_ERR(bo);
	}
	ret = npu_bo_add_handle(nfile, bo, &handle);
	if (ret)
		return ret;

	args->handle = handle;
	args->mmap_offset = (u64)handle << NPU_BO_MMAP_SHIFT;
	if (copy_to_user(arg, args, sizeof(*args))) {
		npu_bo_remove_handle(nfile, handle);
		return -EFAULT;
	}
	return 0;
}

/*
 * Pin the user pages of a BO_USERPTR range, VMA by VMA. A READONLY buffer
 * in a private writable mapping is still pinned for writing: a read-only
 * long-term pin may otherwise (kernel 6.1) pin the shared zero page or a
 * page shared copy-on-write, and the process's later writes would go to a
 * fresh copy the device never reads. Breaking COW leaves the data as is,
 * and the pages are not dirtied on unpin.
 */
static int npu_bo_pin_user(struct npu_bo *bo, unsigned long start)
{
	struct mm_struct *mm = current->mm;
	unsigned long addr = start, end = start + bo->size, done = 0;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < end) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		unsigned int gup_flags = FOLL_LONGTERM;
		unsigned long count;
		long pinned;

		if (!vma) {
			ret = -EFAULT;
			break;
		}
		if (!bo->readonly ||
		    (vma_is_cow_mapping(vma) && (vma->vm_flags & VM_WRITE)))
			gup_flags |= FOLL_WRITE;
		count = (min(end, vma->vm_end) - addr) >> PAGE_SHIFT;
		pinned = pin_user_pages(addr, count, gup_flags, bo->pages + done);
		if (pinned <= 0) {
			ret = pinned ? pinned : -EFAULT;
			break;
		}
		done += pinned;
		addr += pinned << PAGE_SHIFT;
	}
	mmap_read_unlock(mm);
	if (ret && done)
		unpin_user_pages(bo->pages, done);
	return ret;
}

int npu_ioctl_bo_userptr(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	struct npu_bo_userptr *args = data;
	struct npu_bo *bo;
	u32 handle;
	int ret;

	if (args->flags & ~NPU_BO_USERPTR_READONLY)
		return -EINVAL;
	if (!args->size || args->size > NPU_BO_MAX_SIZE || !PAGE_ALIGNED(args->size) ||
	    !PAGE_ALIGNED(args->user_ptr) || args->user_ptr + args->size < args->user_ptr)
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(args->user_ptr), args->size))
		return -EFAULT;

	ret = npu_bo_charge(nfile, args->size);
	if (ret)
		return ret;
	bo = npu_bo_new(nfile->ndev, NPU_BO_USERPTR, args->size);
	if (!bo) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	bo->readonly = args->flags & NPU_BO_USERPTR_READONLY;
	if (bo->readonly)
		bo->dir = DMA_TO_DEVICE;

	/* Pinned pages count as locked memory, like mlock(). */
	ret = account_locked_vm(current->mm, bo->npages, true);
	if (ret)
		goto err_discard;
	ret = npu_bo_pin_user(bo, args->user_ptr);
	if (ret)
		goto err_unaccount;
	ret = npu_bo_map_pages(bo);
	if (ret) {
		unpin_user_pages(bo->pages, bo->npages);
		goto err_unaccount;
	}
	mmgrab(current->mm);
	bo->locked_mm = current->mm;
	ret = npu_bo_add_handle(nfile, bo, &handle);
	if (ret)
		return ret;

	args->handle = handle;
	if (copy_to_user(arg, args, sizeof(*args))) {
		npu_bo_remove_handle(nfile, handle);
		return -EFAULT;
	}
	return 0;

err_unaccount:
	account_locked_vm(current->mm, bo->npages, false);
err_discard:
	npu_bo_discard(bo);
err_uncharge:
	npu_bo_uncharge(nfile, args->size);
	return ret;
}

int npu_ioctl_bo_free(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	struct npu_bo_free *args = data;
	struct npu_bo *bo;

	if (args->reserved)
		return -EINVAL;
	if (!args->handle)
		return -ENOENT;

	bo = xa_erase(&nfile->bos, args->handle);
	if (!bo)
		return -ENOENT;
	npu_bo_uncharge(nfile, bo->size);
	npu_bo_put(bo);
	return 0;
}

/* Look up a handle of the file; the caller owns the returned reference. */
struct npu_bo *npu_bo_lookup(struct npu_file *nfile, u32 handle)
{
	struct npu_bo *bo;

	xa_lock(&nfile->bos);
	bo = xa_load(&nfile->bos, handle);
	if (bo)
		kref_get(&bo->ref);
	xa_unlock(&nfile->bos);
	return bo;
}

static vm_fault_t npu_bo_vm_fault(struct vm_fault *vmf)
{
	/* Every page was inserted at mmap time; nothing else is backed. */
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct npu_bo_vm_ops = {
	.fault = npu_bo_vm_fault,
};

int npu_bo_mmap(struct npu_file *nfile, struct vm_area_struct *vma)
{
	unsigned long page_mask = (1ul << (NPU_BO_MMAP_SHIFT - PAGE_SHIFT)) - 1;
	unsigned long first = vma->vm_pgoff & page_mask;
	unsigned long handle = vma->vm_pgoff >> (NPU_BO_MMAP_SHIFT - PAGE_SHIFT);
	struct npu_bo *bo;
	int ret;

	/* A private mapping would copy on write, hiding writes from the device. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (!handle || handle > NPU_BO_MAX_HANDLE)
		return -EINVAL;

	bo = npu_bo_lookup(nfile, handle);
	if (!bo)
		return -EINVAL;

	/* Only driver-allocated pages are mapped here; dma-bufs map themselves. */
	if (bo->kind != NPU_BO_KERNEL) {
		ret = -EINVAL;
		goto out;
	}
	if (first >= bo->npages || vma_pages(vma) > bo->npages - first) {
		ret = -EINVAL;
		goto out;
	}
	vma->vm_ops = &npu_bo_vm_ops;
	/* vm_map_pages() takes the offset into the page array from vm_pgoff. */
	vma->vm_pgoff = first;
	ret = vm_map_pages(vma, bo->pages, bo->npages);
out:
	npu_bo_put(bo);
	return ret;
}

void npu_file_free_bos(struct npu_file *nfile)
{
	struct npu_bo *bo;
	unsigned long handle;

	xa_for_each(&nfile->bos, handle, bo) {
		xa_erase(&nfile->bos, handle);
		npu_bo_put(bo);
	}
	xa_destroy(&nfile->bos);
}
