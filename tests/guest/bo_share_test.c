// SPDX-License-Identifier: MIT
/*
 * Buffers beyond BO_CREATE: user memory pinned with BO_USERPTR (read-write
 * and read-only) and BOs shared between files as dma-bufs (BO_EXPORT /
 * BO_IMPORT), each moving exact bytes through DRAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_util.h"

#define PAGE 4096u

static int raw_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int userptr(int fd, void *mem, uint64_t size, uint32_t flags, uint32_t *handle)
{
	struct npu_bo_userptr args = {
		.user_ptr = (uintptr_t)mem, .size = size, .flags = flags,
	};
	int ret = raw_ioctl(fd, NPU_IOCTL_BO_USERPTR, &args);

	if (!ret)
		*handle = args.handle;
	return ret;
}

static int bo_free(int fd, uint32_t handle)
{
	struct npu_bo_free args = { .handle = handle };

	return raw_ioctl(fd, NPU_IOCTL_BO_FREE, &args);
}

static struct npu_job_cmd copy_cmd(uint32_t op, uint32_t handle, uint64_t off,
				   uint64_t dram, uint64_t len)
{
	struct npu_job_cmd cmd = {
		.op = op, .handle = handle, .offset = off, .dram_addr = dram, .length = len,
	};
	return cmd;
}

FIXTURE(share)
{
	int fd;
};

FIXTURE_SETUP(share)
{
	struct npu_bo_userptr probe = { 0 };

	self->fd = -1;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	self->fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, self->fd) TH_LOG("open npu0pe0: %s", strerror(-self->fd));
	if (raw_ioctl(self->fd, NPU_IOCTL_BO_USERPTR, &probe) == -ENOTTY)
		SKIP(return, "BO_USERPTR/EXPORT/IMPORT not implemented (ENOTTY)");
}

FIXTURE_TEARDOWN(share)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Pinned user memory: random bytes out through one userptr, back through another. */
TEST_F(share, userptr_round_trip)
{
	const uint64_t size = (1u << 20) + PAGE, len = (1u << 20) + 3;
	uint8_t *src, *dst;
	uint32_t hsrc, hdst;
	struct npu_job_cmd cmds[2];
	struct npu_rng rng;
	ssize_t diff;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, posix_memalign((void **)&src, PAGE, size));
	ASSERT_EQ(0, posix_memalign((void **)&dst, PAGE, size));
	npu_rng_seed(&rng, 0x05e7);
	npu_rng_fill(&rng, src, size);
	memset(dst, 0x5c, size);
	ASSERT_EQ(0, userptr(self->fd, src, size, NPU_BO_USERPTR_READONLY, &hsrc));
	ASSERT_EQ(0, userptr(self->fd, dst, size, 0, &hdst));
	cmds[0] = copy_cmd(NPU_JOB_CMD_COPY_TO_DRAM, hsrc, 5, 0x100001, len);
	cmds[1] = copy_cmd(NPU_JOB_CMD_COPY_FROM_DRAM, hdst, 17, 0x100001, len);
	ASSERT_EQ(0, npu_run(self->fd, 0, cmds, 2, NULL));
	diff = npu_first_diff(dst + 17, src + 5, len);
	EXPECT_EQ(-1, diff) TH_LOG("userptr data differs at %zd", diff);
	EXPECT_EQ(0x5c, dst[16]);
	EXPECT_EQ(0x5c, dst[17 + len]);
	EXPECT_EQ(0, bo_free(self->fd, hsrc));
	EXPECT_EQ(0, bo_free(self->fd, hdst));
	/* the memory is the process's again */
	dst[0] = 1;
	free(src);
	free(dst);
}

/* The device may not write a READONLY userptr; read-only memory needs the flag. */
TEST_F(share, userptr_readonly)
{
	uint8_t *ro;
	uint32_t handle;
	struct npu_job_cmd cmd;
	uint64_t seq = 0;
	int ret;

	NPU_RETURN_IF_SKIPPED();
	ro = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0x3e, 2 * PAGE);
	ASSERT_EQ(0, mprotect(ro, 2 * PAGE, PROT_READ));

	ret = userptr(self->fd, ro, 2 * PAGE, 0, &handle);
	EXPECT_NE(0, ret) TH_LOG("writable pin of read-only memory succeeded");
	if (!ret)
		bo_free(self->fd, handle);

	ASSERT_EQ(0, userptr(self->fd, ro, 2 * PAGE, NPU_BO_USERPTR_READONLY, &handle));
	cmd = copy_cmd(NPU_JOB_CMD_COPY_FROM_DRAM, handle, 0, 0, 16);
	EXPECT_EQ(-EACCES, npu_submit(self->fd, 0, &cmd, 1, &seq));
	cmd.op = NPU_JOB_CMD_COPY_TO_DRAM;
	EXPECT_EQ(0, npu_run(self->fd, 0, &cmd, 1, NULL));
	EXPECT_EQ(0x3e, ro[0]);
	EXPECT_EQ(0, bo_free(self->fd, handle));
	munmap(ro, 2 * PAGE);
}

