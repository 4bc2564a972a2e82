// SPDX-License-Identifier: MIT
/*
 * The driver's trace events (events/npu/ in tracefs, docs/driver.md "Trace
 * events"): each test enables them in a tracefs instance of its own, runs
 * jobs, and checks the records against what SUBMIT, WAIT and fdinfo told
 * the test: one submit, start and done record per job with its card, PE,
 * client id and seqno, the job id the same in all three, the device's
 * timestamps and the status WAIT returned; a failing job (a bad program,
 * and a DMA fault injected by the model); a manual PE reset and a hang the
 * watchdog resets (npu_reset with its reason, the jobs it finished before
 * it); and an unbind with jobs in flight (npu_unplug, then device_lost).
 *
 * tracefs is mounted on /sys/kernel/tracing if it is not yet; the tests
 * skip only if the kernel has no tracefs at all. The instance uses the
 * "counter" clock, so the order of records is the order of events, across
 * CPUs too. Faults and unplugs use card 1 (faults=on), plain jobs card 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define TRACEFS		"/sys/kernel/tracing"
#define FAULT_CARD	1
#define MAX_RECS	4096

enum rec_kind { REC_SUBMIT, REC_START, REC_DONE, REC_RESET, REC_UNPLUG, REC_KINDS };

static const char *const rec_names[REC_KINDS] = {
	"npu_job_submit", "npu_job_start", "npu_job_done", "npu_reset", "npu_unplug",
};

/* One record of the trace, its fields as printed. */
struct rec {
	enum rec_kind kind;
	unsigned int card, pe_u, cmds, info, jobs;
	int pe, ret;
	uint64_t client, seqno, job_id, start_ts, end_ts;
	char status[32], reason[32];
};

struct trace_log {
	struct rec *recs;
	unsigned int count;
	unsigned int unparsed;		/* npu_ lines that did not parse */
	char bad[256];			/* the first of them */
};

/* Writes val to the instance's file rel; 0 or -errno. */
static int inst_write(const char *inst, const char *rel, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", inst, rel);
	return npu_write_file(path, val);
}

/* The whole of a (possibly large) file, NUL-terminated, malloc'ed; NULL on error. */
static char *read_all(const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				n = -1;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

static bool parse_fields(struct rec *r, const char *f)
{
	switch (r->kind) {
	case REC_SUBMIT:
		return sscanf(f, "card=%u pe=%u client=%" SCNu64 " seqno=%" SCNu64 " job=%" SCNu64
			      " cmds=%u", &r->card, &r->pe_u, &r->client, &r->seqno, &r->job_id,
			      &r->cmds) == 6;
	case REC_START:
		return sscanf(f, "card=%u pe=%u client=%" SCNu64 " seqno=%" SCNu64 " job=%" SCNu64
			      " start_ts=%" SCNu64, &r->card, &r->pe_u, &r->client, &r->seqno,
			      &r->job_id, &r->start_ts) == 6;
	case REC_DONE:
		return sscanf(f, "card=%u pe=%u client=%" SCNu64 " seqno=%" SCNu64 " job=%" SCNu64
			      " status=%31s info=%x start_ts=%" SCNu64 " end_ts=%" SCNu64, &r->card,
			      &r->pe_u, &r->client, &r->seqno, &r->job_id, r->status, &r->info,
			      &r->start_ts, &r->end_ts) == 9;
	case REC_RESET:
		return sscanf(f, "card=%u pe=%d reason=%31s ret=%d", &r->card, &r->pe, r->reason,
			      &r->ret) == 4;
	case REC_UNPLUG:
		return sscanf(f, "card=%u jobs=%u", &r->card, &r->jobs) == 2;
	default:
		return false;
	}
}

/* Parses the instance's trace buffer into log; 0 or -errno. */
static int trace_read(const char *inst, struct trace_log *log)
{
	char path[PATH_MAX];
	char *text, *line, *next;

	memset(log, 0, sizeof(*log));
	log->recs = calloc(MAX_RECS, sizeof(*log->recs));
	if (!log->recs)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/trace", inst);
	text = read_all(path);
	if (!text)
		return -EIO;
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (line[0] == '#' || !strstr(line, " npu_"))
			continue;
		for (int k = 0; k < REC_KINDS; k++) {
			char key[64];
			const char *at;
			struct rec r = { .kind = k };

			snprintf(key, sizeof(key), " %s: ", rec_names[k]);
			at = strstr(line, key);
			if (!at)
				continue;
			if (!parse_fields(&r, at + strlen(key)) || log->count == MAX_RECS) {
				if (!log->unparsed++)
					snprintf(log->bad, sizeof(log->bad), "%s", line);
			} else {
				log->recs[log->count++] = r;
			}
			break;
		}
	}
	free(text);
	return 0;
}

