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
 * and `floor` (r): the job path's fixed costs, measured when read (bench/):
 * per PE the median over NPU_FLOOR_ITERS rounds of an MMIO read, a doorbell
 * write on the PE's idle ring, and a test interrupt (NPU_REG_TEST_IRQ): the
 * register write, write to the IRQ thread (MSI-X delivery), and the IRQ
 * thread's complete() to this reader running again (a waiter's wake-up).
 * Values are numbers (0x prefix for hex).
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/sort.h>
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

#define NPU_FLOOR_ITERS		200
#define NPU_FLOOR_PARTS		5

enum { NPU_FLOOR_MMIO_READ, NPU_FLOOR_DOORBELL, NPU_FLOOR_IRQ_WRITE, NPU_FLOOR_IRQ,
	NPU_FLOOR_WAKE };

static const char *const npu_floor_names[NPU_FLOOR_PARTS] = {
	"mmio_read_ns", "doorbell_ns", "test_irq_write_ns", "irq_ns", "wake_ns",
};

static int npu_floor_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* One round on one PE: fills ns[part]. Inside npu_dev_enter(). */
static int npu_floor_round(struct npu_pe *pe, u64 *ns)
{
	struct npu_device *ndev = pe->ndev;
	u64 t0, t1;

	t0 = ktime_get_ns();
	npu_rd32(ndev, NPU_REG_MAGIC);
	ns[NPU_FLOOR_MMIO_READ] = ktime_get_ns() - t0;

	/* SQ_TAIL is what the driver published: the PE finds nothing new. */
	mutex_lock(&pe->lock);
	t0 = ktime_get_ns();
	npu_pe_wr32(pe, NPU_PE_SQ_DOORBELL, 1);
	ns[NPU_FLOOR_DOORBELL] = ktime_get_ns() - t0;
	mutex_unlock(&pe->lock);

	reinit_completion(&pe->irq_probe_done);
	atomic_set(&pe->irq_probe_armed, 1);
	t0 = ktime_get_ns();
	npu_wr32(ndev, NPU_REG_TEST_IRQ, NPU_IRQ_PE_CQ(pe->index));
	t1 = ktime_get_ns();
	if (!wait_for_completion_timeout(&pe->irq_probe_done, HZ)) {
		atomic_set(&pe->irq_probe_armed, 0);
		return -ETIMEDOUT;
	}
	ns[NPU_FLOOR_WAKE] = ktime_get_ns() - pe->irq_probe_ns;
	ns[NPU_FLOOR_IRQ_WRITE] = t1 - t0;
	ns[NPU_FLOOR_IRQ] = pe->irq_probe_ns - t0;
	return 0;
}

static int npu_debugfs_floor_show(struct seq_file *m, void *unused)
{
	struct npu_device *ndev = m->private;
	unsigned int i, part, n;
	u64 *ns;
	int idx, ret = 0;

	ns = kcalloc(NPU_FLOOR_PARTS * NPU_FLOOR_ITERS, sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	ret = mutex_lock_interruptible(&ndev->reset_lock);
	if (ret)
		goto out_free;
	if (READ_ONCE(ndev->state) != NPU_STATE_READY) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	if (!npu_dev_enter(ndev, &idx)) {
		ret = -ENODEV;
		goto out_unlock;
	}
	seq_printf(m, "iterations: %u\n", NPU_FLOOR_ITERS);
	for (i = 0; i < ndev->pe_count && !ret; i++) {
		u64 round[NPU_FLOOR_PARTS];

		for (n = 0; n < NPU_FLOOR_ITERS; n++) {
			ret = npu_floor_round(&ndev->pe[i], round);
			if (ret)
				break;
			for (part = 0; part < NPU_FLOOR_PARTS; part++)
				ns[part * NPU_FLOOR_ITERS + n] = round[part];
		}
		if (ret)
			break;
		seq_printf(m, "pe%u:", i);
		for (part = 0; part < NPU_FLOOR_PARTS; part++) {
			u64 *v = ns + part * NPU_FLOOR_ITERS;

			sort(v, NPU_FLOOR_ITERS, sizeof(*v), npu_floor_cmp, NULL);
			seq_printf(m, " %s %llu", npu_floor_names[part], v[NPU_FLOOR_ITERS / 2]);
		}
		seq_printf(m, " irqs %u\n", n);
	}
	npu_dev_exit(ndev, idx);
out_unlock:
	mutex_unlock(&ndev->reset_lock);
out_free:
	kfree(ns);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(npu_debugfs_floor);

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
	debugfs_create_file("floor", 0400, dir, ndev, &npu_debugfs_floor_fops);
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
