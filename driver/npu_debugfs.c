// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs, per device in /sys/kernel/debug/npu/<PCI address>/:
 *   reset      write "pe0", "pe1" or "device": reset it now (returns once
 *              the reset is over; EIO if the device did not come back)
 *   recovery   read: state, reset counters, missed interrupts
 * and, when the device model has fault injection (NPU_CAP_FAULTS), the
 * fault registers of uapi/npu_hw.h:
 *   fault_arm (rw), fault_disarm (w), fault_pe_mask (rw), fault_count (rw),
 *   fault_delay_us (rw), fault_fired (r)
 * Values are numbers (0x prefix for hex).
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "npu_debugfs.h"
#include "npu_hw_ops.h"
#include "npu_recovery.h"

static struct dentry *npu_debugfs_root;

/* One fault register of one device, the data of its debugfs file. */
struct npu_debugfs_reg {
	struct npu_device *ndev;
	u32 reg;
};

static int npu_debugfs_reg_get(void *data, u64 *val)
{
	struct npu_debugfs_reg *r = data;
	u32 v;
	int ret = npu_hw_read_reg(r->ndev, r->reg, &v);

	if (!ret)
		*val = v;
	return ret;
}

static int npu_debugfs_reg_set(void *data, u64 val)
{
	struct npu_debugfs_reg *r = data;

	if (val > U32_MAX)
		return -EINVAL;
	return npu_hw_write_reg(r->ndev, r->reg, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(npu_debugfs_reg_fops, npu_debugfs_reg_get, npu_debugfs_reg_set,
			 "0x%llx\n");

static const struct {
	const char *name;
	u32 reg;
	umode_t mode;
} npu_debugfs_fault_regs[] = {
	{ "fault_arm", NPU_REG_FAULT_ARM, 0600 },
	{ "fault_disarm", NPU_REG_FAULT_DISARM, 0200 },
	{ "fault_pe_mask", NPU_REG_FAULT_PE_MASK, 0600 },
	{ "fault_count", NPU_REG_FAULT_COUNT, 0600 },
	{ "fault_delay_us", NPU_REG_FAULT_DELAY_US, 0600 },
	{ "fault_fired", NPU_REG_FAULT_FIRED, 0400 },
};

static ssize_t npu_debugfs_reset_write(struct file *file, const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	struct npu_device *ndev = file->private_data;
	char buf[16] = { };
	u32 request;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	if (sysfs_streq(buf, "device"))
		request = NPU_RESET_DEVICE;
	else if (sysfs_streq(buf, "pe0"))
		request = BIT(0);
	else if (sysfs_streq(buf, "pe1") && ndev->pe_count > 1)
		request = BIT(1);
	else
		return -EINVAL;

	ret = npu_recovery_reset_sync(ndev, request, NPU_REASON_MANUAL);
	return ret ? ret : count;
}

static const struct file_operations npu_debugfs_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = npu_debugfs_reset_write,
	.llseek = noop_llseek,
};

static int npu_debugfs_recovery_show(struct seq_file *m, void *unused)
{
	struct npu_device *ndev = m->private;
	unsigned int i;

	seq_printf(m, "state: %s\n", npu_recovery_state_name(ndev));
	seq_printf(m, "job_timeout_ms: %u\n", READ_ONCE(ndev->job_timeout_ms));
	seq_printf(m, "device_resets: %d\n", atomic_read(&ndev->device_resets));
	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];

		seq_printf(m, "pe%u: resets %d missed_irqs %d stale_completions %d inflight %u\n",
			   i, atomic_read(&pe->reset_count), atomic_read(&pe->missed_irqs),
			   atomic_read(&pe->stale_completions), READ_ONCE(pe->inflight_count));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(npu_debugfs_recovery);

void npu_debugfs_register(struct npu_device *ndev)
{
	struct npu_debugfs_reg *regs;
	struct dentry *dir;
	unsigned int i;

	if (!npu_debugfs_root)
		return;
	dir = debugfs_create_dir(pci_name(ndev->pdev), npu_debugfs_root);
	if (IS_ERR(dir))
		return;
	ndev->debugfs = dir;
	debugfs_create_file("reset", 0200, dir, ndev, &npu_debugfs_reset_fops);
	debugfs_create_file("recovery", 0400, dir, ndev, &npu_debugfs_recovery_fops);
	if (!(ndev->caps & NPU_CAP_FAULTS))
		return;
	/* Freed after remove, which removes the files first. */
	regs = devm_kcalloc(npu_dev(ndev), ARRAY_SIZE(npu_debugfs_fault_regs), sizeof(*regs),
			    GFP_KERNEL);
	if (!regs)
		return;
	for (i = 0; i < ARRAY_SIZE(npu_debugfs_fault_regs); i++) {
		regs[i].ndev = ndev;
		regs[i].reg = npu_debugfs_fault_regs[i].reg;
		debugfs_create_file_unsafe(npu_debugfs_fault_regs[i].name,
					   npu_debugfs_fault_regs[i].mode, dir, &regs[i],
					   &npu_debugfs_reg_fops);
	}
}

/* Waits for readers and writers of the files to leave. */
void npu_debugfs_unregister(struct npu_device *ndev)
{
	debugfs_remove_recursive(ndev->debugfs);
	ndev->debugfs = NULL;
}

void npu_debugfs_init(void)
{
	struct dentry *root = debugfs_create_dir(NPU_DRIVER_NAME, NULL);

	npu_debugfs_root = IS_ERR(root) ? NULL : root;
}

void npu_debugfs_exit(void)
{
	debugfs_remove_recursive(npu_debugfs_root);
	npu_debugfs_root = NULL;
}