static void trace_log_free(struct trace_log *log)
{
	free(log->recs);
	log->recs = NULL;
}

/* Index of the only record of kind for (client, seqno); -1 if none, -2 if several. */
static int find_job_rec(const struct trace_log *log, enum rec_kind kind, uint64_t client,
			uint64_t seqno)
{
	int found = -1;

	for (unsigned int i = 0; i < log->count; i++) {
		const struct rec *r = &log->recs[i];

		if (r->kind == kind && r->client == client && r->seqno == seqno) {
			if (found >= 0)
				return -2;
			found = (int)i;
		}
	}
	return found;
}

static unsigned int count_kind(const struct trace_log *log, enum rec_kind kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < log->count; i++)
		n += log->recs[i].kind == kind;
	return n;
}

/* drm-client-id of fd (fdinfo), the client of its job records; 0 if missing. */
static uint64_t client_id(int fd)
{
	char path[64], text[2048], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (npu_read_text(path, text, sizeof(text)) < 0)
		return 0;
	p = strstr(text, "drm-client-id:\t");
	return p ? strtoull(p + strlen("drm-client-id:\t"), NULL, 10) : 0;
}

/* Is tracefs a file system this kernel knows? */
static bool tracefs_in_kernel(void)
{
	char text[4096];

	if (npu_read_text("/proc/filesystems", text, sizeof(text)) < 0)
		return false;
	return strstr(text, "\ttracefs\n") != NULL;
}

/*
 * The checks of one job's three records (submit, start, done) against what
 * SUBMIT and WAIT returned; a macro, so the ASSERTs belong to the test.
 * Leaves the indices in idx[] (start: -1 for a job that never ran).
 */