TEST_F(share, userptr_unmapped_memory)
{
	uint8_t *mem;
	uint32_t handle;
	int ret;

	NPU_RETURN_IF_SKIPPED();
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, munmap(mem + 2 * PAGE, 2 * PAGE));
	/* half of the range is a hole */
	ret = userptr(self->fd, mem, 4 * PAGE, 0, &handle);
	EXPECT_EQ(-EFAULT, ret);
	if (!ret)
		bo_free(self->fd, handle);
	munmap(mem, 2 * PAGE);
}

/* A BO exported by one file and imported by another is the same memory. */
TEST_F(share, export_import_between_files)
{
	struct npu_bo_export ex;
	struct npu_bo_import im;
	struct npu_job_cmd cmds[2];
	struct npu_bo bo;
	struct npu_rng rng;
	uint8_t want[5000];
	int other, flags;

	NPU_RETURN_IF_SKIPPED();
	other = npu_open(0, NPU_FILE_PE1, 0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 3 * PAGE, &bo));
	memset(bo.map, 0, 3 * PAGE);

	ex = (struct npu_bo_export){ .handle = bo.handle, .flags = NPU_BO_EXPORT_CLOEXEC };
	ASSERT_EQ(0, raw_ioctl(self->fd, NPU_IOCTL_BO_EXPORT, &ex));
	ASSERT_LE(0, ex.fd);
	flags = fcntl(ex.fd, F_GETFD);
	EXPECT_TRUE(flags & FD_CLOEXEC);

	im = (struct npu_bo_import){ .fd = ex.fd };
	ASSERT_EQ(0, raw_ioctl(other, NPU_IOCTL_BO_IMPORT, &im));
	EXPECT_LE(3 * PAGE, im.size);
	EXPECT_NE(0, im.handle);
	close(ex.fd);

	/* pe1 writes random bytes into the imported BO; pe0's file sees them */
	npu_rng_seed(&rng, 0x1e1e);
	npu_rng_fill(&rng, want, sizeof(want));
	ASSERT_EQ(0, npu_write_dram(other, 0, 0x4001, want, sizeof(want)));
	cmds[0] = copy_cmd(NPU_JOB_CMD_COPY_FROM_DRAM, im.handle, 99, 0x4001, sizeof(want));
	ASSERT_EQ(0, npu_run(other, 0, cmds, 1, NULL));
	EXPECT_EQ(0, memcmp(bo.map + 99, want, sizeof(want)));

	/* and pe0 reads through its own handle what pe1 put there */
	cmds[0] = npu_cmd_to_dram(&bo, 99, 0x9003, sizeof(want));
	ASSERT_EQ(0, npu_run(self->fd, 0, cmds, 1, NULL));
	{
		uint8_t got[5000];

		ASSERT_EQ(0, npu_read_dram(self->fd, 0, 0x9003, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(got, want, sizeof(got)));
	}

	/* the exporter frees its handle; the importer's BO lives on */
	npu_bo_release(&bo);
	cmds[0] = copy_cmd(NPU_JOB_CMD_COPY_TO_DRAM, im.handle, 0, 0x8000, 3 * PAGE);
	EXPECT_EQ(0, npu_run(other, 0, cmds, 1, NULL));
	EXPECT_EQ(0, bo_free(other, im.handle));
	close(other);
}

/* A userptr BO is not exportable; importing a non-dma-buf fails. */
TEST_F(share, export_import_rejects)
{
	struct npu_bo_export ex;
	struct npu_bo_import im;
	uint8_t *mem;
	uint32_t handle;
	int pipefd[2];

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, posix_memalign((void **)&mem, PAGE, PAGE));
	ASSERT_EQ(0, userptr(self->fd, mem, PAGE, 0, &handle));
	ex = (struct npu_bo_export){ .handle = handle };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_EXPORT, &ex));
	EXPECT_EQ(0, bo_free(self->fd, handle));
	free(mem);

	ASSERT_EQ(0, pipe(pipefd));
	im = (struct npu_bo_import){ .fd = pipefd[0] };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_IMPORT, &im));
	im = (struct npu_bo_import){ .fd = self->fd };
	EXPECT_EQ(-EINVAL, raw_ioctl(self->fd, NPU_IOCTL_BO_IMPORT, &im));
	im = (struct npu_bo_import){ .fd = 9999 };
	EXPECT_EQ(-EBADF, raw_ioctl(self->fd, NPU_IOCTL_BO_IMPORT, &im));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
