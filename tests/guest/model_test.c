// SPDX-License-Identifier: MIT
/*
 * The device model as the guest sees it through BAR0 next to the driver:
 * clocks (HEARTBEAT, DEV_CLOCK) advance consistently, job timestamps lie in
 * DEV_CLOCK between submission and collection, performance counters count
 * exactly the bytes, commands, instructions, jobs and errors of a job, and a
 * failing command skips the rest of its job.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"

#define DATA_OFF	0x20000
#define PROG_OFF	0x10000

struct perf {
	uint64_t v[(NPU_PE_PERF_LAST - NPU_PE_PERF_FIRST) / 8 + 1];
};

#define PERF(p, reg)	((p)->v[((reg) - NPU_PE_PERF_FIRST) / 8])

static void read_perf(const struct npu_bar *bar, unsigned int pe, struct perf *p)
{
	for (uint32_t reg = NPU_PE_PERF_FIRST; reg <= NPU_PE_PERF_LAST; reg += 8)
		PERF(p, reg) = npu_bar_read64_once(bar, NPU_PE_BASE(pe) + reg);
}

FIXTURE(model)
{
	int fd;
	unsigned int pe;	/* the PE whose registers count this file's work */
	struct npu_device_info info;
	struct npu_bar bar;
};

NPU_FILE_VARIANT(model);
NPU_FILE_VARIANTS_ADD(model);	/* upper_half unused: the counters do not depend on it */

FIXTURE_SETUP(model)
{
	int ret;

	NPU_SETUP_OPEN_NPU0(self->fd, variant->kind, &self->info);
	ret = npu_bar_map(self->info.busname, &self->bar);
	ASSERT_EQ(0, ret) TH_LOG("map BAR0 of %s: %s", self->info.busname, strerror(-ret));
	self->pe = variant->kind == NPU_FILE_PE1;
}

