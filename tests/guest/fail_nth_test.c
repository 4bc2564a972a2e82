// SPDX-License-Identifier: MIT
/*
 * fail-nth sweep (after the kernel's selftests/iommu/iommufd_fail_nth.c):
 * for probe (bind of card 1), open and every ioctl, the n-th fallible point
 * the call passes through in this task fails, for n = 1, 2, ... until the call
 * gets through without reaching an n-th point. Fallible points are slab
 * allocations (failslab) and the driver's ALLOW_ERROR_INJECTION functions
 * (fail_function), both counted by /proc/self/task/<tid>/fail-nth. Every
 * failing call must return an errno and leave nothing behind (KASAN,
 * kmemleak, lockdep and debug objects of the debug kernel watch for that;
 * the VM loop fails on any report), and the device must work afterwards.
 *
 * A sweep that injects nothing must not pass: setup fails when npu.ko has no
 * injectable function, more than MAX_FUNCS, or one no swept call claims; and
 * before a call is swept, each driver function it claims (sweep_case.reach)
 * is registered alone, slab failures filtered out, and the call must pass
 * through it. A function fail_function cannot fail (inlined into its caller,
 * renamed) is a failure, not 0 injection points.
 *
 * Needs the debug kernel (scripts/debug-kernel.sh, `make debug-test`); SKIPs
 * on the stock Debian kernel, which has no failslab or fail_function.
 *
 * The probe sweep fails only the driver's injectable functions by default,
 * not slab allocations: failing those inside probe's calls into the PCI core
 * trips bugs there that no driver can avoid (6.1: a KASAN use-after-free in
 * ACPICA's _PRT evaluation after a failed allocation during
 * pci_enable_device, and remove_proc_entry warnings for /proc/irq entries
 * that register_irq_proc silently failed to create). NPU_FAIL_NTH_PROBE_SLAB=1
 * adds slab failures to the probe sweep to see them.
 *
 * fail_page_alloc is left out on purpose: a failed page allocation without
 * __GFP_NOWARN prints a stack trace (warn_alloc), which the VM loop rightly
 * counts as a kernel report. Large kmallocs and DMA allocations are covered
 * by the driver's own injectable functions instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define DBG "/sys/kernel/debug"
#define CARD 0
#define PROBE_CARD 1
/* More points than any call passes through: a sweep this long is a bug. */
#define MAX_NTH 20000
/* npu.ko has 11; more fail setup rather than being cut off unseen. */
#define MAX_FUNCS 64
/* Driver functions one swept call must pass through (see sweep_case.reach). */
#define MAX_REACH 6
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))
#define BO_SIZE (64 * 1024)

/* -ENOMEM as fail_function's retval file wants it (an unsigned 64-bit value). */
#define RETVAL_ENOMEM "0xfffffffffffffff4"

/* A fault-injection setting of the sweep; saved at setup, restored at teardown. */
struct knob {
	const char *path;
	const char *value;
};

static const struct knob knobs[] = {
	/* GFP_KERNEL allocations are the ones that matter: fail them too. */
	{ .path = DBG "/failslab/ignore-gfp-wait", .value = "N" },
	/* Y only in the probe sweep (see there): no cache is marked, none fails. */
	{ .path = DBG "/failslab/cache-filter", .value = "N" },
	/*
	 * Random failures only for tasks with make-it-fail set (none), so the
	 * only failures are the fail-nth ones of this task.
	 */
	{ .path = DBG "/failslab/task-filter", .value = "Y" },
	{ .path = DBG "/failslab/probability", .value = "100" },
	{ .path = DBG "/failslab/interval", .value = "1" },
	{ .path = DBG "/failslab/times", .value = "-1" },
	{ .path = DBG "/failslab/space", .value = "0" },
	/* No "FAULT_INJECTION: forcing a failure" stack dumps in the log. */
	{ .path = DBG "/failslab/verbose", .value = "0" },
	{ .path = DBG "/fail_function/task-filter", .value = "Y" },
	{ .path = DBG "/fail_function/probability", .value = "100" },
	{ .path = DBG "/fail_function/interval", .value = "1" },
	{ .path = DBG "/fail_function/times", .value = "-1" },
	{ .path = DBG "/fail_function/space", .value = "0" },
	{ .path = DBG "/fail_function/verbose", .value = "0" },
	/*
	 * fail-nth counts every allocation fail_page_alloc looks at, whatever
	 * its probability: SLUB's high-order tries without reclaim, which fall
	 * back to order 0, come and go with the slabs' state. No order
	 * qualifies, so the count is of slab allocations and driver functions
	 * only, the same on every run.
	 */
	{ .path = DBG "/fail_page_alloc/min-order", .value = "99" },
};

