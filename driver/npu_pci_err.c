// SPDX-License-Identifier: GPL-2.0
/*
 * PCI error recovery (AER) and function resets (FLR through sysfs "reset").
 *
 * Both stop the device before its state is lost (npu_recovery_pci_quiesce)
 * and restart it afterwards (npu_recovery_pci_restart): jobs that were in
 * flight finish as NPU_JOB_CANCELLED, open files keep working. A device that
 * does not answer after a slot reset, or a permanent failure, is lost: its
 * jobs finish as NPU_JOB_DEVICE_LOST and file operations return ENODEV.
 */

#include <linux/pci.h>

#include "npu_device.h"
#include "npu_pci_err.h"
#include "npu_recovery.h"

static pci_ers_result_t npu_pci_error_detected(struct pci_dev *pdev,
					       pci_channel_state_t state)
{
	struct npu_device *ndev = pci_get_drvdata(pdev);

	dev_warn(&pdev->dev, "PCI error, channel state %d\n", state);
	switch (state) {
	case pci_channel_io_normal:
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		npu_recovery_pci_quiesce(ndev);
		return PCI_ERS_RESULT_NEED_RESET;
	default:
		npu_recovery_mark_lost(ndev);
		return PCI_ERS_RESULT_DISCONNECT;
	}
}

static pci_ers_result_t npu_pci_slot_reset(struct pci_dev *pdev)
{
	struct npu_device *ndev = pci_get_drvdata(pdev);

	pci_restore_state(pdev);
	pci_save_state(pdev);
	/* Remove cannot run meanwhile: the PCI core holds the device lock. */
	if (npu_rd32(ndev, NPU_REG_MAGIC) != NPU_MAGIC) {
		dev_err(&pdev->dev, "device does not answer after slot reset\n");
		npu_recovery_mark_lost(ndev);
		return PCI_ERS_RESULT_DISCONNECT;
	}
	return PCI_ERS_RESULT_RECOVERED;
}

static void npu_pci_resume(struct pci_dev *pdev)
{
	npu_recovery_pci_restart(pci_get_drvdata(pdev));
}

/* Also called for the reset probe tries on a silent device: no drvdata yet. */
static void npu_pci_reset_prepare(struct pci_dev *pdev)
{
	struct npu_device *ndev = pci_get_drvdata(pdev);

	if (ndev)
		npu_recovery_pci_quiesce(ndev);
}

static void npu_pci_reset_done(struct pci_dev *pdev)
{
	struct npu_device *ndev = pci_get_drvdata(pdev);

	/*
	 * The core's restore after the reset consumed the saved state; save
	 * it again, or a later AER slot reset restores nothing (BARs lost).
	 */
	pci_save_state(pdev);
	if (ndev)
		npu_recovery_pci_restart(ndev);
}

/*
 * Let the device report errors through AER. 6.1 leaves this to drivers
 * (pci_enable_pcie_error_reporting(), gone in later kernels, where the PCI
 * core sets the same bits itself); setting the DEVCTL bits directly works
 * on both, without a version check.
 */
void npu_pci_enable_error_reporting(struct pci_dev *pdev)
{
	if (!pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_ERR))
		return;
	pcie_capability_set_word(pdev, PCI_EXP_DEVCTL,
				 PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE |
				 PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE);
}

const struct pci_error_handlers npu_pci_err_handlers = {
	.error_detected = npu_pci_error_detected,
	.slot_reset = npu_pci_slot_reset,
	.resume = npu_pci_resume,
	.reset_prepare = npu_pci_reset_prepare,
	.reset_done = npu_pci_reset_done,
};