FIXTURE_TEARDOWN(model)
{
	npu_bar_unmap(&self->bar);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * One HEARTBEAT read between two DEV_CLOCK reads, retried until they are
 * within 100 us of each other: a vCPU preempted between the two registers
 * would otherwise skew the ratio below by milliseconds.
 */
static void read_clocks(const struct npu_bar *bar, unsigned int clock_mhz,
			uint32_t *hb, uint64_t *clk)
{
	for (int tries = 0; tries < 100; tries++) {
		uint64_t before = npu_bar_read64_once(bar, NPU_REG_DEV_CLOCK);

		*hb = npu_bar_read32(bar, NPU_REG_HEARTBEAT);
		*clk = npu_bar_read64_once(bar, NPU_REG_DEV_CLOCK);
		if (*clk - before <= 100ull * clock_mhz) {
			*clk = before + (*clk - before) / 2;
			return;
		}
	}
}

/* HEARTBEAT counts milliseconds, DEV_CLOCK counts CLOCK_MHZ cycles per microsecond. */
TEST_F(model, clocks_advance_consistently)
{
	uint32_t hb0, hb1;
	uint64_t clk0, clk1, per_ms;
	struct timespec nap = { .tv_nsec = 200 * 1000000 };

	NPU_RETURN_IF_SKIPPED();
	read_clocks(&self->bar, self->info.clock_mhz, &hb0, &clk0);
	nanosleep(&nap, NULL);
	read_clocks(&self->bar, self->info.clock_mhz, &hb1, &clk1);

	ASSERT_LT(clk0, clk1);
	/*
	 * nanosleep sleeps at least 200 ms and HEARTBEAT follows QEMU's virtual
	 * clock, which runs with the host's while the VM runs, so at least 199
	 * beats (150: the ms boundaries and clock rate, with room). A loaded
	 * host only oversleeps: up to 5 s of it is tolerated above.
	 */
	ASSERT_LT(150, hb1 - hb0) TH_LOG("heartbeat moved %u in a 200 ms sleep", hb1 - hb0);
	EXPECT_GT(5000, hb1 - hb0) TH_LOG("heartbeat moved %u in a 200 ms sleep", hb1 - hb0);
	per_ms = (clk1 - clk0) / (hb1 - hb0);
	/* within 2%: HEARTBEAT has a resolution of 1 ms in about 200 */
	EXPECT_LT(per_ms, self->info.clock_mhz * 1020ull)
		TH_LOG("%llu cycles per heartbeat, clock %u MHz", (unsigned long long)per_ms,
		       self->info.clock_mhz);
	EXPECT_GT(per_ms, self->info.clock_mhz * 980ull)
		TH_LOG("%llu cycles per heartbeat, clock %u MHz", (unsigned long long)per_ms,
		       self->info.clock_mhz);
}

/* start_ts and end_ts are DEV_CLOCK values within the job's lifetime. */
TEST_F(model, timestamps_in_dev_clock)
{
	struct npu_insn prog[3];
	struct npu_wait wait;
	uint64_t before, after;

	NPU_RETURN_IF_SKIPPED();
	prog[0] = npu_insn_copy(DATA_OFF + 0x100000, DATA_OFF, 1 << 20);
	prog[1] = npu_insn_copy(DATA_OFF, DATA_OFF + 0x100000, 1 << 20);
	prog[2] = npu_insn_halt();
	before = npu_bar_read64_once(&self->bar, NPU_REG_DEV_CLOCK);
	ASSERT_EQ(0, npu_run_program(self->fd, 0, PROG_OFF, prog, 3, &wait));
	after = npu_bar_read64_once(&self->bar, NPU_REG_DEV_CLOCK);
	EXPECT_LE(before, wait.start_ts);
	EXPECT_LT(wait.start_ts, wait.end_ts);
	EXPECT_LE(wait.end_ts, after);
	TH_LOG("job took %llu cycles (%llu between submit and collection)",
	       (unsigned long long)(wait.end_ts - wait.start_ts),
	       (unsigned long long)(after - before));
}

/* Counters advance by exactly what one job did. */
TEST_F(model, perf_counters_count_a_job)
{
	const uint64_t to_bytes = 12345, from_bytes = 777;
	struct npu_insn prog[4];
	struct npu_job_cmd cmds[4];
	struct perf p0, p1, other0, other1;
	unsigned int other = !self->pe;
	struct npu_bo bo;

	NPU_RETURN_IF_SKIPPED();
	prog[0] = npu_insn_copy(DATA_OFF + 0x10000, DATA_OFF, 100);
	prog[1] = npu_insn_add(NPU_DTYPE_I8, DATA_OFF + 0x20000, DATA_OFF, DATA_OFF, 100);
	prog[2] = npu_insn_halt();
	prog[3] = npu_insn_copy(DATA_OFF, DATA_OFF + 0x10000, 1);	/* not reached */
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 1 << 16, &bo));
	memcpy(bo.map, prog, sizeof(prog));
	cmds[0] = npu_cmd_to_dram(&bo, 0, PROG_OFF, sizeof(prog));
	cmds[1] = npu_cmd_to_dram(&bo, 4096, DATA_OFF, to_bytes);
	cmds[2] = npu_cmd_exec(PROG_OFF, sizeof(prog), 0);
	cmds[3] = npu_cmd_from_dram(&bo, 8192, DATA_OFF, from_bytes);

	read_perf(&self->bar, self->pe, &p0);
	read_perf(&self->bar, other, &other0);
	ASSERT_EQ(0, npu_run(self->fd, 0, cmds, 4, NULL));
	read_perf(&self->bar, self->pe, &p1);
	read_perf(&self->bar, other, &other1);

	EXPECT_EQ(sizeof(prog) + to_bytes,
		  PERF(&p1, NPU_PE_PERF_DMA_TO_DEV_BYTES) - PERF(&p0, NPU_PE_PERF_DMA_TO_DEV_BYTES));
	EXPECT_EQ(from_bytes, PERF(&p1, NPU_PE_PERF_DMA_FROM_DEV_BYTES) -
			      PERF(&p0, NPU_PE_PERF_DMA_FROM_DEV_BYTES));
	EXPECT_EQ(3, PERF(&p1, NPU_PE_PERF_DMA_COMMANDS) - PERF(&p0, NPU_PE_PERF_DMA_COMMANDS));
	EXPECT_EQ(4, PERF(&p1, NPU_PE_PERF_COMMANDS) - PERF(&p0, NPU_PE_PERF_COMMANDS));
	/* COPY, ADD, HALT; the instruction after HALT does not count */
	EXPECT_EQ(3, PERF(&p1, NPU_PE_PERF_INSTRUCTIONS) - PERF(&p0, NPU_PE_PERF_INSTRUCTIONS));
	EXPECT_EQ(1, PERF(&p1, NPU_PE_PERF_JOBS) - PERF(&p0, NPU_PE_PERF_JOBS));
	EXPECT_EQ(0, PERF(&p1, NPU_PE_PERF_ERRORS) - PERF(&p0, NPU_PE_PERF_ERRORS));
	EXPECT_LT(0, PERF(&p1, NPU_PE_PERF_TENSOR_CYCLES) - PERF(&p0, NPU_PE_PERF_TENSOR_CYCLES));
	EXPECT_LT(0, PERF(&p1, NPU_PE_PERF_DMA_CYCLES) - PERF(&p0, NPU_PE_PERF_DMA_CYCLES));
	EXPECT_LE(PERF(&p1, NPU_PE_PERF_TENSOR_CYCLES) - PERF(&p0, NPU_PE_PERF_TENSOR_CYCLES) +
		  PERF(&p1, NPU_PE_PERF_DMA_CYCLES) - PERF(&p0, NPU_PE_PERF_DMA_CYCLES),
		  PERF(&p1, NPU_PE_PERF_TASK_CYCLES) - PERF(&p0, NPU_PE_PERF_TASK_CYCLES));
	EXPECT_LT(PERF(&p0, NPU_PE_PERF_CYCLES), PERF(&p1, NPU_PE_PERF_CYCLES));

	if (variant->kind == NPU_FILE_FUSED) {
		/* the fused unit's work counts on both PEs */
		EXPECT_EQ(1, PERF(&other1, NPU_PE_PERF_JOBS) - PERF(&other0, NPU_PE_PERF_JOBS));
		EXPECT_EQ(3, PERF(&other1, NPU_PE_PERF_INSTRUCTIONS) -
			     PERF(&other0, NPU_PE_PERF_INSTRUCTIONS));
	} else {
		/* nobody else may use the other PE during the test, so this is exact */
		EXPECT_EQ(PERF(&other0, NPU_PE_PERF_JOBS), PERF(&other1, NPU_PE_PERF_JOBS))
			TH_LOG("pe%u counted pe%u's job (or the other PE was in use)", other,
			       self->pe);
	}
	npu_bo_release(&bo);
}

