/* SPDX-License-Identifier: MIT */
/*
 * npuctl's container and cluster commands (docs/cluster.md):
 *   npuctl cdi generate [--output FILE]   a CDI spec of the device files
 *   npuctl cdi list [--json] [FILE]       what a CDI spec offers
 *   npuctl labels [--output FILE]         node-feature-discovery labels
 */
#ifndef NPU_TOOLS_NPUCTL_CLUSTER_H
#define NPU_TOOLS_NPUCTL_CLUSTER_H

#include <stdio.h>

#include "npuhal.h"

/* The CDI kind is CDI_VENDOR "/" CDI_CLASS; labels are LABEL_PREFIX "npu.*". */
#define NPU_CDI_VENDOR "npu-stack.org"
#define NPU_CDI_CLASS "npu"
#define NPU_CDI_KIND NPU_CDI_VENDOR "/" NPU_CDI_CLASS
#define NPU_CDI_DEFAULT_FILE "/etc/cdi/" NPU_CDI_VENDOR "-" NPU_CDI_CLASS ".json"
#define NPU_LABELS_DEFAULT_FILE "/etc/kubernetes/node-feature-discovery/features.d/npu"
#define NPU_LABEL_PREFIX NPU_CDI_VENDOR "/"

/* True if argv[1] is a command of this file ("cdi", "labels"). */
int npuctl_cluster_command(int argc, char **argv);

/* Runs it: argv[0] is the command. Exit status as npuctl's: 0, 1 failure, 2 usage. */
int npuctl_cluster_main(int argc, char **argv);

/*
 * The device files of card c that exist under the devfs root ("npu0, npu0pe0,
 * ..."), into buf; returns the mask of the PEs they reach, 0 if none is here.
 */
unsigned int npuctl_present_files(const npu_card_info *c, char *buf, size_t size);

/* The usage lines of these commands, for npuctl --help. */
void npuctl_cluster_usage(FILE *out);

#endif /* NPU_TOOLS_NPUCTL_CLUSTER_H */
