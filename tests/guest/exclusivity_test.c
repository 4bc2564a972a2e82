// SPDX-License-Identifier: MIT
/*
 * PE ownership: a PE belongs to at most one open file. For every pair of
 * files of a card (npuN, pe0, pe1, pe0-1, mgmt) a second opener, in another
 * process or the same one, gets EBUSY exactly when the PE sets intersect;
 * ownership ends with close() and with the death of the owner (kill -9),
 * also while its jobs are still running.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"

/* Exit codes of the child that tries the second open. */
enum child_result {
	CHILD_OPENED = 0,
	CHILD_EBUSY = 1,
	CHILD_OTHER = 2,
};

static int open_in_child(unsigned int dev, enum npu_file_kind kind, int *err)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int fd = npu_open(dev, kind, 0);

		if (fd >= 0)
			_exit(CHILD_OPENED);
		_exit(fd == -EBUSY ? CHILD_EBUSY : 100 + (-fd & 0x7f));
	}
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	*err = WEXITSTATUS(status) >= 100 ? WEXITSTATUS(status) - 100 : 0;
	return WEXITSTATUS(status) >= 100 ? CHILD_OTHER : WEXITSTATUS(status);
}

/*
 * Open retrying while the driver says the PEs are still being released
 * (EAGAIN): the previous owner is gone, its jobs may still be draining.
 * 20 s: a drain ends at release_timeout_ms (10 s by default) at the latest,
 * then one PE reset; the retry is a bound on failure, not a wait for luck.
 */
static int open_after_release(unsigned int dev, enum npu_file_kind kind)
{
	uint64_t deadline = npu_now_ns() + 20ull * 1000000000ull;
	int fd;

	for (;;) {
		fd = npu_open(dev, kind, 0);
		if (fd != -EAGAIN || npu_now_ns() > deadline)
			return fd;
		usleep(10000);
	}
}

NPU_FIXTURE_OVER_FILE_KINDS(excl);

FIXTURE_VARIANT_ADD(excl, all) { .kind = NPU_FILE_ALL };
FIXTURE_VARIANT_ADD(excl, pe0) { .kind = NPU_FILE_PE0 };
FIXTURE_VARIANT_ADD(excl, pe1) { .kind = NPU_FILE_PE1 };
FIXTURE_VARIANT_ADD(excl, fused) { .kind = NPU_FILE_FUSED };
FIXTURE_VARIANT_ADD(excl, mgmt) { .kind = NPU_FILE_MGMT };

NPU_FIXTURE_NEEDS_NPU0(excl)

/* The variant's file is open; try every file from a child and from here. */
TEST_F_TIMEOUT(excl, matrix, 60)
{
	const char *first = npu_file_kind_name(variant->kind);
	int fd;

	NPU_RETURN_IF_SKIPPED();
	fd = npu_open(0, variant->kind, 0);
	ASSERT_LE(0, fd) TH_LOG("open %s on an idle card: %s", first, strerror(-fd));

	for (int second = 0; second < NPU_FILE_KIND_COUNT; second++) {
		const char *name = npu_file_kind_name(second);
		bool conflict = npu_file_pe_mask(variant->kind) & npu_file_pe_mask(second);
		int err = 0, res = open_in_child(0, second, &err);
		int fd2;

		EXPECT_EQ(conflict ? CHILD_EBUSY : CHILD_OPENED, res)
			TH_LOG("%s held, other process opens %s: %s (errno %d)", first, name,
			       res == CHILD_OPENED ? "opened" : res == CHILD_EBUSY ? "EBUSY" :
			       "failed", err);

		fd2 = npu_open(0, second, 0);
		if (conflict) {
			EXPECT_EQ(-EBUSY, fd2) TH_LOG("%s held, same process opens %s: %d",
						      first, name, fd2);
		} else {
			EXPECT_LE(0, fd2) TH_LOG("%s held, same process opens %s: %s", first,
						 name, strerror(-fd2));
		}
		if (fd2 >= 0)
			close(fd2);

		/* the other card is never affected */
		fd2 = npu_open(1, second, 0);
		if (npu_device_present(1)) {
			EXPECT_LE(0, fd2) TH_LOG("npu0%s held, npu1 %s: %s", first, name,
						 strerror(-fd2));
		}
		if (fd2 >= 0)
			close(fd2);
	}

	/* close() releases: every file opens again, from another process */
	close(fd);
	for (int second = 0; second < NPU_FILE_KIND_COUNT; second++) {
		int err = 0, res = open_in_child(0, second, &err);

		EXPECT_EQ(CHILD_OPENED, res) TH_LOG("after closing %s, open %s: errno %d",
						    first, npu_file_kind_name(second), err);
	}
}

