// SPDX-License-Identifier: MIT
/*
 * Job bookkeeping: 1000 jobs per PE with several in flight, collected with
 * WAIT_ANY, each exactly once and with its own result; seqnos; WAIT on
 * unknown or collected jobs; timeouts; poll() readiness; O_NONBLOCK
 * submission on a full ring; closing a file with jobs in flight; a signal
 * interrupting WAIT on a job hung on purpose (the model's HANG fault).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define JOBS		1000
#define IN_FLIGHT	8
#define SLOTS		64	/* > IN_FLIGHT: a slot is reused only after collection */
#define SLOT_BYTES	16

struct stream {
	int fd;
	unsigned int pe;	/* for messages */
	int ret;		/* first failure, as -errno, or 0 */
	const char *failure;
	unsigned int collected, bad_data, duplicates, unknown;
};

/*
 * Job i copies 16 bytes naming i from slot i % SLOTS of `in` into DRAM and
 * back into the same slot of `out`; at collection the slot must name i.
 */
static void run_stream(struct stream *st)
{
	uint64_t *seq_of = calloc(JOBS, sizeof(*seq_of));
	uint8_t *seen = calloc(JOBS, 1);
	unsigned int submitted = 0, in_flight = 0;
	struct npu_bo in, out;

	if (!seq_of || !seen) {
		st->ret = -ENOMEM;
		st->failure = "calloc";
		goto out_free;
	}
	st->ret = npu_bo_alloc(st->fd, SLOTS * SLOT_BYTES, &in);
	if (st->ret) {
		st->failure = "BO_CREATE";
		goto out_free;
	}
	st->ret = npu_bo_alloc(st->fd, SLOTS * SLOT_BYTES, &out);
	if (st->ret) {
		st->failure = "BO_CREATE";
		npu_bo_release(&in);
		goto out_free;
	}

	while (st->collected < submitted || submitted < JOBS) {
		if (submitted < JOBS && in_flight < IN_FLIGHT) {
			unsigned int i = submitted, slot = i % SLOTS;
			uint64_t dram = 0x10000 + (uint64_t)slot * SLOT_BYTES;
			struct npu_job_cmd cmds[2] = {
				npu_cmd_to_dram(&in, slot * SLOT_BYTES, dram, SLOT_BYTES),
				npu_cmd_from_dram(&out, slot * SLOT_BYTES, dram, SLOT_BYTES),
			};

			memset(in.map + slot * SLOT_BYTES, 0, SLOT_BYTES);
			memcpy(in.map + slot * SLOT_BYTES, &i, sizeof(i));
			memset(out.map + slot * SLOT_BYTES, 0xff, SLOT_BYTES);
			st->ret = npu_submit(st->fd, 0, cmds, 2, &seq_of[i]);
			if (st->ret) {
				st->failure = "SUBMIT";
				break;
			}
			if (i && seq_of[i] <= seq_of[i - 1]) {
				st->ret = -EINVAL;
				st->failure = "seqno not increasing";
				break;
			}
			submitted++;
			in_flight++;
			continue;
		}

		struct npu_wait wait;
		unsigned int idx, value;

		st->ret = npu_wait(st->fd, NPU_WAIT_ANY, 10ll * 1000000000, &wait);
		if (st->ret) {
			st->failure = "WAIT_ANY";
			break;
		}
		in_flight--;
		st->collected++;
		/* seqnos of one file are consecutive from the first */
		if (wait.seqno < seq_of[0] || wait.seqno - seq_of[0] >= submitted) {
			st->unknown++;
			continue;
		}
		idx = wait.seqno - seq_of[0];
		if (seq_of[idx] != wait.seqno) {
			st->unknown++;
			continue;
		}
		if (seen[idx]++)
			st->duplicates++;
		memcpy(&value, out.map + (idx % SLOTS) * SLOT_BYTES, sizeof(value));
		if (value != idx)
			st->bad_data++;
	}
	if (!st->ret) {
		/* nothing left: WAIT_ANY reports ENOENT rather than blocking */
		st->ret = npu_wait(st->fd, NPU_WAIT_ANY, 0, NULL) == -ENOENT ? 0 : -EPROTO;
		if (st->ret)
			st->failure = "WAIT_ANY with no jobs left";
	}
	npu_bo_release(&in);
	npu_bo_release(&out);
out_free:
	free(seq_of);
	free(seen);
}

