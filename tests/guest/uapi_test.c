// SPDX-License-Identifier: MIT
/*
 * Negative ABI tests: every ioctl rejects bad handles, offsets, lengths,
 * flags, reserved fields, unknown commands and overflowing sizes with the
 * documented errno (EINVAL for malformed arguments, ENOENT for unknown
 * handles and seqnos, EFAULT for bad pointers, ENOTTY for unknown ioctls),
 * and a failing call leaves its output fields untouched.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_util.h"

#define SENTINEL 0xdeadbeefcafef00dull

static int raw_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

FIXTURE(uapi)
{
	int fd;
	struct npu_bo bo;	/* 8 KiB */
};

FIXTURE_SETUP(uapi)
{
	self->fd = -1;
	self->bo.fd = -1;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	self->fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, self->fd) TH_LOG("open npu0pe0: %s", strerror(-self->fd));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 8192, &self->bo));
}

FIXTURE_TEARDOWN(uapi)
{
	npu_bo_release(&self->bo);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(uapi, version_and_info_reject_flags)
{
	struct npu_version ver = { .flags = 1 };
	struct npu_device_info info;

	NPU_RETURN_IF_SKIPPED();
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_VERSION, &ver));
	ver.flags = 0;
	ver.reserved = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_VERSION, &ver));
	memset(&info, 0, sizeof(info));
	info.flags = 0x80000000u;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_DEVICE_INFO, &info));
	EXPECT_EQ(-EFAULT, raw_ioctl(self->fd, NPU_IOCTL_DEVICE_INFO, NULL));
	EXPECT_EQ(-EFAULT, raw_ioctl(self->fd, NPU_IOCTL_VERSION, (void *)16));
}

TEST_F(uapi, unknown_ioctls)
{
	uint64_t buf[64];
	/* unknown numbers, a known number with another size or direction, another type */
	const unsigned long reqs[] = {
		_IOWR(NPU_IOCTL_BASE, 0x7f, struct npu_wait),
		_IOWR(NPU_IOCTL_BASE, 0x22, struct npu_wait),
		_IOWR(NPU_IOCTL_BASE, 0x02, struct npu_version),
		_IOWR(NPU_IOCTL_BASE, 0x00, uint64_t),
		_IOW(NPU_IOCTL_BASE, 0x00, struct npu_version),
		_IOWR(NPU_IOCTL_BASE, 0x20, struct npu_wait),
		_IOWR(NPU_IOCTL_BASE + 1, 0x00, struct npu_version),
		_IO(NPU_IOCTL_BASE, 0x01),
	};

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, raw_ioctl(self->fd, reqs[i], buf)) TH_LOG("ioctl %#lx", reqs[i]);
	}
}

/* The management file answers VERSION and DEVICE_INFO only. */
TEST_F(uapi, mgmt_file_refuses_jobs)
{
	struct npu_bo_create create = { .size = 4096 };
	struct npu_job_cmd cmd = { .op = NPU_JOB_CMD_NOP };
	struct npu_submit submit = { .cmds = (uintptr_t)&cmd, .cmd_count = 1 };
	struct npu_wait wait = { 0 };
	int mgmt;

	NPU_RETURN_IF_SKIPPED();
	mgmt = npu_open(0, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, mgmt);
	EXPECT_EQ(-ENOTTY, raw_ioctl(mgmt, NPU_IOCTL_BO_CREATE, &create));
	EXPECT_EQ(-ENOTTY, raw_ioctl(mgmt, NPU_IOCTL_SUBMIT, &submit));
	EXPECT_EQ(-ENOTTY, raw_ioctl(mgmt, NPU_IOCTL_WAIT, &wait));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, mgmt, 0));
	close(mgmt);
}

TEST_F(uapi, bo_create_rejects)
{
	const struct {
		const char *what;
		struct npu_bo_create args;
	} cases[] = {
		{ "size 0", { .size = 0 } },
		{ "size above NPU_BO_MAX_SIZE", { .size = NPU_BO_MAX_SIZE + 1 } },
		{ "size 2^64-1", { .size = ~0ull } },
		{ "flags", { .size = 4096, .flags = 1 } },
		{ "high flag", { .size = 4096, .flags = 0x80000000u } },
		{ "reserved", { .size = 4096, .reserved = 1 } },
	};

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_bo_create args = cases[i].args;

		args.handle = 0x5a5a5a5a;
		args.mmap_offset = SENTINEL;
		EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_CREATE, &args))
			TH_LOG("BO_CREATE %s", cases[i].what);
		EXPECT_EQ(0x5a5a5a5a, args.handle) TH_LOG("%s: output written", cases[i].what);
		EXPECT_EQ(SENTINEL, args.mmap_offset);
	}
}