/* A failed open takes nothing: the owner's close still frees the PEs. */
TEST(failed_open_takes_nothing)
{
	int fd, fd2;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd);
	/* wants pe0 (held) and pe1 (free): must not keep pe1 */
	ASSERT_EQ(-EBUSY, npu_open(0, NPU_FILE_FUSED, 0));
	ASSERT_EQ(-EBUSY, npu_open(0, NPU_FILE_ALL, 0));
	fd2 = npu_open(0, NPU_FILE_PE1, 0);
	EXPECT_LE(0, fd2) TH_LOG("pe1 leaked by a failed open: %s", strerror(-fd2));
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	fd = npu_open(0, NPU_FILE_FUSED, 0);
	EXPECT_LE(0, fd) TH_LOG("fused after all closed: %s", strerror(-fd));
	if (fd >= 0)
		close(fd);
}

/* A duplicated descriptor (dup, fork) is the same open file: no new owner. */
TEST(dup_and_fork_share_ownership)
{
	int fd, fd2, status;
	pid_t pid;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	fd = npu_open(0, NPU_FILE_PE1, 0);
	ASSERT_LE(0, fd);
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	close(fd);
	/* still owned through the duplicate */
	ASSERT_EQ(-EBUSY, npu_open(0, NPU_FILE_PE1, 0));

	pid = fork();
	if (pid == 0) {
		struct npu_device_info info;

		/* the inherited descriptor works in the child */
		_exit(npu_device_info(fd2, &info) == 0 && info.pe_mask == 2 ? 0 : 1);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the child's exit closed only its copy */
	EXPECT_EQ(-EBUSY, npu_open(0, NPU_FILE_PE1, 0));
	close(fd2);
	fd = npu_open(0, NPU_FILE_PE1, 0);
	EXPECT_LE(0, fd) TH_LOG("pe1 after last close: %s", strerror(-fd));
	if (fd >= 0)
		close(fd);
}

/*
 * An owner killed with SIGKILL releases its PEs, idle or with jobs in
 * flight. The child reports over a pipe once it holds the file (and has
 * queued its jobs), then is killed.
 */
static void kill_owner(struct __test_metadata *_metadata, enum npu_file_kind kind,
		       bool with_jobs)
{
	int pipefd[2], fd, status;
	char ready;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	if (pid == 0) {
		int cfd = npu_open(0, kind, 0);

		close(pipefd[0]);
		if (cfd < 0)
			_exit(1);
		if (with_jobs) {
			/* 8 jobs of 8 long copies each */
			struct npu_insn prog[9];
			struct npu_job_cmd cmds[8];

			for (int i = 0; i < 8; i++)
				prog[i] = npu_insn_copy(0x1000000, 0x2000000, 16u << 20);
			prog[8] = npu_insn_halt();
			if (npu_write_dram(cfd, 0, 0, prog, sizeof(prog)))
				_exit(2);
			for (int i = 0; i < 8; i++)
				cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
			for (int j = 0; j < 8; j++)
				if (npu_submit(cfd, 0, cmds, 8, NULL))
					_exit(3);
		}
		if (write(pipefd[1], "r", 1) != 1)
			_exit(4);
		pause();
		_exit(0);
	}
	ASSERT_LT(0, pid);
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &ready, 1)) TH_LOG("child failed to take %s",
							npu_file_kind_name(kind));
	close(pipefd[0]);
	EXPECT_EQ(-EBUSY, npu_open(0, kind, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	fd = open_after_release(0, kind);
	EXPECT_LE(0, fd) TH_LOG("%s after its owner was killed%s: %s", npu_file_kind_name(kind),
				with_jobs ? " with jobs in flight" : "", strerror(-fd));
	if (fd >= 0) {
		uint8_t data[32] = { 1, 2, 3 }, got[32];

		/* and the PE works for the new owner */
		EXPECT_EQ(0, npu_write_dram(fd, 0, 0x3000, data, sizeof(data)));
		EXPECT_EQ(0, npu_read_dram(fd, 0, 0x3000, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
		close(fd);
	}
}

NPU_FIXTURE_OVER_FILE_KINDS(owner);

FIXTURE_VARIANT_ADD(owner, all) { .kind = NPU_FILE_ALL };
FIXTURE_VARIANT_ADD(owner, pe1) { .kind = NPU_FILE_PE1 };
FIXTURE_VARIANT_ADD(owner, fused) { .kind = NPU_FILE_FUSED };

NPU_FIXTURE_NEEDS_NPU0(owner)

TEST_F(owner, killed_while_idle)
{
	NPU_RETURN_IF_SKIPPED();
	kill_owner(_metadata, variant->kind, false);
}

TEST_F_TIMEOUT(owner, killed_with_jobs_in_flight, 120)
{
	NPU_RETURN_IF_SKIPPED();
	kill_owner(_metadata, variant->kind, true);
}

/*
 * Racing openers: 12 processes released at once open npu0, pe0, pe0-1 or
 * pe1. While everyone holds what it got, the winners' PE sets are disjoint
 * and every loser (EBUSY) wanted a PE some winner holds.
 */
TEST_F_TIMEOUT(owner, racing_openers, 60)
{
	static const enum npu_file_kind kinds[] = {
		NPU_FILE_ALL, NPU_FILE_PE0, NPU_FILE_FUSED, NPU_FILE_PE1,
	};
	const int nproc = 12;
	unsigned int union_mask = 0, sum_mask = 0, loser_masks[12];
	int go[2], result[2], status, winners = 0, losers = 0, other = 0;
	pid_t pids[12];

	NPU_RETURN_IF_SKIPPED();
	if (variant->kind != NPU_FILE_ALL)
		return;		/* one run is enough */
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(result));
	for (int i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			enum npu_file_kind kind = kinds[i % 4];
			char c, verdict[2] = { (char)kind, 0 };
			int fd;

			close(go[1]);
			close(result[0]);
			if (read(go[0], &c, 1) != 0)	/* EOF: everyone starts */
				_exit(1);
			fd = npu_open(0, kind, 0);
			verdict[1] = fd >= 0 ? 'w' : fd == -EBUSY ? 'b' : 'x';
			if (write(result[1], verdict, 2) != 2)
				_exit(2);
			close(result[1]);
			pause();	/* hold the file until killed */
			_exit(0);
		}
		ASSERT_LT(0, pids[i]);
	}
	close(go[0]);
	close(result[1]);
	close(go[1]);	/* release them all */
	for (int i = 0; i < nproc; i++) {
		char verdict[2];
		unsigned int mask;

		ASSERT_EQ(2, read(result[0], verdict, 2));
		mask = npu_file_pe_mask((enum npu_file_kind)verdict[0]);
		if (verdict[1] == 'w') {
			winners++;
			union_mask |= mask;
			sum_mask += mask;
		} else if (verdict[1] == 'b') {
			loser_masks[losers++] = mask;
		} else {
			other++;
		}
	}
	close(result[0]);
	for (int i = 0; i < nproc; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
	}
	TH_LOG("%d winners holding PE mask %#x, %d EBUSY, %d other errors", winners, union_mask,
	       losers, other);
	EXPECT_EQ(0, other);
	EXPECT_LE(1, winners);
	EXPECT_EQ(union_mask, sum_mask) TH_LOG("two winners share a PE");
	for (int i = 0; i < losers; i++)
		EXPECT_NE(0, loser_masks[i] & union_mask) TH_LOG("an opener of free PEs got EBUSY");
}

TEST_HARNESS_MAIN
