// SPDX-License-Identifier: GPL-2.0
/*
 * Device files and their operations.
 *
 * Each card N has five files in class "npu_mgmt": npuN_mgmt (information,
 * any number of openers), npuN (both PEs, independent), npuNpe0, npuNpe1 and
 * npuNpe0-1 (both PEs fused). A PE is owned by at most one open file: an
 * open whose PE set meets an owned one fails with EBUSY, or EAGAIN while
 * the owner is still being released.
 */

#include <linux/error-injection.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "npu_bo.h"
#include "npu_dmabuf.h"
#include "npu_fdinfo.h"
#include "npu_file.h"
#include "npu_hw_ops.h"
#include "npu_job.h"
#include "npu_query.h"
#include "npu_recovery.h"
#include "npu_ring.h"
#include "npu_sysfs.h"

static dev_t npu_devt_base;

NPU_CLASS_DEVNODE(npu_devnode)
{
	if (mode)
		*mode = 0660;
	return NULL;
}

static struct class npu_class = {
	.name = "npu_mgmt",
	.devnode = npu_devnode,
};

/* Take the PEs of a new file; undo fused mode etc. in npu_file_disown(). */
static int npu_file_own(struct npu_file *nfile)
{
	struct npu_device *ndev = nfile->ndev;
	u32 mask = nfile->pe_mask;
	unsigned int i;
	int ret, idx;

	if (!mask)
		return 0;

	if (!npu_dev_enter(ndev, &idx))
		return -ENODEV;
	mutex_lock(&ndev->owner_lock);
	/*
	 * EAGAIN while resetting, EIO failed, ENODEV lost. Checked under
	 * owner_lock, which a reset holds while it changes the state.
	 */
	ret = npu_recovery_open_errno(ndev);
	if (ret)
		goto out_unlock;
	if (ndev->owned_mask & mask) {
		ret = -EBUSY;
	} else if (ndev->releasing_mask & mask) {
		ret = -EAGAIN;
	} else if (nfile->fused) {
		ret = npu_hw_set_fused(ndev, true);
		if (ret)
			npu_hw_set_fused(ndev, false);
	}
	if (!ret) {
		ndev->owned_mask |= mask;
		ndev->fused = nfile->fused;
		for (i = 0; i < ndev->pe_count; i++) {
			if (!(mask & BIT(i)))
				continue;
			ndev->holder[i].pid = task_tgid_nr(current);
			get_task_comm(ndev->holder[i].comm, current);
		}
	}
out_unlock:
	mutex_unlock(&ndev->owner_lock);
	npu_dev_exit(ndev, idx);
	return ret;
}

/*
 * Let the file's jobs finish, for at most release_timeout_ms; then reset the
 * PEs that still run them, finishing them as CANCELLED. Every path finishes
 * the jobs: that reset, a PCI reset in progress, giving up on a failed
 * device, loss, or remove.
 */
static void npu_file_drain(struct npu_file *nfile)
{
	struct npu_device *ndev = nfile->ndev;
	u32 request = 0;
	unsigned int i;

	if (npu_file_wait_jobs(nfile, msecs_to_jiffies(npu_release_timeout_ms)))
		return;
	for (i = 0; i < ndev->pe_count; i++) {
		/* Fused jobs all run on PE0's ring. */
		if ((nfile->pe_mask & BIT(i)) && !(nfile->fused && i))
			request |= BIT(i);
	}
	dev_warn(npu_dev(ndev), "jobs still running on close, resetting PE mask %#x\n", request);
	npu_recovery_reset_sync(ndev, request, NPU_REASON_CLOSE);
	npu_file_wait_jobs(nfile, MAX_SCHEDULE_TIMEOUT);
}

