// SPDX-License-Identifier: MIT
/*
 * npu-guest-bench: the in-guest half of the job-path benchmarks (bench/).
 *
 *   npu-guest-bench [--short] floor|roundtrip|throughput|dma|hal|fidelity [PROGRAM]
 *
 * Prints one JSON line per measurement in the protocol of bench/README.md:
 *   {"bench":"roundtrip","metric":"nop_p50_ratio_to_floor","value":2.4,"unit":"x",
 *    "goal":"<=3","met":false}
 * Every ratio is of two things measured by this process in this boot; no
 * absolute time is judged. Times come from clock_gettime(CLOCK_MONOTONIC).
 * Needs the driver loaded, card 0 (and card 1 for the two-card and dma-buf
 * cases) with faults=on (the debugfs `floor` file and NPU_REG_TEST_IRQ).
 * Exits non-zero, with a message on stderr, if anything fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "npu_program.h"
#include "npu_sys_util.h"
#include "npu_util.h"
#include "npuhal.h"

#define MIB (1024ull * 1024)
#define DEFAULT_PROGRAM "/usr/share/npu/programs/matmul_relu_single.npuprog"

struct opts {
	bool short_run;
	const char *program;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *bench, const char *what, int err)
{
	fprintf(stderr, "npu-guest-bench: %s: %s%s%s\n", bench, what, err ? ": " : "",
		err ? strerror(err < 0 ? -err : err) : "");
	exit(1);
}

/* One measurement; goal is NULL or "<=N" / ">=N", and met is judged here. */
static void emit_goal(const char *bench, const char *metric, double value, const char *unit,
		      const char *op, double limit)
{
	printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"", bench, metric,
	       value, unit);
	if (op) {
		bool met = op[0] == '<' ? value <= limit : value >= limit;

		printf(",\"goal\":\"%s%.6g\",\"met\":%s", op, limit, met ? "true" : "false");
	}
	printf("}\n");
	fflush(stdout);
}

static void emit(const char *bench, const char *metric, double value, const char *unit)
{
	emit_goal(bench, metric, value, unit, NULL, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n values; sorts them. */
static uint64_t quantile(uint64_t *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(size_t)((double)(n - 1) * q + 0.5)];
}

static uint64_t *xcalloc(size_t n, const char *bench)
{
	uint64_t *p = calloc(n ? n : 1, sizeof(*p));

	if (!p)
		die(bench, "out of memory", ENOMEM);
	return p;
}

/* Opens a PE file; a holder that has just closed it may still be releasing it. */
static int open_pe(unsigned int card, enum npu_file_kind kind, const char *bench)
{
	uint64_t deadline = now_ns() + 2000000000ull;
	int fd;

	while ((fd = npu_open(card, kind, 0)) == -EBUSY && now_ns() < deadline)
		usleep(1000);
	if (fd < 0) {
		char path[64], msg[128];

		npu_file_path(path, sizeof(path), card, kind);
		snprintf(msg, sizeof(msg), "cannot open %s", path);
		die(bench, msg, fd);
	}
	return fd;
}

static const struct npu_job_cmd nop_cmd = { .op = NPU_JOB_CMD_NOP };

/* SUBMIT then WAIT of one job; dies on any failure. */
static void run_job(int fd, const struct npu_job_cmd *cmds, uint32_t n, struct npu_wait *w,
		    const char *bench)
{
	uint64_t seqno;
	int ret = npu_submit(fd, 0, cmds, n, &seqno);

	if (ret)
		die(bench, "SUBMIT failed", ret);
	ret = npu_wait(fd, seqno, -1, w);
	if (ret)
		die(bench, "WAIT failed", ret);
}

/* ---- the floor: each part of a job, measured in this boot ---------------- */

struct floor {
	double ioctl_ns;	/* NPU_IOCTL_VERSION */
	double mmio_read_ns;	/* debugfs floor: one BAR0 read in the driver */
	double doorbell_ns;	/* debugfs floor: SQ_DOORBELL write, idle ring */
	double irq_ns;		/* debugfs floor: test interrupt write -> IRQ thread */
	double wake_ns;		/* debugfs floor: IRQ thread complete() -> reader runs */
	double model_ns;	/* NOP: SUBMIT returned -> CQ_TAIL moved (BAR0 polled) */
	double total_ns;
};

static double null_ioctl_ns(int fd, unsigned int batches, unsigned int per_batch,
			    const char *bench)
{
	uint64_t *avg = xcalloc(batches, bench);
	double r;

	for (unsigned int b = 0; b < batches; b++) {
		uint64_t t0 = now_ns();

		for (unsigned int i = 0; i < per_batch; i++) {
			struct npu_version v = { 0 };

			if (ioctl(fd, NPU_IOCTL_VERSION, &v))
				die(bench, "NPU_IOCTL_VERSION failed", errno);
		}
		avg[b] = (now_ns() - t0) / per_batch;
	}
	r = (double)quantile(avg, batches, 0.5);
	free(avg);
	return r;
}

/* Reads the driver's debugfs `floor` line of one PE. */
static void read_debugfs_floor(const char *busname, unsigned int pe, struct floor *f,
			       const char *bench)
{
	char path[128], line[512], want[8];
	unsigned long long rd, db, wr, irq, wake;
	unsigned int irqs;
	bool found = false;
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/kernel/debug/npu/%s/floor", busname);
	fp = fopen(path, "r");
	if (!fp)
		die(bench, "cannot open the driver's debugfs floor file (debugfs mounted, "
		    "card with faults=on?)", errno);
	snprintf(want, sizeof(want), "pe%u:", pe);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		if (sscanf(line + strlen(want), " mmio_read_ns %llu doorbell_ns %llu "
			   "test_irq_write_ns %llu irq_ns %llu wake_ns %llu irqs %u",
			   &rd, &db, &wr, &irq, &wake, &irqs) != 6)
			die(bench, "malformed line in the debugfs floor file", EINVAL);
		found = true;
	}
	if (ferror(fp) || !found) {
		int err = ferror(fp) ? errno : ENOENT;

		fclose(fp);
		die(bench, "reading the debugfs floor file failed", err);
	}
	fclose(fp);
	(void)wr;
	f->mmio_read_ns = (double)rd;
	f->doorbell_ns = (double)db;
	f->irq_ns = (double)irq;
	f->wake_ns = (double)wake;
}

