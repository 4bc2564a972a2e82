// SPDX-License-Identifier: GPL-2.0
/*
 * The ground floor: the device's lifetime, the registry of cards (N of
 * npuN), the names of device files and reset reasons, and every module
 * parameter. Nothing here calls another file of the driver.
 */

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "npu_device.h"

/*
 * Every module parameter, all writable by root at run time (docs/driver.md
 * has the full story of each).
 */
unsigned int npu_max_jobs_per_file = 1024;
unsigned int npu_release_timeout_ms = 10000;
unsigned int npu_max_bos_per_file = 4096;
unsigned int npu_max_bo_mb_per_file = 4096;
unsigned int npu_job_timeout_ms = 10000;
unsigned int npu_heartbeat_timeout_ms = 3000;

module_param_named(max_jobs_per_file, npu_max_jobs_per_file, uint, 0644);
module_param_named(release_timeout_ms, npu_release_timeout_ms, uint, 0644);
module_param_named(max_bos_per_file, npu_max_bos_per_file, uint, 0644);
module_param_named(max_bo_mb_per_file, npu_max_bo_mb_per_file, uint, 0644);
module_param_named(job_timeout_ms, npu_job_timeout_ms, uint, 0644);
module_param_named(heartbeat_timeout_ms, npu_heartbeat_timeout_ms, uint, 0644);

MODULE_PARM_DESC(max_jobs_per_file, "Jobs in flight or uncollected per file; beyond: ENOSPC");
MODULE_PARM_DESC(release_timeout_ms, "How long close waits for jobs before a PE reset");
MODULE_PARM_DESC(max_bos_per_file, "Buffer handles per file; beyond: ENOSPC");
MODULE_PARM_DESC(max_bo_mb_per_file, "MiB of buffers per file; beyond: ENOMEM");
MODULE_PARM_DESC(job_timeout_ms, "No progress on a busy PE this long resets it; 0 off");
MODULE_PARM_DESC(heartbeat_timeout_ms, "No heartbeat this long resets the device; 0 off");

/* Name (printf format taking N) and PEs of each device file. */
static const struct {
	const char *fmt;
	u32 pe_mask;
} npu_nodes[NPU_NODE_COUNT] = {
	[NPU_NODE_MGMT] = { "npu%u_mgmt", 0 },
	[NPU_NODE_ALL] = { "npu%u", BIT(0) | BIT(1) },
	[NPU_NODE_PE0] = { "npu%upe0", BIT(0) },
	[NPU_NODE_PE1] = { "npu%upe1", BIT(1) },
	[NPU_NODE_FUSED] = { "npu%upe0-1", BIT(0) | BIT(1) },
};

/* In the order of enum npu_reset_reason. */
static const char * const npu_reason_names[] = {
	"manual", "close", "halted", "bad_completion", "hang", "pci_reset", "fatal",
	"heartbeat", "link_loss",
};

static_assert(ARRAY_SIZE(npu_reason_names) == NPU_REASON_COUNT);

/* printf format of a device file's name, e.g. "npu%upe0" */
const char *npu_node_format(enum npu_node_kind kind)
{
	return npu_nodes[kind].fmt;
}

/* PEs a device file drives (0 for the management file). */
u32 npu_node_pe_mask(enum npu_node_kind kind)
{
	return npu_nodes[kind].pe_mask;
}

const char *npu_reset_reason_name(enum npu_reset_reason reason)
{
	return reason < NPU_REASON_COUNT ? npu_reason_names[reason] : "unknown";
}

/*
 * Devices by index (N of npuN). Protects the mapping and taking a reference
 * in open against remove dropping the entry.
 */
static DEFINE_MUTEX(npu_devices_lock);
static DEFINE_XARRAY_ALLOC(npu_devices);

static void npu_device_release(struct kref *ref)
{
	struct npu_device *ndev = container_of(ref, struct npu_device, ref);

	cleanup_srcu_struct(&ndev->gone_srcu);
	mutex_destroy(&ndev->bos_lock);
	mutex_destroy(&ndev->owner_lock);
	pci_dev_put(ndev->pdev);
	kfree(ndev);
}

void npu_device_get(struct npu_device *ndev)
{
	kref_get(&ndev->ref);
}

void npu_device_put(struct npu_device *ndev)
{
	kref_put(&ndev->ref, npu_device_release);
}

static void npu_device_put_action(void *ndev)
{
	npu_device_put(ndev);
}

/**
 * npu_device_create - the device structure of a card being probed
 * @pdev: the PCI device, BAR0 already mapped (pcim)
 *
 * The probe's reference belongs to devres, registered before any other
 * managed resource that points at the device (interrupts, hwmon): devres
 * releases in reverse order, so the structure outlives them all, on a
 * failed probe as after remove.
 *
 * Return: the device, or an ERR_PTR.
 */
