// SPDX-License-Identifier: MIT
/*
 * A 1.0 binary against today's driver: this program is compiled against
 * abi-1.0/npu.h, a frozen copy of uapi/npu.h as released at ABI 1.0
 * (commit 95ca304), and against nothing else of this tree: no npu_util.h,
 * which follows the current header. It uses every 1.0 call the way a 1.0
 * program does (1.0 struct sizes and ioctl numbers, reserved fields 0,
 * npu_submit.reserved where 1.1 has cmd_size) and checks the 1.0 answers,
 * so a change of the driver or of uapi/npu.h that breaks old binaries fails
 * here even when the current tests, rebuilt against the new header, pass.
 *
 * Why a frozen header and not old test sources: the 1.0 tests build on
 * helpers that keep changing with the tree, and a binary is defined by
 * the header it was compiled against. abi-1.0/npu.h is a fixture: never
 * edit it; a 2.0 ABI gets its own directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi-1.0/npu.h"
#include "kselftest_harness.h"

_Static_assert(NPU_UAPI_VERSION_MAJOR == 1 && NPU_UAPI_VERSION_MINOR == 0,
	       "abi10_test must be built against the frozen 1.0 header");

#define PAGE 4096u
#define LEN (4 * PAGE)

static int call(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int open_node(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* One job of two commands: BO range to DRAM, DRAM back to another BO range. */
static int copy_through_dram(int fd, uint32_t src, uint32_t dst, uint64_t len,
			     struct npu_wait *wait)
{
	struct npu_job_cmd cmds[2] = {
		{ .op = NPU_JOB_CMD_COPY_TO_DRAM, .handle = src, .dram_addr = 0x10000,
		  .length = len },
		{ .op = NPU_JOB_CMD_COPY_FROM_DRAM, .handle = dst, .dram_addr = 0x10000,
		  .length = len },
	};
	struct npu_submit sub = { .cmds = (uintptr_t)cmds, .cmd_count = 2 };
	int ret = call(fd, NPU_IOCTL_SUBMIT, &sub);

	if (ret)
		return ret;
	if (!sub.seqno)
		return -EPROTO;
	memset(wait, 0, sizeof(*wait));
	wait->seqno = sub.seqno;
	wait->timeout_ns = -1;
	return call(fd, NPU_IOCTL_WAIT, wait);
}

static uint8_t *map_bo(int fd, uint64_t size, uint32_t *handle)
{
	struct npu_bo_create create = { .size = size };
	void *map;

	if (call(fd, NPU_IOCTL_BO_CREATE, &create))
		return NULL;
	*handle = create.handle;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, create.mmap_offset);
	return map == MAP_FAILED ? NULL : map;
}

FIXTURE(abi10)
{
	int pe0;
};

FIXTURE_SETUP(abi10)
{
	self->pe0 = open_node("npu0pe0");
	if (self->pe0 == -ENOENT)
		SKIP(return, "/dev/npu0pe0 missing: npu.ko not loaded");
	ASSERT_LE(0, self->pe0) TH_LOG("open npu0pe0: %s", strerror(-self->pe0));
}

FIXTURE_TEARDOWN(abi10)
{
	if (self->pe0 >= 0)
		close(self->pe0);
}

/* A 1.0 program accepts any minor of major 1. */
TEST_F(abi10, version_and_device_info)
{
	struct npu_version ver = { 0 };
	struct npu_device_info info;
	int mgmt;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, call(self->pe0, NPU_IOCTL_VERSION, &ver));
	EXPECT_EQ(1u, ver.major);
	ver.reserved = 1;
	EXPECT_EQ(-EINVAL, call(self->pe0, NPU_IOCTL_VERSION, &ver));

	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, call(self->pe0, NPU_IOCTL_DEVICE_INFO, &info));
	EXPECT_EQ(0u, info.index);
	EXPECT_EQ(2u, info.pe_count);
	EXPECT_EQ(1u, info.pe_mask);
	EXPECT_EQ(0u, info.fused);
	EXPECT_LT(0u, info.dram_window);
	EXPECT_LE(info.dram_window, info.dram_size);
	EXPECT_NE(NULL, memchr(info.busname, 0, sizeof(info.busname)));

	mgmt = open_node("npu0_mgmt");
	ASSERT_LE(0, mgmt);
	memset(&info, 0, sizeof(info));
	info.reserved[3] = 1;
	EXPECT_EQ(-EINVAL, call(mgmt, NPU_IOCTL_DEVICE_INFO, &info));
	info.reserved[3] = 0;
	EXPECT_EQ(0, call(mgmt, NPU_IOCTL_DEVICE_INFO, &info));
	EXPECT_EQ(0u, info.pe_mask);
	close(mgmt);
}