/*
 * The model's reaction to a doorbell: SUBMIT has rung it and returned; the
 * time until CQ_TAIL moves is the model fetching, executing and completing
 * the NOP (its timer included). CQ_TAIL is polled through BAR0 in sysfs.
 */
static double model_reaction_ns(int fd, const struct npu_bar *bar, unsigned int pe,
				unsigned int rounds, const char *bench)
{
	uint64_t *t = xcalloc(rounds, bench);
	uint32_t reg = NPU_PE_BASE(pe) + NPU_PE_CQ_TAIL;
	double r;

	for (unsigned int i = 0; i < rounds; i++) {
		uint32_t tail = npu_bar_read32(bar, reg);
		struct npu_wait w;
		uint64_t seqno, t0, deadline;
		int ret = npu_submit(fd, 0, &nop_cmd, 1, &seqno);

		if (ret)
			die(bench, "SUBMIT failed", ret);
		t0 = now_ns();
		deadline = t0 + 1000000000ull;
		while (npu_bar_read32(bar, reg) == tail)
			if (now_ns() > deadline)
				die(bench, "CQ_TAIL did not move within 1 s of a NOP's SUBMIT",
				    ETIME);
		t[i] = now_ns() - t0;
		ret = npu_wait(fd, seqno, -1, &w);
		if (ret)
			die(bench, "WAIT failed", ret);
	}
	r = (double)quantile(t, rounds, 0.5);
	free(t);
	return r;
}

static void measure_floor(int fd, unsigned int pe, const struct opts *o, struct floor *f,
			  const char *bench)
{
	struct npu_device_info info;
	struct npu_bar bar;
	int ret = npu_device_info(fd, &info);

	if (ret)
		die(bench, "DEVICE_INFO failed", ret);
	memset(f, 0, sizeof(*f));
	f->ioctl_ns = null_ioctl_ns(fd, o->short_run ? 5 : 15, o->short_run ? 400 : 2000, bench);
	read_debugfs_floor(info.busname, pe, f, bench);
	ret = npu_bar_map(info.busname, &bar);
	if (ret)
		die(bench, "cannot map BAR0 through sysfs resource0", ret);
	f->model_ns = model_reaction_ns(fd, &bar, pe, o->short_run ? 50 : 500, bench);
	npu_bar_unmap(&bar);
	/* A job is two ioctls (SUBMIT, WAIT), a doorbell, the model, an IRQ, a wake-up. */
	f->total_ns = 2 * f->ioctl_ns + f->doorbell_ns + f->model_ns + f->irq_ns + f->wake_ns;
}