static void *stream_thread(void *arg)
{
	run_stream(arg);
	return NULL;
}

FIXTURE(jobs)
{
	int fd;
};

FIXTURE_SETUP(jobs)
{
	self->fd = -1;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	self->fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, self->fd) TH_LOG("open npu0pe0: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(jobs)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* 1000 jobs on each PE at once, through two files, none lost or duplicated. */
TEST_F_TIMEOUT(jobs, thousand_per_pe_wait_any, 300)
{
	struct stream st[2];
	pthread_t tid[2];
	uint64_t t0;

	NPU_RETURN_IF_SKIPPED();
	memset(st, 0, sizeof(st));
	st[0].fd = self->fd;
	st[1].fd = npu_open(0, NPU_FILE_PE1, 0);
	st[1].pe = 1;
	ASSERT_LE(0, st[1].fd) TH_LOG("open npu0pe1: %s", strerror(-st[1].fd));
	t0 = npu_now_ns();
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, stream_thread, &st[i]));
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	TH_LOG("%d jobs in %llu ms", 2 * JOBS,
	       (unsigned long long)((npu_now_ns() - t0) / 1000000));
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(0, st[i].ret) TH_LOG("pe%u: %s failed: %s after %u collected", i,
					       st[i].failure, strerror(-st[i].ret),
					       st[i].collected);
		EXPECT_EQ(JOBS, st[i].collected);
		EXPECT_EQ(0, st[i].duplicates);
		EXPECT_EQ(0, st[i].unknown);
		EXPECT_EQ(0, st[i].bad_data);
	}
	close(st[1].fd);
}

/* /dev/npuN runs NPU_PE_ANY jobs on one of its PEs and honours explicit ones. */
TEST(any_pe_and_explicit_pe)
{
	struct npu_job_cmd cmd = { .op = NPU_JOB_CMD_NOP };
	unsigned int per_pe[2] = { 0, 0 };
	uint64_t seq[32];
	int fd;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	fd = npu_open(0, NPU_FILE_ALL, 0);
	ASSERT_LE(0, fd);
	for (int i = 0; i < 32; i++)
		ASSERT_EQ(0, npu_submit(fd, NPU_PE_ANY, &cmd, 1, &seq[i]));
	for (int i = 0; i < 32; i++) {
		struct npu_wait wait;

		ASSERT_EQ(0, npu_wait(fd, seq[i], -1, &wait));
		ASSERT_GT(2, wait.pe);
		per_pe[wait.pe]++;
	}
	/* explicit PEs are honoured */
	for (uint32_t pe = 0; pe < 2; pe++) {
		struct npu_wait wait;

		ASSERT_EQ(0, npu_run(fd, pe, &cmd, 1, &wait));
		EXPECT_EQ(pe, wait.pe);
	}
	/* how NPU_PE_ANY balances is the driver's choice: only reported */
	TH_LOG("NPU_PE_ANY: %u jobs on pe0, %u on pe1", per_pe[0], per_pe[1]);
	close(fd);
}

