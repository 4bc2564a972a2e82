// SPDX-License-Identifier: MIT
/* Helpers of the reliability tests; see npu_fault_util.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npu_fault_util.h"
#include "npu_sys_util.h"

#define MGMT_CLASS "/sys/class/npu_mgmt"
#define PARAM_DIR "/sys/module/npu/parameters"

int npu_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(val);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The driver's fault knobs: a debugfs directory with a fault_arm file. */
static void find_debugfs(struct npu_fault_dev *dev)
{
	char cand[4][128], probe[PATH_MAX];

	snprintf(cand[0], sizeof(cand[0]), "/sys/kernel/debug/npu/npu%u", dev->card);
	snprintf(cand[1], sizeof(cand[1]), "/sys/kernel/debug/npu/%s", dev->busname);
	snprintf(cand[2], sizeof(cand[2]), "/sys/kernel/debug/npu%u", dev->card);
	snprintf(cand[3], sizeof(cand[3]), "/sys/kernel/debug/npu/%u", dev->card);
	dev->debugfs[0] = 0;
	for (int i = 0; i < 4; i++) {
		const char *sub[] = { "", "/faults", "/fault" };

		for (int j = 0; j < 3; j++) {
			snprintf(probe, sizeof(probe), "%s%s/fault_arm", cand[i], sub[j]);
			if (exists(probe)) {
				snprintf(dev->debugfs, sizeof(dev->debugfs), "%s%s", cand[i], sub[j]);
				return;
			}
		}
	}
}

int npu_fault_dev_open(unsigned int card, struct npu_fault_dev *dev)
{
	char path[PATH_MAX];
	void *map;
	int fd, ret;

	memset(dev, 0, sizeof(*dev));
	dev->card = card;
	ret = npu_card_busname(card, dev->busname, sizeof(dev->busname));
	if (ret)
		return ret;
	snprintf(dev->mgmt_dir, sizeof(dev->mgmt_dir), MGMT_CLASS "/npu%u_mgmt", card);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", dev->busname,
		 NPU_BAR_REGS);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, NPU_REGS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ret = -errno;
	close(fd);
	if (map == MAP_FAILED)
		return ret;
	dev->regs = map;
	dev->caps = npu_fault_reg_read(dev, NPU_REG_CAPS);
	if (dev->caps == ~0u)	/* link down: nothing is known */
		dev->caps = 0;
	find_debugfs(dev);
	return 0;
}

void npu_fault_dev_close(struct npu_fault_dev *dev)
{
	if (dev->regs)
		munmap((void *)dev->regs, NPU_REGS_SIZE);
	dev->regs = NULL;
}

uint32_t npu_fault_reg_read(const struct npu_fault_dev *dev, uint32_t off)
{
	return *(volatile uint32_t *)(dev->regs + off);
}

void npu_fault_reg_write(const struct npu_fault_dev *dev, uint32_t off, uint32_t val)
{
	*(volatile uint32_t *)(dev->regs + off) = val;
	__sync_synchronize();
}

const char *npu_fault_via(const struct npu_fault_dev *dev)
{
	return dev->debugfs[0] ? "debugfs" : "BAR0";
}

static int knob_write(const struct npu_fault_dev *dev, const char *name, uint32_t val)
{
	char path[PATH_MAX + 32], text[32];

	snprintf(path, sizeof(path), "%s/%s", dev->debugfs, name);
	snprintf(text, sizeof(text), "0x%x\n", val);
	return npu_write_file(path, text);
}