static void bench_floor(const struct opts *o)
{
	const char *b = "floor";
	int fd = open_pe(0, NPU_FILE_PE0, b);
	struct floor f;

	measure_floor(fd, 0, o, &f, b);
	close(fd);
	emit(b, "null_ioctl_ns", f.ioctl_ns, "ns");
	emit(b, "mmio_read_ns", f.mmio_read_ns, "ns");
	emit(b, "doorbell_write_ns", f.doorbell_ns, "ns");
	emit(b, "model_reaction_ns", f.model_ns, "ns");
	emit(b, "msix_delivery_ns", f.irq_ns, "ns");
	emit(b, "waiter_wakeup_ns", f.wake_ns, "ns");
	emit(b, "floor_ns", f.total_ns, "ns");
}

/* ---- round trip ------------------------------------------------------------ */

static void bench_roundtrip(const struct opts *o)
{
	const char *b = "roundtrip";
	unsigned int n = o->short_run ? 200 : 5000;
	uint64_t *rt = xcalloc(n, b), *sub = xcalloc(n, b), *wt = xcalloc(n, b);
	int fd = open_pe(0, NPU_FILE_PE0, b);
	struct floor f;
	double p50, p99;

	measure_floor(fd, 0, o, &f, b);
	for (unsigned int i = 0; i < n; i++) {
		struct npu_wait w;
		uint64_t seqno, t0 = now_ns(), t1;
		int ret = npu_submit(fd, 0, &nop_cmd, 1, &seqno);

		if (ret)
			die(b, "SUBMIT failed", ret);
		t1 = now_ns();
		ret = npu_wait(fd, seqno, -1, &w);
		if (ret)
			die(b, "WAIT failed", ret);
		rt[i] = now_ns() - t0;
		sub[i] = t1 - t0;
		wt[i] = rt[i] - sub[i];
	}
	close(fd);
	p50 = (double)quantile(rt, n, 0.5);
	p99 = (double)quantile(rt, n, 0.99);
	emit(b, "floor_ns", f.total_ns, "ns");
	emit(b, "nop_p50_ns", p50, "ns");
	emit(b, "nop_p99_ns", p99, "ns");
	emit(b, "submit_ioctl_p50_ns", (double)quantile(sub, n, 0.5), "ns");
	emit(b, "wait_ioctl_p50_ns", (double)quantile(wt, n, 0.5), "ns");
	emit_goal(b, "nop_p50_ratio_to_floor", p50 / f.total_ns, "x", "<=", 3);
	emit_goal(b, "nop_p99_ratio_to_floor", p99 / f.total_ns, "x", "<=", 6);
	free(rt);
	free(sub);
	free(wt);
}

/* ---- throughput -------------------------------------------------------------- */

struct stream {
	int fd;
	unsigned int depth;
	bool copy;		/* 4 KiB COPY_TO_DRAM jobs, else NOPs */
	uint64_t duration_ns;
	unsigned long jobs;
	int err;
	const char *what;
};

static void *stream_run(void *arg)
{
	struct stream *s = arg;
	struct npu_job_cmd cmd = nop_cmd;
	struct npu_bo bo;
	unsigned int inflight = 0;
	uint64_t seqno, deadline;
	int ret;

	s->jobs = 0;
	s->err = 0;
	if (s->copy) {
		ret = npu_bo_alloc(s->fd, 4096, &bo);
		if (ret) {
			s->err = ret;
			s->what = "BO_CREATE failed";
			return NULL;
		}
		memset(bo.map, 0x5a, 4096);
		cmd = npu_cmd_to_dram(&bo, 0, 0, 4096);
	}
	deadline = now_ns() + s->duration_ns;
	for (;;) {
		struct npu_wait w;
		bool more = now_ns() < deadline;

		while (more && inflight < s->depth) {
			ret = npu_submit(s->fd, 0, &cmd, 1, &seqno);
			if (ret) {
				s->err = ret;
				s->what = "SUBMIT failed";
				goto out;
			}
			inflight++;
		}
		if (!inflight)
			break;
		ret = npu_wait(s->fd, NPU_WAIT_ANY, -1, &w);
		if (ret) {
			s->err = ret;
			s->what = "WAIT failed";
			goto out;
		}
		inflight--;
		s->jobs++;
	}
out:
	if (s->copy)
		npu_bo_release(&bo);
	return NULL;
}

/* Jobs per second over all fds together, each fd in its own thread. */
static double streams_rate(const int *fds, unsigned int n, unsigned int depth, bool copy,
			   uint64_t duration_ns, const char *bench)
{
	struct stream s[4];
	pthread_t th[4];
	unsigned long jobs = 0;
	uint64_t t0 = now_ns(), t;

	for (unsigned int i = 0; i < n; i++) {
		s[i] = (struct stream){ .fd = fds[i], .depth = depth, .copy = copy,
					.duration_ns = duration_ns };
		if (pthread_create(&th[i], NULL, stream_run, &s[i]))
			die(bench, "pthread_create failed", errno);
	}
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (s[i].err)
			die(bench, s[i].what, s[i].err);
		jobs += s[i].jobs;
	}
	t = now_ns() - t0;
	return (double)jobs * 1e9 / (double)t;
}

