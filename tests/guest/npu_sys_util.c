// SPDX-License-Identifier: MIT
/* Helpers of the driver-level guest tests; see npu_sys_util.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npu_sys_util.h"

ssize_t npu_read_text(const char *path, char *buf, size_t len)
{
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (used + 1 < len) {
		ssize_t n = read(fd, buf + used, len - 1 - used);

		if (n < 0) {
			int err = errno;

			close(fd);
			return -err;
		}
		if (!n)
			break;
		used += n;
	}
	close(fd);
	buf[used] = '\0';
	return used;
}

ssize_t npu_read_line(const char *path, char *buf, size_t len)
{
	ssize_t n = npu_read_text(path, buf, len);

	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

int npu_read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	ssize_t n = npu_read_line(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	return errno || end == buf || *end ? -EINVAL : 0;
}

ssize_t npu_node_attr(const char *node, const char *attr, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/npu_mgmt/%s/%s", node, attr);
	return npu_read_text(path, buf, len);
}

/* The number after `name` at the start of a line of `path` (sep: ':' or ' '). */
static int read_keyed(const char *path, const char *name, uint64_t *val)
{
	char line[256];
	size_t name_len = strlen(name);
	int ret = -ENOENT;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + name_len;

		if (strncmp(line, name, name_len) || (*p != ':' && *p != ' '))
			continue;
		if (*p == ':')
			p++;
		ret = sscanf(p, "%" SCNu64, val) == 1 ? 0 : -EINVAL;
		break;
	}
	fclose(f);
	return ret;
}

int npu_meminfo_kb(const char *name, uint64_t *kb)
{
	return read_keyed("/proc/meminfo", name, kb);
}

int npu_vmstat(const char *name, uint64_t *val)
{
	return read_keyed("/proc/vmstat", name, val);
}

/* Folds the per-CPU deltas of the vm counters into the totals /proc shows. */
static int refresh_vm_stats(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

int npu_pinned_pages(int64_t *pages)
{
	uint64_t acquired, released;
	int ret = refresh_vm_stats();

	if (!ret)
		ret = npu_vmstat("nr_foll_pin_acquired", &acquired);
	if (!ret)
		ret = npu_vmstat("nr_foll_pin_released", &released);
	if (!ret)
		*pages = (int64_t)(acquired - released);
	return ret;
}

int npu_perf_parse(const char *text, struct npu_perf *perf, char *bad, size_t bad_len)
{
	const char *line = text;

	perf->count = 0;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char copy[128], *colon, *end;
		size_t name_len;

		if (len >= sizeof(copy) || perf->count == NPU_PERF_MAX)
			goto bad;
		memcpy(copy, line, len);
		copy[len] = '\0';
		colon = strchr(copy, ':');
		if (!colon || colon == copy || strncmp(colon, ": 0x", 4) || !colon[4])
			goto bad;
		name_len = colon - copy;
		if (name_len >= sizeof(perf->name[0]))
			goto bad;
		for (size_t i = 0; i < name_len; i++)
			if (!((copy[i] >= 'A' && copy[i] <= 'Z') || (copy[i] >= 'a' && copy[i] <= 'z')))
				goto bad;
		for (const char *h = colon + 4; *h; h++)
			if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
				goto bad;
		errno = 0;
		perf->value[perf->count] = strtoull(colon + 4, &end, 16);
		if (errno || *end)
			goto bad;
		memcpy(perf->name[perf->count], copy, name_len);
		perf->name[perf->count][name_len] = '\0';
		perf->count++;
		if (!eol)
			break;
		line = eol + 1;
		continue;
bad:
		snprintf(bad, bad_len, "%.*s", (int)len, line);
		return -EINVAL;
	}
	return 0;
}

bool npu_perf_get(const struct npu_perf *perf, const char *name, uint64_t *val)
{
	for (unsigned int i = 0; i < perf->count; i++) {
		if (!strcmp(perf->name[i], name)) {
			*val = perf->value[i];
			return true;
		}
	}
	return false;
}

uint64_t npu_bar_read64_stable(const struct npu_bar *bar, uint32_t off)
{
	for (;;) {
		uint32_t hi = npu_bar_read32(bar, off + 4);
		uint32_t lo = npu_bar_read32(bar, off);

		if (npu_bar_read32(bar, off + 4) == hi)
			return (uint64_t)hi << 32 | lo;
	}
}

