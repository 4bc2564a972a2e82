// SPDX-License-Identifier: GPL-2.0
/* Device-level hardware operations: reset, identity, fused mode, register reads. */

#include <linux/error-injection.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>

#include "npu_hw_ops.h"
#include "npu_ring.h"

/* Reset the whole device and wait until it accepts register writes. */
int npu_hw_reset_device(struct npu_device *ndev)
{
	u32 status;
	int ret;

	npu_wr32(ndev, NPU_REG_DEV_CTRL, NPU_DEV_CTRL_RESET);
	ret = readl_poll_timeout(ndev->regs + NPU_REG_DEV_STATUS, status,
				 status != ~0u && (status & NPU_DEV_STATUS_READY),
				 NPU_POLL_INTERVAL_US, NPU_RESET_TIMEOUT_US);
	if (ret) {
		dev_err(npu_dev(ndev), "device not ready after reset (status %#x)\n", status);
		return ret;
	}
	if (status & NPU_DEV_STATUS_FATAL) {
		dev_err(npu_dev(ndev), "device in fatal state after reset\n");
		return -EIO;
	}
	/* Stale interrupt causes from before the reset. */
	npu_wr32(ndev, NPU_REG_IRQ_STATUS, NPU_IRQ_ALL);
	return 0;
}

ALLOW_ERROR_INJECTION(npu_hw_reset_device, ERRNO);

static void npu_hw_read_string(struct npu_device *ndev, u32 reg, char *buf)
{
	unsigned int i;

	for (i = 0; i < NPU_ID_STRING_LEN; i += 4) {
		__le32 word = cpu_to_le32(npu_rd32(ndev, reg + i));

		memcpy(buf + i, &word, sizeof(word));
	}
	buf[NPU_ID_STRING_LEN] = '\0';
}

/* Check that this is hardware we drive and cache its identity. */
int npu_hw_read_identity(struct npu_device *ndev)
{
	struct device *dev = npu_dev(ndev);
	unsigned int i;
	u32 magic;

	magic = npu_rd32(ndev, NPU_REG_MAGIC);
	if (magic != NPU_MAGIC) {
		dev_err(dev, "bad magic %#x, expected %#x\n", magic, NPU_MAGIC);
		return -ENODEV;
	}
	ndev->hw_rev = npu_rd32(ndev, NPU_REG_HW_REV);
	if (ndev->hw_rev >> 16 != NPU_HW_REV_MAJOR) {
		dev_err(dev, "unsupported hardware revision %u.%u\n",
			ndev->hw_rev >> 16, ndev->hw_rev & 0xffff);
		return -ENODEV;
	}
	ndev->pe_count = npu_rd32(ndev, NPU_REG_PE_COUNT);
	if (ndev->pe_count != NPU_MAX_PES) {
		dev_err(dev, "unsupported PE count %u\n", ndev->pe_count);
		return -ENODEV;
	}
	ndev->caps = npu_rd32(ndev, NPU_REG_CAPS);
	ndev->dram_size = readq(ndev->regs + NPU_REG_DRAM_SIZE);
	ndev->clock_mhz = npu_rd32(ndev, NPU_REG_CLOCK_MHZ);
	npu_hw_read_string(ndev, NPU_REG_FW_VERSION, ndev->fw_version);
	npu_hw_read_string(ndev, NPU_REG_SERIAL, ndev->serial);
	for (i = 0; i < NPU_UUID_LEN; i += 4) {
		__le32 word = cpu_to_le32(npu_rd32(ndev, NPU_REG_UUID + i));

		memcpy(ndev->uuid + i, &word, sizeof(word));
	}

	for (i = 0; i < ndev->pe_count; i++) {
		struct npu_pe *pe = &ndev->pe[i];
		u64 base = readq(pe->regs + NPU_PE_DRAM_BASE);

		pe->dram_size = readq(pe->regs + NPU_PE_DRAM_SIZE);
		if (!pe->dram_size || base > ndev->dram_size ||
		    pe->dram_size > ndev->dram_size - base) {
			dev_err(dev, "PE%u DRAM partition [%#llx, +%#llx) outside DRAM of %#llx bytes\n",
				i, base, pe->dram_size, ndev->dram_size);
			return -ENODEV;
		}
	}
	return 0;
}

ALLOW_ERROR_INJECTION(npu_hw_read_identity, ERRNO);

/*
 * Switch between independent and fused PEs. The hardware only accepts the
 * mode while both PEs are disabled; the caller guarantees no job is in
 * flight, is inside npu_dev_enter() and holds ndev->owner_lock.
 */
int npu_hw_set_fused(struct npu_device *ndev, bool fused)
{
	unsigned int i;
	u32 mode;
	int ret = 0;

	lockdep_assert_held(&ndev->owner_lock);

	for (i = 0; i < ndev->pe_count; i++)
		npu_ring_stop(&ndev->pe[i]);

	npu_wr32(ndev, NPU_REG_DEV_MODE, fused ? NPU_DEV_MODE_FUSED : 0);
	mode = npu_rd32(ndev, NPU_REG_DEV_MODE);
	if (mode != (fused ? NPU_DEV_MODE_FUSED : 0)) {
		dev_err(npu_dev(ndev), "device refused mode %s (reads %#x, error cause %u)\n",
			fused ? "fused" : "independent", mode,
			npu_rd32(ndev, NPU_REG_ERR_CAUSE));
		ret = -EIO;
	}

	/* Fused or not, PE0's ring carries on; PE1's only when independent. */
	for (i = 0; i < ndev->pe_count; i++) {
		int err;

		if (i > 0 && mode == NPU_DEV_MODE_FUSED)
			continue;
		err = npu_ring_start(&ndev->pe[i]);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

/*
 * Reads a global register for sysfs, hwmon or debugfs, or fails with
 * -ENODEV once the device is gone (remove or link loss).
 */
int npu_hw_read_reg(struct npu_device *ndev, u32 reg, u32 *val)
{
	int idx;

	if (!npu_dev_enter(ndev, &idx))
		return -ENODEV;
	*val = npu_rd32(ndev, reg);
	npu_dev_exit(ndev, idx);
	return 0;
}

/* Writes a global register for debugfs, or fails with -ENODEV once gone. */
int npu_hw_write_reg(struct npu_device *ndev, u32 reg, u32 val)
{
	int idx;

	if (!npu_dev_enter(ndev, &idx))
		return -ENODEV;
	npu_wr32(ndev, reg, val);
	npu_dev_exit(ndev, idx);
	return 0;
}