#define CHECK_JOB_RECORDS(log, card_, client_, w, cmds_, status_, idx) do { \
	const struct rec *s_, *d_; \
	(idx)[0] = find_job_rec((log), REC_SUBMIT, (client_), (w)->seqno); \
	(idx)[1] = find_job_rec((log), REC_START, (client_), (w)->seqno); \
	(idx)[2] = find_job_rec((log), REC_DONE, (client_), (w)->seqno); \
	ASSERT_LE(0, (idx)[0]) TH_LOG("seqno %llu: %s submit record", \
				       (unsigned long long)(w)->seqno, \
				       (idx)[0] == -2 ? "more than one" : "no"); \
	ASSERT_LE(0, (idx)[2]) TH_LOG("seqno %llu: %s done record", \
				       (unsigned long long)(w)->seqno, \
				       (idx)[2] == -2 ? "more than one" : "no"); \
	s_ = &(log)->recs[(idx)[0]]; \
	d_ = &(log)->recs[(idx)[2]]; \
	EXPECT_EQ((unsigned int)(card_), s_->card); \
	EXPECT_EQ((w)->pe, s_->pe_u); \
	EXPECT_EQ((unsigned int)(cmds_), s_->cmds); \
	EXPECT_EQ((unsigned int)(card_), d_->card); \
	EXPECT_EQ((w)->pe, d_->pe_u); \
	EXPECT_EQ(s_->job_id, d_->job_id); \
	EXPECT_LT(0, s_->job_id); \
	EXPECT_STREQ((status_), d_->status); \
	EXPECT_EQ((w)->info, d_->info); \
	EXPECT_EQ((w)->start_ts, d_->start_ts); \
	EXPECT_EQ((w)->end_ts, d_->end_ts); \
	EXPECT_LT((idx)[0], (idx)[2]) TH_LOG("done before submit"); \
	if ((w)->start_ts) { \
		const struct rec *b_; \
		ASSERT_LE(0, (idx)[1]) TH_LOG("seqno %llu ran but has %s start record", \
					       (unsigned long long)(w)->seqno, \
					       (idx)[1] == -2 ? "more than one" : "no"); \
		b_ = &(log)->recs[(idx)[1]]; \
		EXPECT_EQ((unsigned int)(card_), b_->card); \
		EXPECT_EQ((w)->pe, b_->pe_u); \
		EXPECT_EQ(s_->job_id, b_->job_id); \
		EXPECT_EQ((w)->start_ts, b_->start_ts); \
		EXPECT_LT((idx)[0], (idx)[1]); \
		EXPECT_LT((idx)[1], (idx)[2]); \
		EXPECT_LE((w)->start_ts, (w)->end_ts); \
	} else { \
		EXPECT_EQ(-1, (idx)[1]) TH_LOG("seqno %llu never ran but has a start record", \
					       (unsigned long long)(w)->seqno); \
		EXPECT_EQ(0, d_->end_ts); \
	} \
} while (0)

FIXTURE(trace)
{
	char inst[128];			/* the tracefs instance, "" if none */
	bool mounted;			/* this test mounted tracefs */
	struct trace_log log;
	/* card 1, for the tests that inject faults or unbind */
	struct npu_fault_dev fdev;
	unsigned int job_timeout_ms;
	bool timeout_saved, unbound;
	char driver_dir[PATH_MAX];
	/* tracefs' top-level record-cmd and record-tgid, restored at the end ("" if unread) */
	char record[2][4];
};

/*
 * Enabling any event with record-cmd or record-tgid set also hooks the
 * scheduler's sched_switch tracepoint (to remember task names), which
 * live-patches __schedule on every enable and disable. Under TCG on two
 * vCPUs that patching once ended in an int3 oops inside __schedule (7.3,
 * CI): an emulation hazard of cross-modifying code, not of the driver. A
 * new instance takes these flags from the top level when it is made, so
 * they are cleared there first: then only the npu events' own sites change.
 */
static const char *const record_opts[2] = { "options/record-cmd", "options/record-tgid" };

FIXTURE_SETUP(trace)
{
	char path[PATH_MAX], val[16];
	int ret;

	self->inst[0] = 0;
	self->record[0][0] = self->record[1][0] = 0;
	if (access(TRACEFS "/trace", F_OK)) {
		if (!tracefs_in_kernel())
			SKIP(return, "this kernel has no tracefs (not in /proc/filesystems)");
		ret = mount("tracefs", TRACEFS, "tracefs", 0, NULL);
		ASSERT_EQ(0, ret) TH_LOG("mount tracefs on %s: %s", TRACEFS, strerror(errno));
		self->mounted = true;
	}
	ASSERT_TRUE(npu_device_present(0)) TH_LOG("/dev/npu0_mgmt missing: npu.ko not loaded");
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), TRACEFS "/%s", record_opts[i]);
		if (npu_read_line(path, self->record[i], sizeof(self->record[i])) > 0)
			ASSERT_EQ(0, npu_write_file(path, "0")) TH_LOG("clearing %s", path);
	}
	snprintf(self->inst, sizeof(self->inst), TRACEFS "/instances/npu_trace_test_%d",
		 (int)getpid());
	ret = mkdir(self->inst, 0755);
	if (ret) {
		ret = errno;
		self->inst[0] = 0;
		ASSERT_EQ(0, ret) TH_LOG("mkdir tracefs instance: %s", strerror(ret));
	}
	snprintf(path, sizeof(path), "%s/events/npu", self->inst);
	ASSERT_EQ(0, access(path, F_OK)) TH_LOG("%s missing: the driver has no trace events",
						path);
	ASSERT_EQ(0, inst_write(self->inst, "trace_clock", "counter"));
	ASSERT_EQ(0, inst_write(self->inst, "events/npu/enable", "1"));
	snprintf(path, sizeof(path), "%s/events/npu/enable", self->inst);
	ASSERT_LT(0, npu_read_line(path, val, sizeof(val)));
	ASSERT_STREQ("1", val);
	/* records from now on only: opening trace with O_TRUNC empties the buffer */
	snprintf(path, sizeof(path), "%s/trace", self->inst);
	ret = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, ret) TH_LOG("%s: %s", path, strerror(errno));
	close(ret);
}