static void bench_throughput(const struct opts *o)
{
	const char *b = "throughput";
	static const unsigned int depths[] = { 1, 8, 64 };
	uint64_t dur = o->short_run ? 200000000ull : 2000000000ull;
	int pe0 = open_pe(0, NPU_FILE_PE0, b), pe1 = open_pe(0, NPU_FILE_PE1, b);
	int card1 = open_pe(1, NPU_FILE_PE0, b);
	double one = 0, two, cards;
	char metric[64];

	for (unsigned int k = 0; k < 2; k++) {
		for (unsigned int i = 0; i < 3; i++) {
			double r = streams_rate(&pe0, 1, depths[i], k == 1, dur, b);

			snprintf(metric, sizeof(metric), "%s_depth%u_jobs_per_s_pe",
				 k ? "copy4k" : "nop", depths[i]);
			if (!k && depths[i] == 64) {
				one = r;
				emit_goal(b, metric, r, "jobs/s", ">=", 100000);
			} else {
				emit(b, metric, r, "jobs/s");
			}
		}
	}
	two = streams_rate((int[]){ pe0, pe1 }, 2, 64, false, dur, b);
	emit(b, "nop_depth64_jobs_per_s_two_pes", two, "jobs/s");
	emit_goal(b, "two_pes_ratio_to_one", two / one, "x", ">=", 1.9);
	cards = streams_rate((int[]){ pe0, card1 }, 2, 64, false, dur, b);
	emit(b, "nop_depth64_jobs_per_s_two_cards", cards, "jobs/s");
	emit_goal(b, "two_cards_ratio_to_one", cards / one, "x", ">=", 1.9);
	close(pe0);
	close(pe1);
	close(card1);
}

/* ---- DMA --------------------------------------------------------------------- */

enum buf_kind { BUF_BO, BUF_USERPTR, BUF_DMABUF, BUF_KINDS };
static const char *const buf_names[BUF_KINDS] = { "bo", "userptr", "dmabuf" };

/* A buffer of each kind on file fd; returns its handle and host mapping. */
static uint32_t make_buffer(enum buf_kind kind, int fd, int other_fd, uint64_t size,
			    uint8_t **map, struct npu_bo *keep, const char *bench)
{
	int ret;

	if (kind == BUF_BO) {
		ret = npu_bo_alloc(fd, size, keep);
		if (ret)
			die(bench, "BO_CREATE failed", ret);
		*map = keep->map;
		return keep->handle;
	}
	if (kind == BUF_USERPTR) {
		struct npu_bo_userptr up = { .size = size };
		void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);

		if (mem == MAP_FAILED)
			die(bench, "mmap of the userptr buffer failed", errno);
		memset(mem, 1, size);
		up.user_ptr = (uintptr_t)mem;
		if (ioctl(fd, NPU_IOCTL_BO_USERPTR, &up))
			die(bench, "BO_USERPTR failed", errno);
		*map = mem;
		keep->map = mem;
		keep->size = size;
		keep->fd = -1;
		return up.handle;
	} else {
		struct npu_bo_export ex = { 0 };
		struct npu_bo_import im = { 0 };

		/* Exported by card 1's file, imported here: a foreign dma-buf. */
		ret = npu_bo_alloc(other_fd, size, keep);
		if (ret)
			die(bench, "BO_CREATE (to export) failed", ret);
		ex.handle = keep->handle;
		ex.flags = NPU_BO_EXPORT_CLOEXEC;
		if (ioctl(other_fd, NPU_IOCTL_BO_EXPORT, &ex))
			die(bench, "BO_EXPORT failed", errno);
		im.fd = ex.fd;
		if (ioctl(fd, NPU_IOCTL_BO_IMPORT, &im))
			die(bench, "BO_IMPORT failed", errno);
		close(ex.fd);
		*map = keep->map;
		return im.handle;
	}
}

static double memcpy_bw(uint8_t *dst, const uint8_t *src, uint64_t size, unsigned int reps,
			const char *bench)
{
	uint64_t *t = xcalloc(reps, bench);
	double r;

	for (unsigned int i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();

		memcpy(dst, src, size);
		t[i] = now_ns() - t0;
	}
	r = (double)size / (double)quantile(t, reps, 0.5);	/* bytes per ns = GB/s */
	free(t);
	return r;
}

