// SPDX-License-Identifier: MIT
/* Helpers shared by the guest tests; see npu_util.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "npu_util.h"

/* Per file kind: what follows /dev/npuN, and the name tests print. */
static const struct {
	const char *suffix, *name;
} kinds[NPU_FILE_KIND_COUNT] = {
	[NPU_FILE_ALL] = { "", "all" },
	[NPU_FILE_PE0] = { "pe0", "pe0" },
	[NPU_FILE_PE1] = { "pe1", "pe1" },
	[NPU_FILE_FUSED] = { "pe0-1", "pe0-1" },
	[NPU_FILE_MGMT] = { "_mgmt", "mgmt" },
};

void npu_file_path(char *buf, size_t len, unsigned int dev, enum npu_file_kind kind)
{
	snprintf(buf, len, "/dev/npu%u%s", dev, kinds[kind].suffix);
}

const char *npu_file_kind_name(enum npu_file_kind kind)
{
	return kinds[kind].name;
}

unsigned int npu_file_pe_mask(enum npu_file_kind kind)
{
	switch (kind) {
	case NPU_FILE_ALL:
	case NPU_FILE_FUSED:
		return 0x3;
	case NPU_FILE_PE0:
		return 0x1;
	case NPU_FILE_PE1:
		return 0x2;
	default:
		return 0;
	}
}

int npu_open(unsigned int dev, enum npu_file_kind kind, int extra_flags)
{
	char path[64];
	int fd;

	npu_file_path(path, sizeof(path), dev, kind);
	fd = open(path, O_RDWR | O_CLOEXEC | extra_flags);
	return fd < 0 ? -errno : fd;
}

bool npu_device_present(unsigned int dev)
{
	char path[64];
	struct stat st;

	npu_file_path(path, sizeof(path), dev, NPU_FILE_MGMT);
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int npu_device_info(int fd, struct npu_device_info *info)
{
	memset(info, 0, sizeof(*info));
	return xioctl(fd, NPU_IOCTL_DEVICE_INFO, info);
}

int npu_bo_alloc(int fd, uint64_t size, struct npu_bo *bo)
{
	struct npu_bo_create create = { .size = size };
	struct npu_bo_free bo_free = { 0 };
	void *map;
	int ret;

	memset(bo, 0, sizeof(*bo));
	bo->fd = -1;
	ret = xioctl(fd, NPU_IOCTL_BO_CREATE, &create);
	if (ret)
		return ret;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, create.mmap_offset);
	if (map == MAP_FAILED) {
		ret = -errno;
		bo_free.handle = create.handle;
		xioctl(fd, NPU_IOCTL_BO_FREE, &bo_free);
		return ret;
	}
	bo->fd = fd;
	bo->handle = create.handle;
	bo->size = size;
	bo->map = map;
	return 0;
}

void npu_bo_release(struct npu_bo *bo)
{
	struct npu_bo_free bo_free = { .handle = bo->handle };

	if (bo->fd < 0)
		return;
	if (bo->map)
		munmap(bo->map, bo->size);
	xioctl(bo->fd, NPU_IOCTL_BO_FREE, &bo_free);
	bo->fd = -1;
	bo->map = NULL;
}

struct npu_job_cmd npu_cmd_to_dram(const struct npu_bo *bo, uint64_t bo_off,
				   uint64_t dram_addr, uint64_t len)
{
	struct npu_job_cmd cmd = {
		.op = NPU_JOB_CMD_COPY_TO_DRAM,
		.handle = bo->handle,
		.offset = bo_off,
		.dram_addr = dram_addr,
		.length = len,
	};
	return cmd;
}

struct npu_job_cmd npu_cmd_from_dram(const struct npu_bo *bo, uint64_t bo_off,
				     uint64_t dram_addr, uint64_t len)
{
	struct npu_job_cmd cmd = npu_cmd_to_dram(bo, bo_off, dram_addr, len);

	cmd.op = NPU_JOB_CMD_COPY_FROM_DRAM;
	return cmd;
}

