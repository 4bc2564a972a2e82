// SPDX-License-Identifier: MIT
/*
 * Out-of-bounds programs: an operand past the end of the window, operand
 * sizes that wrap a 32-bit address, a program that itself lies outside the
 * window. Each must fail with EIO + DRAM_OOB pointing at the instruction (or
 * be refused at submit), leave every byte of DRAM as it was (canaries inside
 * the window and in the other PE's partition) and leave the file usable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"

#define CANARY		4096
#define PROG_OFF	0x10000		/* keeps window offset 0 free for a canary */
#define DATA_OFF	0x20000

FIXTURE(oob)
{
	int fd;			/* the file under test */
	int other_fd;		/* the other PE, to watch its partition; -1 if fused */
	uint64_t window;
	uint64_t other_window;
	uint8_t canary[4][CANARY];
};

FIXTURE_VARIANT(oob)
{
	enum npu_file_kind kind;
	enum npu_file_kind other;
};

FIXTURE_VARIANT_ADD(oob, pe0) { .kind = NPU_FILE_PE0, .other = NPU_FILE_PE1 };
FIXTURE_VARIANT_ADD(oob, pe1) { .kind = NPU_FILE_PE1, .other = NPU_FILE_PE0 };
FIXTURE_VARIANT_ADD(oob, fused) { .kind = NPU_FILE_FUSED, .other = NPU_FILE_MGMT };

/* Canary i: 0/1 = first/last CANARY bytes of our window, 2/3 = of the other's. */
static uint64_t canary_addr(FIXTURE_DATA(oob) *self, int i)
{
	switch (i) {
	case 0:
		return 0;
	case 1:
		return self->window - CANARY;
	case 2:
		return 0;
	default:
		return self->other_window - CANARY;
	}
}

static int canary_fd(FIXTURE_DATA(oob) *self, int i)
{
	return i < 2 ? self->fd : self->other_fd;
}

FIXTURE_SETUP(oob)
{
	struct npu_device_info info;
	struct npu_rng rng;

	self->other_fd = -1;
	NPU_SETUP_OPEN_NPU0(self->fd, variant->kind, &info);
	self->window = info.dram_window;
	if (variant->other != NPU_FILE_MGMT) {
		self->other_fd = npu_open(0, variant->other, 0);
		ASSERT_LE(0, self->other_fd);
		ASSERT_EQ(0, npu_device_info(self->other_fd, &info));
		self->other_window = info.dram_window;
	}
	npu_rng_seed(&rng, 0x00b0000 + variant->kind);
	for (int i = 0; i < 4; i++) {
		if (canary_fd(self, i) < 0)
			continue;
		npu_rng_fill(&rng, self->canary[i], CANARY);
		ASSERT_EQ(0, npu_write_dram(canary_fd(self, i), 0, canary_addr(self, i),
					    self->canary[i], CANARY));
	}
}

FIXTURE_TEARDOWN(oob)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->other_fd >= 0)
		close(self->other_fd);
}

static void check_canaries(struct __test_metadata *_metadata, FIXTURE_DATA(oob) *self,
			   const char *after)
{
	uint8_t got[CANARY];

	for (int i = 0; i < 4; i++) {
		ssize_t diff;

		if (canary_fd(self, i) < 0)
			continue;
		ASSERT_EQ(0, npu_read_dram(canary_fd(self, i), 0, canary_addr(self, i), got,
					   CANARY)) TH_LOG("after %s", after);
		diff = npu_first_diff(got, self->canary[i], CANARY);
		EXPECT_EQ(-1, diff) TH_LOG("after %s: canary %d (%s window +%#llx) changed at %zd",
					   after, i, i < 2 ? "own" : "other's",
					   (unsigned long long)canary_addr(self, i), diff);
	}
}

/* The file still runs a job correctly. */
static void check_file_works(struct __test_metadata *_metadata, FIXTURE_DATA(oob) *self,
			     const char *after)
{
	uint8_t data[100], got[100];

	memset(data, 0x5a, sizeof(data));
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, DATA_OFF + 1, data, sizeof(data)))
		TH_LOG("after %s", after);
	ASSERT_EQ(0, npu_read_dram(self->fd, 0, DATA_OFF + 1, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(data, got, sizeof(got))) TH_LOG("after %s", after);
}