static void bench_dma(const struct opts *o)
{
	const char *b = "dma";
	static const uint64_t full_sizes[] = { 4096, 65536, MIB, 8 * MIB, 64 * MIB };
	static const uint64_t short_sizes[] = { 4096, 65536, MIB };
	const uint64_t *sizes = o->short_run ? short_sizes : full_sizes;
	unsigned int nsizes = o->short_run ? 3 : 5;
	uint64_t max = sizes[nsizes - 1];
	int fd = open_pe(0, NPU_FILE_PE0, b), other = open_pe(1, NPU_FILE_PE0, b);
	uint8_t *src = malloc(max), *dst = malloc(max);
	double guest_memcpy[5];
	char metric[96];

	if (!src || !dst)
		die(b, "out of memory", ENOMEM);
	memset(src, 3, max);
	memset(dst, 4, max);
	for (unsigned int s = 0; s < nsizes; s++) {
		unsigned int reps = sizes[s] >= 8 * MIB ? 5 : 15;

		guest_memcpy[s] = memcpy_bw(dst, src, sizes[s], o->short_run ? 3 : reps, b);
		snprintf(metric, sizeof(metric), "guest_memcpy_%" PRIu64 "k_GBps", sizes[s] / 1024);
		emit(b, metric, guest_memcpy[s], "GB/s");
	}
	for (unsigned int k = 0; k < BUF_KINDS; k++) {
		struct npu_bo keep;
		uint8_t *map;
		uint32_t handle = make_buffer(k, fd, other, max, &map, &keep, b);

		for (unsigned int dir = 0; dir < 2; dir++) {
			for (unsigned int s = 0; s < nsizes; s++) {
				unsigned int reps = o->short_run ? 3 : sizes[s] >= 8 * MIB ? 5 : 15;
				uint64_t *t = xcalloc(reps, b);
				struct npu_job_cmd cmd = {
					.op = dir ? NPU_JOB_CMD_COPY_FROM_DRAM :
						    NPU_JOB_CMD_COPY_TO_DRAM,
					.handle = handle, .length = sizes[s],
				};
				double bw;

				for (unsigned int r = 0; r < reps; r++) {
					struct npu_wait w;
					uint64_t t0 = now_ns();

					run_job(fd, &cmd, 1, &w, b);
					t[r] = now_ns() - t0;
				}
				bw = (double)sizes[s] / (double)quantile(t, reps, 0.5);
				free(t);
				snprintf(metric, sizeof(metric), "%s_%s_%" PRIu64 "k_GBps",
					 buf_names[k], dir ? "from_dram" : "to_dram",
					 sizes[s] / 1024);
				emit(b, metric, bw, "GB/s");
				snprintf(metric, sizeof(metric),
					 "%s_%s_%" PRIu64 "k_ratio_to_guest_memcpy", buf_names[k],
					 dir ? "from_dram" : "to_dram", sizes[s] / 1024);
				emit(b, metric, bw / guest_memcpy[s], "x");
			}
		}
		if (k == BUF_USERPTR) {
			struct npu_bo_free fr = { .handle = handle };

			ioctl(fd, NPU_IOCTL_BO_FREE, &fr);
			munmap(keep.map, keep.size);
		} else {
			if (k == BUF_DMABUF) {
				struct npu_bo_free fr = { .handle = handle };

				ioctl(fd, NPU_IOCTL_BO_FREE, &fr);
			}
			npu_bo_release(&keep);
		}
	}
	free(src);
	free(dst);
	close(fd);
	close(other);
}

/* ---- HAL overhead -------------------------------------------------------------- */

struct raw_prog {
	uint64_t code_addr, code_size;
	const struct npu_prog_tensor *in, *out;
};

/* Loads the program's sections into DRAM through fd, as the HAL does at create. */
static void raw_load(int fd, const npu_program *prog, struct raw_prog *rp, const char *bench)
{
	memset(rp, 0, sizeof(*rp));
	for (size_t i = 0; i < npu_program_section_count(prog); i++) {
		const struct npu_prog_section *sec = npu_program_section(prog, i);
		int ret;

		if (sec->type != NPU_PROG_SECTION_CODE && sec->type != NPU_PROG_SECTION_CONST)
			continue;
		if (sec->type == NPU_PROG_SECTION_CODE) {
			rp->code_addr = sec->dram_addr;
			rp->code_size = sec->size;
		}
		ret = npu_write_dram(fd, 0, sec->dram_addr, npu_program_section_data(prog, i),
				     sec->size);
		if (ret)
			die(bench, "loading a program section into DRAM failed", ret);
	}
	for (size_t i = 0; i < npu_program_tensor_count(prog); i++) {
		const struct npu_prog_tensor *t = npu_program_tensor(prog, i);

		if (t->kind == NPU_TENSOR_INPUT && !rp->in)
			rp->in = t;
		else if (t->kind == NPU_TENSOR_OUTPUT && !rp->out)
			rp->out = t;
	}
	if (!rp->code_size || !rp->in || !rp->out || npu_program_tensor_count(prog) != 2)
		die(bench, "the program must have code, one input and one output", EINVAL);
}

