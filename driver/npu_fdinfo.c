// SPDX-License-Identifier: GPL-2.0
/*
 * Per-file usage in /proc/<pid>/fdinfo/<fd>, in the keys of
 * Documentation/gpu/drm-usage-stats.rst, so that monitors which read them
 * (gputop, nvtop and the like) can show who uses which PE and for how long:
 *
 *   drm-driver:       npu
 *   drm-pdev:         PCI address of the card
 *   drm-client-id:    unique per open file since the module loaded
 *   drm-engine-peN:   device time of this file's jobs on PE N, in ns
 *   drm-total-host:   bytes of this file's buffer objects, in KiB
 *   npu-file:         the device file's name
 *   npu-jobs-finished: jobs of this file that finished
 *
 * Engine keys are printed for the PEs the file drives; the management
 * file has none.
 */

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/pci.h>
#include <linux/seq_file.h>

#include "npu_fdinfo.h"

static atomic64_t npu_client_ids = ATOMIC64_INIT(0);

u64 npu_fdinfo_new_client_id(void)
{
	return atomic64_inc_return(&npu_client_ids);
}

/*
 * Charges a finished job's device time to its file. Jobs that never ran
 * (cancelled, hung, lost) carry no timestamps and cost nothing.
 */
void npu_fdinfo_account_job(struct npu_file *nfile, unsigned int pe_index, u64 start_ts,
			    u64 end_ts)
{
	u32 clock_mhz = nfile->ndev->clock_mhz;
	unsigned int i;
	u64 ns;

	atomic64_inc(&nfile->jobs_finished);
	if (!start_ts || end_ts <= start_ts || !clock_mhz)
		return;
	ns = mul_u64_u32_div(end_ts - start_ts, 1000, clock_mhz);
	for (i = 0; i < NPU_MAX_PES; i++)
		if (nfile->fused ? nfile->pe_mask & BIT(i) : i == pe_index)
			atomic64_add(ns, &nfile->busy_ns[i]);
}

void npu_show_fdinfo(struct seq_file *m, struct file *filp)
{
	struct npu_file *nfile = filp->private_data;
	struct npu_device *ndev = nfile->ndev;
	unsigned int i;

	seq_puts(m, "drm-driver:\tnpu\n");
	seq_printf(m, "drm-pdev:\t%s\n", pci_name(ndev->pdev));
	seq_printf(m, "drm-client-id:\t%llu\n", nfile->client_id);
	for (i = 0; i < ndev->pe_count && i < NPU_MAX_PES; i++)
		if (nfile->pe_mask & BIT(i))
			seq_printf(m, "drm-engine-pe%u:\t%lld ns\n", i,
				   (long long)atomic64_read(&nfile->busy_ns[i]));
	if (nfile->pe_mask)
		seq_printf(m, "drm-total-host:\t%lld KiB\n",
			   (long long)atomic64_read(&nfile->bo_bytes) / 1024);
	seq_puts(m, "npu-file:\t");
	seq_printf(m, npu_node_format(nfile->kind), ndev->index);
	seq_puts(m, "\n");
	seq_printf(m, "npu-jobs-finished:\t%lld\n",
		   (long long)atomic64_read(&nfile->jobs_finished));
}
