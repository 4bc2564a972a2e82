/* SPDX-License-Identifier: MIT */
/*
 * Discovery: a snapshot of the NPUs from sysfs (class npu_mgmt) and /dev,
 * with both roots overridable so tests run on fake trees.
 */
#ifndef NPUHAL_DISCOVER_H
#define NPUHAL_DISCOVER_H

#include "alloc.h"
#include "npuhal.h"

struct npu_roots {
	char sysfs[256];	/* e.g. "/sys" */
	char devfs[256];	/* e.g. "/dev" */
};

/* The 1.0 rule: roots from the options, else $NPU_SYSFS_ROOT / $NPU_DEVFS_ROOT now, else /sys and /dev. */
npu_status npu_roots_resolve(const npu_open_options *opts, struct npu_roots *roots);
/* A context's roots. */
npu_status npu_roots_of(const npu_context *ctx, struct npu_roots *roots);
/* Copies both roots; INVALID_ARGUMENT if one does not fit. */
npu_status npu_roots_set(struct npu_roots *roots, const char *sysfs, const char *devfs);

/*
 * Fills topo (devices sorted by index, holders per PE) and, if cards is not
 * NULL, the public descriptions. Free with npu_topology_free().
 */
npu_status npu_discover(const struct npu_roots *roots, struct npu_topology *topo,
			npu_card_info **cards);
void npu_topology_free(struct npu_topology *topo);

#endif /* NPUHAL_DISCOVER_H */