TEST_F(uapi, bo_free_rejects)
{
	struct npu_bo_free args = { 0 };
	struct npu_bo_create create = { .size = 1 };

	NPU_RETURN_IF_SKIPPED();
	args.handle = 0;
	EXPECT_EQ(-ENOENT, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));
	args.handle = 0xffffffffu;
	EXPECT_EQ(-ENOENT, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));
	args.handle = self->bo.handle;
	args.reserved = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));

	/* a 1-byte BO exists, frees once */
	ASSERT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_BO_CREATE, &create));
	args.handle = create.handle;
	args.reserved = 0;
	EXPECT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));
	EXPECT_EQ(-ENOENT, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args)) TH_LOG("double free");
}

/* Handles are private to the file that created them. */
TEST_F(uapi, foreign_handle)
{
	struct npu_job_cmd cmd;
	struct npu_bo_free args = { .handle = self->bo.handle };
	uint64_t seq = SENTINEL;
	int other;

	NPU_RETURN_IF_SKIPPED();
	other = npu_open(0, NPU_FILE_PE1, 0);
	ASSERT_LE(0, other);
	cmd = npu_cmd_to_dram(&self->bo, 0, 0, 64);
	EXPECT_EQ(-ENOENT, npu_submit(other, 0, &cmd, 1, &seq));
	EXPECT_EQ(SENTINEL, seq);
	EXPECT_EQ(-ENOENT, raw_ioctl(other, NPU_IOCTL_BO_FREE, &args));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, other, 0));
	close(other);
	/* still valid in its own file */
	EXPECT_EQ(0, npu_run(self->fd, 0, &cmd, 1, NULL));
}

TEST_F(uapi, mmap_rejects)
{
	struct npu_bo_create create = { .size = 8192 };
	void *p;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_BO_CREATE, &create));
	/* private mappings would hide writes from the device */
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, create.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	/* longer than the BO */
	p = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, self->fd, create.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	/* an offset that is no BO's */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, create.mmap_offset + (1ull << 40));
	EXPECT_EQ(MAP_FAILED, p);
	/* the second page alone is fine */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 create.mmap_offset + 4096);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		struct npu_bo_free args = { .handle = create.handle };

		/* freeing the handle keeps mapped pages alive */
		EXPECT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));
		memset(p, 0x11, 4096);
		munmap(p, 4096);
	}
}

TEST_F(uapi, submit_rejects_header)
{
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS + 1];
	struct npu_submit args;
	int all;

	NPU_RETURN_IF_SKIPPED();
	for (int i = 0; i <= NPU_JOB_MAX_CMDS; i++)
		cmds[i] = (struct npu_job_cmd){ .op = NPU_JOB_CMD_NOP };
#define SUBMIT_EXPECT(err, fd, field, value) do { \
		args = (struct npu_submit){ .cmds = (uintptr_t)cmds, .cmd_count = 1, \
					    .seqno = SENTINEL }; \
		args.field = value; \
		EXPECT_EQ(err, raw_ioctl(fd, NPU_IOCTL_SUBMIT, &args)) \
			TH_LOG(#field " = " #value); \
		EXPECT_EQ(SENTINEL, args.seqno); \
	} while (0)
	SUBMIT_EXPECT(-EINVAL, self->fd, cmd_count, 0);
	SUBMIT_EXPECT(-EINVAL, self->fd, cmd_count, NPU_JOB_MAX_CMDS + 1);
	SUBMIT_EXPECT(-EINVAL, self->fd, cmd_count, 0xffffffffu);
	SUBMIT_EXPECT(-EINVAL, self->fd, flags, 1);
	SUBMIT_EXPECT(-EINVAL, self->fd, cmd_size, 1);	/* 1.0: reserved */
	SUBMIT_EXPECT(-EINVAL, self->fd, pe, 1);	/* pe0 file: pe must be 0 */
	SUBMIT_EXPECT(-EINVAL, self->fd, pe, NPU_PE_ANY);
	SUBMIT_EXPECT(-EFAULT, self->fd, cmds, 0);
	SUBMIT_EXPECT(-EFAULT, self->fd, cmds, 8);
	SUBMIT_EXPECT(-EFAULT, self->fd, cmds, ~0ull - 8);

	all = npu_open(1, NPU_FILE_ALL, 0);
	if (all >= 0) {
		SUBMIT_EXPECT(-EINVAL, all, pe, 2);
		SUBMIT_EXPECT(-EINVAL, all, pe, 0x80000000u);
		close(all);
	}