FIXTURE(fail_nth)
{
	int nth_fd;		/* /proc/self/task/<tid>/fail-nth */
	char saved[NKNOBS][64];	/* knobs' values before the test */
	bool changed[NKNOBS];
	unsigned int nfuncs;
	char funcs[MAX_FUNCS][64];
	bool errno_type[MAX_FUNCS];	/* ERRNO (fails with -ENOMEM), else NULL */
};

static void restore_knobs(struct _test_data_fail_nth *self)
{
	for (size_t i = 0; i < NKNOBS; i++) {
		if (self->changed[i])
			npu_write_file(knobs[i].path, self->saved[i]);
		self->changed[i] = false;
	}
	npu_write_file(DBG "/fail_function/inject", "\n");
}

/*
 * Reads every ALLOW_ERROR_INJECTION function of npu.ko from
 * error_injection/list into self->funcs.
 */
static int read_driver_functions(struct _test_data_fail_nth *self,
				 struct __test_metadata *_metadata)
{
	char line[256];
	FILE *list = fopen(DBG "/error_injection/list", "re");

	if (!list)
		return -errno;
	while (fgets(line, sizeof(line), list)) {
		char name[64], type[16];

		/* "npu_bo_new [npu]\tNULL" */
		if (!strstr(line, "[npu]") || sscanf(line, "%63s [npu] %15s", name, type) != 2)
			continue;
		if (self->nfuncs == MAX_FUNCS) {
			TH_LOG("more than %d injectable functions in npu.ko: raise MAX_FUNCS",
			       MAX_FUNCS);
			fclose(list);
			return -E2BIG;
		}
		self->errno_type[self->nfuncs] = !strcmp(type, "ERRNO");
		snprintf(self->funcs[self->nfuncs++], sizeof(self->funcs[0]), "%s", name);
	}
	fclose(list);
	return 0;
}

static int find_function(const struct _test_data_fail_nth *self, const char *name)
{
	for (unsigned int i = 0; i < self->nfuncs; i++)
		if (!strcmp(self->funcs[i], name))
			return (int)i;
	return -1;
}

/*
 * Sets fail_function's list to the driver's functions, failing with -ENOMEM
 * (ERRNO type) or NULL (NULL type): all of them (only == NULL), only one
 * (its name), or none ("").
 */
static int register_functions(struct _test_data_fail_nth *self,
			      struct __test_metadata *_metadata, const char *only)
{
	char path[PATH_MAX];
	int ret = npu_write_file(DBG "/fail_function/inject", "\n");