/*
 * A failing command skips the rest of its job: the copy after it does not
 * happen, is not counted, and the error is.
 */
TEST_F(model, failure_skips_rest_of_job)
{
	struct npu_insn bad = npu_insn_copy(0xfffffff0u, DATA_OFF, 64);
	struct npu_job_cmd cmds[4];
	struct perf p0, p1;
	struct npu_wait wait;
	struct npu_bo bo;
	uint8_t got[64];

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, npu_bo_alloc(self->fd, 3 * 4096, &bo));
	memcpy(bo.map, &bad, sizeof(bad));
	memset(bo.map + 4096, 0xaa, 64);
	memset(bo.map + 8192, 0xbb, 64);
	cmds[0] = npu_cmd_to_dram(&bo, 0, PROG_OFF, 64);
	cmds[1] = npu_cmd_to_dram(&bo, 4096, DATA_OFF, 64);
	cmds[2] = npu_cmd_exec(PROG_OFF, 64, 0);
	cmds[3] = npu_cmd_to_dram(&bo, 8192, DATA_OFF, 64);	/* skipped */

	read_perf(&self->bar, self->pe, &p0);
	EXPECT_EQ(-EIO, npu_run(self->fd, 0, cmds, 4, &wait));
	read_perf(&self->bar, self->pe, &p1);
	EXPECT_EQ(NPU_JOB_DRAM_OOB, wait.status);
	EXPECT_EQ(NPU_COMPLETION_INFO(2, 0), wait.info);
	EXPECT_LE(wait.start_ts, wait.end_ts);
	EXPECT_EQ(3, PERF(&p1, NPU_PE_PERF_COMMANDS) - PERF(&p0, NPU_PE_PERF_COMMANDS));
	EXPECT_EQ(2, PERF(&p1, NPU_PE_PERF_DMA_COMMANDS) - PERF(&p0, NPU_PE_PERF_DMA_COMMANDS));
	EXPECT_EQ(1, PERF(&p1, NPU_PE_PERF_JOBS) - PERF(&p0, NPU_PE_PERF_JOBS));
	EXPECT_EQ(1, PERF(&p1, NPU_PE_PERF_ERRORS) - PERF(&p0, NPU_PE_PERF_ERRORS));
	EXPECT_EQ(0, PERF(&p1, NPU_PE_PERF_INSTRUCTIONS) - PERF(&p0, NPU_PE_PERF_INSTRUCTIONS));

	ASSERT_EQ(0, npu_read_dram(self->fd, 0, DATA_OFF, got, sizeof(got)));
	EXPECT_EQ(0xaa, got[0]) TH_LOG("the command after the failure ran");
	EXPECT_EQ(0xaa, got[63]);
	npu_bo_release(&bo);
}

