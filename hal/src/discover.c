// SPDX-License-Identifier: MIT
/*
 * Discovery of NPUs from sysfs. Everything comes from the class directory
 * (<sysfs>/class/npu_mgmt), never from opening device files, so listing
 * never disturbs a device's owner and works on fake trees:
 *   npuN_mgmt/{device_type,fw_version,device_sn,device_uuid,busname,device_state}
 *   npuNpeY/holder    "peY: free", "peY: releasing" or "peY: busy pid=N comm=C"
 * A card's PE count is the number of npuNpeY entries.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "discover.h"
#include "error.h"

/* The driver's class directory, relative to the sysfs root. */
#define CLASS_REL "class/npu_mgmt"
#define CLASS_DIR "/" CLASS_REL

static npu_status set_root(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "root directory '%s' is too long", v);
	strcpy(dst, v);
	return NPU_OK;
}

npu_status npu_roots_set(struct npu_roots *roots, const char *sysfs, const char *devfs)
{
	npu_status st = set_root(roots->sysfs, sizeof(roots->sysfs), sysfs);

	return st ? st : set_root(roots->devfs, sizeof(roots->devfs), devfs);
}

npu_status npu_roots_resolve(const npu_open_options *opts, struct npu_roots *roots)
{
	const char *sysfs = opts ? opts->sysfs_root : NULL, *devfs = opts ? opts->devfs_root : NULL;
	struct npu_env env;

	/* As in 1.0: the environment as it is at this call. */
	npu_env_read(&env);
	if (!sysfs)
		sysfs = env.sysfs_root ? env.sysfs_root : NPU_SYSFS_ROOT_DEFAULT;
	if (!devfs)
		devfs = env.devfs_root ? env.devfs_root : NPU_DEVFS_ROOT_DEFAULT;
	return npu_roots_set(roots, sysfs, devfs);
}

npu_status npu_roots_of(const npu_context *ctx, struct npu_roots *roots)
{
	return npu_roots_set(roots, npu_context_get_sysfs_root(ctx),
			     npu_context_get_devfs_root(ctx));
}

