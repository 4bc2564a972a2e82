// SPDX-License-Identifier: MIT
/*
 * Isolation between users of the device. An attacker file (/dev/npu0pe0)
 * submits crafted descriptors (BO ranges past the end, u64 wrap-arounds,
 * DRAM ranges past its window, handles it does not own, a read-only
 * userptr as a DMA target) and programs that reach outside its partition
 * (directly, through 32-bit wrap-around, and by rewriting their own next
 * instruction into an out-of-bounds one). Each is refused at SUBMIT (EINVAL,
 * ENOENT, EACCES) or fails only that job (EIO with DRAM_OOB/BAD_DESC) while
 * a victim process on PE1 runs jobs that all succeed. Afterwards canaries
 * are unchanged: another BO of the same file, a BO of another file (card 1),
 * the guard pages around a userptr BO, the victim process's BO and PE1's
 * DRAM (start, middle, end of its partition). A user outside the device
 * group cannot open the device files; a second opener of an owned PE gets
 * EBUSY but can read the status through the management file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"

#define CANARY_BYTES	65536
#define PROG_OFF	0x10000
#define DATA_OFF	0x20000

static void canary_fill(uint8_t *buf, size_t len, uint8_t salt)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 131 + salt);
}

static bool canary_ok(const uint8_t *buf, size_t len, uint8_t salt)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (uint8_t)(i * 131 + salt))
			return false;
	return true;
}

/*
 * The victim: owns PE1 of card 0, fills a BO and three DRAM ranges with
 * canaries, runs jobs until told to stop (pipe closed), then checks.
 * Exit status: 0 intact, 10+n which check failed.
 */
static int victim_main(int ready_fd, int stop_fd)
{
	uint8_t *buf = malloc(CANARY_BYTES);
	struct npu_device_info info;
	struct npu_vjob_ctx ctx;
	uint64_t where[3], jobs = 0;
	struct npu_bo bo;
	int fd = npu_open(0, NPU_FILE_PE1, 0);
	char c = 'r';

	if (fd < 0 || !buf || npu_device_info(fd, &info) || npu_bo_alloc(fd, CANARY_BYTES, &bo))
		return 10;
	where[0] = 0;
	where[1] = info.dram_window / 2;
	where[2] = info.dram_window - CANARY_BYTES;
	canary_fill(bo.map, CANARY_BYTES, 0x5a);
	for (int i = 0; i < 3; i++) {
		canary_fill(buf, CANARY_BYTES, (uint8_t)(0x10 + i));
		if (npu_write_dram(fd, 0, where[i], buf, CANARY_BYTES))
			return 11;
	}
	if (npu_vjob_init(&ctx, fd, 0, 1, 0x100000, 77))
		return 12;
	if (write(ready_fd, &c, 1) != 1)
		return 13;
	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	/* Jobs on PE1 while PE0's jobs fail: every one must succeed. */
	while (read(stop_fd, &c, 1) < 0 && errno == EAGAIN) {
		uint64_t seq;
		struct npu_wait w;

		if (npu_vjob_submit(&ctx, 0, &seq) || npu_wait(fd, seq, 10000000000ll, &w) ||
		    npu_vjob_check(&ctx, 0))
			return 14;
		jobs++;
	}
	if (!jobs)
		return 15;
	if (!canary_ok(bo.map, CANARY_BYTES, 0x5a))
		return 16;
	for (int i = 0; i < 3; i++) {
		if (npu_read_dram(fd, 0, where[i], buf, CANARY_BYTES) ||
		    !canary_ok(buf, CANARY_BYTES, (uint8_t)(0x10 + i)))
			return 17 + i;
	}
	return 0;
}

FIXTURE(iso)
{
	int fd;			/* attacker: /dev/npu0pe0 */
	int other_fd;		/* another file of the attacker: /dev/npu1pe0, or -1 */
	uint64_t window;
	struct npu_bo work, same_file_canary, other_file_canary;
	uint8_t *guarded;	/* 3 pages: canary, userptr BO, canary */
	uint32_t userptr_handle, userptr_ro_handle;
	size_t page;
	pid_t victim;
	int stop_fd;
};

