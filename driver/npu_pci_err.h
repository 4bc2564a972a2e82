/* SPDX-License-Identifier: GPL-2.0 */
/* PCI error recovery (AER) and function resets. */
#ifndef NPU_PCI_ERR_H
#define NPU_PCI_ERR_H

#include <linux/pci.h>

extern const struct pci_error_handlers npu_pci_err_handlers;
void npu_pci_enable_error_reporting(struct pci_dev *pdev);

#endif /* NPU_PCI_ERR_H */
