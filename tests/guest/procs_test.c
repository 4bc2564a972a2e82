// SPDX-License-Identifier: MIT
/*
 * Two processes drive PE0 and PE1 of the same card at once, each with its
 * own stream of matmul jobs (two in flight) whose results it checks; each
 * PE must start jobs while the other is busy. Then one of them is killed with jobs
 * in flight: the other's stream is unaffected and the killed one's PE is
 * usable again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_sys_util.h"

#define DIM		64
#define JOBS		16
#define DEPTH		2
#define SLOT_STRIDE	0x100000	/* DRAM per in-flight slot */
#define A_OFF		0x0
#define B_OFF		0x1000
#define C_OFF		0x2000
#define PROG_OFF	0x8000
#define BULK_DST	0x4000000
#define BULK_SRC	0x5000000
#define BULK_BYTES	(8u << 20)
#define BULK_COPIES	4	/* lengthen each job so that the PEs overlap */
#define IN_BYTES	(2 * DIM * DIM)
#define OUT_BYTES	(DIM * DIM * 4)

struct job_record {
	uint64_t start_ts, end_ts;
	uint32_t pe, status;
	int ret;
	int correct;
};

struct shared {
	pthread_barrier_t start;
	struct job_record jobs[2][JOBS];
	int done[2];
	int failed_step[2];	/* 0, or the line that failed in the child */
};

/* The program of a slot: matmul, then bulk copies that only take time. */
static int write_program(int fd, unsigned int slot)
{
	uint64_t base = (uint64_t)slot * SLOT_STRIDE;
	struct npu_insn prog[BULK_COPIES + 2];
	unsigned int n = 0;

	prog[n++] = npu_insn_matmul(base + C_OFF, base + A_OFF, base + B_OFF, DIM, DIM, DIM,
				    false);
	for (unsigned int i = 0; i < BULK_COPIES; i++)
		prog[n++] = npu_insn_copy(BULK_DST, BULK_SRC, BULK_BYTES);
	prog[n++] = npu_insn_halt();
	return npu_write_dram(fd, 0, base + PROG_OFF, prog, (uint64_t)n * NPU_INSN_SIZE);
}

#define CHILD_CHECK(sh, pe, cond) do { \
		if (!(cond)) { \
			(sh)->failed_step[pe] = __LINE__; \
			_exit(1); \
		} \
	} while (0)

/*
 * Child: jobs on /dev/npu0pe<pe>, DEPTH in flight, each with fresh random
 * inputs checked against the C reference: JOBS of them, or with `forever`,
 * until killed. Records every job in sh->jobs[pe].
 */