FIXTURE_SETUP(iso)
{
	struct npu_device_info info;
	struct npu_bo_userptr up;
	int ready[2], stop[2];
	char c;

	self->fd = self->other_fd = self->stop_fd = -1;
	self->victim = 0;
	self->guarded = NULL;
	self->page = (size_t)sysconf(_SC_PAGESIZE);
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(stop));
	self->victim = fork();
	ASSERT_LE(0, self->victim);
	if (!self->victim) {
		close(ready[0]);
		close(stop[1]);
		_exit(victim_main(ready[1], stop[0]));
	}
	close(ready[1]);
	close(stop[0]);
	self->stop_fd = stop[1];
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the victim process failed to start");
	close(ready[0]);

	self->fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, npu_device_info(self->fd, &info));
	self->window = info.dram_window;
	ASSERT_EQ(0, npu_bo_alloc(self->fd, CANARY_BYTES, &self->work));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, CANARY_BYTES, &self->same_file_canary));
	canary_fill(self->same_file_canary.map, CANARY_BYTES, 0x33);
	if (npu_device_present(1)) {
		self->other_fd = npu_open(1, NPU_FILE_PE0, 0);
		ASSERT_LE(0, self->other_fd);
		ASSERT_EQ(0, npu_bo_alloc(self->other_fd, CANARY_BYTES, &self->other_file_canary));
		canary_fill(self->other_file_canary.map, CANARY_BYTES, 0x44);
	}
	self->guarded = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->guarded);
	canary_fill(self->guarded, 3 * self->page, 0x66);
	memset(&up, 0, sizeof(up));
	up.user_ptr = (uintptr_t)(self->guarded + self->page);
	up.size = self->page;
	ASSERT_EQ(0, ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &up));
	self->userptr_handle = up.handle;
	up.flags = NPU_BO_USERPTR_READONLY;
	ASSERT_EQ(0, ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &up));
	self->userptr_ro_handle = up.handle;
}

FIXTURE_TEARDOWN(iso)
{
	if (self->stop_fd >= 0)
		close(self->stop_fd);
	if (self->victim > 0) {
		kill(self->victim, SIGKILL);
		waitpid(self->victim, NULL, 0);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->other_fd >= 0)
		close(self->other_fd);
}

#define ADD_FAILURE_AT(i) do { \
	TH_LOG("guard page byte %zu changed", (size_t)(i)); _metadata->passed = 0; } while (0)

/* The canaries outside the attacker's reach, then the victim's verdict. */
static void check_everything_intact(struct __test_metadata *_metadata, FIXTURE_DATA(iso) *self)
{
	int status;
	uint8_t *page1 = self->guarded + self->page;

	EXPECT_TRUE(canary_ok(self->same_file_canary.map, CANARY_BYTES, 0x33));
	if (self->other_fd >= 0)
		EXPECT_TRUE(canary_ok(self->other_file_canary.map, CANARY_BYTES, 0x44));
	/* guard pages: byte i of the 3-page area carries canary i */
	for (size_t i = 0; i < self->page; i++) {
		if (self->guarded[i] != (uint8_t)(i * 131 + 0x66) ||
		    page1[self->page + i] != (uint8_t)((i + 2 * self->page) * 131 + 0x66)) {
			ADD_FAILURE_AT(i);
			break;
		}
	}
	close(self->stop_fd);
	self->stop_fd = -1;
	ASSERT_EQ(self->victim, waitpid(self->victim, &status, 0));
	self->victim = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("victim process on PE1: status 0x%x (10+n: check n failed)", status);
}

static int submit1(int fd, struct npu_job_cmd cmd)
{
	return npu_submit(fd, 0, &cmd, 1, NULL);
}

