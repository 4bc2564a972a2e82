// SPDX-License-Identifier: MIT
/*
 * DMA through device DRAM: random bytes copied host -> DRAM -> host come back
 * exactly, for lengths from 1 byte to 8 MiB at odd BO and DRAM offsets, on
 * every kind of PE file; neither direction writes a byte outside its range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"

#define GUARD		64	/* canary bytes on each side of a range */
#define BO_FILL		0xa5

static const uint64_t sizes[] = {
	1, 2, 3, 63, 64, 65, 4095, 4096, 4097, 65537, (1u << 20) + 3, 8u << 20,
};

FIXTURE(dma)
{
	int fd;
	uint32_t pe;		/* SUBMIT's pe field */
	uint64_t window;	/* DRAM bytes this file addresses */
	uint64_t base;		/* where in the window this variant copies */
	int expected_pe;	/* the PE WAIT must report, -1 if either may run it */
};

NPU_FILE_VARIANT(dma);
NPU_FILE_VARIANTS_ADD(dma);
FIXTURE_VARIANT_ADD(dma, all_pe0) { .kind = NPU_FILE_ALL, .pe = 0 };
FIXTURE_VARIANT_ADD(dma, all_pe1) { .kind = NPU_FILE_ALL, .pe = 1 };
FIXTURE_VARIANT_ADD(dma, all_any) { .kind = NPU_FILE_ALL, .pe = NPU_PE_ANY };

FIXTURE_SETUP(dma)
{
	struct npu_device_info info;

	NPU_SETUP_OPEN_NPU0(self->fd, variant->kind, &info);
	self->pe = variant->pe;
	if (variant->kind == NPU_FILE_PE0 || variant->kind == NPU_FILE_PE1)
		self->expected_pe = variant->kind == NPU_FILE_PE1;
	else if (variant->kind == NPU_FILE_ALL && variant->pe != NPU_PE_ANY)
		self->expected_pe = (int)variant->pe;
	else
		self->expected_pe = -1;
	self->window = info.dram_window;
	ASSERT_LE(64ull << 20, self->window) TH_LOG("window of %llu bytes is too small",
						    (unsigned long long)self->window);
	self->base = variant->upper_half ? self->window / 2 : 0;
}

FIXTURE_TEARDOWN(dma)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * One round trip: canary|data|canary into DRAM at dram_addr - GUARD with two
 * commands (the data from an odd BO offset), then the whole span back into a
 * second BO at another odd offset, whose other bytes must stay untouched.
 */