#undef SUBMIT_EXPECT
}

TEST_F(uapi, submit_rejects_commands)
{
	const uint64_t bo_size = self->bo.size;
	const struct {
		const char *what;
		struct npu_job_cmd cmd;
		int err;
	} cases[] = {
		{ "unknown op", { .op = 5 }, -EINVAL },
		{ "op 2^32-1", { .op = 0xffffffffu }, -EINVAL },
		{ "cmd flags", { .op = NPU_JOB_CMD_NOP, .flags = 1 }, -EINVAL },
		{ "cmd reserved", { .op = NPU_JOB_CMD_NOP, .reserved = 1 }, -EINVAL },
		{ "NOP with a handle", { .op = NPU_JOB_CMD_NOP, .handle = self->bo.handle },
		  -EINVAL },
		{ "FENCE with a length", { .op = NPU_JOB_CMD_FENCE, .length = 64 }, -EINVAL },
		{ "EXEC with a handle", { .op = NPU_JOB_CMD_EXEC, .handle = self->bo.handle,
					  .length = 64 }, -EINVAL },
		{ "EXEC with a BO offset", { .op = NPU_JOB_CMD_EXEC, .offset = 64, .length = 64 },
		  -EINVAL },
		{ "copy length 0", { .op = NPU_JOB_CMD_COPY_TO_DRAM, .handle = self->bo.handle },
		  -EINVAL },
		{ "copy with a cycle budget", { .op = NPU_JOB_CMD_COPY_TO_DRAM,
						.handle = self->bo.handle, .length = 1,
						.cycle_budget = 1 }, -EINVAL },
		{ "copy handle 0", { .op = NPU_JOB_CMD_COPY_TO_DRAM, .length = 1 }, -ENOENT },
		{ "copy unknown handle", { .op = NPU_JOB_CMD_COPY_FROM_DRAM, .handle = 0x7fffffff,
					   .length = 1 }, -ENOENT },
		{ "copy past the BO end", { .op = NPU_JOB_CMD_COPY_TO_DRAM,
					    .handle = self->bo.handle, .offset = bo_size - 1,
					    .length = 2 }, -EINVAL },
		{ "copy longer than the BO", { .op = NPU_JOB_CMD_COPY_FROM_DRAM,
					       .handle = self->bo.handle, .length = bo_size + 1 },
		  -EINVAL },
		{ "BO offset + length wraps", { .op = NPU_JOB_CMD_COPY_TO_DRAM,
						.handle = self->bo.handle, .offset = ~0ull,
						.length = 2 }, -EINVAL },
		{ "copy length 2^64-1", { .op = NPU_JOB_CMD_COPY_TO_DRAM,
					  .handle = self->bo.handle, .length = ~0ull }, -EINVAL },
		{ "DRAM address + length wraps", { .op = NPU_JOB_CMD_COPY_TO_DRAM,
						   .handle = self->bo.handle,
						   .dram_addr = ~0ull, .length = 2 }, -EINVAL },
	};
	struct npu_job_cmd cmds[2];

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t seq = SENTINEL;

		/* as the only command, and after a good one */
		EXPECT_EQ(cases[i].err, npu_submit(self->fd, 0, &cases[i].cmd, 1, &seq))
			TH_LOG("%s", cases[i].what);
		cmds[0] = npu_cmd_to_dram(&self->bo, 0, 0, 16);
		cmds[1] = cases[i].cmd;
		EXPECT_EQ(cases[i].err, npu_submit(self->fd, 0, cmds, 2, &seq))
			TH_LOG("%s as second command", cases[i].what);
		EXPECT_EQ(SENTINEL, seq);
	}
	/* nothing was queued by the failures */
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, NPU_WAIT_ANY, 0, NULL));
	/* and the largest valid copy works */
	cmds[0] = npu_cmd_to_dram(&self->bo, 0, 0, bo_size);
	EXPECT_EQ(0, npu_run(self->fd, 0, cmds, 1, NULL));
}

/*
 * 1.1: npu_submit.cmd_size is the stride of the command array. 0 and 48
 * (the 1.0 struct) read the same array; a larger stride reads each command
 * at its place and wants zeros past the 48 bytes the driver knows.
 */