TEST_F(iso, crafted_descriptors_refused)
{
	uint64_t w = self->window;
	uint32_t h = self->work.handle;
	struct npu_job_cmd c;
	struct {
		const char *what;
		struct npu_job_cmd cmd;
		int err;
	} cases[] = {
		{ "BO range past its end", { .op = NPU_JOB_CMD_COPY_FROM_DRAM, .handle = h,
		  .offset = CANARY_BYTES - 16, .length = 32 }, EINVAL },
		{ "BO offset wrapping u64", { .op = NPU_JOB_CMD_COPY_FROM_DRAM, .handle = h,
		  .offset = ~0ull - 15, .length = 32 }, EINVAL },
		{ "BO length wrapping u64", { .op = NPU_JOB_CMD_COPY_TO_DRAM, .handle = h,
		  .offset = 4096, .length = ~0ull - 4000 }, EINVAL },
		{ "DRAM range past the window", { .op = NPU_JOB_CMD_COPY_FROM_DRAM, .handle = h,
		  .dram_addr = w - 16, .length = 32 }, EINVAL },
		{ "DRAM address = window (other partition)", { .op = NPU_JOB_CMD_COPY_TO_DRAM,
		  .handle = h, .dram_addr = w, .length = 64 }, EINVAL },
		{ "DRAM address wrapping u64", { .op = NPU_JOB_CMD_COPY_TO_DRAM, .handle = h,
		  .dram_addr = ~0ull - 15, .length = 32 }, EINVAL },
		{ "program past the window", { .op = NPU_JOB_CMD_EXEC, .dram_addr = w - 64,
		  .length = 128 }, EINVAL },
		{ "program address wrapping", { .op = NPU_JOB_CMD_EXEC, .dram_addr = ~0ull - 63,
		  .length = 128 }, EINVAL },
		{ "handle the file does not own", { .op = NPU_JOB_CMD_COPY_FROM_DRAM,
		  .handle = 4242, .length = 64 }, ENOENT },
		{ "handle 0", { .op = NPU_JOB_CMD_COPY_TO_DRAM, .length = 64 }, ENOENT },
		{ "device write into a read-only userptr", { .op = NPU_JOB_CMD_COPY_FROM_DRAM,
		  .handle = self->userptr_ro_handle, .length = 64 }, EACCES },
		{ "userptr range past its page", { .op = NPU_JOB_CMD_COPY_FROM_DRAM,
		  .handle = self->userptr_handle, .offset = 64, .length = 4096 }, EINVAL },
	};
	void *m;

	NPU_RETURN_IF_SKIPPED();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *what = cases[i].what;

		EXPECT_EQ(-cases[i].err, submit1(self->fd, cases[i].cmd)) TH_LOG("%s", what);
	}
	/* mapping a handle this file does not own, or past a BO */
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, (off_t)4242 << 32);
	EXPECT_EQ(MAP_FAILED, m);
	m = mmap(NULL, 2 * CANARY_BYTES, PROT_READ, MAP_SHARED, self->fd,
		 (off_t)self->work.handle << 32);
	EXPECT_EQ(MAP_FAILED, m);
	/* a full-page DMA into the userptr page: exactly that page changes */
	c = npu_cmd_from_dram(&self->work, 0, 0, self->page);
	c.handle = self->userptr_handle;
	EXPECT_EQ(0, npu_run(self->fd, 0, &c, 1, NULL));
	check_everything_intact(_metadata, self);
}