TEST_F(oob, operands_outside_window)
{
	struct {
		const char *what;
		struct npu_insn insn;
	} cases[] = {
		{ "COPY dst straddles the end",
		  npu_insn_copy(self->window - 32, DATA_OFF, 64) },
		{ "COPY dst at the end", npu_insn_copy(self->window, DATA_OFF, 1) },
		{ "COPY src straddles the end",
		  npu_insn_copy(DATA_OFF, self->window - 1, 2) },
		{ "COPY dst wraps 2^32", npu_insn_copy(0xfffffff0u, DATA_OFF, 0x20) },
		{ "COPY dst at 2^32-1", npu_insn_copy(0xffffffffu, DATA_OFF, 1) },
		{ "RELU i8 dst straddles the end",
		  npu_insn_relu(NPU_DTYPE_I8, self->window - 1, DATA_OFF, 2) },
		{ "ADD i32 count*4 wraps 2^32",
		  npu_insn_add(NPU_DTYPE_I32, 0, DATA_OFF, DATA_OFF, 0x40000001u) },
		{ "REQUANT src count*4 = 2^32", npu_insn_requant(DATA_OFF, 0, 0x40000000u, 1, 0, 0) },
		{ "MATMUL M*N*4 = 2^32", npu_insn_matmul(0, DATA_OFF, DATA_OFF + 0x1000,
							 0x10000, 0x4000, 1, false) },
		{ "MATMUL M*K = 2^32", npu_insn_matmul(DATA_OFF, 0x100, 0x200,
						       0x10000, 1, 0x10000, false) },
		{ "MATMUL B past the end", npu_insn_matmul(DATA_OFF, DATA_OFF + 0x1000,
							   self->window - 8, 1, 4, 4, false) },
	};

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_insn prog[3];
		struct npu_wait wait;
		int ret;

		prog[0] = npu_insn_copy(DATA_OFF + 0x4000, DATA_OFF, 16);	/* harmless */
		prog[1] = cases[i].insn;
		prog[2] = npu_insn_halt();
		ret = npu_run_program(self->fd, 0, PROG_OFF, prog, 3, &wait);
		EXPECT_EQ(-EIO, ret) TH_LOG("%s: %s", cases[i].what, strerror(-ret));
		EXPECT_EQ(NPU_JOB_DRAM_OOB, wait.status)
			TH_LOG("%s: status %u", cases[i].what, wait.status);
		EXPECT_EQ(NPU_COMPLETION_INFO(1, 1), wait.info)
			TH_LOG("%s: info %#x", cases[i].what, wait.info);
		check_file_works(_metadata, self, cases[i].what);
	}
	check_canaries(_metadata, self, "the out-of-bounds instructions");
}

/*
 * A program (partly) outside the window: the driver may refuse the EXEC at
 * submit (EINVAL), or the device fails it with DRAM_OOB; it must never run.
 */
TEST_F(oob, program_outside_window)
{
	struct {
		const char *what;
		uint64_t addr, len;
	} cases[] = {
		{ "program straddles the end", self->window - 64, 128 },
		{ "program at the end", self->window, 64 },
		{ "program beyond 4 GiB", 1ull << 32, 64 },
		{ "program address wraps 2^64", ~0ull - 63, 128 },
		{ "huge program", 0, 1ull << 40 },
	};

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_job_cmd cmd = npu_cmd_exec(cases[i].addr, cases[i].len, 0);
		struct npu_wait wait;
		uint64_t seqno;
		int ret = npu_submit(self->fd, 0, &cmd, 1, &seqno);

		if (ret) {
			EXPECT_EQ(-EINVAL, ret) TH_LOG("%s: submit %s", cases[i].what,
						       strerror(-ret));
		} else {
			ret = npu_wait(self->fd, seqno, -1, &wait);
			EXPECT_EQ(-EIO, ret) TH_LOG("%s: %s", cases[i].what, strerror(-ret));
			EXPECT_EQ(NPU_JOB_DRAM_OOB, wait.status)
				TH_LOG("%s: status %u", cases[i].what, wait.status);
			EXPECT_EQ(0, wait.info >> 16) TH_LOG("%s: info %#x", cases[i].what,
							     wait.info);
		}
		check_file_works(_metadata, self, cases[i].what);
	}
	check_canaries(_metadata, self, "the out-of-window programs");
}

