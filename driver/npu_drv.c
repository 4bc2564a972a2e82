// SPDX-License-Identifier: GPL-2.0
/*
 * PCI driver for the NPU: probe, remove and the device lifetime.
 *
 * Lock order, outermost first:
 *   npu_devices_lock -> npu_device.reset_lock -> npu_device.alive_lock ->
 *   npu_device.owner_lock -> npu_pe.lock -> npu_file.jobs_lock
 * (npu_device.recovery_lock is a leaf spinlock.)
 */

#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "npu_bo.h"
#include "npu_drv.h"
#include "npu_recovery.h"
#include "npu_ring.h"
#include "npu_sysfs.h"

unsigned int npu_max_jobs_per_file = 1024;
module_param_named(max_jobs_per_file, npu_max_jobs_per_file, uint, 0644);
MODULE_PARM_DESC(max_jobs_per_file,
		 "Jobs a file may have in flight or uncollected; SUBMIT beyond fails with ENOSPC (default 1024)");

unsigned int npu_release_timeout_ms = 10000;
module_param_named(release_timeout_ms, npu_release_timeout_ms, uint, 0644);
MODULE_PARM_DESC(release_timeout_ms,
		 "How long close waits for running jobs before resetting the PE (default 10000)");

unsigned int npu_max_bos_per_file = 4096;
module_param_named(max_bos_per_file, npu_max_bos_per_file, uint, 0644);
MODULE_PARM_DESC(max_bos_per_file,
		 "Buffer handles a file may hold; BO_CREATE/USERPTR/IMPORT beyond fail with ENOSPC (default 4096)");

unsigned int npu_max_bo_mb_per_file = 4096;
module_param_named(max_bo_mb_per_file, npu_max_bo_mb_per_file, uint, 0644);
MODULE_PARM_DESC(max_bo_mb_per_file,
		 "MiB of buffers a file may hold; beyond, BO calls fail with ENOMEM (default 4096)");

/*
 * Devices by index (N of npuN). Protects the mapping and taking a reference
 * in open against remove dropping the entry.
 */
static DEFINE_MUTEX(npu_devices_lock);
static DEFINE_XARRAY_ALLOC(npu_devices);

static void npu_device_release(struct kref *ref)
{
	struct npu_device *ndev = container_of(ref, struct npu_device, ref);

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

/* Errors and reset completion; errors that need a reset go to recovery. */
static irqreturn_t npu_event_irq_thread(int irq, void *data)
{
	struct npu_device *ndev = data;
	u32 status = npu_rd32(ndev, NPU_REG_IRQ_STATUS);
	u32 events = status & (NPU_IRQ_ERROR | NPU_IRQ_RESET_DONE);
	u32 cause, dev_status;
	unsigned int i;

	if (status == ~0u) {
		dev_err_ratelimited(npu_dev(ndev), "device not responding\n");
		npu_recovery_trigger(ndev, NPU_RESET_LOST, NPU_REASON_LINK_LOSS, 0);
		return IRQ_HANDLED;
	}
	if (!events)
		return IRQ_NONE;
	npu_wr32(ndev, NPU_REG_IRQ_STATUS, events);
	if (!(events & NPU_IRQ_ERROR))
		return IRQ_HANDLED;

	cause = npu_rd32(ndev, NPU_REG_ERR_CAUSE);
	dev_status = npu_rd32(ndev, NPU_REG_DEV_STATUS);
	dev_err_ratelimited(npu_dev(ndev), "device error, cause %u, device status %#x\n",
			    cause, dev_status);
	if (cause == NPU_ERR_FATAL || (dev_status & NPU_DEV_STATUS_FATAL)) {
		npu_recovery_trigger(ndev, NPU_RESET_DEVICE, NPU_REASON_FATAL, 0);
		return IRQ_HANDLED;
	}
	/* A ring error halts its PE, which then needs a reset. */
	for (i = 0; i < ndev->pe_count; i++)
		if (npu_pe_rd32(&ndev->pe[i], NPU_PE_STATUS) & NPU_PE_STATUS_HALTED)
			npu_recovery_trigger(ndev, BIT(i), NPU_REASON_HALTED, 0);
	return IRQ_HANDLED;
}

static int npu_setup_irqs(struct npu_device *ndev)
{
	struct pci_dev *pdev = ndev->pdev;
	struct device *dev = &pdev->dev;
	unsigned int i;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, NPU_MSIX_VECTORS, NPU_MSIX_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(dev, "cannot get %u MSI-X vectors: %d\n", NPU_MSIX_VECTORS, ret);
		return ret;
	}

	ret = devm_request_threaded_irq(dev, pci_irq_vector(pdev, NPU_MSIX_VEC_EVENT), NULL,
					npu_event_irq_thread, IRQF_ONESHOT,
					dev_name(dev), ndev);
	if (ret)
		return ret;

	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];

		pe->irq = pci_irq_vector(pdev, NPU_MSIX_VEC_PE(i));
		ret = devm_request_threaded_irq(dev, pe->irq, NULL, npu_ring_irq_thread,
						IRQF_ONESHOT, dev_name(dev), pe);
		if (ret)
			return ret;
	}
	return 0;
}