/* BO_CREATE, mmap, SUBMIT and WAIT as 1.0 lays them out. */
TEST_F(abi10, jobs_on_created_bos)
{
	struct npu_bo_free bo_free = { 0 };
	struct npu_wait wait;
	uint32_t src = 0, dst = 0;
	uint8_t *a, *b;

	if (_metadata->skip)
		return;
	a = map_bo(self->pe0, LEN, &src);
	b = map_bo(self->pe0, LEN, &dst);
	ASSERT_TRUE(a && b);
	for (unsigned int i = 0; i < LEN; i++)
		a[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ(0, copy_through_dram(self->pe0, src, dst, LEN, &wait));
	EXPECT_EQ(NPU_JOB_OK, wait.status);
	EXPECT_EQ(0u, wait.pe);
	EXPECT_LE(wait.start_ts, wait.end_ts);
	EXPECT_EQ(0, memcmp(a, b, LEN));

	/* the result was collected once */
	EXPECT_EQ(-ENOENT, call(self->pe0, NPU_IOCTL_WAIT, &wait));
	munmap(a, LEN);
	munmap(b, LEN);
	bo_free.handle = src;
	bo_free.reserved = 1;
	EXPECT_EQ(-EINVAL, call(self->pe0, NPU_IOCTL_BO_FREE, &bo_free));
	bo_free.reserved = 0;
	EXPECT_EQ(0, call(self->pe0, NPU_IOCTL_BO_FREE, &bo_free));
	EXPECT_EQ(-ENOENT, call(self->pe0, NPU_IOCTL_BO_FREE, &bo_free));
	bo_free.handle = dst;
	EXPECT_EQ(0, call(self->pe0, NPU_IOCTL_BO_FREE, &bo_free));
}

/* The 1.0 rules for SUBMIT still hold: its reserved field (1.1: cmd_size) must be 0. */
TEST_F(abi10, submit_rejects_as_in_1_0)
{
	struct npu_job_cmd nop = { .op = NPU_JOB_CMD_NOP };
	struct npu_submit sub;
	const uint32_t reserved[] = { 1, 47, 0x80000000u, 0xffffffffu };

	if (_metadata->skip)
		return;
	for (unsigned int i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		sub = (struct npu_submit){ .cmds = (uintptr_t)&nop, .cmd_count = 1,
					   .reserved = reserved[i], .seqno = 77 };
		EXPECT_EQ(-EINVAL, call(self->pe0, NPU_IOCTL_SUBMIT, &sub))
			TH_LOG("reserved %#x", reserved[i]);
		EXPECT_EQ(77u, sub.seqno);
	}
	sub = (struct npu_submit){ .cmds = (uintptr_t)&nop, .cmd_count = NPU_JOB_MAX_CMDS + 1 };
	EXPECT_EQ(-EINVAL, call(self->pe0, NPU_IOCTL_SUBMIT, &sub));
	sub = (struct npu_submit){ .cmds = 8, .cmd_count = 1 };
	EXPECT_EQ(-EFAULT, call(self->pe0, NPU_IOCTL_SUBMIT, &sub));
}

/* BO_USERPTR (24 bytes, no reserved field), EXPORT and IMPORT across files. */
TEST_F(abi10, userptr_export_import)
{
	struct npu_bo_userptr up = { 0 };
	struct npu_bo_export ex = { 0 };
	struct npu_bo_import im = { 0 };
	struct npu_wait wait;
	uint32_t created = 0;
	uint8_t *user, *bo;
	int pe1;

	if (_metadata->skip)
		return;
	user = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, user);
	memset(user, 0x3c, LEN);
	up.user_ptr = (uintptr_t)user;
	up.size = LEN;
	up.flags = NPU_BO_USERPTR_READONLY;
	ASSERT_EQ(0, call(self->pe0, NPU_IOCTL_BO_USERPTR, &up));
	up.flags = 2;
	EXPECT_EQ(-EINVAL, call(self->pe0, NPU_IOCTL_BO_USERPTR, &up));

	bo = map_bo(self->pe0, LEN, &created);
	ASSERT_NE(NULL, bo);
	ASSERT_EQ(0, copy_through_dram(self->pe0, up.handle, created, LEN, &wait));
	EXPECT_EQ(0, memcmp(user, bo, LEN));

	ex.handle = created;
	ex.flags = NPU_BO_EXPORT_CLOEXEC;
	ASSERT_EQ(0, call(self->pe0, NPU_IOCTL_BO_EXPORT, &ex));
	pe1 = open_node("npu0pe1");
	ASSERT_LE(0, pe1);
	im.fd = ex.fd;
	ASSERT_EQ(0, call(pe1, NPU_IOCTL_BO_IMPORT, &im));
	EXPECT_EQ((uint64_t)LEN, im.size);
	im.reserved = 1;
	EXPECT_EQ(-EINVAL, call(pe1, NPU_IOCTL_BO_IMPORT, &im));
	/* the other file reads the shared pages */
	ASSERT_EQ(0, copy_through_dram(pe1, im.handle, im.handle, LEN, &wait));
	EXPECT_EQ(1u, wait.pe);
	EXPECT_EQ(0, memcmp(user, bo, LEN));
	close(ex.fd);
	close(pe1);
	munmap(bo, LEN);
	munmap(user, LEN);
}

TEST_HARNESS_MAIN
