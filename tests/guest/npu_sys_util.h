/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the driver-level guest tests (buffers, sysfs, processes,
 * module): sysfs and procfs readers, the perf_regs parser, hwmon discovery,
 * consistent 64-bit counter reads from BAR0, and a matmul load generator.
 *
 * Like npu_util.h: functions return 0 or a negative errno, never abort, and
 * keep no global state.
 */
#ifndef NPU_SYS_UTIL_H
#define NPU_SYS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npu_util.h"

/* Reads a whole (small) file into buf, NUL-terminated; returns its length or -errno. */
ssize_t npu_read_text(const char *path, char *buf, size_t len);
/* As npu_read_text, without the trailing newline. */
ssize_t npu_read_line(const char *path, char *buf, size_t len);
/* A file holding one unsigned decimal (or 0x-hex) number. */
int npu_read_u64(const char *path, uint64_t *val);

/* /sys/class/npu_mgmt/<node>/<attr>, e.g. node "npu0pe1", attr "holder". */
ssize_t npu_node_attr(const char *node, const char *attr, char *buf, size_t len);

/* "Name: value" lines of /proc/meminfo (kB) or "name value" of /proc/vmstat. */
int npu_meminfo_kb(const char *name, uint64_t *kb);
int npu_vmstat(const char *name, uint64_t *val);
/* Pages pinned (FOLL_PIN) system-wide: nr_foll_pin_acquired - nr_foll_pin_released. */
int npu_pinned_pages(int64_t *pages);

/* The counters of one perf_regs file, by their names. */
#define NPU_PERF_MAX 32
struct npu_perf {
	unsigned int count;
	char name[NPU_PERF_MAX][32];
	uint64_t value[NPU_PERF_MAX];
};

/* Parses "Name: 0xhex" lines; -EINVAL (and the line in bad) on any other line. */
int npu_perf_parse(const char *text, struct npu_perf *perf, char *bad, size_t bad_len);
/* Value of a counter; false if it is missing. */
bool npu_perf_get(const struct npu_perf *perf, const char *name, uint64_t *val);

/*
 * A 64-bit counter read as two 32-bit halves that are consistent: the high
 * half is read before and after the low one and the read repeated if it moved.
 */
uint64_t npu_bar_read64_stable(const struct npu_bar *bar, uint32_t off);

/* The PCI address of card `card` (DEVICE_INFO of its npuN_mgmt) into busname; 0 or -errno. */
int npu_card_busname(unsigned int card, char *busname, size_t len);
/*
 * Opens file `kind` of card `dev`, writes len bytes of data to DRAM at addr
 * and reads them back into back: 0 if they match, -EBADMSG if not, else -errno.
 */
int npu_dram_round_trip(unsigned int dev, enum npu_file_kind kind, uint64_t addr,
			const void *data, void *back, size_t len);

/* /sys/bus/pci/drivers/<driver> of the PCI function busname (for bind, unbind); 0 or -errno. */
int npu_pci_driver_dir(const char *busname, char *dir, size_t len);

/* /sys/bus/pci/devices/<busname>/hwmon/hwmonN into dir; -ENOENT if none. */
int npu_hwmon_dir(const char *busname, char *dir, size_t len);

/*
 * Keeps both PEs of card `dev` busy with int8 matmuls for `seconds` of wall
 * time through /dev/npu<dev>, `depth` jobs in flight per PE; every result is
 * checked against the C reference. Returns the number of jobs run, or -errno
 * (-EBADMSG for a wrong result).
 */
long npu_matmul_load(unsigned int dev, double seconds, unsigned int depth);

#endif /* NPU_SYS_UTIL_H */