static void npu_free_irqs(struct npu_device *ndev)
{
	struct pci_dev *pdev = ndev->pdev;
	unsigned int i;

	for (i = 0; i < ndev->pe_count; i++)
		devm_free_irq(&pdev->dev, ndev->pe[i].irq, &ndev->pe[i]);
	devm_free_irq(&pdev->dev, pci_irq_vector(pdev, NPU_MSIX_VEC_EVENT), ndev);
}

static int npu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct npu_device *ndev;
	unsigned int i;
	u32 index;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(NPU_BAR_REGS), NPU_DRIVER_NAME);
	if (ret)
		return ret;
	if (pci_resource_len(pdev, NPU_BAR_REGS) < NPU_REGS_SIZE) {
		dev_err(dev, "register BAR too small\n");
		return -ENODEV;
	}
	/* A device whose link went down answers again only after a PCI reset. */
	if (readl(pcim_iomap_table(pdev)[NPU_BAR_REGS] + NPU_REG_MAGIC) == ~0u) {
		dev_warn(dev, "device not responding, trying a function reset\n");
		pci_reset_function_locked(pdev);
	}
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	/*
	 * A hardware SG entry holds up to 4 GiB - 1 bytes; without this the
	 * DMA API assumes 64 KiB segments, which our merged SG tables exceed.
	 */
	dma_set_max_seg_size(dev, U32_MAX & PAGE_MASK);
	pci_set_master(pdev);

	ndev = kzalloc(sizeof(*ndev), GFP_KERNEL);
	if (!ndev)
		return -ENOMEM;
	kref_init(&ndev->ref);
	ndev->pdev = pci_dev_get(pdev);
	ndev->regs = pcim_iomap_table(pdev)[NPU_BAR_REGS];
	init_rwsem(&ndev->alive_lock);
	mutex_init(&ndev->owner_lock);
	mutex_init(&ndev->bos_lock);
	INIT_LIST_HEAD(&ndev->bos);
	npu_recovery_init(ndev);
	for (i = 0; i < NPU_MAX_PES; i++) {
		ndev->pe[i].ndev = ndev;
		ndev->pe[i].index = i;
		ndev->pe[i].regs = ndev->regs + NPU_PE_BASE(i);
	}
	pci_set_drvdata(pdev, ndev);

	ret = npu_hw_reset_device(ndev);
	if (ret)
		goto err_put;
	ret = npu_hw_read_identity(ndev);
	if (ret)
		goto err_put;
	for (i = 0; i < ndev->pe_count; i++) {
		ret = npu_ring_init(&ndev->pe[i]);
		if (ret)
			goto err_put;
	}
	ret = npu_setup_irqs(ndev);
	if (ret)
		goto err_put;

	npu_wr32(ndev, NPU_REG_IRQ_ENABLE, NPU_IRQ_ALL);
	for (i = 0; i < ndev->pe_count; i++) {
		ret = npu_ring_start(&ndev->pe[i]);
		if (ret)
			goto err_disable;
	}
	ndev->alive = true;

	/* devres users of ndev (hwmon) are released after remove; pin it. */
	npu_device_get(ndev);
	ret = devm_add_action_or_reset(dev, npu_device_put_action, ndev);
	if (ret)
		goto err_disable;
	ret = npu_hwmon_register(ndev);
	if (ret)
		goto err_disable;

	mutex_lock(&npu_devices_lock);
	ret = xa_alloc(&npu_devices, &index, ndev, XA_LIMIT(0, NPU_MAX_DEVICES - 1),
		       GFP_KERNEL);
	mutex_unlock(&npu_devices_lock);
	if (ret)
		goto err_disable;
	ndev->index = index;

	ret = npu_file_create_nodes(ndev);
	if (ret)
		goto err_erase;

	npu_pci_enable_error_reporting(pdev);
	/* PCI error recovery restores this configuration after a slot reset. */
	pci_save_state(pdev);
	npu_recovery_start(ndev);
	npu_debugfs_register(ndev);

	dev_info(dev, "npu%u: hw %u.%u, %u PEs, %llu MiB DRAM, %u MHz, firmware %s, serial %s\n",
		 ndev->index, ndev->hw_rev >> 16, ndev->hw_rev & 0xffff, ndev->pe_count,
		 ndev->dram_size >> 20, ndev->clock_mhz, ndev->fw_version, ndev->serial);
	return 0;

