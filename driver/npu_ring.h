/* SPDX-License-Identifier: GPL-2.0 */
/* Submission and completion rings of one PE. */
#ifndef NPU_RING_H
#define NPU_RING_H

#include "npu_drv.h"

struct npu_job;

int npu_ring_init(struct npu_pe *pe);
int npu_ring_start(struct npu_pe *pe);
void npu_ring_stop(struct npu_pe *pe);
void npu_ring_program_locked(struct npu_pe *pe);
int npu_ring_enable_locked(struct npu_pe *pe);
int npu_ring_reset_locked(struct npu_pe *pe);
unsigned int npu_ring_poll_locked(struct npu_pe *pe);
unsigned int npu_ring_space(struct npu_pe *pe);
int npu_ring_push_locked(struct npu_pe *pe, struct npu_job *job);
irqreturn_t npu_ring_irq_thread(int irq, void *data);
void npu_pe_complete_all_locked(struct npu_pe *pe, u32 status);

#endif /* NPU_RING_H */
