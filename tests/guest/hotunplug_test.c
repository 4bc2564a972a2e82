// SPDX-License-Identifier: MIT
/*
 * Driver unbind and rebind of card 1 with files open, BOs mapped and jobs in
 * flight (in the spirit of IGT core_hotunplug): every waiter is released, no
 * job is reported OK that did not run, calls fail with ENODEV, poll reports
 * POLLERR|POLLHUP, mappings stay readable, and after rebinding the card
 * works again under the same name. Uses card 1 so that card 0 stays bound.
 *
 * A job is in flight at the unbind by construction, not by a race with the
 * host's speed: the model's HANG fault (card 1 has faults=on) holds the
 * first command of the PE BUSY forever, the driver's watchdog is off, and
 * the test sees the fault fire and the PE BUSY before it unbinds. Only the
 * unbind's device reset ends that command, so every job must come back
 * DEVICE_LOST.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define CARD 1

/*
 * Waits up to 10 s for /dev/npu<CARD>_mgmt to (dis)appear: devtmpfs
 * follows bind and unbind within milliseconds; 10 s only bounds a failure.
 */
static bool wait_node(bool present)
{
	for (int i = 0; i < 1000; i++) {
		if (npu_device_present(CARD) == present)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Arms a HANG of the PEs in pe_mask for one firing, with the watchdog off so
 * that nothing but a reset ends the hung command. *fired: FAULT_FIRED before.
 */
static int arm_hang(struct npu_fault_dev *fdev, uint32_t pe_mask, uint32_t *fired)
{
	int ret = npu_job_timeout_set(fdev, 0);

	if (ret)
		return ret;
	*fired = npu_fault_fired(fdev);
	return npu_fault_arm(fdev, NPU_FAULT_HANG, pe_mask, 1, 0);
}

/*
 * Waits up to 10 s for the armed HANG to have fired and the PE to be BUSY
 * on it: from then on its job cannot finish before a reset. The event is
 * read from the device, so a slow host only makes the wait longer; the
 * job's first command starts within milliseconds of its submit.
 */
static bool wait_hung(const struct npu_fault_dev *fdev, unsigned int pe, uint32_t fired)
{
	for (int i = 0; i < 1000; i++) {
		uint32_t st = npu_fault_reg_read(fdev, NPU_PE_BASE(pe) + NPU_PE_STATUS);

		if (npu_fault_fired(fdev) != fired && (st & NPU_PE_STATUS_BUSY))
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
	struct npu_fault_dev fdev;
	unsigned int job_timeout_ms;
};

FIXTURE_SETUP(unplug)
{
	int ret;

	if (!npu_device_present(CARD))
		SKIP(return, "/dev/npu%d_mgmt missing: needs two cards", CARD);
	ret = npu_card_busname(CARD, self->busname, sizeof(self->busname));
	ASSERT_EQ(0, ret) TH_LOG("DEVICE_INFO of npu%d_mgmt: %s", CARD, strerror(-ret));
	ret = npu_pci_driver_dir(self->busname, self->driver_dir, sizeof(self->driver_dir));
	ASSERT_EQ(0, ret) TH_LOG("driver of %s: %s", self->busname, strerror(-ret));
	ASSERT_EQ(0, npu_fault_dev_open(CARD, &self->fdev));
	/* The VM's cards have faults=on (tests/vm/config.sh): without, nothing is in flight. */
	ASSERT_TRUE(npu_fault_supported(&self->fdev)) TH_LOG("card %d has no faults=on", CARD);
	ASSERT_EQ(0, npu_job_timeout_get(&self->fdev, &self->job_timeout_ms));
}

FIXTURE_TEARDOWN(unplug)
{
	char path[PATH_MAX + 8];

	/* always leave the card bound for the tests that follow */
	if (self->unbound && !npu_device_present(CARD)) {
		snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
		npu_write_file(path, self->busname);
		wait_node(true);
	}
	/*
	 * A failure before the unbind may leave the HANG armed or in place and
	 * the watchdog off: disarm, and let the restored watchdog reset a hung PE.
	 */
	if (self->fdev.regs && npu_device_present(CARD)) {
		npu_fault_disarm(&self->fdev, NPU_FAULT_HANG);
		npu_job_timeout_set(&self->fdev, self->job_timeout_ms);
	}
	npu_fault_dev_close(&self->fdev);
}

TEST_F_TIMEOUT(unplug, unbind_with_jobs_in_flight, 120)
{
	char path[PATH_MAX + 8];
	struct npu_insn prog[2];
	struct npu_job_cmd cmds[8];
	struct npu_device_info info;
	struct pollfd pfd;
	struct npu_bo bo;
	uint64_t seq[4];
	uint32_t fired;
	int fd, ret, lost = 0;

	NPU_RETURN_IF_SKIPPED();
	fd = npu_open(CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, npu_bo_alloc(fd, 8192, &bo));
	memset(bo.map, 0x71, 8192);
	prog[0] = npu_insn_copy(0x1000000, 0x2000000, 4096);
	prog[1] = npu_insn_halt();
	/* DMA jobs of their own: written before the HANG is armed */
	ASSERT_EQ(0, npu_write_dram(fd, 0, 0, prog, sizeof(prog)));
	for (int i = 0; i < 8; i++)
		cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
	ASSERT_EQ(0, arm_hang(&self->fdev, 1u << 0, &fired));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, npu_submit(fd, 0, cmds, 8, &seq[i]));
	/* job 0 hangs in its first command; 1..3 wait behind it in the SQ */
	ASSERT_TRUE(wait_hung(&self->fdev, 0, fired)) TH_LOG("PE0 did not hang");
	EXPECT_EQ(-ETIME, npu_wait(fd, seq[0], 0, NULL));

	snprintf(path, sizeof(path), "%s/unbind", self->driver_dir);
	ret = npu_write_file(path, self->busname);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", self->busname, strerror(-ret));
	self->unbound = true;
	EXPECT_TRUE(wait_node(false)) TH_LOG("/dev/npu%d_mgmt still there after unbind", CARD);

	/* none of them can have finished: each is reported DEVICE_LOST */
	for (int i = 0; i < 4; i++) {
		struct npu_wait wait;

		ret = npu_wait(fd, seq[i], 10ll * 1000000000, &wait);
		EXPECT_EQ(-EIO, ret) TH_LOG("job %d after unbind: %s", i, strerror(-ret));
		if (ret == -EIO) {
			EXPECT_EQ(NPU_JOB_DEVICE_LOST, wait.status);
			lost += wait.status == NPU_JOB_DEVICE_LOST;
		}
	}
	EXPECT_EQ(4, lost) TH_LOG("%d of 4 jobs reported DEVICE_LOST", lost);
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
	ret = npu_write_file(path, self->busname);
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

/*
 * Waits up to 10 s for pid to sleep in ioctl(2): after the child's last
 * SUBMIT, that is its WAIT.
 */
static bool wait_blocked_in_ioctl(pid_t pid)
{
	char path[64], buf[256];

	for (int i = 0; i < 1000; i++) {
		FILE *f;
		char *state;
		long nr = -1;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			return false;
		state = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%ld", &nr) != 1)
				nr = -1;
			fclose(f);
		}
		if (state && state[1] == ' ' && state[2] == 'S' && nr == __NR_ioctl)
			return true;
		usleep(10000);
	}
	return false;
}

/* A process blocked in WAIT (forever) on a job in flight is woken by the unbind. */
TEST_F_TIMEOUT(unplug, unbind_wakes_blocked_waiter, 120)
{
	char path[PATH_MAX + 8];
	struct npu_insn prog[2];
	struct npu_job_cmd cmds[8];
	int fd, status, up[2], down[2];
	uint32_t fired;
	char c;
	pid_t pid;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	if (pid == 0) {
		struct npu_wait wait;
		uint64_t seq;
		int ret;

		close(up[0]);
		close(down[1]);
		fd = npu_open(CARD, NPU_FILE_PE1, 0);
		if (fd < 0)
			_exit(10);
		prog[0] = npu_insn_copy(0x1000000, 0x2000000, 4096);
		prog[1] = npu_insn_halt();
		if (npu_write_dram(fd, 0, 0, prog, sizeof(prog)))
			_exit(11);
		for (int i = 0; i < 8; i++)
			cmds[i] = npu_cmd_exec(0, sizeof(prog), 0);
		/* the parent arms the HANG between the DMA above and the jobs */
		if (write(up[1], "w", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(12);
		for (int i = 0; i < 8; i++)
			if (npu_submit(fd, 0, cmds, 8, &seq))
				_exit(13);
		if (write(up[1], "r", 1) != 1)
			_exit(14);
		/* the last job: queued behind the hung one when the parent unbinds */
		ret = npu_wait(fd, seq, -1, &wait);
		if (ret == -EIO && wait.status == NPU_JOB_DEVICE_LOST)
			_exit(0);
		/* 1: reported finished; 2: ENODEV, its result lost; 3: anything else */
		_exit(ret == 0 ? 1 : ret == -ENODEV ? 2 : 3);
	}
	ASSERT_LT(0, pid);
	close(up[1]);
	close(down[0]);
	ASSERT_EQ(1, read(up[0], &c, 1));
	ASSERT_EQ('w', c);
	ASSERT_EQ(0, arm_hang(&self->fdev, 1u << 1, &fired));
	ASSERT_EQ(1, write(down[1], "g", 1));
	ASSERT_EQ(1, read(up[0], &c, 1));
	ASSERT_EQ('r', c) TH_LOG("child failed before submitting");
	close(up[0]);
	close(down[1]);
	ASSERT_TRUE(wait_hung(&self->fdev, 1, fired)) TH_LOG("PE1 did not hang");
	ASSERT_TRUE(wait_blocked_in_ioctl(pid)) TH_LOG("the child never blocked in WAIT");

	snprintf(path, sizeof(path), "%s/unbind", self->driver_dir);
	ASSERT_EQ(0, npu_write_file(path, self->busname));
	self->unbound = true;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("waiter exit %d", WEXITSTATUS(status));
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
	ASSERT_EQ(0, npu_write_file(path, self->busname));
	self->unbound = true;
	close(fd);
	snprintf(path, sizeof(path), "%s/bind", self->driver_dir);
	ret = npu_write_file(path, self->busname);
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