static void child_stream(struct shared *sh, unsigned int pe, bool forever)
{
	int8_t in[DEPTH][IN_BYTES];
	int32_t ref[DEPTH][DIM * DIM];
	uint64_t seqno[DEPTH] = { 0 };
	unsigned int job_of[DEPTH] = { 0 };
	unsigned int submitted = 0;
	struct npu_rng rng;
	struct npu_bo bo;
	int fd = npu_open(0, pe ? NPU_FILE_PE1 : NPU_FILE_PE0, 0);

	CHILD_CHECK(sh, pe, fd >= 0);
	npu_rng_seed(&rng, 0x9000 + pe);
	CHILD_CHECK(sh, pe, !npu_bo_alloc(fd, DEPTH * (IN_BYTES + OUT_BYTES), &bo));
	for (unsigned int s = 0; s < DEPTH; s++)
		CHILD_CHECK(sh, pe, !write_program(fd, s));
	pthread_barrier_wait(&sh->start);

	for (;;) {
		bool busy = false;

		for (unsigned int s = 0; s < DEPTH; s++) {
			uint64_t base = (uint64_t)s * SLOT_STRIDE, bo_off = s * (IN_BYTES + OUT_BYTES);
			uint8_t *slot = bo.map + bo_off;
			struct npu_job_cmd cmds[4];

			if (seqno[s]) {
				struct job_record *rec = &sh->jobs[pe][job_of[s] % JOBS];
				struct npu_wait wait;

				rec->ret = npu_wait(fd, seqno[s], -1, &wait);
				rec->start_ts = wait.start_ts;
				rec->end_ts = wait.end_ts;
				rec->pe = wait.pe;
				rec->status = wait.status;
				rec->correct = !memcmp(slot + IN_BYTES, ref[s], OUT_BYTES);
				seqno[s] = 0;
			}
			if (submitted >= JOBS && !forever)
				continue;
			busy = true;
			npu_rng_fill(&rng, in[s], IN_BYTES);
			npu_ref_matmul_i8(ref[s], in[s], in[s] + DIM * DIM, DIM, DIM, DIM, false);
			memcpy(slot, in[s], IN_BYTES);
			memset(slot + IN_BYTES, 0, OUT_BYTES);
			cmds[0] = npu_cmd_to_dram(&bo, bo_off, base + A_OFF, DIM * DIM);
			cmds[1] = npu_cmd_to_dram(&bo, bo_off + DIM * DIM, base + B_OFF, DIM * DIM);
			cmds[2] = npu_cmd_exec(base + PROG_OFF, (BULK_COPIES + 2) * NPU_INSN_SIZE, 0);
			cmds[3] = npu_cmd_from_dram(&bo, bo_off + IN_BYTES, base + C_OFF, OUT_BYTES);
			CHILD_CHECK(sh, pe, !npu_submit(fd, 0, cmds, 4, &seqno[s]));
			job_of[s] = submitted++;
		}
		if (!busy)
			break;
	}
	sh->done[pe] = 1;
	npu_bo_release(&bo);
	close(fd);
	_exit(0);
}

static struct shared *shared_new(void)
{
	pthread_barrierattr_t attr;
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sh == MAP_FAILED)
		return NULL;
	memset(sh, 0, sizeof(*sh));
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->start, &attr, 2);
	pthread_barrierattr_destroy(&attr);
	return sh;
}

static pid_t spawn(struct shared *sh, unsigned int pe, bool forever)
{
	pid_t pid = fork();

	if (!pid)
		child_stream(sh, pe, forever);
	return pid;
}

static bool overlap(const struct job_record *a, const struct job_record *b)
{
	return a->start_ts < b->end_ts && b->start_ts < a->end_ts;
}

FIXTURE(procs)
{
	struct shared *sh;
};

FIXTURE_SETUP(procs)
{
	self->sh = NULL;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	self->sh = shared_new();
	ASSERT_NE(NULL, self->sh);
}

FIXTURE_TEARDOWN(procs)
{
	if (self->sh)
		munmap(self->sh, sizeof(*self->sh));
}