struct raw_slot {
	struct npu_bo in, out;
	struct npu_job_cmd cmds[3];
};

static void raw_slot_init(int fd, const struct raw_prog *rp, struct raw_slot *s,
			  const char *bench)
{
	if (npu_bo_alloc(fd, rp->in->byte_size, &s->in) ||
	    npu_bo_alloc(fd, rp->out->byte_size, &s->out))
		die(bench, "BO_CREATE failed", ENOMEM);
	s->cmds[0] = npu_cmd_to_dram(&s->in, 0, rp->in->dram_addr, rp->in->byte_size);
	s->cmds[1] = npu_cmd_exec(rp->code_addr, rp->code_size, 0);
	s->cmds[2] = npu_cmd_from_dram(&s->out, 0, rp->out->dram_addr, rp->out->byte_size);
}

static void bench_hal(const struct opts *o)
{
	const char *b = "hal";
	unsigned int n = o->short_run ? 30 : 400, qjobs = o->short_run ? 60 : 2000;
	uint64_t *t = xcalloc(n, b);
	npu_program *prog;
	npu_session *session;
	npu_runner *runner;
	npu_queue *queue;
	npu_queue_options qo = { .inflight_per_unit = 4 };
	struct raw_prog rp;
	struct raw_slot slot[4];
	uint8_t *in, *out_hal, *out_raw;
	double hal_run, raw_run, hal_q, raw_q;
	uint64_t t0;
	int fd;

	if (npu_program_load(o->program, &prog))
		die(b, npu_last_error(), 0);
	if (npu_session_open("npu:0:0", NULL, &session) ||
	    npu_runner_create(session, prog, &runner))
		die(b, npu_last_error(), 0);
	if (npu_runner_input_count(runner) != 1 || npu_runner_output_count(runner) != 1)
		die(b, "the program must have one input and one output", EINVAL);
	in = npu_alloc_tensor(npu_runner_input(runner, 0)->byte_size);
	out_hal = npu_alloc_tensor(npu_runner_output(runner, 0)->byte_size);
	out_raw = npu_alloc_tensor(npu_runner_output(runner, 0)->byte_size);
	if (!in || !out_hal || !out_raw)
		die(b, "out of memory", ENOMEM);
	for (size_t i = 0; i < npu_runner_input(runner, 0)->byte_size; i++)
		in[i] = (uint8_t)(i * 7 + 1);

	/* HAL: npu_runner_run, then a queue keeping 4 in flight. */
	for (unsigned int i = 0; i < n; i++) {
		const void *ins[1] = { in };
		void *outs[1] = { out_hal };

		t0 = now_ns();
		if (npu_runner_run(runner, ins, outs, NULL))
			die(b, npu_last_error(), 0);
		t[i] = now_ns() - t0;
	}
	hal_run = (double)quantile(t, n, 0.5);
	if (npu_queue_create(runner, &qo, &queue))
		die(b, npu_last_error(), 0);
	t0 = now_ns();
	{
		unsigned int sent = 0, got = 0;

		while (got < qjobs) {
			const void *ins[1] = { in };
			void *outs[1] = { out_hal };
			void *ctx;

			while (sent < qjobs && sent - got < 4) {
				if (npu_queue_submit(queue, ins, NULL, -1))
					die(b, npu_last_error(), 0);
				sent++;
			}
			if (npu_queue_recv(queue, -1, &ctx, outs, NULL))
				die(b, npu_last_error(), 0);
			got++;
		}
	}
	hal_q = (double)qjobs * 1e9 / (double)(now_ns() - t0);
	npu_queue_destroy(queue);
	npu_runner_destroy(runner);
	npu_session_close(session);

	/* Raw: the same jobs through the ioctls, with BOs made once. */
	fd = open_pe(0, NPU_FILE_PE0, b);
	raw_load(fd, prog, &rp, b);
	for (unsigned int s = 0; s < 4; s++)
		raw_slot_init(fd, &rp, &slot[s], b);
	for (unsigned int i = 0; i < n; i++) {
		struct npu_wait w;

		t0 = now_ns();
		memcpy(slot[0].in.map, in, rp.in->byte_size);
		run_job(fd, slot[0].cmds, 3, &w, b);
		memcpy(out_raw, slot[0].out.map, rp.out->byte_size);
		t[i] = now_ns() - t0;
	}
	raw_run = (double)quantile(t, n, 0.5);
	if (memcmp(out_raw, out_hal, rp.out->byte_size))
		die(b, "the raw ioctl sequence and the HAL computed different outputs", EBADMSG);
	t0 = now_ns();
	{
		uint64_t seq_of[4] = { 0 };
		unsigned int sent = 0, got = 0;

		while (got < qjobs) {
			struct npu_wait w;
			unsigned int s;
			int ret;

			for (s = 0; s < 4 && sent < qjobs; s++) {
				if (seq_of[s])
					continue;
				memcpy(slot[s].in.map, in, rp.in->byte_size);
				ret = npu_submit(fd, 0, slot[s].cmds, 3, &seq_of[s]);
				if (ret)
					die(b, "SUBMIT failed", ret);
				sent++;
			}
			ret = npu_wait(fd, NPU_WAIT_ANY, -1, &w);
			if (ret)
				die(b, "WAIT failed", ret);
			for (s = 0; s < 4; s++)
				if (seq_of[s] == w.seqno)
					break;
			if (s == 4)
				die(b, "WAIT returned a job that was not submitted", EPROTO);
			memcpy(out_raw, slot[s].out.map, rp.out->byte_size);
			seq_of[s] = 0;
			got++;
		}
	}
	raw_q = (double)qjobs * 1e9 / (double)(now_ns() - t0);
	for (unsigned int s = 0; s < 4; s++) {
		npu_bo_release(&slot[s].in);
		npu_bo_release(&slot[s].out);
	}
	close(fd);
	npu_free_tensor(in);
	npu_free_tensor(out_hal);
	npu_free_tensor(out_raw);
	npu_program_free(prog);
	free(t);

	emit(b, "runner_run_p50_ns", hal_run, "ns");
	emit(b, "raw_run_p50_ns", raw_run, "ns");
	emit_goal(b, "runner_run_ratio_to_raw", hal_run / raw_run, "x", "<=", 1.05);
	emit(b, "queue_jobs_per_s", hal_q, "jobs/s");
	emit(b, "raw_queue_jobs_per_s", raw_q, "jobs/s");
	emit_goal(b, "queue_ratio_to_raw", hal_q / raw_q, "x", ">=", 0.95);
}