/* <a>/<b> into buf; false (and "") if it does not fit. */
static bool join_path(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

/* Reads the first line of <dir>/<name> into buf; "" if the file is missing. */
static void read_attr(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	buf[0] = '\0';
	if (!join_path(path, sizeof(path), dir, name))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Parses "npu<N>" + suffix exactly; returns 1 and *n on a match. */
static int match_index(const char *name, const char *suffix, unsigned int *n)
{
	unsigned long v;
	char *end;

	if (strncmp(name, "npu", 3) != 0 || name[3] < '0' || name[3] > '9')
		return 0;
	errno = 0;
	v = strtoul(name + 3, &end, 10);
	if (errno || v > 65535 || strcmp(end, suffix) != 0)
		return 0;
	*n = (unsigned int)v;
	return 1;
}

/* "npu<N>pe<Y>" with a single PE (no '-'). */
static int match_pe(const char *name, unsigned int *n, unsigned int *pe)
{
	unsigned long d, p;
	char *end;

	if (strncmp(name, "npu", 3) != 0 || name[3] < '0' || name[3] > '9')
		return 0;
	d = strtoul(name + 3, &end, 10);
	if (strncmp(end, "pe", 2) != 0 || end[2] < '0' || end[2] > '9')
		return 0;
	p = strtoul(end + 2, &end, 10);
	if (*end || d > 65535 || p >= NPU_CARD_MAX_PES)
		return 0;
	*n = (unsigned int)d;
	*pe = (unsigned int)p;
	return 1;
}

/*
 * The driver's holder attribute: "peY: free", "peY: releasing" or
 * "peY: busy pid=N comm=C". Releasing counts as held (pid -1): the PE
 * cannot be opened until its owner's teardown ends.
 */
static void parse_holder(const char *text, npu_pe_info *pe)
{
	const char *busy = strstr(text, "busy pid=");
	const char *comm;
	int pid;

	pe->holder_pid = 0;
	pe->holder_comm[0] = '\0';
	if (strstr(text, "releasing")) {
		pe->holder_pid = -1;
		snprintf(pe->holder_comm, sizeof(pe->holder_comm), "(being released)");
		return;
	}
	if (!busy || sscanf(busy, "busy pid=%d", &pid) != 1 || pid <= 0)
		return;
	pe->holder_pid = pid;
	comm = strstr(busy, " comm=");
	if (comm)
		snprintf(pe->holder_comm, sizeof(pe->holder_comm), "%s", comm + 6);
}

/* Temperature and power from the hwmon device under the card's PCI device. */
static void read_sensors(const char *mgmt_dir, npu_card_info *c)
{
	char dir[PATH_MAX], val[32];
	struct dirent *e;
	DIR *d;

	c->temp_mc = -1;
	c->power_uw = -1;
	if (!join_path(dir, sizeof(dir), mgmt_dir, "device/hwmon"))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char hw[PATH_MAX];

		if (strncmp(e->d_name, "hwmon", 5) != 0 ||
		    !join_path(hw, sizeof(hw), dir, e->d_name))
			continue;
		read_attr(hw, "temp1_input", val, sizeof(val));
		if (val[0])
			c->temp_mc = strtol(val, NULL, 10);
		read_attr(hw, "power1_input", val, sizeof(val));
		if (val[0])
			c->power_uw = strtol(val, NULL, 10);
		break;
	}
	closedir(d);
}

static int cmp_card(const void *a, const void *b)
{
	const npu_card_info *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

static npu_status scan_cards(const struct npu_roots *roots, npu_card_info **out, size_t *count)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	npu_card_info *cards = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	unsigned int idx, pe;
	DIR *d;

	*out = NULL;
	*count = 0;
	if (!join_path(dir, sizeof(dir), roots->sysfs, CLASS_REL))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "sysfs root '%s' is too long",
				roots->sysfs);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return npu_fail(NPU_ERR_NO_DEVICE,
					"%s does not exist: the npu driver is not loaded (modprobe npu)",
					dir);
		return npu_fail(NPU_ERR_IO, "cannot read %s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d))) {
		npu_card_info *c;

		if (!match_index(e->d_name, "_mgmt", &idx))
			continue;
		if (n == cap) {
			npu_card_info *bigger;

			cap = cap ? 2 * cap : 4;
			bigger = realloc(cards, cap * sizeof(*cards));
			if (!bigger) {
				closedir(d);
				free(cards);
				return npu_fail(NPU_ERR_NO_MEMORY, "no memory to list devices");
			}
			cards = bigger;
		}
		c = &cards[n++];
		memset(c, 0, sizeof(*c));
		c->index = idx;
		join_path(sub, sizeof(sub), dir, e->d_name);
		read_attr(sub, "device_type", c->arch, sizeof(c->arch));
		read_attr(sub, "fw_version", c->fw_version, sizeof(c->fw_version));
		read_attr(sub, "device_sn", c->serial, sizeof(c->serial));
		read_attr(sub, "device_uuid", c->uuid, sizeof(c->uuid));
		read_attr(sub, "busname", c->busname, sizeof(c->busname));
		read_attr(sub, "device_state", c->state, sizeof(c->state));
		read_attr(sub, "dev", c->dev, sizeof(c->dev));
		read_sensors(sub, c);
	}
	/* Second pass: PEs and their holders. */
	rewinddir(d);
	while ((e = readdir(d))) {
		char holder[128];

		if (!match_pe(e->d_name, &idx, &pe))
			continue;
		for (size_t i = 0; i < n; i++) {
			if (cards[i].index != idx)
				continue;
			if (pe + 1 > cards[i].pe_count)
				cards[i].pe_count = pe + 1;
			join_path(sub, sizeof(sub), dir, e->d_name);
			read_attr(sub, "holder", holder, sizeof(holder));
			parse_holder(holder, &cards[i].pe[pe]);
		}
	}
	closedir(d);
	if (n)
		qsort(cards, n, sizeof(*cards), cmp_card);
	*out = cards;
	*count = n;
	return NPU_OK;
}

npu_status npu_discover(const struct npu_roots *roots, struct npu_topology *topo,
			npu_card_info **cards_out)
{
	npu_card_info *cards;
	size_t n;
	npu_status st;

	memset(topo, 0, sizeof(*topo));
	st = scan_cards(roots, &cards, &n);
	if (st)
		return st;
	topo->devices = calloc(n ? n : 1, sizeof(*topo->devices));
	if (!topo->devices) {
		free(cards);
		return npu_fail(NPU_ERR_NO_MEMORY, "no memory to list devices");
	}
	topo->count = n;
	for (size_t i = 0; i < n; i++) {
		struct npu_topo_device *t = &topo->devices[i];

		t->index = cards[i].index;
		snprintf(t->arch, sizeof(t->arch), "%s", cards[i].arch);
		t->pe_count = cards[i].pe_count;
		for (unsigned int pe = 0; pe < cards[i].pe_count; pe++) {
			t->pe[pe].pid = cards[i].pe[pe].holder_pid;
			snprintf(t->pe[pe].comm, sizeof(t->pe[pe].comm), "%s",
				 cards[i].pe[pe].holder_comm);
		}
	}
	if (cards_out)
		*cards_out = cards;
	else
		free(cards);
	return NPU_OK;
}