TEST_F_TIMEOUT(procs, two_processes_two_pes, 60)
{
	struct shared *sh = self->sh;
	unsigned int pairs = 0, inside[2] = { 0, 0 };
	uint64_t first_start[2] = { UINT64_MAX, UINT64_MAX }, last_end[2] = { 0, 0 };
	pid_t pid[2];

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int pe = 0; pe < 2; pe++) {
		pid[pe] = spawn(sh, pe, false);
		ASSERT_LE(0, pid[pe]);
	}
	for (unsigned int pe = 0; pe < 2; pe++) {
		int status;

		ASSERT_EQ(pid[pe], waitpid(pid[pe], &status, 0));
		EXPECT_EQ(0, status) TH_LOG("process on pe%u failed at line %d", pe,
					    sh->failed_step[pe]);
		EXPECT_EQ(1, sh->done[pe]);
	}
	for (unsigned int pe = 0; pe < 2; pe++) {
		for (unsigned int j = 0; j < JOBS; j++) {
			const struct job_record *rec = &sh->jobs[pe][j];

			EXPECT_EQ(0, rec->ret) TH_LOG("pe%u job %u: status %u", pe, j, rec->status);
			EXPECT_EQ(pe, rec->pe) TH_LOG("pe%u job %u", pe, j);
			EXPECT_TRUE(rec->correct) TH_LOG("pe%u job %u: wrong matmul result", pe, j);
			EXPECT_LT(rec->start_ts, rec->end_ts);
			if (rec->start_ts < first_start[pe])
				first_start[pe] = rec->start_ts;
			if (rec->end_ts > last_end[pe])
				last_end[pe] = rec->end_ts;
		}
	}
	for (unsigned int i = 0; i < JOBS; i++)
		for (unsigned int j = 0; j < JOBS; j++)
			pairs += overlap(&sh->jobs[0][i], &sh->jobs[1][j]);
	/*
	 * Completions report modelled device time (docs/hardware.md 5.5): a
	 * job's interval is its modelled duration, however long the host took,
	 * so two PEs working at once need not have overlapping job intervals.
	 * They worked at once when each started jobs within the other's busy
	 * span (its first start to its last end).
	 */
	for (unsigned int pe = 0; pe < 2; pe++)
		for (unsigned int j = 0; j < JOBS; j++)
			inside[pe] += first_start[!pe] <= sh->jobs[pe][j].start_ts &&
				      sh->jobs[pe][j].start_ts <= last_end[!pe];
	TH_LOG("pe0 busy over [%llu, %llu], pe1 over [%llu, %llu] cycles; jobs starting in the "
	       "other's span: pe0 %u, pe1 %u; %u overlapping job pairs",
	       (unsigned long long)first_start[0], (unsigned long long)last_end[0],
	       (unsigned long long)first_start[1], (unsigned long long)last_end[1],
	       inside[0], inside[1], pairs);
	EXPECT_LT(0, inside[0]) TH_LOG("PE0 never started a job while PE1 was busy");
	EXPECT_LT(0, inside[1]) TH_LOG("PE1 never started a job while PE0 was busy");
}

/*
 * The process on PE0 is killed with jobs in flight while the one on PE1
 * runs its stream: PE1's jobs are all right, and PE0 can be opened again.
 */
TEST_F_TIMEOUT(procs, killed_neighbour, 60)
{
	struct shared *sh = self->sh;
	pid_t victim, survivor;
	int status, fd;
	uint8_t data[4096], back[4096];
	struct npu_rng rng;

	NPU_RETURN_IF_SKIPPED();
	victim = spawn(sh, 0, true);
	ASSERT_LE(0, victim);
	survivor = spawn(sh, 1, false);
	ASSERT_LE(0, survivor);
	/* Let both get going, then kill the endless one mid-stream. */
	while (!sh->jobs[0][2].end_ts && !sh->failed_step[0])
		usleep(1000);
	ASSERT_EQ(0, sh->failed_step[0]) TH_LOG("victim failed at line %d", sh->failed_step[0]);
	kill(victim, SIGKILL);
	ASSERT_EQ(victim, waitpid(victim, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));

	ASSERT_EQ(survivor, waitpid(survivor, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("survivor failed at line %d", sh->failed_step[1]);
	for (unsigned int j = 0; j < JOBS; j++) {
		EXPECT_EQ(0, sh->jobs[1][j].ret) TH_LOG("pe1 job %u", j);
		EXPECT_TRUE(sh->jobs[1][j].correct) TH_LOG("pe1 job %u: wrong result", j);
	}

	/* The victim's PE was released at its death. */
	fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu0pe0 after the kill: %s", strerror(-fd));
	npu_rng_seed(&rng, 77);
	npu_rng_fill(&rng, data, sizeof(data));
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0x100, data, sizeof(data)));
	ASSERT_EQ(0, npu_read_dram(fd, 0, 0x100, back, sizeof(back)));
	EXPECT_EQ(-1, npu_first_diff(data, back, sizeof(data)));
	close(fd);
}

TEST_HARNESS_MAIN