struct npu_job_cmd npu_cmd_exec(uint64_t dram_addr, uint64_t len, uint64_t budget)
{
	struct npu_job_cmd cmd = {
		.op = NPU_JOB_CMD_EXEC,
		.dram_addr = dram_addr,
		.length = len,
		.cycle_budget = budget,
	};
	return cmd;
}

int npu_submit(int fd, uint32_t pe, const struct npu_job_cmd *cmds, uint32_t count,
	       uint64_t *seqno)
{
	struct npu_submit submit = {
		.cmds = (uintptr_t)cmds,
		.cmd_count = count,
		.pe = pe,
	};
	int ret = xioctl(fd, NPU_IOCTL_SUBMIT, &submit);

	if (!ret && seqno)
		*seqno = submit.seqno;
	return ret;
}

int npu_wait(int fd, uint64_t seqno, int64_t timeout_ns, struct npu_wait *out)
{
	struct npu_wait local;
	struct npu_wait *wait = out ? out : &local;

	memset(wait, 0, sizeof(*wait));
	wait->seqno = seqno;
	wait->timeout_ns = timeout_ns;
	return xioctl(fd, NPU_IOCTL_WAIT, wait);
}

int npu_run(int fd, uint32_t pe, const struct npu_job_cmd *cmds, uint32_t count,
	    struct npu_wait *out)
{
	uint64_t seqno;
	int ret = npu_submit(fd, pe, cmds, count, &seqno);

	if (ret)
		return ret;
	return npu_wait(fd, seqno, -1, out);
}

static int copy_dram(int fd, uint32_t pe, uint64_t dram_addr, void *data, uint64_t len,
		     bool to_dram)
{
	struct npu_job_cmd cmd;
	struct npu_bo bo;
	int ret = npu_bo_alloc(fd, len, &bo);

	if (ret)
		return ret;
	if (to_dram) {
		memcpy(bo.map, data, len);
		cmd = npu_cmd_to_dram(&bo, 0, dram_addr, len);
	} else {
		cmd = npu_cmd_from_dram(&bo, 0, dram_addr, len);
	}
	ret = npu_run(fd, pe, &cmd, 1, NULL);
	if (!ret && !to_dram)
		memcpy(data, bo.map, len);
	npu_bo_release(&bo);
	return ret;
}

int npu_write_dram(int fd, uint32_t pe, uint64_t dram_addr, const void *data, uint64_t len)
{
	return copy_dram(fd, pe, dram_addr, (void *)data, len, true);
}

int npu_read_dram(int fd, uint32_t pe, uint64_t dram_addr, void *data, uint64_t len)
{
	return copy_dram(fd, pe, dram_addr, data, len, false);
}

int npu_run_program(int fd, uint32_t pe, uint64_t prog_addr, const struct npu_insn *insns,
		    unsigned int count, struct npu_wait *out)
{
	uint64_t len = (uint64_t)count * NPU_INSN_SIZE;
	struct npu_job_cmd cmds[2];
	struct npu_bo bo;
	int ret = npu_bo_alloc(fd, len, &bo);

	if (ret)
		return ret;
	memcpy(bo.map, insns, len);
	cmds[0] = npu_cmd_to_dram(&bo, 0, prog_addr, len);
	cmds[1] = npu_cmd_exec(prog_addr, len, 0);
	ret = npu_run(fd, pe, cmds, 2, out);
	npu_bo_release(&bo);
	return ret;
}

void npu_rng_seed(struct npu_rng *rng, uint64_t seed)
{
	/* splitmix64 step, so that small seeds give well-mixed, non-zero states */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	rng->state = z ? z : 1;
}

uint64_t npu_rng_next(struct npu_rng *rng)
{
	uint64_t x = rng->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->state = x;
	return x * 0x2545f4914f6cdd1dull;
}

void npu_rng_fill(struct npu_rng *rng, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len >= 8) {
		uint64_t v = npu_rng_next(rng);

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = npu_rng_next(rng);

		memcpy(p, &v, len);
	}
}