/* Identical random programs give identical results on every unit (and card). */
TEST_F(model, deterministic_results)
{
	int8_t a[24 * 40], b[40 * 16];
	int32_t first[24 * 16], again[24 * 16];
	struct npu_insn prog[2];
	struct npu_rng rng;

	NPU_RETURN_IF_SKIPPED();
	npu_rng_seed(&rng, 0xdede);
	npu_rng_fill(&rng, a, sizeof(a));
	npu_rng_fill(&rng, b, sizeof(b));
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, DATA_OFF, a, sizeof(a)));
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, DATA_OFF + 0x1000, b, sizeof(b)));
	prog[0] = npu_insn_matmul(DATA_OFF + 0x2000, DATA_OFF, DATA_OFF + 0x1000, 24, 16, 40,
				  false);
	prog[1] = npu_insn_halt();
	ASSERT_EQ(0, npu_run_program(self->fd, 0, PROG_OFF, prog, 2, NULL));
	ASSERT_EQ(0, npu_read_dram(self->fd, 0, DATA_OFF + 0x2000, first, sizeof(first)));
	/* run it again: MATMUL without ACCUMULATE overwrites, so nothing changes */
	ASSERT_EQ(0, npu_run_program(self->fd, 0, PROG_OFF, prog, 2, NULL));
	ASSERT_EQ(0, npu_read_dram(self->fd, 0, DATA_OFF + 0x2000, again, sizeof(again)));
	EXPECT_EQ(0, memcmp(first, again, sizeof(first)));
	npu_ref_matmul_i8(again, a, b, 24, 16, 40, false);
	EXPECT_EQ(0, memcmp(first, again, sizeof(first)));
}

/* On TIMEOUT a program has consumed exactly its cycle budget. */
TEST_F(model, timeout_consumes_budget)
{
	struct npu_insn prog[3];
	struct npu_job_cmd cmds[2];
	struct perf p0, p1;
	struct npu_wait wait;
	struct npu_bo bo;
	const uint64_t budget = 100;

	NPU_RETURN_IF_SKIPPED();
	/* two cheap COPYs fit, the MATMUL (64^3 MACs, even on two lanes) does not */
	prog[0] = npu_insn_copy(DATA_OFF + 0x1000, DATA_OFF, 64);
	prog[1] = npu_insn_copy(DATA_OFF + 0x2000, DATA_OFF, 64);
	prog[2] = npu_insn_matmul(DATA_OFF + 0x10000, DATA_OFF, DATA_OFF + 0x4000, 64, 64, 64,
				  false);
	ASSERT_EQ(0, npu_bo_alloc(self->fd, sizeof(prog), &bo));
	memcpy(bo.map, prog, sizeof(prog));
	cmds[0] = npu_cmd_to_dram(&bo, 0, PROG_OFF, sizeof(prog));
	cmds[1] = npu_cmd_exec(PROG_OFF, sizeof(prog), budget);
	read_perf(&self->bar, self->pe, &p0);
	EXPECT_EQ(-EIO, npu_run(self->fd, 0, cmds, 2, &wait));
	read_perf(&self->bar, self->pe, &p1);
	EXPECT_EQ(NPU_JOB_TIMEOUT, wait.status);
	EXPECT_EQ(NPU_COMPLETION_INFO(1, 2), wait.info);
	EXPECT_EQ(budget, PERF(&p1, NPU_PE_PERF_TENSOR_CYCLES) -
			  PERF(&p0, NPU_PE_PERF_TENSOR_CYCLES));
	EXPECT_EQ(2, PERF(&p1, NPU_PE_PERF_INSTRUCTIONS) - PERF(&p0, NPU_PE_PERF_INSTRUCTIONS));
	EXPECT_EQ(1, PERF(&p1, NPU_PE_PERF_ERRORS) - PERF(&p0, NPU_PE_PERF_ERRORS));
	npu_bo_release(&bo);
}