FIXTURE_TEARDOWN(trace)
{
	char path[PATH_MAX + 8];

	if (self->unbound && !npu_device_present(FAULT_CARD)) {
		snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
		npu_write_file(path, self->fdev.busname);
		for (int i = 0; i < 1000 && !npu_device_present(FAULT_CARD); i++)
			usleep(10000);
	}
	if (self->fdev.regs && npu_device_present(FAULT_CARD)) {
		npu_fault_disarm(&self->fdev, NPU_FAULT_HANG | NPU_FAULT_DMA);
		if (self->timeout_saved)
			npu_job_timeout_set(&self->fdev, self->job_timeout_ms);
	}
	npu_fault_dev_close(&self->fdev);
	trace_log_free(&self->log);
	if (self->inst[0]) {
		inst_write(self->inst, "events/npu/enable", "0");
		rmdir(self->inst);
	}
	for (int i = 0; i < 2; i++)
		if (self->record[i][0])
			inst_write(TRACEFS, record_opts[i], self->record[i]);
	if (self->mounted)
		umount(TRACEFS);
}

/* Card 1 with faults=on, its job timeout saved for the teardown. */
#define OPEN_FAULT_CARD() do { \
	ASSERT_TRUE(npu_device_present(FAULT_CARD)) TH_LOG("needs two cards"); \
	ASSERT_EQ(0, npu_fault_dev_open(FAULT_CARD, &self->fdev)); \
	ASSERT_TRUE(npu_fault_supported(&self->fdev)) \
		TH_LOG("card %d has no faults=on", FAULT_CARD); \
	ASSERT_EQ(0, npu_job_timeout_get(&self->fdev, &self->job_timeout_ms)); \
	self->timeout_saved = true; \
} while (0)

/* Reads the trace, and fails the test on any npu_ line that does not parse. */
#define READ_TRACE() do { \
	ASSERT_EQ(0, trace_read(self->inst, &self->log)); \
	EXPECT_EQ(0, self->log.unparsed) TH_LOG("unparsed: %s", self->log.bad); \
} while (0)

/*
 * Arms a HANG of PE0 for one firing, the watchdog set to timeout_ms (0:
 * off); *fired: FAULT_FIRED before.
 */
static int arm_hang(struct npu_fault_dev *fdev, unsigned int timeout_ms, uint32_t *fired)
{
	int ret = npu_job_timeout_set(fdev, timeout_ms);

	if (ret)
		return ret;
	*fired = npu_fault_fired(fdev);
	return npu_fault_arm(fdev, NPU_FAULT_HANG, 1u << 0, 1, 0);
}

/* Waits up to 10 s for the HANG to have fired with PE0 BUSY on it. */
static bool wait_hung(const struct npu_fault_dev *fdev, uint32_t fired)
{
	for (int i = 0; i < 1000; i++) {
		uint32_t st = npu_fault_reg_read(fdev, NPU_PE_BASE(0) + NPU_PE_STATUS);

		if (npu_fault_fired(fdev) != fired && (st & NPU_PE_STATUS_BUSY))
			return true;
		usleep(10000);
	}
	return false;
}