	if (ret) {
		TH_LOG("clearing fail_function/inject: %s", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < self->nfuncs; i++) {
		const char *name = self->funcs[i];

		if (only && strcmp(only, name))
			continue;
		ret = npu_write_file(DBG "/fail_function/inject", name);
		if (ret) {
			TH_LOG("fail_function/inject %s: %s", name, strerror(-ret));
			return ret;
		}
		if (self->errno_type[i]) {
			snprintf(path, sizeof(path), DBG "/fail_function/%s/retval", name);
			ret = npu_write_file(path, RETVAL_ENOMEM);
			if (ret) {
				TH_LOG("%s: %s", path, strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

static int unclaimed_functions(const struct _test_data_fail_nth *self,
			       struct __test_metadata *_metadata);

FIXTURE_SETUP(fail_nth)
{
	char path[64], list[MAX_FUNCS * 32] = "";
	int ret;

	self->nth_fd = -1;
	if (access(DBG "/failslab", F_OK) || access(DBG "/fail_function", F_OK))
		SKIP(return, "no failslab/fail_function in debugfs: needs the debug kernel "
			     "(make debug-test)");
	if (!npu_device_present(CARD))
		SKIP(return, "/dev/npu%d_mgmt missing", CARD);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	self->nth_fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth_fd) TH_LOG("%s: %s", path, strerror(errno));

	for (size_t i = 0; i < NKNOBS; i++) {
		const struct knob *k = &knobs[i];

		ASSERT_LE(0, npu_read_line(k->path, self->saved[i], sizeof(self->saved[i])))
			TH_LOG("cannot read %s", k->path);
		ret = npu_write_file(k->path, k->value);
		ASSERT_EQ(0, ret) TH_LOG("%s = %s: %s", k->path, k->value, strerror(-ret));
		self->changed[i] = true;
	}
	ASSERT_EQ(0, read_driver_functions(self, _metadata));
	for (unsigned int i = 0; i < self->nfuncs; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s", self->funcs[i]);
	TH_LOG("injectable driver functions (%u):%s", self->nfuncs, list);
	/* None found: the probe sweep would inject nothing and pass. */
	ASSERT_LT(0, self->nfuncs) TH_LOG("no [npu] function in %s/error_injection/list", DBG);
	ASSERT_EQ(0, unclaimed_functions(self, _metadata));
	ASSERT_EQ(0, register_functions(self, _metadata, NULL));
}

static void disarm(int nth_fd)
{
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		abort();	/* the sweep would fail calls nobody checks */
}

FIXTURE_TEARDOWN(fail_nth)
{
	if (self->nth_fd >= 0) {
		disarm(self->nth_fd);
		close(self->nth_fd);
	}
	restore_knobs(self);
}

/* The state one swept call works on. */
struct sweep_ctx {
	int fd;			/* /dev/npu<CARD>pe0 */
	int peer_fd;		/* /dev/npu<CARD>pe1: the importer */
	struct npu_bo bo;	/* a BO of fd, for FREE/EXPORT/SUBMIT */
	void *user;		/* page-aligned memory for USERPTR */
	uint32_t handle;	/* what a successful call created */
	int out_fd;		/* what a successful call opened */
	uint64_t seqno;
	char busname[NPU_STRING_LEN];
	char driver_dir[PATH_MAX];
};

/*
 * One swept call: prepare (no injection), op (the n-th point fails), then
 * undo with ok=true after a success or ok=false after a failure. op returns
 * 0 or -errno.
 */
struct sweep_case {
	const char *name;
	int (*prepare)(struct sweep_ctx *c);
	int (*op)(struct sweep_ctx *c);
	int (*undo)(struct sweep_ctx *c, bool ok);
	/*
	 * The driver's injectable functions the call passes through. Each must
	 * be where fail_function can fail it: a function inlined into its
	 * caller (or renamed) leaves a kprobe that never fires, and a sweep
	 * that injects nothing there.
	 */
	const char *reach[MAX_REACH];
};

static int ioctl_ret(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int nothing(struct sweep_ctx *c)
{
	(void)c;
	return 0;
}

static int undo_nothing(struct sweep_ctx *c, bool ok)
{
	(void)c;
	(void)ok;
	return 0;
}

static int op_version(struct sweep_ctx *c)
{
	struct npu_version v = { 0 };

	return ioctl_ret(c->fd, NPU_IOCTL_VERSION, &v);
}

static int op_device_info(struct sweep_ctx *c)
{
	struct npu_device_info info = { 0 };

	return ioctl_ret(c->fd, NPU_IOCTL_DEVICE_INFO, &info);
}

static int op_open(struct sweep_ctx *c)
{
	char path[64];
	int fd;

	npu_file_path(path, sizeof(path), CARD, NPU_FILE_ALL);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->out_fd = fd;
	return 0;
}

static int undo_fd(struct sweep_ctx *c, bool ok)
{
	if (ok)
		close(c->out_fd);
	c->out_fd = -1;
	return 0;
}

static int free_handle(int fd, uint32_t handle)
{
	struct npu_bo_free f = { .handle = handle };

	return ioctl_ret(fd, NPU_IOCTL_BO_FREE, &f);
}

static int op_bo_create(struct sweep_ctx *c)
{
	struct npu_bo_create cr = { .size = BO_SIZE };
	int ret = ioctl_ret(c->fd, NPU_IOCTL_BO_CREATE, &cr);

	c->handle = cr.handle;
	return ret;
}

static int undo_handle(struct sweep_ctx *c, bool ok)
{
	return ok ? free_handle(c->fd, c->handle) : 0;
}

static int op_bo_userptr(struct sweep_ctx *c)
{
	struct npu_bo_userptr up = {
		.user_ptr = (uintptr_t)c->user,
		.size = BO_SIZE,
	};
	int ret = ioctl_ret(c->fd, NPU_IOCTL_BO_USERPTR, &up);

	c->handle = up.handle;
	return ret;
}

static int prepare_bo(struct sweep_ctx *c)
{
	return npu_bo_alloc(c->fd, BO_SIZE, &c->bo);
}

static int op_bo_free(struct sweep_ctx *c)
{
	return free_handle(c->fd, c->bo.handle);
}

/* After a failed FREE the BO must still be there: free it for real. */
static int undo_bo_free(struct sweep_ctx *c, bool ok)
{
	int ret = 0;

	if (!ok)
		ret = free_handle(c->fd, c->bo.handle);
	munmap(c->bo.map, c->bo.size);
	c->bo.map = NULL;
	return ret;
}

static int release_bo(struct sweep_ctx *c)
{
	npu_bo_release(&c->bo);
	return 0;
}

static int op_bo_export(struct sweep_ctx *c)
{
	struct npu_bo_export ex = { .handle = c->bo.handle, .flags = NPU_BO_EXPORT_CLOEXEC };
	int ret = ioctl_ret(c->fd, NPU_IOCTL_BO_EXPORT, &ex);

	c->out_fd = ex.fd;
	return ret;
}

static int undo_bo_export(struct sweep_ctx *c, bool ok)
{
	undo_fd(c, ok);
	return release_bo(c);
}

static int prepare_import(struct sweep_ctx *c)
{
	int ret = prepare_bo(c);

	if (ret)
		return ret;
	ret = op_bo_export(c);
	if (ret)
		npu_bo_release(&c->bo);
	return ret;
}

static int op_bo_import(struct sweep_ctx *c)
{
	struct npu_bo_import im = { .fd = c->out_fd };
	int ret = ioctl_ret(c->peer_fd, NPU_IOCTL_BO_IMPORT, &im);

	c->handle = im.handle;
	return ret;
}

static int undo_bo_import(struct sweep_ctx *c, bool ok)
{
	int ret = ok ? free_handle(c->peer_fd, c->handle) : 0;

	undo_fd(c, true);
	release_bo(c);
	return ret;
}

static int op_submit(struct sweep_ctx *c)
{
	struct npu_job_cmd cmd = npu_cmd_to_dram(&c->bo, 0, 0, BO_SIZE);

	return npu_submit(c->fd, 0, &cmd, 1, &c->seqno);
}

/* A submitted job must complete; a refused one must leave nothing queued. */
static int undo_submit(struct sweep_ctx *c, bool ok)
{
	struct npu_wait w;
	int ret;

	if (ok) {
		ret = npu_wait(c->fd, c->seqno, -1, &w);
		if (!ret && w.status != NPU_JOB_OK)
			ret = -EIO;
	} else {
		ret = npu_wait(c->fd, NPU_WAIT_ANY, 0, &w);
		/* nothing in flight: WAIT_ANY must not find a job */
		ret = ret ? 0 : -EEXIST;
	}
	release_bo(c);
	return ret;
}

static int prepare_wait(struct sweep_ctx *c)
{
	int ret = prepare_bo(c);

	if (ret)
		return ret;
	ret = op_submit(c);
	if (ret)
		npu_bo_release(&c->bo);
	return ret;
}

static int op_wait(struct sweep_ctx *c)
{
	struct npu_wait w;

	return npu_wait(c->fd, c->seqno, -1, &w);
}

/* A WAIT that failed must not have eaten the completion: collect it now. */
static int undo_wait(struct sweep_ctx *c, bool ok)
{
	struct npu_wait w;
	int ret = 0;

	if (!ok) {
		ret = npu_wait(c->fd, c->seqno, -1, &w);
		if (!ret && w.status != NPU_JOB_OK)
			ret = -EIO;
	}
	release_bo(c);
	return ret;
}

static int sysfs_driver_write(struct sweep_ctx *c, const char *what)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", c->driver_dir, what);
	return npu_write_file(path, c->busname);
}

static int op_bind(struct sweep_ctx *c)
{
	return sysfs_driver_write(c, "bind");
}

static int undo_bind(struct sweep_ctx *c, bool ok)
{
	/* a failed probe leaves no device behind */
	if (!ok)
		return npu_device_present(PROBE_CARD) ? -EEXIST : 0;
	return sysfs_driver_write(c, "unbind");
}

/*
 * Runs one case for n = 1, 2, ... Returns the number of injection points
 * found, or -1 after logging why the sweep failed.
 */
static int sweep(struct __test_metadata *_metadata, int nth_fd, struct sweep_ctx *c,
		 const struct sweep_case *sc)
{
	unsigned int failed = 0, absorbed = 0;
	int errnos[8] = { 0 }, nerrnos = 0;
	char buf[32], seen[96] = "";

	for (unsigned int n = 1; n <= MAX_NTH; n++) {
		int len, ret, undo;
		long left;
		ssize_t r;

		ret = sc->prepare(c);
		if (ret) {
			TH_LOG("%s: preparing n=%u: %s", sc->name, n, strerror(-ret));
			return -1;
		}
		len = snprintf(buf, sizeof(buf), "%u", n);
		if (pwrite(nth_fd, buf, len, 0) != len) {
			TH_LOG("arming fail-nth: %s", strerror(errno));
			return -1;
		}
		ret = sc->op(c);
		r = pread(nth_fd, buf, sizeof(buf) - 1, 0);
		disarm(nth_fd);
		if (r <= 0) {
			TH_LOG("reading fail-nth: %s", strerror(errno));
			return -1;
		}
		buf[r] = 0;
		left = strtol(buf, NULL, 10);

		if (ret) {
			bool known = false;

			failed++;
			for (int i = 0; i < nerrnos; i++)
				known |= errnos[i] == -ret;
			if (!known && nerrnos < 8)
				errnos[nerrnos++] = -ret;
		} else if (!left) {
			absorbed++;	/* a fallback path took over */
		}
		undo = sc->undo(c, ret == 0);
		if (undo) {
			TH_LOG("%s: n=%u (call %s): cleaning up: %s", sc->name, n,
			       ret ? strerror(-ret) : "succeeded", strerror(-undo));
			return -1;
		}
		if (left > 0) {
			/* nothing failed this time: the call must have worked */
			if (ret) {
				TH_LOG("%s: failed with %s without an injected fault", sc->name,
				       strerror(-ret));
				return -1;
			}
			for (int i = 0; i < nerrnos; i++)
				snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s",
					 i ? "," : " ", strerrorname_np(errnos[i]) ?: "?");
			TH_LOG("%s: %u injection points: %u failed the call (errno%s), %u absorbed",
			       sc->name, n - 1, failed, nerrnos ? seen : " none", absorbed);
			return n - 1;
		}
	}
	TH_LOG("%s: still failing after %u injection points", sc->name, MAX_NTH);
	return -1;
}

/* The file still works: a round trip through DRAM. */
static void check_device_works(struct __test_metadata *_metadata, int fd)
{
	uint8_t out[4096], in[4096];
	struct npu_rng rng;

	npu_rng_seed(&rng, 42);
	npu_rng_fill(&rng, out, sizeof(out));
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, out, sizeof(out)));
	ASSERT_EQ(0, npu_read_dram(fd, 0, 0, in, sizeof(in)));
	ASSERT_EQ(-1, npu_first_diff(out, in, sizeof(in)));
}

/* Runs before the files below are open: /dev/npuN takes both PEs. */
static const struct sweep_case open_case = { "open", nothing, op_open, undo_fd, { NULL } };

static const struct sweep_case ioctl_cases[] = {
	{ "VERSION", nothing, op_version, undo_nothing, { NULL } },
	{ "DEVICE_INFO", nothing, op_device_info, undo_nothing, { NULL } },
	{ "BO_CREATE", nothing, op_bo_create, undo_handle,
	  { "npu_bo_charge", "npu_bo_new", "npu_bo_map_pages" } },
	{ "BO_USERPTR", nothing, op_bo_userptr, undo_handle,
	  { "npu_bo_charge", "npu_bo_new", "npu_bo_map_pages" } },
	{ "BO_FREE", prepare_bo, op_bo_free, undo_bo_free, { NULL } },
	{ "BO_EXPORT", prepare_bo, op_bo_export, undo_bo_export, { NULL } },
	/* a BO of the same device: shared, so no npu_bo_new */
	{ "BO_IMPORT", prepare_import, op_bo_import, undo_bo_import, { "npu_bo_charge" } },
	{ "SUBMIT", prepare_bo, op_submit, undo_submit,
	  { "npu_file_reserve_job", "npu_job_build_sg" } },
	{ "WAIT", prepare_wait, op_wait, undo_wait, { NULL } },
};
#define NCASES (sizeof(ioctl_cases) / sizeof(ioctl_cases[0]))

static const struct sweep_case probe_case = {
	"probe", nothing, op_bind, undo_bind,
	{ "npu_hw_reset_device", "npu_hw_read_identity", "npu_ring_init", "npu_ring_start",
	  "npu_hwmon_register", "npu_file_create_nodes" },
};

/* VERSION touches no BO: check_reach must reject this claim. */
static const struct sweep_case not_reached = {
	"VERSION", nothing, op_version, undo_nothing, { "npu_bo_new" },
};

static bool reaches(const struct sweep_case *sc, const char *name)
{
	for (int i = 0; i < MAX_REACH && sc->reach[i]; i++)
		if (!strcmp(sc->reach[i], name))
			return true;
	return false;
}

/*
 * Every injectable function must be claimed by a swept call, so that a new
 * one is either proved reachable below or noticed. Returns how many are not.
 */
static int unclaimed_functions(const struct _test_data_fail_nth *self,
			       struct __test_metadata *_metadata)
{
	int unclaimed = 0;

	for (unsigned int i = 0; i < self->nfuncs; i++) {
		bool claimed = reaches(&open_case, self->funcs[i]) ||
			       reaches(&probe_case, self->funcs[i]);

		for (size_t k = 0; k < NCASES; k++)
			claimed |= reaches(&ioctl_cases[k], self->funcs[i]);
		if (!claimed) {
			TH_LOG("%s is injectable but no swept call lists it in .reach",
			       self->funcs[i]);
			unclaimed++;
		}
	}
	return unclaimed;
}

/*
 * Proves that fail_function fires in each function the call is meant to
 * reach: with slab failures filtered out, the call passes through no
 * injection point, and with only that function registered, through at
 * least one. Leaves no function registered; the caller registers them again.
 */
static int check_reach(struct _test_data_fail_nth *self, struct __test_metadata *_metadata,
		       struct sweep_ctx *c, const struct sweep_case *sc)
{
	struct sweep_case one = *sc;
	char label[96];
	int base, points, ret;

	if (!sc->reach[0])
		return 0;
	ret = npu_write_file(DBG "/failslab/cache-filter", "Y");
	if (ret) {
		TH_LOG("failslab/cache-filter: %s", strerror(-ret));
		return -1;
	}
	if (register_functions(self, _metadata, ""))
		return -1;
	snprintf(label, sizeof(label), "%s [no slab, no function]", sc->name);
	one.name = label;
	base = sweep(_metadata, self->nth_fd, c, &one);
	if (base < 0)
		return -1;
	if (base) {
		TH_LOG("%s: %d points with no slab and no function: fail-nth counts something "
		       "else (see the knobs)", sc->name, base);
		return -1;
	}
	for (int i = 0; i < MAX_REACH && sc->reach[i]; i++) {
		const char *fn = sc->reach[i];

		if (find_function(self, fn) < 0) {
			TH_LOG("%s: %s is not in error_injection/list (renamed? no "
			       "ALLOW_ERROR_INJECTION?)", sc->name, fn);
			return -1;
		}
		if (register_functions(self, _metadata, fn))
			return -1;
		snprintf(label, sizeof(label), "%s [%s only]", sc->name, fn);
		points = sweep(_metadata, self->nth_fd, c, &one);
		if (points < 0)
			return -1;
		if (!points) {
			TH_LOG("%s never reached %s: fail_function injected nothing there "
			       "(inlined into its caller?)", sc->name, fn);
			return -1;
		}
	}
	return register_functions(self, _metadata, "") ? -1 : 0;
}

TEST_F_TIMEOUT(fail_nth, ioctls, 1800)
{
	struct sweep_ctx c = { .out_fd = -1 };
	int64_t pinned_before, pinned_after;
	int total = 0;

	NPU_RETURN_IF_SKIPPED();
	total = sweep(_metadata, self->nth_fd, &c, &open_case);
	ASSERT_LE(0, total);
	c.fd = npu_open(CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, c.fd) TH_LOG("open pe0: %s", strerror(-c.fd));
	c.peer_fd = npu_open(CARD, NPU_FILE_PE1, 0);
	ASSERT_LE(0, c.peer_fd) TH_LOG("open pe1: %s", strerror(-c.peer_fd));
	c.user = mmap(NULL, BO_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.user);
	memset(c.user, 0x5a, BO_SIZE);
	ASSERT_EQ(0, npu_pinned_pages(&pinned_before));

	/* Negative self-check: a function the call never passes through is caught. */
	TH_LOG("self-check: VERSION must be found not to reach npu_bo_new");
	EXPECT_NE(0, check_reach(self, _metadata, &c, &not_reached));

	for (size_t i = 0; i < NCASES; i++) {
		const struct sweep_case *sc = &ioctl_cases[i];
		int points, ret;

		ASSERT_EQ(0, check_reach(self, _metadata, &c, sc));
		ret = npu_write_file(DBG "/failslab/cache-filter", "N");
		ASSERT_EQ(0, ret) TH_LOG("failslab/cache-filter: %s", strerror(-ret));
		ASSERT_EQ(0, register_functions(self, _metadata, NULL));
		points = sweep(_metadata, self->nth_fd, &c, sc);
		/*
		 * 0 is right for a call with no fallible point (VERSION); one
		 * that reaches driver functions was proved to reach them above.
		 */
		ASSERT_LE(0, points);
		total += points;
		check_device_works(_metadata, c.fd);
	}
	/* failed USERPTRs unpinned what they had pinned */
	ASSERT_EQ(0, npu_pinned_pages(&pinned_after));
	EXPECT_EQ(pinned_before, pinned_after);
	TH_LOG("%d injection points over open and %zu ioctls", total, NCASES);
	/* open and BO_CREATE allocate at least: none at all means nothing fired */
	EXPECT_LT(0, total);
	munmap(c.user, BO_SIZE);
	close(c.peer_fd);
	close(c.fd);
}

/*
 * Waits up to 10 s for /dev/npu<card>_mgmt to be there: probe creates it
 * within milliseconds of the bind; 10 s only bounds a failure.
 */
static bool wait_present(unsigned int card)
{
	for (int i = 0; i < 1000; i++) {
		if (npu_device_present(card))
			return true;
		usleep(10000);
	}
	return false;
}

TEST_F_TIMEOUT(fail_nth, probe, 1800)
{
	struct sweep_ctx c = { .out_fd = -1 };
	int fd, ret, points, reach;

	NPU_RETURN_IF_SKIPPED();
	if (!npu_device_present(PROBE_CARD))
		SKIP(return, "/dev/npu%d_mgmt missing: needs two cards", PROBE_CARD);
	ret = npu_card_busname(PROBE_CARD, c.busname, sizeof(c.busname));
	ASSERT_EQ(0, ret) TH_LOG("DEVICE_INFO of npu%d_mgmt: %s", PROBE_CARD, strerror(-ret));
	ret = npu_pci_driver_dir(c.busname, c.driver_dir, sizeof(c.driver_dir));
	ASSERT_EQ(0, ret) TH_LOG("driver of %s: %s", c.busname, strerror(-ret));

	if (!getenv("NPU_FAIL_NTH_PROBE_SLAB")) {
		ret = npu_write_file(DBG "/failslab/cache-filter", "Y");
		ASSERT_EQ(0, ret) TH_LOG("failslab/cache-filter: %s", strerror(-ret));
		TH_LOG("probe: driver functions only (NPU_FAIL_NTH_PROBE_SLAB=1 adds slab)");
	}
	ret = sysfs_driver_write(&c, "unbind");
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", c.busname, strerror(-ret));
	reach = check_reach(self, _metadata, &c, &probe_case);
	if (!reach && getenv("NPU_FAIL_NTH_PROBE_SLAB"))
		reach = npu_write_file(DBG "/failslab/cache-filter", "N");
	if (!reach)
		reach = register_functions(self, _metadata, NULL);
	points = reach ? -1 : sweep(_metadata, self->nth_fd, &c, &probe_case);
	/* leave the card bound, whatever happened */
	if (!npu_device_present(PROBE_CARD))
		ret = sysfs_driver_write(&c, "bind");
	ASSERT_EQ(0, reach);
	/* probe reaches 6 driver functions: 0 points means none was injected */
	ASSERT_LT(0, points);
	ASSERT_EQ(0, ret) TH_LOG("final bind: %s", strerror(-ret));
	ASSERT_TRUE(wait_present(PROBE_CARD));

	fd = npu_open(PROBE_CARD, NPU_FILE_ALL, 0);
	ASSERT_LE(0, fd) TH_LOG("open after the sweep: %s", strerror(-fd));
	check_device_works(_metadata, fd);
	close(fd);
}

TEST_HARNESS_MAIN