/*
 * Fused mode follows the fused file: DEV_MODE.FUSED and PE0's window are
 * set while npu0pe0-1 is open and undone when it closes, repeatedly, with
 * DRAM contents surviving every switch.
 */
TEST(fused_mode_switching)
{
	struct npu_device_info info;
	struct npu_bar bar;
	uint64_t part0;
	uint8_t mark[16], got[16];
	int mgmt, ret;

	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	mgmt = npu_open(0, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, mgmt);
	ASSERT_EQ(0, npu_device_info(mgmt, &info));
	ret = npu_bar_map(info.busname, &bar);
	ASSERT_EQ(0, ret) TH_LOG("map BAR0: %s", strerror(-ret));
	part0 = npu_bar_read64(&bar, NPU_PE_BASE(0) + NPU_PE_DRAM_SIZE);
	ASSERT_EQ(0, npu_bar_read32(&bar, NPU_REG_DEV_MODE) & NPU_DEV_MODE_FUSED);
	memset(mark, 0x9d, sizeof(mark));

	for (int round = 0; round < 4; round++) {
		int fused = npu_open(0, NPU_FILE_FUSED, 0);
		int pe[2];

		ASSERT_LE(0, fused) TH_LOG("round %d: open fused: %s", round, strerror(-fused));
		EXPECT_EQ(NPU_DEV_MODE_FUSED,
			  npu_bar_read32(&bar, NPU_REG_DEV_MODE) & NPU_DEV_MODE_FUSED);
		EXPECT_EQ(info.dram_size,
			  npu_bar_read64(&bar, NPU_PE_BASE(0) + NPU_PE_DRAM_SIZE));
		mark[0] = (uint8_t)round;
		/* the last bytes of DRAM: only reachable from the fused window */
		ASSERT_EQ(0, npu_write_dram(fused, 0, info.dram_size - sizeof(mark), mark,
					    sizeof(mark)));
		close(fused);

		EXPECT_EQ(0, npu_bar_read32(&bar, NPU_REG_DEV_MODE) & NPU_DEV_MODE_FUSED)
			TH_LOG("round %d: still fused after close", round);
		EXPECT_EQ(part0, npu_bar_read64(&bar, NPU_PE_BASE(0) + NPU_PE_DRAM_SIZE));
		pe[0] = npu_open(0, NPU_FILE_PE0, 0);
		pe[1] = npu_open(0, NPU_FILE_PE1, 0);
		ASSERT_LE(0, pe[0]);
		ASSERT_LE(0, pe[1]);
		/* the same bytes, seen from pe1 at the end of its partition */
		ASSERT_EQ(0, npu_device_info(pe[1], &info));
		ASSERT_EQ(0, npu_read_dram(pe[1], 0, info.dram_window - sizeof(got), got,
					   sizeof(got)));
		EXPECT_EQ(0, memcmp(mark, got, sizeof(got))) TH_LOG("round %d", round);
		close(pe[0]);
		close(pe[1]);
		ASSERT_EQ(0, npu_device_info(mgmt, &info));
	}
	npu_bar_unmap(&bar);
	close(mgmt);
}

TEST_HARNESS_MAIN
