// SPDX-License-Identifier: MIT
/*
 * Parallelism: the two PEs of a card execute at the same time (their device
 * [start_ts, end_ts] intervals overlap) and the two cards are independent
 * (one runs while the other is busy; a failure on one leaves the other's
 * jobs and DRAM alone).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_util.h"

#define IN_OFF		0x1000
#define OUT_OFF		0x3000
#define PROG_OFF	0x10000
#define BULK_DST	0x1000000
#define BULK_SRC	0x2000000
#define BULK_BYTES	(16u << 20)
#define CHECK_BYTES	4096

/*
 * A long program: one small COPY whose result is checked, then `bulk`
 * 16 MiB COPYs that only keep the PE busy.
 */
static int long_program(struct npu_insn *prog, unsigned int bulk)
{
	unsigned int n = 0;

	prog[n++] = npu_insn_copy(OUT_OFF, IN_OFF, CHECK_BYTES);
	for (unsigned int i = 0; i < bulk; i++)
		prog[n++] = npu_insn_copy(BULK_DST, BULK_SRC, BULK_BYTES);
	prog[n++] = npu_insn_halt();
	return n;
}

#define MAX_BULK 64

struct pe_worker {
	int fd;
	unsigned int bulk;
	pthread_barrier_t *start;
	uint8_t input[CHECK_BYTES];
	int ret;
	struct npu_wait wait;
	struct npu_bo prog;
};

static void *pe_worker_run(void *arg)
{
	struct pe_worker *w = arg;
	struct npu_job_cmd cmd = npu_cmd_exec(PROG_OFF, 0, 0);
	uint64_t seqno;

	cmd.length = (uint64_t)(w->bulk + 2) * NPU_INSN_SIZE;
	pthread_barrier_wait(w->start);
	w->ret = npu_submit(w->fd, 0, &cmd, 1, &seqno);
	if (!w->ret)
		w->ret = npu_wait(w->fd, seqno, -1, &w->wait);
	return NULL;
}

/* Writes the program and its input; the job itself is submitted by the thread. */
static int prepare(struct pe_worker *w, struct npu_rng *rng)
{
	struct npu_insn prog[MAX_BULK + 2];
	unsigned int n = long_program(prog, w->bulk);
	int ret;

	npu_rng_fill(rng, w->input, sizeof(w->input));
	ret = npu_write_dram(w->fd, 0, IN_OFF, w->input, sizeof(w->input));
	if (!ret)
		ret = npu_write_dram(w->fd, 0, PROG_OFF, prog, (uint64_t)n * NPU_INSN_SIZE);
	return ret;
}

static bool intervals_overlap(const struct npu_wait *a, const struct npu_wait *b)
{
	return a->start_ts < b->end_ts && b->start_ts < a->end_ts;
}

/* Only to give the tests below a longer timeout: TCG makes big jobs slow. */
FIXTURE(slow)
{
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, both_pes_run_at_once, 120)
{
	struct pe_worker w[2];
	pthread_barrier_t start;
	struct npu_rng rng;
	bool overlapped = false;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	npu_rng_seed(&rng, 0xc0c0);
	memset(w, 0, sizeof(w));
	for (int pe = 0; pe < 2; pe++) {
		w[pe].fd = npu_open(0, pe ? NPU_FILE_PE1 : NPU_FILE_PE0, 0);
		ASSERT_LE(0, w[pe].fd) TH_LOG("open npu0pe%d: %s", pe, strerror(-w[pe].fd));
		w[pe].start = &start;
	}
	/*
	 * Longer jobs on each attempt, in case submission skew beat a short
	 * job. The last attempt's jobs copy 1 GiB each: 16 ms of device time
	 * at least, and as long as the model takes to really move the bytes
	 * (a command ends no earlier than its host work), about 100 ms; two
	 * threads released by a barrier submit within a few ms of each other
	 * even on a loaded two-core host.
	 */
	for (unsigned int bulk = 4; bulk <= MAX_BULK && !overlapped; bulk *= 4) {
		pthread_t tid[2];
		uint8_t got[CHECK_BYTES];

		ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));
		for (int pe = 0; pe < 2; pe++) {
			w[pe].bulk = bulk;
			ASSERT_EQ(0, prepare(&w[pe], &rng));
		}
		for (int pe = 0; pe < 2; pe++)
			ASSERT_EQ(0, pthread_create(&tid[pe], NULL, pe_worker_run, &w[pe]));
		for (int pe = 0; pe < 2; pe++)
			pthread_join(tid[pe], NULL);
		pthread_barrier_destroy(&start);

		for (int pe = 0; pe < 2; pe++) {
			ASSERT_EQ(0, w[pe].ret) TH_LOG("pe%d job: %s status %u info %#x", pe,
						       strerror(-w[pe].ret), w[pe].wait.status,
						       w[pe].wait.info);
			EXPECT_EQ((uint32_t)pe, w[pe].wait.pe);
			EXPECT_LT(w[pe].wait.start_ts, w[pe].wait.end_ts);
			ASSERT_EQ(0, npu_read_dram(w[pe].fd, 0, OUT_OFF, got, sizeof(got)));
			EXPECT_EQ(-1, npu_first_diff(got, w[pe].input, sizeof(got)))
				TH_LOG("pe%d result wrong", pe);
		}
		overlapped = intervals_overlap(&w[0].wait, &w[1].wait);
		TH_LOG("%u bulk copies: pe0 [%llu, %llu] pe1 [%llu, %llu]%s", bulk,
		       (unsigned long long)w[0].wait.start_ts,
		       (unsigned long long)w[0].wait.end_ts,
		       (unsigned long long)w[1].wait.start_ts,
		       (unsigned long long)w[1].wait.end_ts, overlapped ? " overlap" : "");
	}
	EXPECT_TRUE(overlapped) TH_LOG("the PEs never ran at the same time");
	close(w[0].fd);
	close(w[1].fd);
}

