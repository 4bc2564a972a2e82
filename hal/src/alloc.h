/* SPDX-License-Identifier: MIT */
/*
 * Allocation of device files for a spec, over a snapshot of the devices
 * (the topology). Pure logic: discovery fills the topology, sessions open
 * what allocation chose.
 */
#ifndef NPUHAL_ALLOC_H
#define NPUHAL_ALLOC_H

#include <stddef.h>

#include "npuhal.h"

#define NPU_TOPO_MAX_PES	NPU_CARD_MAX_PES
#define NPU_HOLDER_COMM_MAX	NPU_INFO_STRING_MAX
#define NPU_DEVFILE_NAME_MAX	32

struct npu_pe_holder {
	int pid;				/* 0: free; -1: being released */
	char comm[NPU_HOLDER_COMM_MAX];
};

struct npu_topo_device {
	unsigned int index;			/* N of /dev/npuN */
	char arch[NPU_ARCH_NAME_MAX];
	unsigned int pe_count;
	struct npu_pe_holder pe[NPU_TOPO_MAX_PES];
};

struct npu_topology {
	size_t count;
	struct npu_topo_device *devices;	/* sorted by index */
};

/* One device file chosen for a spec. */
struct npu_unit {
	npu_spec_kind kind;			/* PE, FUSED or DEVICE */
	unsigned int device;
	unsigned int pe_first, pe_last;
	char name[NPU_DEVFILE_NAME_MAX];	/* "npu0pe0-1", without /dev */
};

/* Number of units the spec asks for (sum over its items). */
size_t npu_spec_unit_count(const npu_spec *spec);

/*
 * Chooses units[0..npu_spec_unit_count(spec)) for spec: named items exactly
 * as written, implicit ones from free units not otherwise chosen, searching
 * until an assignment is found whenever one exists. NOT_FOUND when the
 * devices could not satisfy the spec even if all were free, BUSY (naming
 * holders) when only units held by others would.
 */
npu_status npu_allocate(const npu_spec *spec, const struct npu_topology *topo,
			struct npu_unit *units, size_t max_units);

/* Fills u->name from its kind, device and PEs. */
void npu_unit_name(struct npu_unit *u);

#endif /* NPUHAL_ALLOC_H */