TEST_F(uapi, submit_cmd_size)
{
	struct wide_cmd {
		struct npu_job_cmd cmd;
		uint64_t ext[2];
	} wide[2];
	const uint32_t bad_sizes[] = { 1, 8, 40, 47, 52, NPU_JOB_CMD_MAX_SIZE + 8, 0xffffffffu };
	uint8_t *pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct npu_submit args;
	struct npu_wait wait;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_NE(MAP_FAILED, pages);
	memset(wide, 0, sizeof(wide));
	memset(self->bo.map, 0x5a, 4096);
	wide[0].cmd = npu_cmd_to_dram(&self->bo, 0, 0x40000, 4096);
	wide[1].cmd = npu_cmd_from_dram(&self->bo, 4096, 0x40000, 4096);
	args = (struct npu_submit){ .cmds = (uintptr_t)wide, .cmd_count = 2,
				    .cmd_size = sizeof(wide[0]) };
	ASSERT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_SUBMIT, &args));
	ASSERT_EQ(0, npu_wait(self->fd, args.seqno, -1, &wait)) TH_LOG("status %u", wait.status);
	EXPECT_EQ(-1, npu_first_diff(self->bo.map, self->bo.map + 4096, 4096));

	/* the 1.0 size, named */
	args = (struct npu_submit){ .cmds = (uintptr_t)&wide[0].cmd, .cmd_count = 1,
				    .cmd_size = sizeof(struct npu_job_cmd) };
	ASSERT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_SUBMIT, &args));
	EXPECT_EQ(0, npu_wait(self->fd, args.seqno, -1, NULL));

	/* a non-zero byte the driver does not know, in the second command */
	wide[1].ext[1] = 1;
	args = (struct npu_submit){ .cmds = (uintptr_t)wide, .cmd_count = 2,
				    .cmd_size = sizeof(wide[0]), .seqno = SENTINEL };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_SUBMIT, &args));
	EXPECT_EQ(SENTINEL, args.seqno);

	for (unsigned int i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		args = (struct npu_submit){ .cmds = (uintptr_t)wide, .cmd_count = 1,
					    .cmd_size = bad_sizes[i], .seqno = SENTINEL };
		EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_SUBMIT, &args))
			TH_LOG("cmd_size %u", bad_sizes[i]);
		EXPECT_EQ(SENTINEL, args.seqno);
	}

	/* the largest stride; then one whose zero tail runs into an unmapped page */
	ASSERT_EQ(0, munmap(pages + 4096, 4096));
	memset(pages, 0, 4096);
	*(struct npu_job_cmd *)pages = (struct npu_job_cmd){ .op = NPU_JOB_CMD_NOP };
	args = (struct npu_submit){ .cmds = (uintptr_t)pages, .cmd_count = 1,
				    .cmd_size = NPU_JOB_CMD_MAX_SIZE };
	ASSERT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_SUBMIT, &args));
	EXPECT_EQ(0, npu_wait(self->fd, args.seqno, -1, NULL));
	args = (struct npu_submit){ .cmds = (uintptr_t)(pages + 4096 - 64), .cmd_count = 1,
				    .cmd_size = 128, .seqno = SENTINEL };
	EXPECT_EQ(-EFAULT, raw_ioctl(self->fd, NPU_IOCTL_SUBMIT, &args));
	EXPECT_EQ(SENTINEL, args.seqno);
	/* nothing was queued by the failures */
	EXPECT_EQ(-ENOENT, npu_wait(self->fd, NPU_WAIT_ANY, 0, NULL));
	munmap(pages, 4096);
}

TEST_F(uapi, wait_rejects)
{
	struct npu_wait args;

	NPU_RETURN_IF_SKIPPED();
	memset(&args, 0, sizeof(args));
	args.flags = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_WAIT, &args));
	memset(&args, 0, sizeof(args));
	args.reserved = 1;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_WAIT, &args));
	memset(&args, 0, sizeof(args));
	args.seqno = 12345;
	args.status = 0x5a5a;
	EXPECT_EQ(-ENOENT, raw_ioctl(self->fd, NPU_IOCTL_WAIT, &args));
	EXPECT_EQ(0x5a5a, args.status);
	EXPECT_EQ(-EFAULT, raw_ioctl(self->fd, NPU_IOCTL_WAIT, NULL));
}