/*
 * npu1 completes work while a long job keeps npu0 busy, and a failing job on
 * npu0 changes nothing on npu1.
 */
TEST_F_TIMEOUT(slow, cards_independent, 120)
{
	struct npu_insn prog[MAX_BULK + 2];
	uint8_t pattern[2][999], got[999];
	struct npu_wait wait;
	struct npu_rng rng;
	bool busy_seen = false;
	int fd[2];

	if (!npu_device_present(0) || !npu_device_present(1))
		SKIP(return, "needs /dev/npu0 and /dev/npu1");
	npu_rng_seed(&rng, 0x1dea);
	for (int dev = 0; dev < 2; dev++) {
		fd[dev] = npu_open(dev, NPU_FILE_PE0, 0);
		ASSERT_LE(0, fd[dev]) TH_LOG("open npu%dpe0: %s", dev, strerror(-fd[dev]));
		npu_rng_fill(&rng, pattern[dev], sizeof(pattern[dev]));
		ASSERT_EQ(0, npu_write_dram(fd[dev], 0, IN_OFF + 1, pattern[dev],
					    sizeof(pattern[dev])));
	}

	for (unsigned int bulk = 8; bulk <= MAX_BULK && !busy_seen; bulk *= 2) {
		struct npu_insn bad = npu_insn_copy(0xffffff00u, IN_OFF, 0x200);
		struct npu_job_cmd cmd;
		uint64_t seq_long, seq_bad;
		unsigned int n = long_program(prog, bulk);
		int ret;

		ASSERT_EQ(0, npu_write_dram(fd[0], 0, PROG_OFF, prog,
					    (uint64_t)n * NPU_INSN_SIZE));
		ASSERT_EQ(0, npu_write_dram(fd[0], 0, PROG_OFF + 0x8000, &bad, sizeof(bad)));
		cmd = npu_cmd_exec(PROG_OFF, (uint64_t)n * NPU_INSN_SIZE, 0);
		ASSERT_EQ(0, npu_submit(fd[0], 0, &cmd, 1, &seq_long));
		cmd = npu_cmd_exec(PROG_OFF + 0x8000, sizeof(bad), 0);
		ASSERT_EQ(0, npu_submit(fd[0], 0, &cmd, 1, &seq_bad));

		/* meanwhile, on the other card: a round trip at the same offset */
		ASSERT_EQ(0, npu_read_dram(fd[1], 0, IN_OFF + 1, got, sizeof(got)));
		EXPECT_EQ(-1, npu_first_diff(got, pattern[1], sizeof(got)))
			TH_LOG("npu1 DRAM changed by npu0's work");
		busy_seen = npu_wait(fd[0], seq_long, 0, NULL) == -ETIME;

		ret = npu_wait(fd[0], seq_long, -1, &wait);
		if (busy_seen) {
			EXPECT_EQ(0, ret) TH_LOG("long job: %s", strerror(-ret));
		} else {
			/* the zero-timeout WAIT already collected it */
			EXPECT_EQ(-ENOENT, ret) TH_LOG("collected twice: %s", strerror(-ret));
		}
		EXPECT_EQ(-EIO, npu_wait(fd[0], seq_bad, -1, &wait));
		EXPECT_EQ(NPU_JOB_DRAM_OOB, wait.status);
		TH_LOG("%u bulk copies: npu0 %s busy when npu1 finished", bulk,
		       busy_seen ? "still" : "no longer");
	}
	EXPECT_TRUE(busy_seen) TH_LOG("npu0's long job always ended before npu1's round trip");

	/* each card still has its own data, and npu1 is unaffected by npu0's failure */
	for (int dev = 0; dev < 2; dev++) {
		ASSERT_EQ(0, npu_read_dram(fd[dev], 0, IN_OFF + 1, got, sizeof(got)));
		EXPECT_EQ(-1, npu_first_diff(got, pattern[dev], sizeof(got)))
			TH_LOG("npu%d DRAM wrong", dev);
	}
	close(fd[0]);
	close(fd[1]);
}

TEST_HARNESS_MAIN