/* Every event is there, with the fields docs/driver.md lists. */
TEST_F(trace, format_files_name_the_fields)
{
	static const struct {
		const char *event;
		const char *fields[10];
	} events[] = {
		{ "npu_job_submit", { "u32 card", "u32 pe", "u64 client", "u64 seqno",
				      "u64 job_id", "u32 cmds" } },
		{ "npu_job_start", { "u32 card", "u32 pe", "u64 client", "u64 seqno",
				     "u64 job_id", "u64 start_ts" } },
		{ "npu_job_done", { "u32 card", "u32 pe", "u64 client", "u64 seqno", "u64 job_id",
				    "u32 status", "u32 info", "u64 start_ts", "u64 end_ts" } },
		{ "npu_reset", { "u32 card", "s32 pe", "u32 reason", "s32 ret" } },
		{ "npu_unplug", { "u32 card", "u32 jobs" } },
	};

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		char path[PATH_MAX], val[16];
		char *fmt;

		snprintf(path, sizeof(path), "%s/events/npu/%s/format", self->inst,
			 events[i].event);
		fmt = read_all(path);
		ASSERT_NE(NULL, fmt) TH_LOG("%s: %s", path, strerror(errno));
		for (unsigned int f = 0; f < 10 && events[i].fields[f]; f++) {
			char want[64];

			snprintf(want, sizeof(want), "field:%s;", events[i].fields[f]);
			EXPECT_NE(NULL, strstr(fmt, want)) TH_LOG("%s: no %s", events[i].event, want);
		}
		/* enum names are resolved to numbers (TRACE_DEFINE_ENUM) */
		EXPECT_EQ(NULL, strstr(fmt, "NPU_JOB_")) TH_LOG("%s", fmt);
		EXPECT_EQ(NULL, strstr(fmt, "NPU_REASON_")) TH_LOG("%s", fmt);
		free(fmt);
		snprintf(path, sizeof(path), "%s/events/npu/%s/enable", self->inst,
			 events[i].event);
		ASSERT_LT(0, npu_read_line(path, val, sizeof(val)));
		EXPECT_STREQ("1", val) TH_LOG("%s not enabled by events/npu/enable",
					      events[i].event);
	}
}