int npu_fault_arm(const struct npu_fault_dev *dev, uint32_t bits, uint32_t pe_mask,
		  uint32_t count, uint32_t delay_us)
{
	int ret;

	if (!npu_fault_supported(dev))
		return -EOPNOTSUPP;
	if (dev->debugfs[0]) {
		ret = knob_write(dev, "fault_pe_mask", pe_mask);
		if (!ret)
			ret = knob_write(dev, "fault_count", count);
		if (!ret && (bits & NPU_FAULT_LATE))
			ret = knob_write(dev, "fault_delay_us", delay_us);
		if (!ret)
			ret = knob_write(dev, "fault_arm", bits);
		return ret;
	}
	npu_fault_reg_write(dev, NPU_REG_FAULT_PE_MASK, pe_mask);
	npu_fault_reg_write(dev, NPU_REG_FAULT_COUNT, count);
	if (bits & NPU_FAULT_LATE)
		npu_fault_reg_write(dev, NPU_REG_FAULT_DELAY_US, delay_us);
	npu_fault_reg_write(dev, NPU_REG_FAULT_ARM, bits);
	return 0;
}

int npu_fault_disarm(const struct npu_fault_dev *dev, uint32_t bits)
{
	if (!npu_fault_supported(dev))
		return -EOPNOTSUPP;
	if (dev->debugfs[0])
		return knob_write(dev, "fault_disarm", bits);
	npu_fault_reg_write(dev, NPU_REG_FAULT_DISARM, bits);
	return 0;
}

uint32_t npu_fault_fired(const struct npu_fault_dev *dev)
{
	return npu_fault_reg_read(dev, NPU_REG_FAULT_FIRED);
}

const char *npu_fault_name(uint32_t bit)
{
	switch (bit) {
	case NPU_FAULT_HANG: return "hang";
	case NPU_FAULT_DROP_IRQ: return "drop_irq";
	case NPU_FAULT_DMA: return "dma";
	case NPU_FAULT_BAD_COMPLETION: return "bad_completion";
	case NPU_FAULT_HEARTBEAT: return "heartbeat";
	case NPU_FAULT_FATAL: return "fatal";
	case NPU_FAULT_LINK_DOWN: return "link_down";
	case NPU_FAULT_LATE: return "late";
	default: return "?";
	}
}