static void npu_file_disown(struct npu_file *nfile)
{
	struct npu_device *ndev = nfile->ndev;
	u32 mask = nfile->pe_mask;
	unsigned int i;
	bool entered;
	int idx;

	if (!mask)
		return;

	/* Opens of these PEs get EAGAIN, not EBUSY, while jobs drain. */
	mutex_lock(&ndev->owner_lock);
	ndev->releasing_mask |= mask;
	ndev->owned_mask &= ~mask;
	mutex_unlock(&ndev->owner_lock);

	npu_file_drain(nfile);

	entered = npu_dev_enter(ndev, &idx);
	mutex_lock(&ndev->owner_lock);
	/* A reset in progress restores the mode ndev->fused says. */
	if (nfile->fused && entered && READ_ONCE(ndev->state) == NPU_STATE_READY)
		npu_hw_set_fused(ndev, false);
	if (nfile->fused)
		ndev->fused = false;
	for (i = 0; i < ndev->pe_count; i++) {
		if (mask & BIT(i))
			memset(&ndev->holder[i], 0, sizeof(ndev->holder[i]));
	}
	ndev->releasing_mask &= ~mask;
	mutex_unlock(&ndev->owner_lock);
	if (entered)
		npu_dev_exit(ndev, idx);
}

static int npu_open(struct inode *inode, struct file *filp)
{
	unsigned int minor = iminor(inode);
	struct npu_device *ndev;
	struct npu_file *nfile;
	int ret;

	ndev = npu_device_lookup(minor / NPU_NODE_COUNT);
	if (!ndev)
		return -ENODEV;

	nfile = kzalloc(sizeof(*nfile), GFP_KERNEL);
	if (!nfile) {
		npu_device_put(ndev);
		return -ENOMEM;
	}
	kref_init(&nfile->ref);
	nfile->ndev = ndev;
	nfile->kind = minor % NPU_NODE_COUNT;
	nfile->pe_mask = npu_node_pe_mask(nfile->kind);
	nfile->fused = nfile->kind == NPU_NODE_FUSED;
	xa_init_flags(&nfile->bos, XA_FLAGS_ALLOC1);
	mutex_init(&nfile->jobs_lock);
	xa_init(&nfile->jobs);
	nfile->next_seqno = 1;
	init_waitqueue_head(&nfile->wq);
	nfile->client_id = npu_fdinfo_new_client_id();

	ret = npu_file_own(nfile);
	if (ret) {
		/* Also drops the device. */
		npu_file_put(nfile);
		return ret;
	}

	filp->private_data = nfile;
	return nonseekable_open(inode, filp);
}

static int npu_release(struct inode *inode, struct file *filp)
{
	struct npu_file *nfile = filp->private_data;

	npu_file_disown(nfile);
	npu_file_free_jobs(nfile);
	npu_file_free_bos(nfile);
	/* The context lives on while the completion of its last job returns. */
	npu_file_put(nfile);
	return 0;
}

static int npu_ioctl_version(void __user *arg)
{
	struct npu_version args;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved)
		return -EINVAL;
	args.major = NPU_UAPI_VERSION_MAJOR;
	args.minor = NPU_UAPI_VERSION_MINOR;
	return copy_to_user(arg, &args, sizeof(args)) ? -EFAULT : 0;
}

static int npu_ioctl_device_info(struct npu_file *nfile, void __user *arg)
{
	struct npu_device *ndev = nfile->ndev;
	struct npu_device_info args;
	unsigned int i;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(args.reserved); i++)
		if (args.reserved[i])
			return -EINVAL;

	memset(&args, 0, sizeof(args));
	args.index = ndev->index;
	args.hw_rev = ndev->hw_rev;
	args.pe_count = ndev->pe_count;
	args.pe_mask = nfile->pe_mask;
	args.fused = nfile->fused;
	args.clock_mhz = ndev->clock_mhz;
	args.dram_size = ndev->dram_size;
	if (nfile->fused)
		args.dram_window = ndev->dram_size;
	else if (nfile->pe_mask)
		args.dram_window = ndev->pe[__ffs(nfile->pe_mask)].dram_size;
	strscpy(args.fw_version, ndev->fw_version, sizeof(args.fw_version));
	strscpy(args.serial, ndev->serial, sizeof(args.serial));
	memcpy(args.uuid, ndev->uuid, sizeof(args.uuid));
	strscpy(args.busname, pci_name(ndev->pdev), sizeof(args.busname));

	return copy_to_user(arg, &args, sizeof(args)) ? -EFAULT : 0;
}

