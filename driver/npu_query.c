// SPDX-License-Identifier: GPL-2.0
/*
 * NPU_IOCTL_QUERY (uapi 1.1): versions, device capabilities and driver
 * limits, one answer struct per param. The caller names the size of its
 * buffer; the driver writes no more than that and returns the size of its
 * own struct, so callers built against an older or a newer uapi/npu.h
 * both work. Everything reported is a copy taken at probe or a module
 * parameter: no hardware access, so the call also works on the management
 * file while the device resets.
 */

#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "npu_bo.h"
#include "npu_device.h"
#include "npu_query.h"

static u32 npu_query_version(struct npu_query_version *v)
{
	v->abi_major = NPU_UAPI_VERSION_MAJOR;
	v->abi_minor = NPU_UAPI_VERSION_MINOR;
	strscpy(v->driver_version, NPU_DRIVER_VERSION, sizeof(v->driver_version));
	return sizeof(*v);
}

static u32 npu_query_caps(struct npu_device *ndev, struct npu_query_caps *c)
{
	c->hw_rev = ndev->hw_rev;
	c->pe_count = ndev->pe_count;
	if (ndev->caps & NPU_CAP_FUSED) {
		c->flags |= NPU_QUERY_CAP_FUSED;
		c->fused_pe_mask = BIT(0) | BIT(1);
	}
	if (ndev->caps & NPU_CAP_FAULTS)
		c->flags |= NPU_QUERY_CAP_FAULT_INJECTION;
	c->clock_mhz = ndev->clock_mhz;
	c->ring_entries = NPU_SQ_ENTRIES;
	c->dram_size = ndev->dram_size;
	c->pe_dram_size = ndev->pe[0].dram_size;
	return sizeof(*c);
}

static u32 npu_query_limits(struct npu_device *ndev, struct npu_query_limits *l)
{
	l->max_job_cmds = NPU_JOB_MAX_CMDS;
	l->job_cmd_size = sizeof(struct npu_job_cmd);
	l->max_bo_size = NPU_BO_MAX_SIZE;
	l->max_bo_bytes_per_file = (u64)READ_ONCE(npu_max_bo_mb_per_file) << 20;
	l->max_bos_per_file = min_t(u32, READ_ONCE(npu_max_bos_per_file), NPU_BO_MAX_HANDLE);
	l->max_jobs_per_file = READ_ONCE(npu_max_jobs_per_file);
	l->max_sg_entries = NPU_SG_MAX_ENTRIES;
	l->job_timeout_ms = READ_ONCE(ndev->job_timeout_ms);
	return sizeof(*l);
}

/**
 * npu_ioctl_query - NPU_IOCTL_QUERY, on any file
 * @nfile: the open file
 * @arg: user pointer to struct npu_query
 *
 * Return: 0; -EINVAL for non-zero flags or reserved, or an unknown param;
 * -EFAULT for a bad @arg or a bad npu_query.ptr with a non-zero size (the
 * struct is then left untouched).
 */
int npu_ioctl_query(struct npu_file *nfile, void __user *arg)
{
	struct npu_query __user *uargs = arg;
	union {
		struct npu_query_version version;
		struct npu_query_caps caps;
		struct npu_query_limits limits;
	} answer;
	struct npu_query args;
	u32 size;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved)
		return -EINVAL;

	memset(&answer, 0, sizeof(answer));
	switch (args.param) {
	case NPU_QUERY_VERSION:
		size = npu_query_version(&answer.version);
		break;
	case NPU_QUERY_CAPS:
		size = npu_query_caps(nfile->ndev, &answer.caps);
		break;
	case NPU_QUERY_LIMITS:
		size = npu_query_limits(nfile->ndev, &answer.limits);
		break;
	default:
		return -EINVAL;
	}

	if (args.size &&
	    copy_to_user(u64_to_user_ptr(args.ptr), &answer, min(args.size, size)))
		return -EFAULT;
	return put_user(size, &uargs->size);
}