/* DMA commands outside the window are refused, and write nothing. */
TEST_F(oob, dma_outside_window)
{
	struct npu_bo bo;
	struct {
		const char *what;
		uint64_t addr, len;
	} cases[] = {
		{ "copy straddles the end", self->window - 100, 200 },
		{ "copy at the end", self->window, 1 },
		{ "copy address wraps 2^64", ~0ull - 10, 100 },
	};

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 4096, &bo));
	memset(bo.map, 0xee, 4096);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int dir = 0; dir < 2; dir++) {
			struct npu_job_cmd cmd = dir ?
				npu_cmd_from_dram(&bo, 0, cases[i].addr, cases[i].len) :
				npu_cmd_to_dram(&bo, 0, cases[i].addr, cases[i].len);
			struct npu_wait wait;
			uint64_t seqno;
			int ret = npu_submit(self->fd, 0, &cmd, 1, &seqno);

			if (ret) {
				EXPECT_EQ(-EINVAL, ret) TH_LOG("%s (%s): submit %s", cases[i].what,
							       dir ? "from" : "to", strerror(-ret));
			} else {
				ret = npu_wait(self->fd, seqno, -1, &wait);
				EXPECT_EQ(-EIO, ret) TH_LOG("%s (%s) ran: %s", cases[i].what,
							    dir ? "from" : "to", strerror(-ret));
				EXPECT_EQ(NPU_JOB_DRAM_OOB, wait.status);
			}
		}
	}
	npu_bo_release(&bo);
	check_file_works(_metadata, self, "out-of-window DMA");
	check_canaries(_metadata, self, "out-of-window DMA");
}

/* A failed job does not poison jobs queued behind it on the same file. */
TEST_F(oob, queued_job_after_failure)
{
	struct npu_insn bad = npu_insn_copy(self->window, DATA_OFF, 1);
	struct npu_job_cmd cmds[2];
	uint8_t data[64], got[64];
	struct npu_wait wait;
	uint64_t seq_bad, seq_good;
	struct npu_bo prog, buf;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 64, &prog));
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 4096, &buf));
	memcpy(prog.map, &bad, 64);
	memset(data, 0x77, sizeof(data));
	memcpy(buf.map, data, sizeof(data));
	cmds[0] = npu_cmd_to_dram(&prog, 0, PROG_OFF, 64);
	cmds[1] = npu_cmd_exec(PROG_OFF, 64, 0);
	ASSERT_EQ(0, npu_submit(self->fd, 0, cmds, 2, &seq_bad));
	cmds[0] = npu_cmd_to_dram(&buf, 0, DATA_OFF + 3, sizeof(data));
	cmds[1] = npu_cmd_from_dram(&buf, 1000, DATA_OFF + 3, sizeof(data));
	ASSERT_EQ(0, npu_submit(self->fd, 0, cmds, 2, &seq_good));
	EXPECT_LT(seq_bad, seq_good);

	EXPECT_EQ(0, npu_wait(self->fd, seq_good, -1, &wait));
	EXPECT_EQ(NPU_JOB_OK, wait.status);
	EXPECT_EQ(-EIO, npu_wait(self->fd, seq_bad, -1, &wait));
	EXPECT_EQ(NPU_JOB_DRAM_OOB, wait.status);
	EXPECT_EQ(NPU_COMPLETION_INFO(1, 0), wait.info);
	memcpy(got, buf.map + 1000, sizeof(got));
	EXPECT_EQ(0, memcmp(data, got, sizeof(got)));
	npu_bo_release(&prog);
	npu_bo_release(&buf);
}

TEST_HARNESS_MAIN