/* Jobs on both PEs of npu0: three records each, as SUBMIT and WAIT saw them. */
TEST_F(trace, jobs_on_both_pes)
{
	enum { PER_PE = 3 };
	struct npu_wait w[2 * PER_PE];
	uint64_t seq[2 * PER_PE], client, last_job[2] = { 0, 0 };
	unsigned int ncmds[2 * PER_PE];
	struct npu_bo bo;
	int fd, idx[3];

	NPU_RETURN_IF_SKIPPED();
	fd = npu_open(0, NPU_FILE_ALL, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu0: %s", strerror(-fd));
	client = client_id(fd);
	ASSERT_LT(0, client);
	ASSERT_EQ(0, npu_bo_alloc(fd, 8192, &bo));
	memset(bo.map, 0x5a, 8192);
	for (int i = 0; i < 2 * PER_PE; i++) {
		uint32_t pe = (uint32_t)(i % 2);
		struct npu_job_cmd cmds[2] = {
			npu_cmd_to_dram(&bo, 0, 0x10000, 4096),
			npu_cmd_from_dram(&bo, 4096, 0x10000, 4096),
		};

		ncmds[i] = i < 2 ? 1 : 2;
		ASSERT_EQ(0, npu_submit(fd, pe, cmds, ncmds[i], &seq[i]));
	}
	for (int i = 0; i < 2 * PER_PE; i++) {
		ASSERT_EQ(0, npu_wait(fd, seq[i], -1, &w[i]));
		ASSERT_EQ((uint32_t)(i % 2), w[i].pe);
	}
	EXPECT_EQ(0, memcmp(bo.map, bo.map + 4096, 4096));
	npu_bo_release(&bo);
	close(fd);

	READ_TRACE();
	for (int i = 0; i < 2 * PER_PE; i++) {
		CHECK_JOB_RECORDS(&self->log, 0, client, &w[i], ncmds[i], "ok", idx);
		EXPECT_LT(0, w[i].start_ts) TH_LOG("an OK job without a start time");
		/* hardware job ids grow on each PE's ring */
		EXPECT_LT(last_job[w[i].pe], self->log.recs[idx[0]].job_id);
		last_job[w[i].pe] = self->log.recs[idx[0]].job_id;
	}
	EXPECT_EQ(2 * PER_PE, count_kind(&self->log, REC_SUBMIT));
	EXPECT_EQ(2 * PER_PE, count_kind(&self->log, REC_DONE));
	EXPECT_EQ(0, count_kind(&self->log, REC_RESET));
}

/* Failing jobs: a bad program (the device's BAD_DESC) and an injected DMA fault. */
TEST_F_TIMEOUT(trace, failing_jobs, 60)
{
	struct npu_insn prog[2] = { { .opcode = 0xff }, npu_insn_halt() };
	struct npu_wait bad, dma, ok;
	struct npu_job_cmd cmd;
	struct npu_bo bo;
	uint64_t client, seq;
	int fd, ret, idx[3];

	NPU_RETURN_IF_SKIPPED();
	OPEN_FAULT_CARD();
	fd = npu_open(FAULT_CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu%dpe0: %s", FAULT_CARD, strerror(-fd));
	client = client_id(fd);
	ASSERT_LT(0, client);

	ret = npu_run_program(fd, 0, 0x1000, prog, 2, &bad);
	ASSERT_EQ(-EIO, ret) TH_LOG("bad program: %s", strerror(-ret));
	ASSERT_EQ(NPU_JOB_BAD_DESC, bad.status);

	ASSERT_EQ(0, npu_bo_alloc(fd, 4096, &bo));
	cmd = npu_cmd_to_dram(&bo, 0, 0x20000, 4096);
	ASSERT_EQ(0, npu_fault_arm(&self->fdev, NPU_FAULT_DMA, 1u << 0, 1, 0));
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq));
	ret = npu_wait(fd, seq, 10ll * 1000000000, &dma);
	ASSERT_EQ(-EIO, ret) TH_LOG("DMA fault: %s", strerror(-ret));
	ASSERT_EQ(NPU_JOB_DMA_FAULT, dma.status);
	/* the next job is fine */
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq));
	ASSERT_EQ(0, npu_wait(fd, seq, 10ll * 1000000000, &ok));
	npu_bo_release(&bo);
	close(fd);

	READ_TRACE();
	/* npu_run_program(): the program's COPY_TO_DRAM, then its EXEC */
	CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &bad, 2, "bad_desc", idx);
	EXPECT_EQ(NPU_COMPLETION_INFO(1, 0), self->log.recs[idx[2]].info);
	CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &dma, 1, "dma_fault", idx);
	CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &ok, 1, "ok", idx);
	/* a failed job is no reason to reset */
	EXPECT_EQ(0, count_kind(&self->log, REC_RESET));
}

/*
 * A manual PE reset (debugfs) while PE0 hangs with two jobs: both end
 * cancelled, never started, before the reset's record; PE0 works after it.
 */
