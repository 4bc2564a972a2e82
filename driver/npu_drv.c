// SPDX-License-Identifier: GPL-2.0
/*
 * PCI driver for the NPU: module init, probe and remove. The top of the
 * driver: it calls the other files, none of them calls it.
 */

#include <linux/module.h>
#include <linux/pci.h>

#include "npu_bo.h"
#include "npu_debugfs.h"
#include "npu_device.h"
#include "npu_file.h"
#include "npu_hw_ops.h"
#include "npu_hwmon.h"
#include "npu_irq.h"
#include "npu_pci_err.h"
#include "npu_recovery.h"
#include "npu_ring.h"
#include "npu_trace.h"

/* Interrupts off, every PE stopped: no more DMA is started. */
static void npu_probe_stop_hw(struct npu_device *ndev)
{
	unsigned int i;

	npu_wr32(ndev, NPU_REG_IRQ_ENABLE, 0);
	for (i = 0; i < ndev->pe_count; i++)
		npu_pe_wr32(&ndev->pe[i], NPU_PE_CTRL, 0);
}

/* Interrupts on and every PE's ring running, or, on failure, stopped. */
static int npu_probe_start_hw(struct npu_device *ndev)
{
	unsigned int i;
	int ret = 0;

	npu_wr32(ndev, NPU_REG_IRQ_ENABLE, NPU_IRQ_ALL);
	for (i = 0; i < ndev->pe_count && !ret; i++)
		ret = npu_ring_start(&ndev->pe[i]);
	if (ret)
		npu_probe_stop_hw(ndev);
	return ret;
}

static int npu_probe_rings(struct npu_device *ndev)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ndev->pe_count && !ret; i++)
		ret = npu_ring_init(&ndev->pe[i]);
	return ret;
}

/*
 * The steps of probe that need no unwinding of their own: devres undoes
 * them, or they undo themselves when they fail. In order.
 */
static int (*const npu_probe_steps[])(struct npu_device *ndev) = {
	npu_hw_reset_device,
	npu_hw_read_identity,
	npu_probe_rings,
	npu_irq_setup,
	npu_hwmon_register,
	npu_probe_start_hw,
};

static int npu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct npu_device *ndev;
	unsigned int i;
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

	ndev = npu_device_create(pdev);
	if (IS_ERR(ndev))
		return PTR_ERR(ndev);
	npu_recovery_init(ndev);
	pci_set_drvdata(pdev, ndev);

	for (i = 0; i < ARRAY_SIZE(npu_probe_steps); i++) {
		ret = npu_probe_steps[i](ndev);
		if (ret)
			return ret;
	}

	ret = npu_device_register(ndev);
	if (ret)
		goto err_stop;

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
	npu_device_unregister(ndev);
err_stop:
	/* devres frees the interrupts, then the rings, then the device. */
	npu_dev_mark_gone(ndev);
	npu_probe_stop_hw(ndev);
	return ret;
}

static void npu_remove(struct pci_dev *pdev)
{
	struct npu_device *ndev = pci_get_drvdata(pdev);
	unsigned int i, jobs = 0;

	/* No new opens find the device, no fault is injected or recovered... */
	npu_device_unregister(ndev);
	npu_debugfs_unregister(ndev);
	npu_recovery_stop(ndev);
	npu_file_remove_nodes(ndev);

	/* ...and no file operation touches the hardware any more. */
	npu_dev_unplug(ndev);

	npu_probe_stop_hw(ndev);
	npu_irq_free(ndev);
	/* Nothing adds or finishes jobs now but the loop below. */
	for (i = 0; i < ndev->pe_count; i++)
		jobs += ndev->pe[i].inflight_count;
	trace_npu_unplug(ndev, jobs);
	for (i = 0; i < ndev->pe_count; i++) {
		mutex_lock(&ndev->pe[i].lock);
		npu_ring_finish_all_locked(&ndev->pe[i], NPU_JOB_DEVICE_LOST);
		mutex_unlock(&ndev->pe[i].lock);
	}
	/* Quiesce DMA: rings and SG lists are freed once we return. */
	npu_wr32(ndev, NPU_REG_DEV_CTRL, NPU_DEV_CTRL_RESET);
	/* Nothing runs any more: end the DMA mappings of BOs files still hold. */
	npu_device_unmap_bos(ndev);
	/* devres drops the binding's reference to the device after this. */
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
	WARN_ON(!npu_devices_empty());
}

module_init(npu_init);
module_exit(npu_exit);

MODULE_DESCRIPTION("Driver for the emulated Warboy-style PCIe NPU");
MODULE_AUTHOR("NPU stack developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(NPU_DRIVER_VERSION);