TEST_F(jobs, wait_semantics)
{
	struct npu_job_cmd cmd = { .op = NPU_JOB_CMD_NOP };
	struct npu_wait wait;
	uint64_t s1, s2;

	NPU_RETURN_IF_SKIPPED();
	/* nothing submitted yet */
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, NPU_WAIT_ANY, 0, NULL));
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, 1, 0, NULL));
	ASSERT_EQ(0, npu_submit(self->fd, 0, &cmd, 1, &s1));
	ASSERT_EQ(0, npu_submit(self->fd, 0, &cmd, 1, &s2));
	EXPECT_LT(0, s1);
	EXPECT_LT(s1, s2);
	/* collect the later one first, by seqno */
	EXPECT_EQ(0, npu_wait(self->fd, s2, -1, &wait));
	EXPECT_EQ(s2, wait.seqno);
	EXPECT_EQ(NPU_JOB_OK, wait.status);
	EXPECT_LE(wait.start_ts, wait.end_ts);
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, s2, 0, NULL)) TH_LOG("collected twice");
	EXPECT_EQ(0, npu_wait(self->fd, NPU_WAIT_ANY, -1, &wait));
	EXPECT_EQ(s1, wait.seqno);
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, s1, -1, NULL));
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, s2 + 1000, 0, NULL));
}

/* A long job: WAIT with a short timeout says ETIME and the job stays collectable. */
TEST_F_TIMEOUT(jobs, wait_timeout, 120)
{
	struct npu_insn prog[33];
	struct npu_job_cmd cmds[8];
	struct npu_wait wait;
	uint64_t seq;
	int ret;

	NPU_RETURN_IF_SKIPPED();
	for (int i = 0; i < 32; i++)
		prog[i] = npu_insn_copy(0x1000000, 0x2000000, 16u << 20);
	prog[32] = npu_insn_halt();
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, 0, prog, sizeof(prog)));
	for (int i = 0; i < 8; i++)
		cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
	ASSERT_EQ(0, npu_submit(self->fd, 0, cmds, 8, &seq));
	ret = npu_wait(self->fd, seq, 1000, &wait);	/* 1 us */
	EXPECT_EQ(-ETIME, ret) TH_LOG("4 GiB of copies done within 1 us: %s", strerror(-ret));
	ret = npu_wait(self->fd, seq, 0, &wait);
	EXPECT_TRUE(ret == -ETIME || ret == 0);
	if (ret == -ETIME) {
		EXPECT_EQ(0, npu_wait(self->fd, seq, -1, &wait));
	}
	EXPECT_EQ(seq, wait.seqno);
}

/* poll(): POLLIN when a finished job waits for collection, not before or after. */
TEST_F(jobs, poll_readiness)
{
	struct npu_job_cmd cmd = { .op = NPU_JOB_CMD_NOP };
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };
	uint64_t seq;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents) TH_LOG("idle file: revents %#x", pfd.revents);

	ASSERT_EQ(0, npu_submit(self->fd, 0, &cmd, 1, &seq));
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no POLLIN within 10 s of a NOP job");
	EXPECT_EQ(POLLIN, pfd.revents & (POLLIN | POLLERR | POLLHUP));
	/* readiness is level-triggered until the job is collected */
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(0, npu_wait(self->fd, seq, 0, NULL));
	EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("POLLIN after collecting: %#x", pfd.revents);

	/* the management file never signals readiness */
	pfd.fd = npu_open(0, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, pfd.fd);
	pfd.events = POLLIN | POLLOUT;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	close(pfd.fd);
}

/*
 * O_NONBLOCK: SUBMIT on a full ring fails with EAGAIN instead of sleeping;
 * POLLOUT returns when there is room again. Then close with jobs in flight.
 */
