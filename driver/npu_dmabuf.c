// SPDX-License-Identifier: GPL-2.0
/*
 * dma-buf sharing. BO_EXPORT wraps a driver-allocated BO in a new dma-buf
 * (the dma-buf holds a BO reference until its release); BO_IMPORT attaches
 * to any exporter's dma-buf and maps it for this device, except for a BO of
 * this device, which the importer shares.
 *
 * Kernel 6.1 offers the *_unlocked attachment helpers, which take the
 * reservation lock themselves.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "npu_bo.h"
#include "npu_dmabuf.h"

MODULE_IMPORT_NS("DMA_BUF");

static struct sg_table *npu_dmabuf_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct npu_bo *bo = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, bo->pages, bo->npages, 0, bo->size, GFP_KERNEL);
	if (ret)
		goto err_free;
	/*
	 * The pages stay mapped for this device too, so an importer's mapping
	 * overlaps ours. Without cache maintenance at map time (as DRM's PRIME
	 * helpers do) the DMA API allows that; CPU access of an imported buffer
	 * is its exporter's business.
	 */
	ret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void npu_dmabuf_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
			     enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
}

static void npu_dmabuf_release(struct dma_buf *dmabuf)
{
	npu_bo_put(dmabuf->priv);
}

static int npu_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct npu_bo *bo = dmabuf->priv;

	/* dma_buf_mmap_internal() has checked vm_pgoff and the length. */
	return vm_map_pages(vma, bo->pages, bo->npages);
}

static const struct dma_buf_ops npu_dmabuf_ops = {
	.map_dma_buf = npu_dmabuf_map,
	.unmap_dma_buf = npu_dmabuf_unmap,
	.release = npu_dmabuf_release,
	.mmap = npu_dmabuf_mmap,
};

int npu_ioctl_bo_export(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct npu_bo_export *args = data;
	struct dma_buf *dmabuf;
	struct npu_bo *bo;
	int fd;

	if ((args->flags & ~NPU_BO_EXPORT_CLOEXEC) || args->reserved)
		return -EINVAL;

	bo = npu_bo_lookup(nfile, args->handle);
	if (!bo)
		return -ENOENT;
	/* Only memory this driver owns can be exported. */
	if (bo->kind != NPU_BO_KERNEL) {
		npu_bo_put(bo);
		return -EINVAL;
	}

	info.ops = &npu_dmabuf_ops;
	info.size = bo->size;
	info.flags = O_RDWR;
	info.priv = bo;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		npu_bo_put(bo);
		return PTR_ERR(dmabuf);
	}
	/* From here the dma-buf owns the BO reference. */
	fd = get_unused_fd_flags(args->flags & NPU_BO_EXPORT_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	args->fd = fd;
	/* Publish the fd only once userspace can learn its number. */
	if (copy_to_user(arg, args, sizeof(*args))) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

int npu_ioctl_bo_import(struct npu_file *nfile, void *data, void __user *arg, bool nonblock)
{
	struct dma_buf_attachment *attach;
	struct npu_bo_import *args = data;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	struct npu_bo *bo;
	u32 handle;
	int ret;

	if (args->flags || args->reserved)
		return -EINVAL;

	dmabuf = dma_buf_get(args->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (!dmabuf->size || dmabuf->size > NPU_BO_MAX_SIZE) {
		ret = -EINVAL;
		goto err_put;
	}
	ret = npu_bo_charge(nfile, dmabuf->size);
	if (ret)
		goto err_put;

	/*
	 * Our own BO on this device is already mapped for it: share the BO
	 * (as DRM does for self-imports). Attaching would map the same pages
	 * twice for one device, which the DMA API does not allow.
	 */
	if (dmabuf->ops == &npu_dmabuf_ops) {
		bo = dmabuf->priv;
		if (bo->ndev == nfile->ndev) {
			kref_get(&bo->ref);
			dma_buf_put(dmabuf);
			goto add_handle;
		}
	}

	bo = npu_bo_new(nfile->ndev, NPU_BO_IMPORT, dmabuf->size);
	if (!bo) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	bo->size = dmabuf->size;

	attach = dma_buf_attach(dmabuf, npu_dev(nfile->ndev));
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_discard;
	}
	sgt = dma_buf_map_attachment_unlocked(attach, bo->dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_detach;
	}
	bo->attach = attach;
	bo->dmabuf = dmabuf;
	bo->sgt = sgt;
	npu_bo_track(bo);

add_handle:
	ret = npu_bo_add_handle(nfile, bo, &handle);
	if (ret)
		return ret;
	args->handle = handle;
	args->size = bo->size;
	if (copy_to_user(arg, args, sizeof(*args))) {
		npu_bo_remove_handle(nfile, handle);
		return -EFAULT;
	}
	return 0;

err_detach:
	dma_buf_detach(dmabuf, attach);
err_discard:
	npu_bo_discard(bo);
err_uncharge:
	npu_bo_uncharge(nfile, dmabuf->size);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}