void npu_ref_matmul_i8(int32_t *dst, const int8_t *a, const int8_t *b, uint32_t m,
		       uint32_t n, uint32_t k, bool accumulate)
{
	for (uint32_t i = 0; i < m; i++) {
		for (uint32_t j = 0; j < n; j++) {
			/* int32 accumulation wraps on the device; do it in uint32 here */
			uint32_t acc = accumulate ? (uint32_t)dst[i * n + j] : 0;

			for (uint32_t p = 0; p < k; p++)
				acc += (uint32_t)((int32_t)a[i * k + p] * (int32_t)b[p * n + j]);
			dst[i * n + j] = (int32_t)acc;
		}
	}
}

int8_t npu_ref_sat_i8(int64_t v)
{
	if (v > 127)
		return 127;
	if (v < -128)
		return -128;
	return (int8_t)v;
}

int8_t npu_ref_requant(int32_t v, int32_t multiplier, uint32_t shift, int32_t zero_point)
{
	/* docs/hardware.md: the scaled product rounds half away from zero */
	int64_t prod = (int64_t)v * multiplier;
	int64_t mag = prod < 0 ? -prod : prod;

	if (shift)
		mag = (mag + (1ll << (shift - 1))) >> shift;
	return npu_ref_sat_i8((prod < 0 ? -mag : mag) + zero_point);
}

ssize_t npu_first_diff(const void *a, const void *b, size_t len)
{
	const uint8_t *pa = a, *pb = b;

	if (!memcmp(a, b, len))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (pa[i] != pb[i])
			return (ssize_t)i;
	return -1;
}

int npu_bar_map(const char *busname, struct npu_bar *bar)
{
	char path[512];
	struct stat st;
	void *map;
	int fd;

	bar->regs = NULL;
	bar->size = 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", busname, NPU_BAR_REGS);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < NPU_REGS_SIZE) {
		close(fd);
		return -EINVAL;
	}
	map = mmap(NULL, NPU_REGS_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	bar->regs = map;
	bar->size = NPU_REGS_SIZE;
	return 0;
}

void npu_bar_unmap(struct npu_bar *bar)
{
	if (bar->regs)
		munmap((void *)bar->regs, bar->size);
	bar->regs = NULL;
}

uint32_t npu_bar_read32(const struct npu_bar *bar, uint32_t off)
{
	return *(volatile uint32_t *)(bar->regs + off);
}

uint64_t npu_bar_read64(const struct npu_bar *bar, uint32_t off)
{
	/* two 32-bit reads: the register file need not support 8-byte accesses */
	uint64_t lo = npu_bar_read32(bar, off);
	uint64_t hi = npu_bar_read32(bar, off + 4);

	return hi << 32 | lo;
}

uint64_t npu_bar_read64_once(const struct npu_bar *bar, uint32_t off)
{
	return *(volatile uint64_t *)(bar->regs + off);
}

void npu_bar_read_bytes(const struct npu_bar *bar, uint32_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = npu_bar_read32(bar, off + i);

		memcpy(p + i, &v, len - i < 4 ? len - i : 4);
	}
}

static int read_sysfs_hex(const char *dir, const char *name, unsigned int *val)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%x", val);
	fclose(f);
	return ok == 1 ? 0 : -EINVAL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int npu_pci_find(char names[][NPU_STRING_LEN], int max)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int count = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && count < max) {
		unsigned int vendor, device;

		if (de->d_name[0] == '.')
			continue;
		if (read_sysfs_hex(de->d_name, "vendor", &vendor) ||
		    read_sysfs_hex(de->d_name, "device", &device))
			continue;
		if (vendor != NPU_PCI_VENDOR_ID || device != NPU_PCI_DEVICE_ID)
			continue;
		if (strlen(de->d_name) >= NPU_STRING_LEN)
			continue;
		strcpy(names[count++], de->d_name);
	}
	closedir(dir);
	qsort(names, count, NPU_STRING_LEN, cmp_names);
	return count;
}

uint64_t npu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