/* Calls that this version of the driver may not implement yet. */
TEST_F(uapi, optional_buffer_sharing)
{
	struct npu_bo_userptr up = { 0 };
	struct npu_bo_export ex = { .handle = self->bo.handle };
	struct npu_bo_import im = { .fd = -1 };
	void *mem;
	int ret;

	NPU_RETURN_IF_SKIPPED();
	ret = raw_ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &up);
	if (ret == -ENOTTY)
		SKIP(return, "BO_USERPTR, BO_EXPORT, BO_IMPORT not implemented (ENOTTY)");
	EXPECT_EQ(-EINVAL, ret) TH_LOG("USERPTR of NULL, size 0");
	ASSERT_EQ(0, posix_memalign(&mem, 4096, 8192));
	up = (struct npu_bo_userptr){ .user_ptr = (uintptr_t)mem + 1, .size = 4096 };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &up)) TH_LOG("unaligned");
	up = (struct npu_bo_userptr){ .user_ptr = (uintptr_t)mem, .size = 4095 };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &up)) TH_LOG("size");
	up = (struct npu_bo_userptr){ .user_ptr = (uintptr_t)mem, .size = 4096, .flags = 2 };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &up)) TH_LOG("flags");
	free(mem);

	ex.flags = 2;
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_EXPORT, &ex));
	ex = (struct npu_bo_export){ .handle = 0x7fffffff };
	EXPECT_EQ(-ENOENT, raw_ioctl(self->fd, NPU_IOCTL_BO_EXPORT, &ex));
	EXPECT_EQ(-EBADF, raw_ioctl(self->fd, NPU_IOCTL_BO_IMPORT, &im));
	im = (struct npu_bo_import){ .fd = 0, .flags = 1 };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_IMPORT, &im));
}

/* Many BOs and a big one: creation and release do not leak handles or fail. */
TEST_F(uapi, bo_churn)
{
	NPU_RETURN_IF_SKIPPED();
	for (int i = 0; i < 200; i++) {
		struct npu_bo bo;

		ASSERT_EQ(0, npu_bo_alloc(self->fd, 4096 + i, &bo)) TH_LOG("BO %d", i);
		bo.map[4095 + i] = (uint8_t)i;
		npu_bo_release(&bo);
	}
	{
		struct npu_bo big;

		ASSERT_EQ(0, npu_bo_alloc(self->fd, 32u << 20, &big));
		big.map[(32u << 20) - 1] = 1;
		npu_bo_release(&big);
	}
}

/* A command array that runs into an unmapped page is EFAULT, not a crash. */
TEST_F(uapi, submit_cmds_cross_unmapped_page)
{
	uint8_t *pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct npu_job_cmd *cmds;
	uint64_t seq = SENTINEL;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, munmap(pages + 4096, 4096));
	/* the first command fits in the mapped page, the second does not */
	cmds = (struct npu_job_cmd *)(pages + 4096 - sizeof(*cmds));
	*cmds = (struct npu_job_cmd){ .op = NPU_JOB_CMD_NOP };
	EXPECT_EQ(0, npu_run(self->fd, 0, cmds, 1, NULL));
	EXPECT_EQ(-EFAULT, npu_submit(self->fd, 0, cmds, 2, &seq));
	EXPECT_EQ(SENTINEL, seq);
	munmap(pages, 4096);
}

/* A BO freed (and unmapped) while a queued job uses it stays alive for the job. */
TEST_F(uapi, bo_freed_while_job_queued)
{
	struct npu_insn prog[17];
	struct npu_job_cmd cmds[3];
	struct npu_bo_free args;
	struct npu_wait wait;
	struct npu_bo bo;
	uint64_t seq;

	NPU_RETURN_IF_SKIPPED();
	for (int i = 0; i < 16; i++)
		prog[i] = npu_insn_copy(0x1000000, 0x2000000, 16u << 20);
	prog[16] = npu_insn_halt();
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, 0x10000, prog, sizeof(prog)));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 1 << 20, &bo));
	memset(bo.map, 0x4d, 1 << 20);
	cmds[0] = npu_cmd_exec(0x10000, sizeof(prog), 0);	/* keeps the PE busy */
	cmds[1] = npu_cmd_to_dram(&bo, 0, 0x200000, 1 << 20);
	cmds[2] = npu_cmd_from_dram(&bo, 0, 0x200000, 1 << 20);
	ASSERT_EQ(0, npu_submit(self->fd, 0, cmds, 3, &seq));
	/* drop every user reference at once */
	munmap(bo.map, bo.size);
	args = (struct npu_bo_free){ .handle = bo.handle };
	EXPECT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));
	EXPECT_EQ(-ENOENT, raw_ioctl(self->fd, NPU_IOCTL_BO_FREE, &args));
	EXPECT_EQ(0, npu_wait(self->fd, seq, -1, &wait)) TH_LOG("status %u", wait.status);
	/* the handle is gone for new jobs */
	EXPECT_EQ(-ENOENT, npu_submit(self->fd, 0, &cmds[1], 1, NULL));
}

TEST_HARNESS_MAIN