TEST_F_TIMEOUT(jobs, nonblocking_submit_full_ring, 180)
{
	struct npu_insn prog[5];
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS];
	struct pollfd pfd;
	unsigned int queued = 0;
	int fd, ret = 0, flags;

	NPU_RETURN_IF_SKIPPED();
	close(self->fd);
	self->fd = -1;
	fd = npu_open(0, NPU_FILE_PE1, O_NONBLOCK);
	ASSERT_LE(0, fd);
	for (int i = 0; i < 4; i++)
		prog[i] = npu_insn_copy(0x1000000, 0x2000000, 8u << 20);
	prog[4] = npu_insn_halt();
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	for (int i = 0; i < NPU_JOB_MAX_CMDS; i++)
		cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
	/* 16 commands a job: a ring of up to 4096 entries fills within 257 jobs */
	while (queued < 300) {
		ret = npu_submit(fd, 0, cmds, NPU_JOB_MAX_CMDS, NULL);
		if (ret)
			break;
		queued++;
	}
	TH_LOG("%u jobs of %d commands queued before %s", queued, NPU_JOB_MAX_CMDS,
	       strerror(-ret));
	EXPECT_EQ(-EAGAIN, ret);

	pfd.fd = fd;
	pfd.events = POLLOUT;
	EXPECT_EQ(1, poll(&pfd, 1, 60000)) TH_LOG("no room on the ring within 60 s");
	if (pfd.revents & POLLOUT) {
		ret = npu_submit(fd, 0, cmds, NPU_JOB_MAX_CMDS, NULL);
		EXPECT_TRUE(ret == 0 || ret == -EAGAIN) TH_LOG("submit after POLLOUT: %s",
							       strerror(-ret));
	}

	/* the same file in blocking mode sleeps until there is room */
	flags = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK));
	EXPECT_EQ(0, npu_submit(fd, 0, cmds, NPU_JOB_MAX_CMDS, NULL));

	/*
	 * close with everything still queued; the PE is usable right after.
	 * The reopen retries EAGAIN for 20 s: the drain finishes the ring's
	 * jobs (256 EXECs of 32 MiB of copies, a second or two of host work)
	 * or is cut at release_timeout_ms (10 s by default) by a reset, either
	 * well inside 20 s on a loaded two-core host.
	 */
	close(fd);
	fd = npu_open(0, NPU_FILE_PE1, 0);
	for (int i = 0; fd == -EAGAIN && i < 2000; i++) {
		usleep(10000);
		fd = npu_open(0, NPU_FILE_PE1, 0);
	}
	ASSERT_LE(0, fd) TH_LOG("reopen after closing with jobs in flight: %s", strerror(-fd));
	{
		uint8_t data[16] = "after close", got[16];

		EXPECT_EQ(0, npu_write_dram(fd, 0, 0x100, data, sizeof(data)));
		EXPECT_EQ(0, npu_read_dram(fd, 0, 0x100, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
	}
	close(fd);
}

/* Closing with jobs in flight and a BO still mapped: the mapping stays valid. */
TEST_F(jobs, close_with_jobs_and_mapping)
{
	struct npu_job_cmd cmds[2];
	struct npu_bo bo;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 1 << 20, &bo));
	memset(bo.map, 0x42, 1 << 20);
	cmds[0] = npu_cmd_to_dram(&bo, 0, 0x100000, 1 << 20);
	cmds[1] = npu_cmd_from_dram(&bo, 0, 0x100000, 1 << 20);
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, npu_submit(self->fd, 0, cmds, 2, NULL));
	close(self->fd);
	self->fd = -1;
	/* the pages outlive the file while mapped */
	EXPECT_EQ(0x42, bo.map[0]);
	EXPECT_EQ(0x42, bo.map[(1 << 20) - 1]);
	bo.map[12345] = 1;
	munmap(bo.map, bo.size);
}

/* ---- several threads on one file ---------------------------------------- */

#define THREADS		4
#define THREAD_JOBS	150

struct same_file_worker {
	int fd;
	unsigned int id;
	uint64_t seq[THREAD_JOBS];
	int ret;
	unsigned int wrong_seqno;
};

