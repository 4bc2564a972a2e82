// SPDX-License-Identifier: MIT
/*
 * Driver unbind and rebind of card 1 with files open, BOs mapped and jobs in
 * flight (in the spirit of IGT core_hotunplug): every waiter is released, no
 * job is reported OK that did not run, calls fail with ENODEV, poll reports
 * POLLERR|POLLHUP, mappings stay readable, and after rebinding the card
 * works again under the same name. Uses card 1 so that card 0 stays bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_util.h"

#define CARD 1

static int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -errno;
}

/* Waits up to 10 s for /dev/npu<CARD>_mgmt to (dis)appear. */
static bool wait_node(bool present)
{
	for (int i = 0; i < 1000; i++) {
		if (npu_device_present(CARD) == present)
			return true;
		usleep(10000);
	}
	return false;
}

FIXTURE(unplug)
{
	char busname[NPU_STRING_LEN];
	char driver_dir[PATH_MAX];
	bool unbound;
};

FIXTURE_SETUP(unplug)
{
	struct npu_device_info info;
	char link[PATH_MAX], path[PATH_MAX];
	ssize_t n;
	int fd;

	if (!npu_device_present(CARD))
		SKIP(return, "/dev/npu%d_mgmt missing: needs two cards", CARD);
	fd = npu_open(CARD, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, npu_device_info(fd, &info));
	close(fd);
	snprintf(self->busname, sizeof(self->busname), "%.*s", NPU_STRING_LEN - 1, info.busname);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", self->busname);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n) TH_LOG("readlink %s: %s", path, strerror(errno));
	link[n] = 0;
	/* the link is relative: ../../../bus/pci/drivers/npu */
	snprintf(self->driver_dir, sizeof(self->driver_dir), "/sys/bus/pci/drivers/%s",
		 strrchr(link, '/') + 1);
}

FIXTURE_TEARDOWN(unplug)
{
	char path[PATH_MAX + 8];

	/* always leave the card bound for the tests that follow */
	if (self->unbound && !npu_device_present(CARD)) {
		snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
		write_sysfs(path, self->busname);
		wait_node(true);
	}
}

