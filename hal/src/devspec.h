/* SPDX-License-Identifier: MIT */
/* Internal helpers around device specifications. */
#ifndef NPUHAL_DEVSPEC_H
#define NPUHAL_DEVSPEC_H

#include <stddef.h>

#include "npuhal.h"

struct npu_arch_info {
	const char *name;
	unsigned int pes;	/* PEs per device */
};

/* The architecture called name, or NULL. */
const struct npu_arch_info *npu_arch_lookup(const char *name);

/* Canonical text of one item, snprintf-style. */
int npu_spec_item_format(const npu_spec_item *item, char *buf, size_t size);

#endif /* NPUHAL_DEVSPEC_H */