/* Each thread submits NOPs (NPU_PE_ANY) and collects its own by seqno. */
static void *same_file_thread(void *arg)
{
	struct same_file_worker *w = arg;
	struct npu_job_cmd cmd = { .op = NPU_JOB_CMD_NOP };

	for (int i = 0; i < THREAD_JOBS && !w->ret; i++) {
		struct npu_wait wait;

		w->ret = npu_submit(w->fd, NPU_PE_ANY, &cmd, 1, &w->seq[i]);
		/* keep two of our own jobs in flight */
		if (!w->ret && i >= 1) {
			w->ret = npu_wait(w->fd, w->seq[i - 1], -1, &wait);
			if (!w->ret && wait.seqno != w->seq[i - 1])
				w->wrong_seqno++;
		}
	}
	if (!w->ret)
		w->ret = npu_wait(w->fd, w->seq[THREAD_JOBS - 1], -1, NULL);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Threads sharing /dev/npu0 get distinct seqnos and collect exactly their jobs. */
TEST(threads_share_a_file)
{
	struct same_file_worker *w = calloc(THREADS, sizeof(*w));
	uint64_t *all = calloc(THREADS * THREAD_JOBS, sizeof(*all));
	pthread_t tid[THREADS];
	int fd;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	ASSERT_TRUE(w && all);
	fd = npu_open(0, NPU_FILE_ALL, 0);
	ASSERT_LE(0, fd);
	for (int t = 0; t < THREADS; t++) {
		w[t].fd = fd;
		w[t].id = t;
		ASSERT_EQ(0, pthread_create(&tid[t], NULL, same_file_thread, &w[t]));
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(tid[t], NULL);
	for (int t = 0; t < THREADS; t++) {
		EXPECT_EQ(0, w[t].ret) TH_LOG("thread %d: %s", t, strerror(-w[t].ret));
		EXPECT_EQ(0, w[t].wrong_seqno);
		memcpy(all + t * THREAD_JOBS, w[t].seq, sizeof(w[t].seq));
	}
	qsort(all, THREADS * THREAD_JOBS, sizeof(*all), cmp_u64);
	for (int i = 1; i < THREADS * THREAD_JOBS; i++) {
		if (all[i] == all[i - 1]) {
			EXPECT_NE(all[i], all[i - 1]) TH_LOG("seqno %llu given twice",
							    (unsigned long long)all[i]);
			break;
		}
	}
	EXPECT_LT(0, all[0]);
	EXPECT_EQ(-ENOENT, npu_wait(fd, NPU_WAIT_ANY, 0, NULL)) TH_LOG("a job was left over");
	close(fd);
	free(w);
	free(all);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A job that provably runs until the test lets it end: its command hangs
 * (the model's HANG fault, armed once on PE0), and the job timeout is long,
 * so only the watchdog, which the test then hurries, can finish it.
 */
#define HUNG_TIMEOUT_MS	20000	/* the window: a WAIT that sleeps through it fails */
#define REAP_TIMEOUT_MS	200	/* then the watchdog ends the hung job quickly */

FIXTURE(hung)
{
	int fd;
	struct npu_fault_dev dev;
	unsigned int old_timeout_ms;
	bool timeout_changed;
};

FIXTURE_SETUP(hung)
{
	int ret;

	self->fd = -1;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	ret = npu_fault_dev_open(0, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("BAR0 of card 0: %s", strerror(-ret));
	/* The VM's NPUs have faults=on (tests/vm/config.sh). */
	if (!npu_fault_supported(&self->dev))
		SKIP(return, "no NPU_CAP_FAULTS: boot with -device npu,faults=on");
	ASSERT_EQ(0, npu_fault_disarm(&self->dev, NPU_FAULT_ALL));
	ASSERT_EQ(0, npu_wait_ready(&self->dev, 10000));
	ret = npu_job_timeout_get(&self->dev, &self->old_timeout_ms);
	ASSERT_EQ(0, ret) TH_LOG("job_timeout_ms: %s", strerror(-ret));
	ret = npu_job_timeout_set(&self->dev, HUNG_TIMEOUT_MS);
	ASSERT_EQ(0, ret) TH_LOG("setting job_timeout_ms: %s", strerror(-ret));
	self->timeout_changed = true;
	self->fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, self->fd) TH_LOG("open npu0pe0: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(hung)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &off, NULL);
	if (self->dev.regs) {
		if (npu_fault_supported(&self->dev))
			npu_fault_disarm(&self->dev, NPU_FAULT_ALL);
		if (self->timeout_changed)
			npu_job_timeout_set(&self->dev, REAP_TIMEOUT_MS);
		/* closing with a hung job resets PE0; wait that out too */
		if (self->fd >= 0)
			close(self->fd);
		npu_wait_ready(&self->dev, 30000);
		if (self->timeout_changed)
			npu_job_timeout_set(&self->dev, self->old_timeout_ms);
		npu_fault_dev_close(&self->dev);
	} else if (self->fd >= 0) {
		close(self->fd);
	}
}

/*
 * A signal interrupts a blocked WAIT with EINTR; the job stays collectable.
 * The job is hung for the whole window, so a WAIT that returns anything but
 * EINTR slept through the signals: an uninterruptible wait.
 */
TEST_F_TIMEOUT(hung, wait_interrupted_by_signal, 120)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct npu_insn prog[2] = { npu_insn_copy(0x2000, 0x1000, 4096), npu_insn_halt() };
	/*
	 * Repeated: a signal that lands before the thread sleeps in WAIT is
	 * lost, the next one finds it asleep.
	 */
	struct itimerval it = { .it_interval = { .tv_usec = 50000 },
				.it_value = { .tv_usec = 20000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct npu_job_cmd cmd;
	struct npu_wait wait;
	uint64_t seq, t0, ms;
	uint32_t fired0;
	int ret;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, 0, prog, sizeof(prog)));
	cmd = npu_cmd_exec(0, sizeof(prog), 0);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	fired0 = npu_fault_fired(&self->dev);
	ASSERT_EQ(0, npu_fault_arm(&self->dev, NPU_FAULT_HANG, 1u << 0, 1, 0))
		TH_LOG("arming the hang via %s", npu_fault_via(&self->dev));
	ASSERT_EQ(0, npu_submit(self->fd, 0, &cmd, 1, &seq));
	t0 = npu_now_ns();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ret = npu_wait(self->fd, seq, -1, &wait);
	ms = (npu_now_ns() - t0) / 1000000;
	setitimer(ITIMER_REAL, &off, NULL);
	ASSERT_EQ(-EINTR, ret)
		TH_LOG("WAIT on a hung job returned %s (status %s) after %llu ms, signals every "
		       "50 ms: not interrupted", ret ? strerror(-ret) : "0",
		       npu_job_status_name(wait.status), (unsigned long long)ms);
	/* The window was real: the hang fired and the job is still running. */
	EXPECT_NE(fired0, npu_fault_fired(&self->dev)) TH_LOG("the hang never fired");
	EXPECT_EQ(-ETIME, npu_wait(self->fd, seq, 0, &wait));

	/* Collectable after the interruption: the watchdog ends it as hung. */
	ASSERT_EQ(0, npu_job_timeout_set(&self->dev, REAP_TIMEOUT_MS));
	ret = npu_wait(self->fd, seq, 60ll * 1000000000, &wait);
	EXPECT_EQ(-EIO, ret) TH_LOG("WAIT after the interruption: %s", strerror(-ret));
	EXPECT_EQ(seq, wait.seqno);
	EXPECT_EQ(NPU_JOB_HANG, wait.status) TH_LOG("status %s",
						     npu_job_status_name(wait.status));
}


/* ---- module parameters: the per-file job cap and the release timeout ---- */

#define PARAM_DIR "/sys/module/npu/parameters/"

static int param_read(const char *name, unsigned int *val)
{
	char path[128];
	uint64_t v;
	int ret;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	ret = npu_read_u64(path, &v);
	if (!ret)
		*val = (unsigned int)v;
	return ret;
}

static int param_write(const char *name, unsigned int val)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%u\n", val) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

FIXTURE(params)
{
	int fd;
	unsigned int max_jobs, release_ms;
	bool saved;
};

FIXTURE_SETUP(params)
{
	self->fd = -1;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	if (param_read("max_jobs_per_file", &self->max_jobs) ||
	    param_read("release_timeout_ms", &self->release_ms))
		SKIP(return, "npu module parameters max_jobs_per_file/release_timeout_ms missing");
	self->saved = true;
}

FIXTURE_TEARDOWN(params)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->saved) {
		param_write("max_jobs_per_file", self->max_jobs);
		param_write("release_timeout_ms", self->release_ms);
	}
}

/* Beyond max_jobs_per_file uncollected jobs SUBMIT says ENOSPC; WAIT frees a slot. */
TEST_F(params, job_cap_enospc)
{
	struct npu_job_cmd cmd = { .op = NPU_JOB_CMD_NOP };
	uint64_t seq[4];

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, param_write("max_jobs_per_file", 4));
	self->fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, self->fd);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, npu_submit(self->fd, 0, &cmd, 1, &seq[i]));
	/* all four may have finished: finished but uncollected still count */
	EXPECT_EQ(-ENOSPC, npu_submit(self->fd, 0, &cmd, 1, NULL));
	ASSERT_EQ(0, npu_wait(self->fd, seq[2], -1, NULL));
	EXPECT_EQ(0, npu_submit(self->fd, 0, &cmd, 1, NULL));
	EXPECT_EQ(-ENOSPC, npu_submit(self->fd, 0, &cmd, 1, NULL));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(0, npu_wait(self->fd, NPU_WAIT_ANY, -1, NULL));
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, NPU_WAIT_ANY, 0, NULL));
}