TEST_F_TIMEOUT(unplug, unbind_with_jobs_in_flight, 120)
{
	char path[PATH_MAX + 8];
	struct npu_insn prog[33];
	struct npu_job_cmd cmds[8];
	struct npu_device_info info;
	struct pollfd pfd;
	struct npu_bo bo;
	uint64_t seq[4];
	int fd, ret, lost = 0;

	NPU_RETURN_IF_SKIPPED();
	fd = npu_open(CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, npu_bo_alloc(fd, 8192, &bo));
	memset(bo.map, 0x71, 8192);
	for (int i = 0; i < 32; i++)
		prog[i] = npu_insn_copy(0x1000000, 0x2000000, 16u << 20);
	prog[32] = npu_insn_halt();
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	for (int i = 0; i < 8; i++)
		cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, npu_submit(fd, 0, cmds, 8, &seq[i]));

	snprintf(path, sizeof(path), "%s/unbind", self->driver_dir);
	ret = write_sysfs(path, self->busname);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", self->busname, strerror(-ret));
	self->unbound = true;
	EXPECT_TRUE(wait_node(false)) TH_LOG("/dev/npu%d_mgmt still there after unbind", CARD);

	/* every job is accounted for: finished before the unbind, or lost */
	for (int i = 0; i < 4; i++) {
		struct npu_wait wait;

		ret = npu_wait(fd, seq[i], 10ll * 1000000000, &wait);
		EXPECT_TRUE(ret == 0 || ret == -EIO || ret == -ENODEV)
			TH_LOG("job %d after unbind: %s", i, strerror(-ret));
		if (ret == -EIO) {
			EXPECT_EQ(NPU_JOB_DEVICE_LOST, wait.status);
			lost++;
		}
	}
	TH_LOG("%d of 4 jobs reported DEVICE_LOST", lost);
	EXPECT_EQ(-ENODEV, npu_wait(fd, NPU_WAIT_ANY, 0, NULL));
	EXPECT_EQ(-ENODEV, npu_submit(fd, 0, cmds, 1, NULL));
	EXPECT_EQ(-ENODEV, npu_device_info(fd, &info));
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLERR | POLLHUP, pfd.revents & (POLLERR | POLLHUP));
	/* the mapping still reads what was there */
	EXPECT_EQ(0x71, bo.map[0]);
	EXPECT_EQ(0x71, bo.map[8191]);
	npu_bo_release(&bo);
	close(fd);

	/* rebind: the card comes back under the same name and works */
	snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
	ret = write_sysfs(path, self->busname);
	ASSERT_EQ(0, ret) TH_LOG("bind %s: %s", self->busname, strerror(-ret));
	ASSERT_TRUE(wait_node(true)) TH_LOG("/dev/npu%d_mgmt did not come back", CARD);
	self->unbound = false;
	fd = npu_open(CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open after rebind: %s", strerror(-fd));
	ASSERT_EQ(0, npu_device_info(fd, &info));
	EXPECT_STREQ(self->busname, info.busname);
	{
		uint8_t data[99], got[99];

		memset(data, 0x2f, sizeof(data));
		EXPECT_EQ(0, npu_write_dram(fd, 0, 0x333, data, sizeof(data)));
		EXPECT_EQ(0, npu_read_dram(fd, 0, 0x333, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
	}
	close(fd);
}

/* A process blocked in WAIT (forever) is woken by the unbind. */
TEST_F_TIMEOUT(unplug, unbind_wakes_blocked_waiter, 120)
{
	char path[PATH_MAX + 8];
	struct npu_insn prog[33];
	struct npu_job_cmd cmds[8];
	int fd, status, pipefd[2];
	char ready;
	pid_t pid;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	if (pid == 0) {
		struct npu_wait wait;
		uint64_t seq;
		int ret;

		close(pipefd[0]);
		fd = npu_open(CARD, NPU_FILE_PE1, 0);
		if (fd < 0)
			_exit(10);
		for (int i = 0; i < 32; i++)
			prog[i] = npu_insn_copy(0x1000000, 0x2000000, 16u << 20);
		prog[32] = npu_insn_halt();
		if (npu_write_dram(fd, 0, 0, prog, sizeof(prog)))
			_exit(11);
		for (int i = 0; i < 8; i++)
			cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
		for (int i = 0; i < 8; i++)
			if (npu_submit(fd, 0, cmds, 8, &seq))
				_exit(12);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(13);
		/* the last job: still queued when the parent unbinds */
		ret = npu_wait(fd, seq, -1, &wait);
		if (ret == -ENODEV || (ret == -EIO && wait.status == NPU_JOB_DEVICE_LOST))
			_exit(0);
		_exit(ret == 0 ? 1 : 2);
	}
	ASSERT_LT(0, pid);
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &ready, 1));
	close(pipefd[0]);
	usleep(20000);

	snprintf(path, sizeof(path), "%s/unbind", self->driver_dir);
	ASSERT_EQ(0, write_sysfs(path, self->busname));
	self->unbound = true;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* exit 1: the job completed before the unbind; possible only on a fast host */
	EXPECT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1)
		TH_LOG("waiter exit %d", WEXITSTATUS(status));
	if (WEXITSTATUS(status) == 1)
		TH_LOG("the queued job finished before the unbind");
}

/* A card unbound while fused comes back split: pe0 has its partition again. */
TEST_F_TIMEOUT(unplug, unbind_while_fused, 120)
{
	char path[PATH_MAX + 8];
	struct npu_device_info info;
	uint64_t dram;
	int fd, ret;

	NPU_RETURN_IF_SKIPPED();
	fd = npu_open(CARD, NPU_FILE_FUSED, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, npu_device_info(fd, &info));
	dram = info.dram_size;
	snprintf(path, sizeof(path), "%s/unbind", self->driver_dir);
	ASSERT_EQ(0, write_sysfs(path, self->busname));
	self->unbound = true;
	close(fd);
	snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
	ret = write_sysfs(path, self->busname);
	ASSERT_EQ(0, ret) TH_LOG("bind: %s", strerror(-ret));
	ASSERT_TRUE(wait_node(true));
	self->unbound = false;
	fd = npu_open(CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open pe0 after rebind: %s", strerror(-fd));
	ASSERT_EQ(0, npu_device_info(fd, &info));
	EXPECT_GT(dram, info.dram_window) TH_LOG("pe0 window %llu after rebind",
						 (unsigned long long)info.dram_window);
	{
		uint8_t data[32] = { 5, 6, 7 }, got[32];

		EXPECT_EQ(0, npu_write_dram(fd, 0, info.dram_window - 32, data, 32));
		EXPECT_EQ(0, npu_read_dram(fd, 0, info.dram_window - 32, got, 32));
		EXPECT_EQ(0, memcmp(data, got, 32));
	}
	close(fd);
	/* and pe1 is usable next to it */
	fd = npu_open(CARD, NPU_FILE_PE1, 0);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

TEST_HARNESS_MAIN
