// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts: one MSI-X vector for device events (errors, reset done) and
 * one per PE for completions. Both run as threaded handlers (process
 * context): completion frees SG lists (coherent DMA memory) and takes
 * mutexes. Faults they see go to recovery.
 */

#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/pci.h>

#include "npu_irq.h"
#include "npu_recovery.h"

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

/* Completions of one PE. */
static irqreturn_t npu_pe_irq_thread(int irq, void *data)
{
	struct npu_pe *pe = data;

	/* debugfs `floor` timing a test interrupt: stamp it, wake the reader. */
	if (atomic_cmpxchg(&pe->irq_probe_armed, 1, 0) == 1) {
		pe->irq_probe_ns = ktime_get_ns();
		complete(&pe->irq_probe_done);
	}
	mutex_lock(&pe->lock);
	npu_recovery_poll_pe_locked(pe);
	mutex_unlock(&pe->lock);

	wake_up_all(&pe->space_wq);
	return IRQ_HANDLED;
}

/*
 * The vectors are managed (devres). They point at the device, which devres
 * frees only after them (npu_device_create()).
 */
int npu_irq_setup(struct npu_device *ndev)
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
		ret = devm_request_threaded_irq(dev, pe->irq, NULL, npu_pe_irq_thread,
						IRQF_ONESHOT, dev_name(dev), pe);
		if (ret)
			return ret;
	}
	return 0;
}

/* Remove: no handler runs once this returns (free_irq waits for them). */
void npu_irq_free(struct npu_device *ndev)
{
	struct pci_dev *pdev = ndev->pdev;
	unsigned int i;

	for (i = 0; i < ndev->pe_count; i++)
		devm_free_irq(&pdev->dev, ndev->pe[i].irq, &ndev->pe[i]);
	devm_free_irq(&pdev->dev, pci_irq_vector(pdev, NPU_MSIX_VEC_EVENT), ndev);
}