/* Sum of the numbers in a file: "3", or "pe0: 1\npe1: 2" style lines. */
static int read_number_sum(const char *path, uint64_t *val)
{
	char buf[512], *p;
	bool any = false;
	ssize_t n = npu_read_text(path, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	*val = 0;
	p = buf;
	while (*p) {
		char *line_end = strchr(p, '\n');
		char *num = strrchr(p, ':');

		if (line_end)
			*line_end = 0;
		num = num && (!line_end || num < line_end) ? num + 1 : p;
		while (*num == ' ' || *num == '\t')
			num++;
		if (*num >= '0' && *num <= '9') {
			*val += strtoull(num, NULL, 0);
			any = true;
		}
		if (!line_end)
			break;
		p = line_end + 1;
	}
	return any ? 0 : -EINVAL;
}

int npu_reset_count(const struct npu_fault_dev *dev, int pe, uint64_t *count)
{
	char path[PATH_MAX + 64];

	if (pe < 0) {
		snprintf(path, sizeof(path), "%s/reset_count", dev->mgmt_dir);
		return read_number_sum(path, count);
	}
	snprintf(path, sizeof(path), MGMT_CLASS "/npu%upe%d/reset_count", dev->card, pe);
	if (exists(path))
		return read_number_sum(path, count);
	snprintf(path, sizeof(path), "%s/pe%d_reset_count", dev->mgmt_dir, pe);
	if (exists(path))
		return read_number_sum(path, count);
	snprintf(path, sizeof(path), "%s/pe%d/reset_count", dev->mgmt_dir, pe);
	return read_number_sum(path, count);
}

int npu_reset_total(const struct npu_fault_dev *dev, uint64_t *total)
{
	uint64_t v;
	bool any = false;

	*total = 0;
	for (int pe = -1; pe < NPU_MAX_PES; pe++) {
		if (npu_reset_count(dev, pe, &v) == 0) {
			*total += v;
			any = true;
		}
	}
	return any ? 0 : -ENOENT;
}

int npu_device_state(const struct npu_fault_dev *dev, char *buf, size_t len)
{
	char path[PATH_MAX + 16];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/device_state", dev->mgmt_dir);
	n = npu_read_line(path, buf, len);
	return n < 0 ? (int)n : 0;
}

int npu_wait_ready(const struct npu_fault_dev *dev, unsigned int timeout_ms)
{
	char state[64];
	uint64_t end = npu_now_ns() + (uint64_t)timeout_ms * 1000000;

	for (;;) {
		int ret = npu_device_state(dev, state, sizeof(state));

		if (ret == -ENOENT)
			return 0;
		if (!ret && !strcmp(state, "ready"))
			return 0;
		if (npu_now_ns() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

static void timeout_paths(const struct npu_fault_dev *dev, char (*paths)[PATH_MAX + 32])
{
	snprintf(paths[0], PATH_MAX + 32, "%s/job_timeout_ms", dev->mgmt_dir);
	snprintf(paths[1], PATH_MAX + 32, "%s/timeout_ms", dev->mgmt_dir);
	snprintf(paths[2], PATH_MAX + 32, PARAM_DIR "/job_timeout_ms");
}

int npu_job_timeout_get(const struct npu_fault_dev *dev, unsigned int *ms)
{
	char paths[3][PATH_MAX + 32];
	uint64_t v;

	timeout_paths(dev, paths);
	for (int i = 0; i < 3; i++) {
		if (npu_read_u64(paths[i], &v) == 0) {
			*ms = (unsigned int)v;
			return 0;
		}
	}
	return -ENOENT;
}

int npu_job_timeout_set(const struct npu_fault_dev *dev, unsigned int ms)
{
	char paths[3][PATH_MAX + 32], text[32];

	timeout_paths(dev, paths);
	snprintf(text, sizeof(text), "%u\n", ms);
	for (int i = 0; i < 3; i++) {
		if (exists(paths[i]))
			return npu_write_file(paths[i], text);
	}
	return -ENOENT;
}

int npu_coredump_collect(const struct npu_fault_dev *dev, unsigned int *count, size_t *bytes,
			 char *first, size_t first_len)
{
	DIR *dir = opendir("/sys/class/devcoredump");
	struct dirent *de;

	*count = 0;
	*bytes = 0;
	if (first && first_len)
		first[0] = 0;
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		char path[PATH_MAX], target[PATH_MAX];
		char buf[4096];
		size_t total = 0;
		ssize_t n;
		int fd;

		if (strncmp(de->d_name, "devcd", 5))
			continue;
		snprintf(path, sizeof(path), "/sys/class/devcoredump/%s/failing_device",
			 de->d_name);
		if (!realpath(path, target) || !strstr(target, dev->busname))
			continue;
		snprintf(path, sizeof(path), "/sys/class/devcoredump/%s/data", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			if (!total && first && first_len) {
				buf[n] = 0;
				snprintf(first, first_len, "%.*s", (int)strcspn(buf, "\n"), buf);
			}
			total += (size_t)n;
		}
		close(fd);
		/* Writing anything frees the dump. */
		npu_write_file(path, "1");
		*count += 1;
		*bytes += total;
	}
	closedir(dir);
	return 0;
}

/* ---- self-checking jobs ---- */

int npu_vjob_init(struct npu_vjob_ctx *ctx, int fd, uint32_t pe, unsigned int slots,
		  uint64_t dram_base, uint64_t seed)
{
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->fd = fd;
	ctx->pe = pe;
	ctx->slots = slots;
	ctx->dram_base = dram_base;
	npu_rng_seed(&ctx->rng, seed);
	ctx->in.fd = ctx->out.fd = ctx->prog.fd = -1;
	ret = npu_bo_alloc(fd, (uint64_t)slots * NPU_VJOB_BYTES, &ctx->in);
	if (!ret)
		ret = npu_bo_alloc(fd, (uint64_t)slots * NPU_VJOB_BYTES, &ctx->out);
	if (!ret)
		ret = npu_bo_alloc(fd, (uint64_t)slots * 2 * NPU_INSN_SIZE, &ctx->prog);
	if (ret) {
		npu_vjob_fini(ctx);
		return ret;
	}
	for (unsigned int s = 0; s < slots; s++) {
		uint64_t base = dram_base + (uint64_t)s * NPU_VJOB_DRAM_STRIDE;
		struct npu_insn prog[2] = {
			npu_insn_copy((uint32_t)(base + 2 * NPU_VJOB_BYTES),
				      (uint32_t)(base + NPU_VJOB_BYTES), NPU_VJOB_BYTES),
			npu_insn_halt(),
		};

		memcpy(ctx->prog.map + (size_t)s * sizeof(prog), prog, sizeof(prog));
	}
	return 0;
}

void npu_vjob_fini(struct npu_vjob_ctx *ctx)
{
	if (ctx->in.map)
		npu_bo_release(&ctx->in);
	if (ctx->out.map)
		npu_bo_release(&ctx->out);
	if (ctx->prog.map)
		npu_bo_release(&ctx->prog);
}

int npu_vjob_submit(struct npu_vjob_ctx *ctx, unsigned int slot, uint64_t *seqno)
{
	uint64_t base = ctx->dram_base + (uint64_t)slot * NPU_VJOB_DRAM_STRIDE;
	uint64_t off = (uint64_t)slot * NPU_VJOB_BYTES;
	struct npu_job_cmd cmds[4] = {
		npu_cmd_to_dram(&ctx->prog, (uint64_t)slot * 2 * NPU_INSN_SIZE, base,
				2 * NPU_INSN_SIZE),
		npu_cmd_to_dram(&ctx->in, off, base + NPU_VJOB_BYTES, NPU_VJOB_BYTES),
		npu_cmd_exec(base, 2 * NPU_INSN_SIZE, 0),
		npu_cmd_from_dram(&ctx->out, off, base + 2 * NPU_VJOB_BYTES, NPU_VJOB_BYTES),
	};

	npu_rng_fill(&ctx->rng, ctx->in.map + off, NPU_VJOB_BYTES);
	memset(ctx->out.map + off, 0xee, NPU_VJOB_BYTES);
	return npu_submit(ctx->fd, ctx->pe, cmds, 4, seqno);
}

int npu_vjob_check(const struct npu_vjob_ctx *ctx, unsigned int slot)
{
	size_t off = (size_t)slot * NPU_VJOB_BYTES;

	return memcmp(ctx->in.map + off, ctx->out.map + off, NPU_VJOB_BYTES) ? -EBADMSG : 0;
}

/* ---- tallies ---- */

const char *npu_job_status_name(uint32_t status)
{
	static const char *const names[] = {
		"OK", "BAD_DESC", "DRAM_OOB", "DMA_FAULT", "TIMEOUT", "HANG", "CANCELLED",
		"DEVICE_LOST",
	};

	return status < sizeof(names) / sizeof(names[0]) ? names[status] : "?";
}

int npu_tally_wait(struct npu_tally *t, int fd, uint64_t seqno, unsigned int timeout_ms,
		   struct npu_wait *out)
{
	struct npu_wait local;
	struct npu_wait *w = out ? out : &local;
	int ret = npu_wait(fd, seqno, (int64_t)timeout_ms * 1000000, w);

	if (ret && ret != -EIO && ret != -ETIMEDOUT) {
		if (ret == -ETIME)
			t->never++;
		return ret;
	}
	t->completed++;
	if (w->status < 8)
		t->status[w->status]++;
	if ((w->status == NPU_JOB_OK) != (ret == 0))
		t->errno_mismatch++;
	if (w->status == NPU_JOB_OK)
		t->ok++;
	return (int)w->status;
}

void npu_tally_add(struct npu_tally *sum, const struct npu_tally *t)
{
	sum->submitted += t->submitted;
	sum->completed += t->completed;
	sum->ok += t->ok;
	sum->bad_data += t->bad_data;
	for (int i = 0; i < 8; i++)
		sum->status[i] += t->status[i];
	sum->errno_mismatch += t->errno_mismatch;
	sum->never += t->never;
}
