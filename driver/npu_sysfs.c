// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs attributes, created with the device (attribute groups) so udev sees
 * them at the uevent.
 *
 * npuN_mgmt: busname device_sn device_type device_uuid fw_version
 *	      platform_type soc_rev version alive heartbeat device_state
 *	      job_timeout_ms (rw) reset_count (whole-device resets)
 * npuN, npuNpe0, npuNpe1, npuNpe0-1: perf_regs holder reset_count
 *	      missed_irq_count
 *
 * Live values are read from the registers inside npu_dev_enter(); a device
 * that is gone (removed or lost) answers -ENODEV.
 */

#include <linux/device.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/sysfs.h>

#include "npu_device.h"
#include "npu_hw_ops.h"
#include "npu_recovery.h"
#include "npu_sysfs.h"

static struct npu_device *npu_node_device(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static enum npu_node_kind npu_node_kind(struct device *dev)
{
	return MINOR(dev->devt) % NPU_NODE_COUNT;
}

/* PEs whose state a device file shows. */
static u32 npu_node_pes(struct device *dev)
{
	return npu_node_pe_mask(npu_node_kind(dev));
}

static ssize_t busname_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", pci_name(npu_node_device(dev)->pdev));
}
static DEVICE_ATTR_RO(busname);

static ssize_t device_sn_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", npu_node_device(dev)->serial);
}
static DEVICE_ATTR_RO(device_sn);

static ssize_t device_type_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "warboy\n");
}
static DEVICE_ATTR_RO(device_type);

static ssize_t device_uuid_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%pUb\n", npu_node_device(dev)->uuid);
}
static DEVICE_ATTR_RO(device_uuid);

static ssize_t fw_version_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", npu_node_device(dev)->fw_version);
}
static DEVICE_ATTR_RO(fw_version);

static ssize_t platform_type_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct pci_dev *pdev = npu_node_device(dev)->pdev;

	/* The vendor ID is QEMU's own: no silicon carries it. */
	return sysfs_emit(buf, "%s\n", pdev->vendor == NPU_PCI_VENDOR_ID ? "emulated" : "silicon");
}
static DEVICE_ATTR_RO(platform_type);

static ssize_t soc_rev_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct npu_device *ndev = npu_node_device(dev);

	return sysfs_emit(buf, "%u.%u\n", ndev->hw_rev >> 16, ndev->hw_rev & 0xffff);
}
static DEVICE_ATTR_RO(soc_rev);

static ssize_t version_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", NPU_DRIVER_VERSION);
}
static DEVICE_ATTR_RO(version);

static ssize_t heartbeat_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	u32 val;
	int ret = npu_hw_read_reg(npu_node_device(dev), NPU_REG_HEARTBEAT, &val);

	return ret ? ret : sysfs_emit(buf, "%u\n", val);
}
static DEVICE_ATTR_RO(heartbeat);

/* ready, resetting, failed or lost: the driver's view, readable without opening. */
static ssize_t device_state_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", npu_recovery_state_name(npu_node_device(dev)));
}
static DEVICE_ATTR_RO(device_state);

static ssize_t alive_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct npu_device *ndev = npu_node_device(dev);
	u32 status;
	int ret = npu_hw_read_reg(ndev, NPU_REG_DEV_STATUS, &status);

	if (ret == -ENODEV)
		return sysfs_emit(buf, "0\n");
	if (ret)
		return ret;
	return sysfs_emit(buf, "%d\n", READ_ONCE(ndev->state) == NPU_STATE_READY &&
			  status != ~0u && (status & NPU_DEV_STATUS_READY) &&
			  !(status & NPU_DEV_STATUS_FATAL));
}
static DEVICE_ATTR_RO(alive);

/* Upper bound of job_timeout_ms: an hour. */
#define NPU_JOB_TIMEOUT_MAX_MS	(3600u * 1000u)

static ssize_t job_timeout_ms_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(npu_node_device(dev)->job_timeout_ms));
}

static ssize_t job_timeout_ms_store(struct device *dev, struct device_attribute *attr,
				    const char *buf, size_t count)
{
	unsigned int val;
	int ret;

	ret = kstrtouint(buf, 0, &val);
	if (ret)
		return ret;
	if (val > NPU_JOB_TIMEOUT_MAX_MS)
		return -EINVAL;
	/* The watchdog picks the new value up at its next tick. */
	WRITE_ONCE(npu_node_device(dev)->job_timeout_ms, val);
	return count;
}
static DEVICE_ATTR_RW(job_timeout_ms);

/* The management file counts whole-device resets, PE files their PEs' resets. */
static ssize_t mgmt_reset_count_show(struct device *dev, struct device_attribute *attr,
				     char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&npu_node_device(dev)->device_resets));
}

static struct device_attribute dev_attr_mgmt_reset_count =
	__ATTR(reset_count, 0444, mgmt_reset_count_show, NULL);