/* ---- device-time fidelity ------------------------------------------------------- */

/* Device time of one job in cycles; the PE's PERF_TASK_CYCLES delta in *charged. */
static uint64_t job_cycles(int fd, const struct npu_bar *bar, const struct npu_job_cmd *cmds,
			   uint32_t n, uint64_t *charged, uint64_t *prev_end, unsigned int *bad,
			   const char *bench)
{
	uint32_t reg = NPU_PE_BASE(0) + NPU_PE_PERF_TASK_CYCLES;
	uint64_t before = npu_bar_read64_stable(bar, reg);
	struct npu_wait w;

	run_job(fd, cmds, n, &w, bench);
	*charged = npu_bar_read64_stable(bar, reg) - before;
	if (w.start_ts < *prev_end || w.end_ts < w.start_ts)
		(*bad)++;
	*prev_end = w.end_ts;
	return w.end_ts - w.start_ts;
}

static void bench_fidelity(const struct opts *o)
{
	const char *b = "fidelity";
	int fd = open_pe(0, NPU_FILE_PE0, b);
	struct npu_device_info info;
	struct npu_bar bar;
	struct npu_bo bo, prog_bo;
	struct npu_insn insns[2];
	uint64_t prev_end = 0, charged;
	unsigned int bad = 0;
	double ns_per_cycle;
	char metric[96];
	static const uint64_t dma_sizes[] = { 64, 4096, 65536, MIB, 8 * MIB };
	unsigned int ndma = o->short_run ? 3 : 5;
	int ret = npu_device_info(fd, &info);

	if (ret)
		die(b, "DEVICE_INFO failed", ret);
	ns_per_cycle = 1000.0 / info.clock_mhz;
	ret = npu_bar_map(info.busname, &bar);
	if (ret)
		die(b, "cannot map BAR0 through sysfs resource0", ret);
	if (npu_bo_alloc(fd, 8 * MIB, &bo) || npu_bo_alloc(fd, 4096, &prog_bo))
		die(b, "BO_CREATE failed", ENOMEM);

	/* What each command costs in the table of docs/hardware.md section 12. */
	struct {
		const char *name;
		struct npu_job_cmd cmd[2];
		uint32_t n;
		uint64_t table;		/* cycles; 0: DMA, bounds from the SG count */
		uint64_t bytes;
	} k[16];
	unsigned int nk = 0;

	k[nk++] = (typeof(k[0])){ "nop", { nop_cmd }, 1, 4, 0 };
	k[nk++] = (typeof(k[0])){ "fence", { { .op = NPU_JOB_CMD_FENCE } }, 1, 16, 0 };
	k[nk++] = (typeof(k[0])){ "nop_fence", { nop_cmd, { .op = NPU_JOB_CMD_FENCE } }, 2, 20,
				  0 };
	for (unsigned int i = 0; i < ndma; i++)
		for (unsigned int dir = 0; dir < 2; dir++) {
			static char names[10][48];

			snprintf(names[nk - 3], sizeof(names[0]), "dma_%s_%" PRIu64 "b",
				 dir ? "from_dram" : "to_dram", dma_sizes[i]);
			k[nk] = (typeof(k[0])){ names[nk - 3], { { 0 } }, 1, 0, dma_sizes[i] };
			k[nk].cmd[0] = dir ? npu_cmd_from_dram(&bo, 0, 0x100000, dma_sizes[i]) :
					     npu_cmd_to_dram(&bo, 0, 0x100000, dma_sizes[i]);
			nk++;
		}
	/* A 64x64x64 matmul and HALT: 32 launch + (8 + 64^3 / 256) + 8 cycles. */
	insns[0] = npu_insn_matmul(0x10000, 0, 0x1000, 64, 64, 64, false);
	insns[1] = npu_insn_halt();
	memcpy(prog_bo.map, insns, sizeof(insns));
	{
		struct npu_job_cmd load = npu_cmd_to_dram(&prog_bo, 0, 0x20000, sizeof(insns));
		struct npu_wait w;

		run_job(fd, &load, 1, &w, b);
	}
	k[nk] = (typeof(k[0])){ "program_matmul64", { npu_cmd_exec(0x20000, sizeof(insns), 0) },
				1, 32 + 8 + 64 * 64 * 64 / 256 + 8, 0 };
	nk++;

	for (unsigned int i = 0; i < nk; i++) {
		uint64_t dev = job_cycles(fd, &bar, k[i].cmd, k[i].n, &charged, &prev_end, &bad, b);
		uint64_t expect = k[i].table;
		double err_ns, limit;

		if (k[i].bytes) {
			/* 64 + bytes/32 + 4 per SG entry; the driver picks 1..pages entries. */
			uint64_t base = 64 + (k[i].bytes + 31) / 32;
			uint64_t pages = (k[i].bytes + 4095) / 4096;

			expect = charged;
			if (charged < base + 4 || charged > base + 4 * pages || (charged - base) % 4)
				die(b, "the model charged a DMA outside the cost table's bounds",
				    ERANGE);
		}
		err_ns = (double)(dev > expect ? dev - expect : expect - dev) * ns_per_cycle;
		limit = (double)expect * ns_per_cycle * 0.01;
		if (limit < 100)
			limit = 100;
		snprintf(metric, sizeof(metric), "%s_device_ns", k[i].name);
		emit(b, metric, (double)dev * ns_per_cycle, "ns");
		snprintf(metric, sizeof(metric), "%s_error_vs_table_ns", k[i].name);
		emit_goal(b, metric, err_ns, "ns", "<=", limit);
	}
	emit_goal(b, "timestamps_out_of_order", bad, "jobs", "<=", 0);
	npu_bo_release(&bo);
	npu_bo_release(&prog_bo);
	npu_bar_unmap(&bar);
	close(fd);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(const struct opts *o);
	} benches[] = {
		{ "floor", bench_floor }, { "roundtrip", bench_roundtrip },
		{ "throughput", bench_throughput }, { "dma", bench_dma }, { "hal", bench_hal },
		{ "fidelity", bench_fidelity },
	};
	struct opts o = { .program = DEFAULT_PROGRAM };
	int i = 1;

	if (i < argc && !strcmp(argv[i], "--short")) {
		o.short_run = true;
		i++;
	}
	if (i >= argc || argc - i > 2)
		goto usage;
	if (argc - i == 2)
		o.program = argv[i + 1];
	for (size_t k = 0; k < sizeof(benches) / sizeof(benches[0]); k++) {
		if (!strcmp(argv[i], benches[k].name)) {
			benches[k].fn(&o);
			return 0;
		}
	}
usage:
	fprintf(stderr, "usage: npu-guest-bench [--short] "
		"floor|roundtrip|throughput|dma|hal|fidelity [PROGRAM]\n");
	return 2;
}