err_erase:
	mutex_lock(&npu_devices_lock);
	xa_erase(&npu_devices, ndev->index);
	mutex_unlock(&npu_devices_lock);
err_disable:
	ndev->alive = false;
	npu_wr32(ndev, NPU_REG_IRQ_ENABLE, 0);
	for (i = 0; i < ndev->pe_count; i++)
		npu_pe_wr32(&ndev->pe[i], NPU_PE_CTRL, 0);
err_put:
	npu_device_put(ndev);
	return ret;
}

static void npu_remove(struct pci_dev *pdev)
{
	struct npu_device *ndev = pci_get_drvdata(pdev);
	unsigned int i;

	/* No new opens find the device, no fault is injected or recovered... */
	mutex_lock(&npu_devices_lock);
	xa_erase(&npu_devices, ndev->index);
	mutex_unlock(&npu_devices_lock);
	npu_debugfs_unregister(ndev);
	npu_recovery_stop(ndev);
	npu_file_remove_nodes(ndev);

	/* ...and sleepers holding alive_lock for reading give up. */
	WRITE_ONCE(ndev->dying, true);
	for (i = 0; i < ndev->pe_count; i++)
		wake_up_all(&ndev->pe[i].space_wq);

	down_write(&ndev->alive_lock);
	ndev->alive = false;
	npu_wr32(ndev, NPU_REG_IRQ_ENABLE, 0);
	for (i = 0; i < ndev->pe_count; i++)
		npu_pe_wr32(&ndev->pe[i], NPU_PE_CTRL, 0);
	npu_free_irqs(ndev);
	for (i = 0; i < ndev->pe_count; i++) {
		mutex_lock(&ndev->pe[i].lock);
		npu_pe_complete_all_locked(&ndev->pe[i], NPU_JOB_DEVICE_LOST);
		mutex_unlock(&ndev->pe[i].lock);
	}
	/* Quiesce DMA: rings and SG lists are freed once we return. */
	npu_wr32(ndev, NPU_REG_DEV_CTRL, NPU_DEV_CTRL_RESET);
	/* Nothing runs any more: end the DMA mappings of BOs files still hold. */
	npu_device_unmap_bos(ndev);
	up_write(&ndev->alive_lock);

	npu_device_put(ndev);
}

static const struct pci_device_id npu_pci_ids[] = {
	{ PCI_DEVICE(NPU_PCI_VENDOR_ID, NPU_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, npu_pci_ids);

static struct pci_driver npu_pci_driver = {
	.name = NPU_DRIVER_NAME,
	.id_table = npu_pci_ids,
	.probe = npu_probe,
	.remove = npu_remove,
	.err_handler = &npu_pci_err_handlers,
};

static int __init npu_init(void)
{
	int ret;

	ret = npu_file_register_chrdev();
	if (ret)
		return ret;
	npu_debugfs_init();
	ret = pci_register_driver(&npu_pci_driver);
	if (ret) {
		npu_debugfs_exit();
		npu_file_unregister_chrdev();
	}
	return ret;
}

static void __exit npu_exit(void)
{
	pci_unregister_driver(&npu_pci_driver);
	npu_debugfs_exit();
	npu_file_unregister_chrdev();
	WARN_ON(!xa_empty(&npu_devices));
	xa_destroy(&npu_devices);
}

module_init(npu_init);
module_exit(npu_exit);

MODULE_DESCRIPTION("Driver for the emulated Warboy-style PCIe NPU");
MODULE_AUTHOR("NPU stack developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(NPU_DRIVER_VERSION);