void npu_topology_free(struct npu_topology *topo)
{
	free(topo->devices);
	topo->devices = NULL;
	topo->count = 0;
}

static npu_status list_cards(const struct npu_roots *roots, npu_card_info **cards,
			     size_t *count)
{
	struct npu_topology topo;
	npu_status st;

	st = npu_discover(roots, &topo, cards);
	if (st)
		return st;
	*count = topo.count;
	npu_topology_free(&topo);
	return NPU_OK;
}

npu_status npu_list_cards(const npu_open_options *opts, npu_card_info **cards, size_t *count)
{
	struct npu_roots roots;
	npu_status st;

	if (!cards || !count)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "cards and count must not be NULL");
	*cards = NULL;
	*count = 0;
	st = npu_roots_resolve(opts, &roots);
	return st ? st : list_cards(&roots, cards, count);
}

npu_status npu_ctx_list_cards(npu_context *ctx, npu_card_info **cards, size_t *count)
{
	struct npu_roots roots;
	npu_status st;

	if (!ctx || !cards || !count)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "context, cards and count must not be NULL");
	*cards = NULL;
	*count = 0;
	st = npu_roots_of(ctx, &roots);
	return st ? st : list_cards(&roots, cards, count);
}

void npu_cards_free(npu_card_info *cards)
{
	free(cards);
}

static npu_status read_perf(const struct npu_roots *roots, const char *devfile,
			    npu_perf_counters *out)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "TaskExecutionTime", offsetof(npu_perf_counters, task_cycles) },
		{ "TensorExecutionTime", offsetof(npu_perf_counters, tensor_cycles) },
		{ "DmaExecutionTime", offsetof(npu_perf_counters, dma_cycles) },
		{ "InstructionCount", offsetof(npu_perf_counters, instructions) },
		{ "JobCount", offsetof(npu_perf_counters, jobs) },
		{ "ErrorCount", offsetof(npu_perf_counters, errors) },
	};
	char path[PATH_MAX], line[128];
	uint64_t lo = 0, hi = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s" CLASS_DIR "/%s/perf_regs", roots->sysfs, devfile) >=
	    (int)sizeof(path))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "sysfs root '%s' is too long", roots->sysfs);
	f = fopen(path, "r");
	if (!f)
		return npu_fail(errno == ENOENT ? NPU_ERR_NOT_FOUND : NPU_ERR_IO,
				"cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long long v;

		if (sscanf(line, "%63[^:]: %llx", name, &v) != 2)
			continue;
		if (!strcmp(name, "CycleCount"))
			lo = v;
		else if (!strcmp(name, "CycleCountHigh"))
			hi = v;
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(name, fields[i].name))
				*(uint64_t *)((char *)out + fields[i].offset) = v;
	}
	fclose(f);
	out->cycles = hi << 32 | lo;
	return NPU_OK;
}

static npu_status perf_args(const char *devfile, npu_perf_counters *out)
{
	if (!devfile || !out || strchr(devfile, '/'))
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "a device file name like npu0pe0 is needed");
	memset(out, 0, sizeof(*out));
	return NPU_OK;
}

npu_status npu_read_perf(const npu_open_options *opts, const char *devfile, npu_perf_counters *out)
{
	struct npu_roots roots;
	npu_status st = perf_args(devfile, out);

	if (!st)
		st = npu_roots_resolve(opts, &roots);
	return st ? st : read_perf(&roots, devfile, out);
}

npu_status npu_ctx_read_perf(npu_context *ctx, const char *devfile, npu_perf_counters *out)
{
	struct npu_roots roots;
	npu_status st = ctx ? perf_args(devfile, out) :
			npu_fail(NPU_ERR_INVALID_ARGUMENT, "the context must not be NULL");

	if (!st)
		st = npu_roots_of(ctx, &roots);
	return st ? st : read_perf(&roots, devfile, out);
}
