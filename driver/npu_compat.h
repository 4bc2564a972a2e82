/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel compatibility, in one place. The driver is written for the newest
 * kernel API; this file fills in, for older kernels, the few parts of it
 * they lack. What a kernel has is not read from its version number: at build
 * time driver/Kbuild runs compat/probe.sh, which compiles each
 * compat/have_<name>.c against the target kernel's headers and writes
 * npu_compat_config.h (a build output) with NPU_HAVE_<NAME> for each probe
 * that compiles.
 */
#ifndef NPU_COMPAT_H
#define NPU_COMPAT_H

#include <linux/device.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/workqueue.h>

#include "npu_compat_config.h"

/* pin_user_pages() had a vmas argument, always NULL here, until 6.5. */
#ifndef NPU_HAVE_PIN_USER_PAGES_WITHOUT_VMAS
#define pin_user_pages(start, nr_pages, gup_flags, pages) \
	pin_user_pages(start, nr_pages, gup_flags, pages, NULL)
#endif

/* Older kernels test the VMA's flags: is_cow_mapping(vma->vm_flags). */
#ifndef NPU_HAVE_VMA_IS_COW_MAPPING
static inline bool vma_is_cow_mapping(const struct vm_area_struct *vma)
{
	return is_cow_mapping(vma->vm_flags);
}
#endif

/*
 * Before 6.2 a class's devnode() took a struct device that is not const.
 * NPU_CLASS_DEVNODE(fn) is the head of such a callback, with arguments dev
 * (const where the kernel has it so) and mode; the body is the driver's.
 */
#ifdef NPU_HAVE_CLASS_DEVNODE_CONST
#define NPU_CLASS_DEVNODE(fn) \
	static char *(fn)(const struct device *dev, umode_t *mode)
#else
#define NPU_CLASS_DEVNODE(fn) \
	static char *(fn)(struct device *dev, umode_t *mode)
#endif

/*
 * MODULE_IMPORT_NS() takes a string literal from 6.13; before, it
 * stringified an identifier (and would quote a literal a second time).
 */
#ifdef NPU_HAVE_MODULE_IMPORT_NS_IDENTIFIER
#undef MODULE_IMPORT_NS
#define MODULE_IMPORT_NS(ns)	MODULE_INFO(import_ns, ns)
#endif

/* system_wq's new name; the old one is to be removed. */
#ifndef NPU_HAVE_SYSTEM_PERCPU_WQ
#define system_percpu_wq	system_wq
#endif

#endif /* NPU_COMPAT_H */
