/* SPDX-License-Identifier: GPL-2.0 */
/* MSI-X vectors: the device's event interrupt and one completion vector per PE. */
#ifndef NPU_IRQ_H
#define NPU_IRQ_H

#include "npu_device.h"

int npu_irq_setup(struct npu_device *ndev);
void npu_irq_free(struct npu_device *ndev);

#endif /* NPU_IRQ_H */