int npu_hwmon_dir(const char *busname, char *dir, size_t len)
{
	char path[256];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/hwmon", busname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "hwmon", 5))
			continue;
		snprintf(dir, len, "%s/%s", path, de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

/* ---- load generator ------------------------------------------------------ */

/*
 * M = N = K: 4 M MACs per job. The model computes a program when it starts
 * and counts that host time as busy, so big jobs keep the PE busy however
 * slowly the guest submits under TCG.
 */
#define LOAD_DIM	160
#define LOAD_A		0x0
#define LOAD_B		0x10000
#define LOAD_C		0x20000
#define LOAD_PROG	0x40000
#define LOAD_OUT_BYTES	(LOAD_DIM * LOAD_DIM * 4)
#define LOAD_MAX_DEPTH	8

struct load_pe {
	struct npu_bo out;		/* depth slots of LOAD_OUT_BYTES */
	uint64_t seqno[LOAD_MAX_DEPTH];
};

static int load_prepare(int fd, uint32_t pe, struct npu_rng *rng, int32_t *ref)
{
	int8_t a[LOAD_DIM * LOAD_DIM], b[LOAD_DIM * LOAD_DIM];
	struct npu_insn prog[2] = {
		npu_insn_matmul(LOAD_C, LOAD_A, LOAD_B, LOAD_DIM, LOAD_DIM, LOAD_DIM, false),
		npu_insn_halt(),
	};
	int ret;

	npu_rng_fill(rng, a, sizeof(a));
	npu_rng_fill(rng, b, sizeof(b));
	npu_ref_matmul_i8(ref, a, b, LOAD_DIM, LOAD_DIM, LOAD_DIM, false);
	ret = npu_write_dram(fd, pe, LOAD_A, a, sizeof(a));
	if (!ret)
		ret = npu_write_dram(fd, pe, LOAD_B, b, sizeof(b));
	if (!ret)
		ret = npu_write_dram(fd, pe, LOAD_PROG, prog, sizeof(prog));
	return ret;
}

static int load_submit(int fd, uint32_t pe, struct load_pe *lp, unsigned int slot)
{
	struct npu_job_cmd cmds[2] = {
		npu_cmd_exec(LOAD_PROG, 2 * NPU_INSN_SIZE, 0),
		npu_cmd_from_dram(&lp->out, (uint64_t)slot * LOAD_OUT_BYTES, LOAD_C,
				  LOAD_OUT_BYTES),
	};

	memset(lp->out.map + (size_t)slot * LOAD_OUT_BYTES, 0, LOAD_OUT_BYTES);
	return npu_submit(fd, pe, cmds, 2, &lp->seqno[slot]);
}

long npu_matmul_load(unsigned int dev, double seconds, unsigned int depth)
{
	static const size_t ref_len = LOAD_OUT_BYTES / sizeof(int32_t);
	int32_t *ref[2] = { NULL, NULL };
	struct load_pe lp[2];
	struct npu_rng rng;
	uint64_t deadline;
	long jobs = 0;
	int ret = 0, fd;

	if (!depth || depth > LOAD_MAX_DEPTH)
		return -EINVAL;
	fd = npu_open(dev, NPU_FILE_ALL, 0);
	if (fd < 0)
		return fd;
	memset(lp, 0, sizeof(lp));
	lp[0].out.fd = lp[1].out.fd = -1;
	npu_rng_seed(&rng, 0x10ad + dev);
	for (uint32_t pe = 0; pe < 2 && !ret; pe++) {
		ref[pe] = calloc(ref_len, sizeof(int32_t));
		if (!ref[pe])
			ret = -ENOMEM;
		if (!ret)
			ret = load_prepare(fd, pe, &rng, ref[pe]);
		if (!ret)
			ret = npu_bo_alloc(fd, (uint64_t)depth * LOAD_OUT_BYTES, &lp[pe].out);
	}
	for (unsigned int slot = 0; slot < depth && !ret; slot++)
		for (uint32_t pe = 0; pe < 2 && !ret; pe++)
			ret = load_submit(fd, pe, &lp[pe], slot);

	/* Collect in order per slot and resubmit until the time is up. */
	deadline = npu_now_ns() + (uint64_t)(seconds * 1e9);
	for (unsigned int slot = 0; !ret; slot = (slot + 1) % depth) {
		bool stop = npu_now_ns() >= deadline;

		for (uint32_t pe = 0; pe < 2 && !ret; pe++) {
			const void *got = lp[pe].out.map + (size_t)slot * LOAD_OUT_BYTES;

			if (!lp[pe].seqno[slot])
				continue;
			ret = npu_wait(fd, lp[pe].seqno[slot], -1, NULL);
			lp[pe].seqno[slot] = 0;
			if (ret)
				break;
			if (memcmp(got, ref[pe], LOAD_OUT_BYTES)) {
				ret = -EBADMSG;
				break;
			}
			jobs++;
			if (!stop)
				ret = load_submit(fd, pe, &lp[pe], slot);
		}
		if (stop) {
			bool pending = false;

			for (unsigned int s = 0; s < depth; s++)
				pending |= lp[0].seqno[s] || lp[1].seqno[s];
			if (!pending)
				break;
		}
	}
	npu_bo_release(&lp[0].out);
	npu_bo_release(&lp[1].out);
	free(ref[0]);
	free(ref[1]);
	close(fd);	/* waits for anything still in flight after an error */
	return ret ? ret : jobs;
}

int npu_card_busname(unsigned int card, char *busname, size_t len)
{
	struct npu_device_info info;
	int fd = npu_open(card, NPU_FILE_MGMT, 0), ret;

	if (fd < 0)
		return fd;
	ret = npu_device_info(fd, &info);
	close(fd);
	if (!ret)
		snprintf(busname, len, "%.*s", NPU_STRING_LEN - 1, info.busname);
	return ret;
}

int npu_pci_driver_dir(const char *busname, char *dir, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", busname);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	link[n] = 0;
	/* the link is relative: ../../../bus/pci/drivers/npu */
	snprintf(dir, len, "/sys/bus/pci/drivers/%s", strrchr(link, '/') + 1);
	return 0;
}

int npu_dram_round_trip(unsigned int dev, enum npu_file_kind kind, uint64_t addr,
			const void *data, void *back, size_t len)
{
	int fd = npu_open(dev, kind, 0), ret;

	if (fd < 0)
		return fd;
	ret = npu_write_dram(fd, 0, addr, data, len);
	if (!ret)
		ret = npu_read_dram(fd, 0, addr, back, len);
	if (!ret && memcmp(data, back, len))
		ret = -EBADMSG;
	close(fd);
	return ret;
}