static struct attribute *npu_mgmt_attrs[] = {
	&dev_attr_busname.attr,
	&dev_attr_device_sn.attr,
	&dev_attr_device_type.attr,
	&dev_attr_device_uuid.attr,
	&dev_attr_fw_version.attr,
	&dev_attr_platform_type.attr,
	&dev_attr_soc_rev.attr,
	&dev_attr_version.attr,
	&dev_attr_alive.attr,
	&dev_attr_heartbeat.attr,
	&dev_attr_device_state.attr,
	&dev_attr_job_timeout_ms.attr,
	&dev_attr_mgmt_reset_count.attr,
	NULL
};
ATTRIBUTE_GROUPS(npu_mgmt);

/* Performance counters in the `Name: 0xhex` format of Warboy's perf_regs. */
#define NPU_PERF_REG(name, reg)	{ name, reg },
static const struct {
	const char *name;
	u32 reg;
} npu_perf_regs[] = {
#include "npu_perf_regs.h"
};

#undef NPU_PERF_REG

/*
 * A file driving several PEs shows their sums, except CycleCount (cycles
 * since reset, the same clock on both PEs), which is the larger one. The
 * fused file shows the fused unit's counters: the hardware keeps them in
 * PE0's registers and mirrors them into PE1's, so a sum would count the
 * unit's work twice.
 */
static ssize_t perf_regs_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct npu_device *ndev = npu_node_device(dev);
	u64 sums[ARRAY_SIZE(npu_perf_regs)] = { 0 };
	u32 pes = npu_node_kind(dev) == NPU_NODE_FUSED ? BIT(0) : npu_node_pes(dev);
	u64 cycles = 0;
	unsigned int i, p;
	ssize_t len;
	int idx;

	if (!npu_dev_enter(ndev, &idx))
		return -ENODEV;
	for (p = 0; p < ndev->pe_count; p++) {
		void __iomem *regs = ndev->pe[p].regs;

		if (!(pes & BIT(p)))
			continue;
		cycles = max_t(u64, cycles, readq(regs + NPU_PE_PERF_CYCLES));
		for (i = 0; i < ARRAY_SIZE(npu_perf_regs); i++)
			sums[i] += readq(regs + npu_perf_regs[i].reg);
	}
	npu_dev_exit(ndev, idx);

	len = sysfs_emit(buf, "CycleCount: 0x%x\n", lower_32_bits(cycles));
	len += sysfs_emit_at(buf, len, "CycleCountHigh: 0x%x\n", upper_32_bits(cycles));
	for (i = 0; i < ARRAY_SIZE(npu_perf_regs); i++)
		len += sysfs_emit_at(buf, len, "%s: 0x%llx\n", npu_perf_regs[i].name, sums[i]);
	return len;
}
static DEVICE_ATTR_RO(perf_regs);

/* One line per PE: "peP: free", "peP: releasing" or "peP: busy pid=N comm=C". */
static ssize_t holder_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct npu_device *ndev = npu_node_device(dev);
	u32 pes = npu_node_pes(dev);
	ssize_t len = 0;
	unsigned int p;

	mutex_lock(&ndev->owner_lock);
	for (p = 0; p < ndev->pe_count; p++) {
		if (!(pes & BIT(p)))
			continue;
		if (ndev->owned_mask & BIT(p))
			len += sysfs_emit_at(buf, len, "pe%u: busy pid=%d comm=%s\n", p,
					     ndev->holder[p].pid, ndev->holder[p].comm);
		else if (ndev->releasing_mask & BIT(p))
			len += sysfs_emit_at(buf, len, "pe%u: releasing\n", p);
		else
			len += sysfs_emit_at(buf, len, "pe%u: free\n", p);
	}
	mutex_unlock(&ndev->owner_lock);
	return len;
}
static DEVICE_ATTR_RO(holder);

/* Sum of a per-PE recovery counter over the PEs a file shows. */
static ssize_t npu_sysfs_pe_counter(struct device *dev, char *buf, bool resets)
{
	struct npu_device *ndev = npu_node_device(dev);
	u32 pes = npu_node_pes(dev);
	unsigned int p;
	long sum = 0;

	for (p = 0; p < ndev->pe_count; p++) {
		struct npu_pe *pe = &ndev->pe[p];

		if (pes & BIT(p))
			sum += atomic_read(resets ? &pe->reset_count : &pe->missed_irqs);
	}
	return sysfs_emit(buf, "%ld\n", sum);
}

/* Resets of the file's PEs, alone or with the whole device. */
static ssize_t reset_count_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return npu_sysfs_pe_counter(dev, buf, true);
}
static DEVICE_ATTR_RO(reset_count);

/* Completions the watchdog collected because their interrupt never came. */
static ssize_t missed_irq_count_show(struct device *dev, struct device_attribute *attr,
				     char *buf)
{
	return npu_sysfs_pe_counter(dev, buf, false);
}
static DEVICE_ATTR_RO(missed_irq_count);

static struct attribute *npu_pe_node_attrs[] = {
	&dev_attr_perf_regs.attr,
	&dev_attr_holder.attr,
	&dev_attr_reset_count.attr,
	&dev_attr_missed_irq_count.attr,
	NULL
};
ATTRIBUTE_GROUPS(npu_pe_node);

/* The attributes of a device file, created with it. */
const struct attribute_group **npu_sysfs_groups(enum npu_node_kind kind)
{
	return kind == NPU_NODE_MGMT ? npu_mgmt_groups : npu_pe_node_groups;
}