/* The argument structs of the PE-file calls. */
union npu_ioctl_args {
	struct npu_bo_create bo_create;
	struct npu_bo_free bo_free;
	struct npu_bo_userptr bo_userptr;
	struct npu_bo_export bo_export;
	struct npu_bo_import bo_import;
	struct npu_submit submit;
	struct npu_wait wait;
};

typedef int npu_ioctl_fn(struct npu_file *nfile, void *data, void __user *arg, bool nonblock);

/*
 * Copy a PE-file call's argument struct in (its size is in the ioctl
 * number) and run its handler, which copies back what it returns.
 */
static long npu_ioctl_call(struct file *filp, unsigned int cmd, void __user *uarg,
			   npu_ioctl_fn *fn)
{
	union npu_ioctl_args args;

	if (WARN_ON_ONCE(_IOC_SIZE(cmd) > sizeof(args)))
		return -ENOTTY;
	if (copy_from_user(&args, uarg, _IOC_SIZE(cmd)))
		return -EFAULT;
	return fn(filp->private_data, &args, uarg, filp->f_flags & O_NONBLOCK);
}

/* The calls of PE files, after the two every file answers. */
static const struct {
	unsigned int cmd;
	npu_ioctl_fn *fn;
} npu_pe_ioctls[] = {
	{ NPU_IOCTL_BO_CREATE, npu_ioctl_bo_create },
	{ NPU_IOCTL_BO_FREE, npu_ioctl_bo_free },
	{ NPU_IOCTL_BO_USERPTR, npu_ioctl_bo_userptr },
	{ NPU_IOCTL_BO_EXPORT, npu_ioctl_bo_export },
	{ NPU_IOCTL_BO_IMPORT, npu_ioctl_bo_import },
	{ NPU_IOCTL_SUBMIT, npu_ioctl_submit },
	{ NPU_IOCTL_WAIT, npu_ioctl_wait },
};

static long npu_ioctl_dispatch(struct file *filp, unsigned int cmd, void __user *uarg)
{
	struct npu_file *nfile = filp->private_data;
	unsigned int i;

	switch (cmd) {
	case NPU_IOCTL_VERSION:
		return npu_ioctl_version(uarg);
	case NPU_IOCTL_DEVICE_INFO:
		return npu_ioctl_device_info(nfile, uarg);
	case NPU_IOCTL_QUERY:
		return npu_ioctl_query(nfile, uarg);
	}

	/* The management file only answers the calls above. */
	if (nfile->kind == NPU_NODE_MGMT)
		return -ENOTTY;

	for (i = 0; i < ARRAY_SIZE(npu_pe_ioctls); i++)
		if (npu_pe_ioctls[i].cmd == cmd)
			return npu_ioctl_call(filp, cmd, uarg, npu_pe_ioctls[i].fn);
	return -ENOTTY;
}

static long npu_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct npu_file *nfile = filp->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;
	int idx;

	/* Results of finished jobs stay collectable after the device is gone. */
	if (cmd == NPU_IOCTL_WAIT)
		return npu_ioctl_dispatch(filp, cmd, uarg);
	if (!npu_dev_enter(nfile->ndev, &idx))
		return -ENODEV;
	ret = npu_ioctl_dispatch(filp, cmd, uarg);
	npu_dev_exit(nfile->ndev, idx);
	return ret;
}

