/* SPDX-License-Identifier: GPL-2.0 */
/* Hang detection, resets and loss of the device: the one recovery path. */
#ifndef NPU_RECOVERY_H
#define NPU_RECOVERY_H

#include "npu_device.h"

/* Bits of npu_device.reset_request: BIT(pe) asks for a reset of that PE. */
#define NPU_RESET_PE_MASK	(BIT(NPU_MAX_PES) - 1)
#define NPU_RESET_DEVICE	BIT(NPU_MAX_PES)	/* the whole device */
#define NPU_RESET_LOST		BIT(NPU_MAX_PES + 1)	/* MMIO read all-ones: check the link */

void npu_recovery_init(struct npu_device *ndev);
void npu_recovery_start(struct npu_device *ndev);
void npu_recovery_stop(struct npu_device *ndev);
void npu_recovery_trigger(struct npu_device *ndev, u32 request,
			  enum npu_reset_reason reason, u32 guilty_mask);
int npu_recovery_reset_sync(struct npu_device *ndev, u32 request,
			    enum npu_reset_reason reason);
const char *npu_recovery_state_name(struct npu_device *ndev);
int npu_recovery_open_errno(struct npu_device *ndev);
void npu_recovery_pci_quiesce(struct npu_device *ndev);
int npu_recovery_pci_restart(struct npu_device *ndev);
void npu_recovery_mark_lost(struct npu_device *ndev);
unsigned int npu_recovery_poll_pe_locked(struct npu_pe *pe);

#endif /* NPU_RECOVERY_H */