/*
 * close() with long jobs still running: after release_timeout_ms the driver
 * resets the PE (cancelling them) rather than waiting for them all, and the
 * PE works for the next owner.
 */
TEST_F_TIMEOUT(params, close_cancels_running_jobs, 120)
{
	struct npu_insn prog[65];
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS];
	struct npu_wait wait;
	uint8_t data[64], got[64];
	uint64_t t0, closing_ms, seq;
	int fd;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, param_write("release_timeout_ms", 20));
	fd = npu_open(0, NPU_FILE_PE1, 0);
	ASSERT_LE(0, fd);
	for (int i = 0; i < 64; i++)
		prog[i] = npu_insn_copy(0x1000000, 0x2000000, 16u << 20);
	prog[64] = npu_insn_halt();
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	for (int i = 0; i < NPU_JOB_MAX_CMDS; i++)
		cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
	/* 16 GiB of copies per job: far longer than the release timeout */
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, npu_submit(fd, 0, cmds, NPU_JOB_MAX_CMDS, &seq));
	EXPECT_EQ(-ETIME, npu_wait(fd, seq, 0, &wait));

	t0 = npu_now_ns();
	close(fd);
	closing_ms = (npu_now_ns() - t0) / 1000000;
	TH_LOG("close with 8 long jobs queued took %llu ms", (unsigned long long)closing_ms);
	/*
	 * 5 s: a cancelling close is release_timeout_ms (20 ms) plus one PE
	 * reset (the driver bounds its poll at 2 s). Waiting for the jobs
	 * instead means 128 EXECs of 1 GiB of copies that the model really
	 * performs: 128 GiB of memmove, over 10 s at any host's memory
	 * bandwidth and longer on a loaded one. Load stretches the cancel by
	 * scheduling delays of milliseconds, so the outcomes stay apart.
	 */
	EXPECT_GT(5000, closing_ms) TH_LOG("close waited for the jobs instead of cancelling");

	fd = npu_open(0, NPU_FILE_PE1, 0);
	for (int i = 0; fd == -EAGAIN && i < 2000; i++) {
		usleep(10000);
		fd = npu_open(0, NPU_FILE_PE1, 0);
	}
	ASSERT_LE(0, fd) TH_LOG("reopen after cancelling close: %s", strerror(-fd));
	memset(data, 0x6b, sizeof(data));
	EXPECT_EQ(0, npu_write_dram(fd, 0, 0x100, data, sizeof(data)));
	EXPECT_EQ(0, npu_read_dram(fd, 0, 0x100, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
	close(fd);
}

TEST_HARNESS_MAIN