struct npu_device *npu_device_create(struct pci_dev *pdev)
{
	struct npu_device *ndev;
	unsigned int i;
	int ret;

	ndev = kzalloc(sizeof(*ndev), GFP_KERNEL);
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	ret = init_srcu_struct(&ndev->gone_srcu);
	if (ret) {
		kfree(ndev);
		return ERR_PTR(ret);
	}
	kref_init(&ndev->ref);
	ndev->pdev = pci_dev_get(pdev);
	ndev->regs = pcim_iomap_table(pdev)[NPU_BAR_REGS];
	mutex_init(&ndev->owner_lock);
	mutex_init(&ndev->bos_lock);
	INIT_LIST_HEAD(&ndev->bos);
	for (i = 0; i < NPU_MAX_PES; i++) {
		ndev->pe[i].ndev = ndev;
		ndev->pe[i].index = i;
		ndev->pe[i].regs = ndev->regs + NPU_PE_BASE(i);
		init_waitqueue_head(&ndev->pe[i].space_wq);
	}
	ret = devm_add_action_or_reset(&pdev->dev, npu_device_put_action, ndev);
	return ret ? ERR_PTR(ret) : ndev;
}

/**
 * npu_dev_enter - begin a section that may touch the hardware
 * @ndev: the device
 * @idx: where to keep the section's cookie for npu_dev_exit()
 *
 * Sections may sleep; one that waits must also wake on npu_dev_is_gone().
 *
 * Return: true inside the section; false (no section) once the device is
 * gone, when the caller answers -ENODEV or its equivalent.
 */
bool npu_dev_enter(struct npu_device *ndev, int *idx)
{
	*idx = srcu_read_lock(&ndev->gone_srcu);
	if (!READ_ONCE(ndev->gone)) {
		/*
		 * sparse cannot follow a section that begins only on success;
		 * it sees none (nor its end in npu_dev_exit()). Lockdep sees it.
		 */
		__release(&ndev->gone_srcu);
		return true;
	}
	srcu_read_unlock(&ndev->gone_srcu, *idx);
	return false;
}

void npu_dev_exit(struct npu_device *ndev, int idx)
{
	__acquire(&ndev->gone_srcu);
	srcu_read_unlock(&ndev->gone_srcu, idx);
}

/*
 * No new section begins: the device was lost (its registers read
 * all-ones), or probe failed. Sections already running end on their own.
 */
void npu_dev_mark_gone(struct npu_device *ndev)
{
	unsigned int i;

	WRITE_ONCE(ndev->gone, true);
	for (i = 0; i < NPU_MAX_PES; i++)
		wake_up_all(&ndev->pe[i].space_wq);
}

/*
 * Remove: mark the device gone and wait until no section runs; the caller
 * then owns the hardware alone and may tear it down.
 */
void npu_dev_unplug(struct npu_device *ndev)
{
	npu_dev_mark_gone(ndev);
	synchronize_srcu(&ndev->gone_srcu);
}

/* The last reference: the file was released and its last job freed. */
static void npu_file_release(struct kref *ref)
{
	struct npu_file *nfile = container_of(ref, struct npu_file, ref);
	struct npu_device *ndev = nfile->ndev;

	xa_destroy(&nfile->jobs);
	mutex_destroy(&nfile->jobs_lock);
	kfree(nfile);
	npu_device_put(ndev);
}

struct npu_file *npu_file_get(struct npu_file *nfile)
{
	kref_get(&nfile->ref);
	return nfile;
}

void npu_file_put(struct npu_file *nfile)
{
	kref_put(&nfile->ref, npu_file_release);
}

/* Give the device its index; open finds it from now on. */
int npu_device_register(struct npu_device *ndev)
{
	u32 index;
	int ret;

	mutex_lock(&npu_devices_lock);
	ret = xa_alloc(&npu_devices, &index, ndev, XA_LIMIT(0, NPU_MAX_DEVICES - 1), GFP_KERNEL);
	mutex_unlock(&npu_devices_lock);
	if (!ret)
		ndev->index = index;
	return ret;
}

/* No open finds the device any more; its index may be reused. */
void npu_device_unregister(struct npu_device *ndev)
{
	mutex_lock(&npu_devices_lock);
	xa_erase(&npu_devices, ndev->index);
	mutex_unlock(&npu_devices_lock);
}

/* The device with index @index, with a reference for the caller, or NULL. */
struct npu_device *npu_device_lookup(unsigned int index)
{
	struct npu_device *ndev;

	mutex_lock(&npu_devices_lock);
	ndev = xa_load(&npu_devices, index);
	if (ndev)
		npu_device_get(ndev);
	mutex_unlock(&npu_devices_lock);
	return ndev;
}

/* Module exit: every card was removed. */
bool npu_devices_empty(void)
{
	return xa_empty(&npu_devices);
}