TEST_F_TIMEOUT(trace, manual_pe_reset, 60)
{
	struct npu_insn prog[2] = { npu_insn_copy(0x100000, 0x200000, 4096), npu_insn_halt() };
	struct npu_wait w[3];
	struct npu_job_cmd cmd = npu_cmd_exec(0, sizeof(prog), 0);
	char path[PATH_MAX + 16];
	uint64_t client, seq[3];
	uint32_t fired;
	int fd, ret, idx[2][3], reset = -1;

	NPU_RETURN_IF_SKIPPED();
	OPEN_FAULT_CARD();
	fd = npu_open(FAULT_CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu%dpe0: %s", FAULT_CARD, strerror(-fd));
	client = client_id(fd);
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	ASSERT_EQ(0, arm_hang(&self->fdev, 0, &fired));
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq[0]));
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq[1]));
	ASSERT_TRUE(wait_hung(&self->fdev, fired)) TH_LOG("PE0 did not hang");

	snprintf(path, sizeof(path), "/sys/kernel/debug/npu/%s/reset", self->fdev.busname);
	ret = npu_write_file(path, "pe0");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
	for (int i = 0; i < 2; i++) {
		ret = npu_wait(fd, seq[i], 10ll * 1000000000, &w[i]);
		ASSERT_EQ(-EIO, ret) TH_LOG("job %d: %s", i, strerror(-ret));
		ASSERT_EQ(NPU_JOB_CANCELLED, w[i].status);
	}
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq[2]));
	ASSERT_EQ(0, npu_wait(fd, seq[2], 10ll * 1000000000, &w[2]));
	close(fd);

	READ_TRACE();
	for (unsigned int i = 0; i < self->log.count; i++) {
		const struct rec *r = &self->log.recs[i];

		if (r->kind != REC_RESET)
			continue;
		EXPECT_EQ(-1, reset) TH_LOG("more than one reset record");
		reset = (int)i;
		EXPECT_EQ(FAULT_CARD, r->card);
		EXPECT_EQ(0, r->pe);
		EXPECT_STREQ("manual", r->reason);
		EXPECT_EQ(0, r->ret);
	}
	ASSERT_LE(0, reset) TH_LOG("no npu_reset record");
	for (int i = 0; i < 2; i++) {
		CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &w[i], 1, "cancelled", idx[i]);
		EXPECT_EQ(0, w[i].start_ts);
		EXPECT_LT(idx[i][2], reset) TH_LOG("job %d finished after the reset record", i);
	}
	CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &w[2], 1, "ok", idx[0]);
	EXPECT_LT(reset, idx[0][0]) TH_LOG("the job after the reset submitted before it");
}

/* A hang the watchdog finds: a reset for reason hang, the guilty job hang. */
TEST_F_TIMEOUT(trace, hang_reset_by_watchdog, 60)
{
	struct npu_insn prog[2] = { npu_insn_copy(0x100000, 0x200000, 4096), npu_insn_halt() };
	struct npu_job_cmd cmd = npu_cmd_exec(0, sizeof(prog), 0);
	char first[128];
	struct npu_wait w;
	uint64_t client, seq;
	unsigned int dumps, resets = 0;
	size_t bytes;
	uint32_t fired;
	int fd, ret, idx[3];

	NPU_RETURN_IF_SKIPPED();
	OPEN_FAULT_CARD();
	fd = npu_open(FAULT_CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu%dpe0: %s", FAULT_CARD, strerror(-fd));
	client = client_id(fd);
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	ASSERT_EQ(0, arm_hang(&self->fdev, 300, &fired));
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq));
	ret = npu_wait(fd, seq, 20ll * 1000000000, &w);
	ASSERT_EQ(-EIO, ret) TH_LOG("hung job: %s", strerror(-ret));
	ASSERT_EQ(NPU_JOB_HANG, w.status);
	ASSERT_EQ(0, npu_wait_ready(&self->fdev, 10000));
	close(fd);
	/* the hang left a devcoredump: free it */
	npu_coredump_collect(&self->fdev, &dumps, &bytes, first, sizeof(first));

	READ_TRACE();
	CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &w, 1, "hang", idx);
	for (unsigned int i = 0; i < self->log.count; i++) {
		const struct rec *r = &self->log.recs[i];

		if (r->kind != REC_RESET)
			continue;
		resets++;
		EXPECT_EQ(FAULT_CARD, r->card);
		EXPECT_EQ(0, r->pe);
		EXPECT_STREQ("hang", r->reason);
		EXPECT_EQ(0, r->ret);
		EXPECT_LT(idx[2], (int)i) TH_LOG("the hung job finished after the reset record");
	}
	EXPECT_EQ(1, resets);
}