static __poll_t npu_poll(struct file *filp, poll_table *wait)
{
	struct npu_file *nfile = filp->private_data;
	struct npu_device *ndev = nfile->ndev;
	__poll_t mask = 0;
	unsigned int i;
	int idx;

	if (!nfile->pe_mask)
		return 0;

	poll_wait(filp, &nfile->wq, wait);
	for (i = 0; i < ndev->pe_count; i++)
		if (nfile->pe_mask & BIT(i))
			poll_wait(filp, &ndev->pe[i].space_wq, wait);

	if (npu_file_has_finished_job(nfile))
		mask |= EPOLLIN | EPOLLRDNORM;

	if (!npu_dev_enter(ndev, &idx))
		return mask | EPOLLERR | EPOLLHUP;
	if (npu_file_can_submit(nfile)) {
		/* Room for a job of any size on one of the file's rings. */
		for (i = 0; i < ndev->pe_count; i++) {
			if (!(nfile->pe_mask & BIT(i)) || (nfile->fused && i))
				continue;
			if (npu_ring_space(&ndev->pe[i]) >= NPU_JOB_MAX_CMDS)
				mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	npu_dev_exit(ndev, idx);
	return mask;
}

static int npu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct npu_file *nfile = filp->private_data;
	int ret, idx;

	if (!npu_dev_enter(nfile->ndev, &idx))
		return -ENODEV;
	ret = nfile->pe_mask ? npu_bo_mmap(nfile, vma) : -EINVAL;
	npu_dev_exit(nfile->ndev, idx);
	return ret;
}

static const struct file_operations npu_fops = {
	.owner = THIS_MODULE,
	.open = npu_open,
	.release = npu_release,
	.unlocked_ioctl = npu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = npu_poll,
	.mmap = npu_mmap,
	.show_fdinfo = npu_show_fdinfo,
};

int npu_file_register_chrdev(void)
{
	int ret;

	ret = alloc_chrdev_region(&npu_devt_base, 0, NPU_MAX_DEVICES * NPU_NODE_COUNT,
				  NPU_DRIVER_NAME);
	if (ret)
		return ret;
	ret = class_register(&npu_class);
	if (ret)
		unregister_chrdev_region(npu_devt_base, NPU_MAX_DEVICES * NPU_NODE_COUNT);
	return ret;
}

void npu_file_unregister_chrdev(void)
{
	class_unregister(&npu_class);
	unregister_chrdev_region(npu_devt_base, NPU_MAX_DEVICES * NPU_NODE_COUNT);
}

/*
 * The cdev is allocated separately (cdev_alloc): open files pin it, and it
 * must not live inside npu_device, whose lifetime is the kref.
 */
int npu_file_create_nodes(struct npu_device *ndev)
{
	dev_t first = npu_devt_base + ndev->index * NPU_NODE_COUNT;
	unsigned int kind;
	int ret;

	ndev->cdev = cdev_alloc();
	if (!ndev->cdev)
		return -ENOMEM;
	ndev->cdev->owner = THIS_MODULE;
	ndev->cdev->ops = &npu_fops;
	ret = cdev_add(ndev->cdev, first, NPU_NODE_COUNT);
	if (ret) {
		kobject_put(&ndev->cdev->kobj);
		ndev->cdev = NULL;
		return ret;
	}

	for (kind = 0; kind < NPU_NODE_COUNT; kind++) {
		struct device *node;

		node = device_create_with_groups(&npu_class, npu_dev(ndev), first + kind, ndev,
						 npu_sysfs_groups(kind),
						 npu_node_format(kind), ndev->index);
		if (IS_ERR(node)) {
			ret = PTR_ERR(node);
			npu_file_remove_nodes(ndev);
			return ret;
		}
		ndev->nodes[kind] = node;
	}
	return 0;
}

ALLOW_ERROR_INJECTION(npu_file_create_nodes, ERRNO);

void npu_file_remove_nodes(struct npu_device *ndev)
{
	unsigned int kind;

	for (kind = 0; kind < NPU_NODE_COUNT; kind++) {
		if (ndev->nodes[kind])
			device_destroy(&npu_class, ndev->nodes[kind]->devt);
		ndev->nodes[kind] = NULL;
	}
	if (ndev->cdev)
		cdev_del(ndev->cdev);
	ndev->cdev = NULL;
}
