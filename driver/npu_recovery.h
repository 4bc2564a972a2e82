/* SPDX-License-Identifier: GPL-2.0 */
/* Hang detection, resets and loss of the device: the one recovery path. */
#ifndef NPU_RECOVERY_H
#define NPU_RECOVERY_H

#include "npu_drv.h"

/* Bits of npu_device.reset_request: BIT(pe) asks for a reset of that PE. */
#define NPU_RESET_PE_MASK	(BIT(NPU_MAX_PES) - 1)
#define NPU_RESET_DEVICE	BIT(NPU_MAX_PES)	/* the whole device */
#define NPU_RESET_LOST		BIT(NPU_MAX_PES + 1)	/* MMIO read all-ones: check the link */

/* Why a reset happened; in the log, the uevent (NPU_REASON) and the coredump. */
enum npu_reset_reason {
	NPU_REASON_MANUAL,		/* debugfs reset */
	NPU_REASON_CLOSE,		/* close timed out waiting for jobs */
	NPU_REASON_HALTED,		/* PE stopped on a ring error */
	NPU_REASON_BAD_COMPLETION,	/* completion entry for the wrong job */
	NPU_REASON_HANG,		/* no progress within job_timeout_ms */
	NPU_REASON_PCI_RESET,		/* FLR or PCI error recovery */
	NPU_REASON_FATAL,		/* fatal error interrupt */
	NPU_REASON_HEARTBEAT,		/* heartbeat stopped */
	NPU_REASON_LINK_LOSS,		/* device stopped answering */
	NPU_REASON_COUNT
};

extern unsigned int npu_job_timeout_ms;

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

/* npu_coredump.c */
void npu_coredump(struct npu_device *ndev, u32 pe_mask, enum npu_reset_reason reason,
		  u32 guilty_mask);
const char *npu_reset_reason_name(enum npu_reset_reason reason);

#endif /* NPU_RECOVERY_H */