/* Unbind card 1 with two jobs in flight: npu_unplug, then both device_lost. */
TEST_F_TIMEOUT(trace, unplug_with_jobs_in_flight, 120)
{
	struct npu_insn prog[2] = { npu_insn_copy(0x100000, 0x200000, 4096), npu_insn_halt() };
	struct npu_job_cmd cmd = npu_cmd_exec(0, sizeof(prog), 0);
	char path[PATH_MAX + 8];
	struct npu_wait w[2];
	uint64_t client, seq[2];
	uint32_t fired;
	int fd, ret, idx[3], unplug = -1;

	NPU_RETURN_IF_SKIPPED();
	OPEN_FAULT_CARD();
	ret = npu_pci_driver_dir(self->fdev.busname, self->driver_dir, sizeof(self->driver_dir));
	ASSERT_EQ(0, ret) TH_LOG("driver of %s: %s", self->fdev.busname, strerror(-ret));
	fd = npu_open(FAULT_CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu%dpe0: %s", FAULT_CARD, strerror(-fd));
	client = client_id(fd);
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	ASSERT_EQ(0, arm_hang(&self->fdev, 0, &fired));
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq[0]));
	ASSERT_EQ(0, npu_submit(fd, 0, &cmd, 1, &seq[1]));
	ASSERT_TRUE(wait_hung(&self->fdev, fired)) TH_LOG("PE0 did not hang");

	snprintf(path, sizeof(path), "%s/unbind", self->driver_dir);
	ret = npu_write_file(path, self->fdev.busname);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", self->fdev.busname, strerror(-ret));
	self->unbound = true;
	for (int i = 0; i < 2; i++) {
		ret = npu_wait(fd, seq[i], 10ll * 1000000000, &w[i]);
		ASSERT_EQ(-EIO, ret) TH_LOG("job %d after unbind: %s", i, strerror(-ret));
		ASSERT_EQ(NPU_JOB_DEVICE_LOST, w[i].status);
	}
	close(fd);
	/* the card comes back for the tests that follow */
	snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
	ret = npu_write_file(path, self->fdev.busname);
	ASSERT_EQ(0, ret) TH_LOG("bind %s: %s", self->fdev.busname, strerror(-ret));
	for (int i = 0; i < 1000 && !npu_device_present(FAULT_CARD); i++)
		usleep(10000);
	ASSERT_TRUE(npu_device_present(FAULT_CARD)) TH_LOG("npu%d did not come back", FAULT_CARD);
	self->unbound = false;
	/* the new binding has its own registers and the default job timeout */
	npu_fault_dev_close(&self->fdev);
	self->timeout_saved = false;

	READ_TRACE();
	for (unsigned int i = 0; i < self->log.count; i++) {
		const struct rec *r = &self->log.recs[i];

		if (r->kind != REC_UNPLUG)
			continue;
		EXPECT_EQ(-1, unplug) TH_LOG("more than one unplug record");
		unplug = (int)i;
		EXPECT_EQ(FAULT_CARD, r->card);
		EXPECT_EQ(2, r->jobs);
	}
	ASSERT_LE(0, unplug) TH_LOG("no npu_unplug record");
	for (int i = 0; i < 2; i++) {
		CHECK_JOB_RECORDS(&self->log, FAULT_CARD, client, &w[i], 1, "device_lost", idx);
		EXPECT_LT(idx[0], unplug);
		EXPECT_LT(unplug, idx[2]) TH_LOG("job %d lost before the unplug record", i);
	}
	/* an unbind is no reset */
	EXPECT_EQ(0, count_kind(&self->log, REC_RESET));
}

TEST_HARNESS_MAIN