static void round_trip(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
		       struct npu_rng *rng, uint64_t len, uint64_t dram_addr,
		       uint64_t src_off, uint64_t dst_off)
{
	uint64_t span = len + 2 * GUARD;
	struct npu_bo src, canary, dst;
	struct npu_job_cmd cmds[3];
	struct npu_wait wait;
	ssize_t diff;
	int ret;

	ASSERT_EQ(0, npu_bo_alloc(self->fd, src_off + len, &src));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, span, &canary));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, dst_off + span + 4096, &dst));
	npu_rng_fill(rng, src.map, src.size);
	npu_rng_fill(rng, canary.map, canary.size);
	memset(dst.map, BO_FILL, dst.size);

	cmds[0] = npu_cmd_to_dram(&canary, 0, dram_addr - GUARD, span);
	cmds[1] = npu_cmd_to_dram(&src, src_off, dram_addr, len);
	cmds[2] = npu_cmd_from_dram(&dst, dst_off, dram_addr - GUARD, span);
	/*
	 * NPU_PE_ANY may put two jobs on different PEs, whose windows are
	 * different memory: there, the read-back is part of the same job.
	 */
	ret = npu_run(self->fd, self->pe, cmds, self->pe == NPU_PE_ANY ? 3 : 2, &wait);
	ASSERT_EQ(0, ret) TH_LOG("len %llu: copy to DRAM: %s, status %u info %#x",
				 (unsigned long long)len, strerror(-ret), wait.status, wait.info);
	EXPECT_EQ(NPU_JOB_OK, wait.status);
	if (self->expected_pe >= 0) {
		EXPECT_EQ((uint32_t)self->expected_pe, wait.pe);
	}

	if (self->pe != NPU_PE_ANY) {
		ret = npu_run(self->fd, self->pe, &cmds[2], 1, &wait);
		ASSERT_EQ(0, ret) TH_LOG("len %llu: copy from DRAM: %s", (unsigned long long)len,
					 strerror(-ret));
	}

	diff = npu_first_diff(dst.map + dst_off + GUARD, src.map + src_off, len);
	EXPECT_EQ(-1, diff) TH_LOG("len %llu dram %#llx: data differs at byte %zd",
				   (unsigned long long)len, (unsigned long long)dram_addr, diff);
	diff = npu_first_diff(dst.map + dst_off, canary.map, GUARD);
	EXPECT_EQ(-1, diff) TH_LOG("len %llu: DRAM canary before the data overwritten at %zd",
				   (unsigned long long)len, diff);
	diff = npu_first_diff(dst.map + dst_off + GUARD + len, canary.map + GUARD + len, GUARD);
	EXPECT_EQ(-1, diff) TH_LOG("len %llu: DRAM canary after the data overwritten at %zd",
				   (unsigned long long)len, diff);
	for (uint64_t i = 0; i < dst.size; i++) {
		if (i == dst_off) {
			i += span - 1;
			continue;
		}
		if (dst.map[i] != BO_FILL) {
			EXPECT_EQ(BO_FILL, dst.map[i])
				TH_LOG("len %llu: BO byte %llu outside [%llu, +%llu) written",
				       (unsigned long long)len, (unsigned long long)i,
				       (unsigned long long)dst_off, (unsigned long long)span);
			break;
		}
	}
	npu_bo_release(&src);
	npu_bo_release(&canary);
	npu_bo_release(&dst);
}

TEST_F_TIMEOUT(dma, round_trip_sizes, 240)
{
	struct npu_rng rng;

	NPU_RETURN_IF_SKIPPED();
	npu_rng_seed(&rng, 0x5eed0001);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* odd, size-dependent offsets so no two lengths share alignment */
		uint64_t dram_addr = self->base + GUARD + 4096 * (i + 1) + 2 * i + 1;
		uint64_t src_off = 1 + 2 * i;
		uint64_t dst_off = 4093 - 2 * i;

		round_trip(_metadata, self, &rng, sizes[i], dram_addr, src_off, dst_off);
	}
}

/* The last byte of the window is addressable, the one after it is not. */
TEST_F(dma, window_end)
{
	struct npu_rng rng;

	NPU_RETURN_IF_SKIPPED();
	npu_rng_seed(&rng, 0x5eed0002);
	round_trip(_metadata, self, &rng, 4097, self->window - GUARD - 4097, 3, 5);
}

/* A job of 16 copies: 8 odd slices scattered into DRAM in reverse order, gathered back. */
TEST_F(dma, many_commands_per_job)
{
	const unsigned int slices = NPU_JOB_MAX_CMDS / 2;
	struct npu_job_cmd cmds[NPU_JOB_MAX_CMDS];
	struct npu_bo src, dst;
	const uint64_t slice = 1001;
	struct npu_rng rng;
	ssize_t diff;

	NPU_RETURN_IF_SKIPPED();
	npu_rng_seed(&rng, 0x5eed0003);
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 64 * 1024, &src));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 64 * 1024, &dst));
	npu_rng_fill(&rng, src.map, src.size);
	memset(dst.map, BO_FILL, dst.size);

	/* slice i goes to DRAM in reverse order, 3 bytes apart */
	for (unsigned int i = 0; i < slices; i++) {
		uint64_t dram = self->base + 3 + (slices - 1 - i) * (slice + 3);

		cmds[i] = npu_cmd_to_dram(&src, 7 + i * slice, dram, slice);
		cmds[slices + i] = npu_cmd_from_dram(&dst, 7 + i * slice, dram, slice);
	}
	ASSERT_EQ(0, npu_run(self->fd, self->pe, cmds, NPU_JOB_MAX_CMDS, NULL));
	diff = npu_first_diff(dst.map + 7, src.map + 7, slices * slice);
	EXPECT_EQ(-1, diff) TH_LOG("gathered data differs at byte %zd", diff);
	EXPECT_EQ(BO_FILL, dst.map[6]);
	EXPECT_EQ(BO_FILL, dst.map[7 + slices * slice]);
	npu_bo_release(&src);
	npu_bo_release(&dst);
}