TEST_F(iso, programs_escaping_the_partition_fail_alone)
{
	uint32_t w32 = self->window > 0xffffffffull ? 0xffffffffu : (uint32_t)self->window;
	struct npu_insn oob_copy = npu_insn_copy(w32, DATA_OFF, 4096);
	struct {
		const char *what;
		struct npu_insn insns[4];
		unsigned int count;
		uint32_t status;
	} cases[] = {
		{ "COPY into the next partition", { npu_insn_copy(w32, DATA_OFF, 4096),
		  npu_insn_halt() }, 2, NPU_JOB_DRAM_OOB },
		{ "COPY across the window end", { npu_insn_copy(w32 - 16, DATA_OFF, 32),
		  npu_insn_halt() }, 2, NPU_JOB_DRAM_OOB },
		{ "COPY source wrapping 32 bits", { npu_insn_copy(DATA_OFF, 0xfffffff0u, 0x20),
		  npu_insn_halt() }, 2, NPU_JOB_DRAM_OOB },
		{ "ADD i32 whose size wraps 32 bits", { npu_insn_add(NPU_DTYPE_I32, DATA_OFF,
		  DATA_OFF, DATA_OFF, 0x40000001u), npu_insn_halt() }, 2, NPU_JOB_DRAM_OOB },
		{ "MATMUL whose result passes the end", { npu_insn_matmul(w32 - 4096, DATA_OFF,
		  DATA_OFF, 64, 64, 1, false), npu_insn_halt() }, 2, NPU_JOB_DRAM_OOB },
		/*
		 * Self-modifying: insn 0 copies the out-of-bounds COPY stored at
		 * DATA_OFF over insn 1 (a HALT), which then runs.
		 */
		{ "program rewriting itself into an escape", {
		  npu_insn_copy(PROG_OFF + NPU_INSN_SIZE, DATA_OFF, NPU_INSN_SIZE),
		  npu_insn_halt(), npu_insn_halt() }, 3, NPU_JOB_DRAM_OOB },
	};

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, DATA_OFF, &oob_copy, sizeof(oob_copy)));
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct npu_wait w;
			int ret = npu_run_program(self->fd, 0, PROG_OFF, cases[i].insns,
						  cases[i].count, &w);

			EXPECT_EQ(-EIO, ret) TH_LOG("%s: ret %d", cases[i].what, ret);
			if (ret == -EIO)
				EXPECT_EQ(cases[i].status, w.status)
					TH_LOG("%s: %s", cases[i].what,
					       npu_job_status_name(w.status));
			/* the data of the self-modifying case must be intact for the next round */
			ASSERT_EQ(0, npu_write_dram(self->fd, 0, DATA_OFF, &oob_copy,
						    sizeof(oob_copy)));
		}
	}
	/* the attacker's file still works */
	{
		struct npu_vjob_ctx ctx;
		uint64_t seq;

		ASSERT_EQ(0, npu_vjob_init(&ctx, self->fd, 0, 1, 0x200000, 5));
		ASSERT_EQ(0, npu_vjob_submit(&ctx, 0, &seq));
		EXPECT_EQ(0, npu_wait(self->fd, seq, -1, NULL));
		EXPECT_EQ(0, npu_vjob_check(&ctx, 0));
		npu_vjob_fini(&ctx);
	}
	check_everything_intact(_metadata, self);
}

TEST_F(iso, owners_and_outsiders)
{
	struct npu_device_info info;
	int fd, status;
	pid_t pid;

	NPU_RETURN_IF_SKIPPED();
	/* a second opener of the owned PE: EBUSY; the management file reads status */
	EXPECT_EQ(-EBUSY, npu_open(0, NPU_FILE_PE0, 0));
	EXPECT_EQ(-EBUSY, npu_open(0, NPU_FILE_ALL, 0));
	fd = npu_open(0, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, npu_device_info(fd, &info));
	EXPECT_EQ(-ENOTTY, npu_submit(fd, 0, NULL, 1, NULL));
	close(fd);

	/* a user outside the device group opens nothing */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bad = 0;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		for (enum npu_file_kind k = NPU_FILE_ALL; k < NPU_FILE_KIND_COUNT; k++) {
			int r = npu_open(0, k, 0);

			if (r != -EACCES && r != -EPERM)
				bad |= 1 << k;
			if (r >= 0)
				close(r);
		}
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("files an outsider could open: mask 0x%x",
						 WEXITSTATUS(status));
	check_everything_intact(_metadata, self);
}

TEST_HARNESS_MAIN