/* Commands of one job run in order: a read after a write sees the write. */
TEST_F(dma, in_job_ordering)
{
	struct npu_job_cmd cmds[3];
	struct npu_bo a, b, out;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 4096, &a));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 4096, &b));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 4096, &out));
	memset(a.map, 0x11, 4096);
	memset(b.map, 0x22, 4096);
	memset(out.map, 0, 4096);
	cmds[0] = npu_cmd_to_dram(&a, 0, self->base + 101, 333);
	cmds[1] = npu_cmd_to_dram(&b, 0, self->base + 101, 333);
	cmds[2] = npu_cmd_from_dram(&out, 0, self->base + 101, 333);
	ASSERT_EQ(0, npu_run(self->fd, self->pe, cmds, 3, NULL));
	EXPECT_EQ(0x22, out.map[0]);
	EXPECT_EQ(0x22, out.map[332]);
	EXPECT_EQ(0, out.map[333]);
	npu_bo_release(&a);
	npu_bo_release(&b);
	npu_bo_release(&out);
}

/*
 * The PE windows are the two halves of the fused window: offset X of pe1 is
 * offset size0 + X of pe0-1, and pe0 and pe1 do not see each other's bytes.
 */
TEST(partitions_in_fused_window)
{
	uint8_t pattern0[257], pattern1[257], readback[257];
	struct npu_device_info info0;
	const uint64_t off = 12345;
	int fd0, fd1, fused;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	memset(pattern0, 0x3c, sizeof(pattern0));
	memset(pattern1, 0xc3, sizeof(pattern1));
	fd0 = npu_open(0, NPU_FILE_PE0, 0);
	fd1 = npu_open(0, NPU_FILE_PE1, 0);
	ASSERT_LE(0, fd0);
	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, npu_device_info(fd0, &info0));
	ASSERT_EQ(0, npu_write_dram(fd0, 0, off, pattern0, sizeof(pattern0)));
	ASSERT_EQ(0, npu_write_dram(fd1, 0, off, pattern1, sizeof(pattern1)));
	ASSERT_EQ(0, npu_read_dram(fd0, 0, off, readback, sizeof(readback)));
	EXPECT_EQ(0, memcmp(readback, pattern0, sizeof(readback)))
		TH_LOG("pe1's write at %llu changed pe0's DRAM", (unsigned long long)off);
	close(fd0);
	close(fd1);

	fused = npu_open(0, NPU_FILE_FUSED, 0);
	ASSERT_LE(0, fused) TH_LOG("open pe0-1 after closing pe0, pe1: %s", strerror(-fused));
	ASSERT_EQ(0, npu_read_dram(fused, 0, off, readback, sizeof(readback)));
	EXPECT_EQ(0, memcmp(readback, pattern0, sizeof(readback)));
	ASSERT_EQ(0, npu_read_dram(fused, 0, info0.dram_window + off, readback,
				   sizeof(readback)));
	EXPECT_EQ(0, memcmp(readback, pattern1, sizeof(readback)));
	close(fused);
}

TEST_HARNESS_MAIN
