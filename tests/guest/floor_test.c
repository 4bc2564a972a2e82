// SPDX-License-Identifier: MIT
/*
 * The job path's floor probe (bench/, benchmark 1): the driver's debugfs
 * `floor` file and the device's NPU_REG_TEST_IRQ behind it. Reading the file
 * reports every part (MMIO read, doorbell, test-interrupt write, delivery,
 * wake-up) for every PE, with one interrupt delivered per round; the test
 * interrupts write no completion (CQ_TAIL and PERF_JOBS stay), and jobs
 * submitted around the reads complete normally. Values are not judged:
 * timing is the benchmark's business.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_sys_util.h"

struct floor_line {
	unsigned long long v[5];
	unsigned int irqs;
};

/* Reads the floor file of card 0: 0, or -errno (with the reason in why). */
static int read_floor(const char *busname, unsigned int pe_count, unsigned int *iterations,
		      struct floor_line *lines, char *why, size_t why_len)
{
	char path[128], line[512];
	unsigned int seen = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/kernel/debug/npu/%s/floor", busname);
	fp = fopen(path, "r");
	if (!fp) {
		snprintf(why, why_len, "open %s: %s", path, strerror(errno));
		return -errno;
	}
	*iterations = 0;
	while (fgets(line, sizeof(line), fp)) {
		unsigned int pe;
		struct floor_line l;

		if (sscanf(line, "iterations: %u", iterations) == 1)
			continue;
		if (sscanf(line, "pe%u: mmio_read_ns %llu doorbell_ns %llu test_irq_write_ns %llu "
			   "irq_ns %llu wake_ns %llu irqs %u", &pe, &l.v[0], &l.v[1], &l.v[2],
			   &l.v[3], &l.v[4], &l.irqs) != 7 || pe >= pe_count || seen & (1u << pe)) {
			snprintf(why, why_len, "unexpected line: %s", line);
			fclose(fp);
			return -EBADMSG;
		}
		lines[pe] = l;
		seen |= 1u << pe;
	}
	fclose(fp);
	if (seen != (1u << pe_count) - 1 || !*iterations) {
		snprintf(why, why_len, "lines for PEs %#x of %u, iterations %u", seen, pe_count,
			 *iterations);
		return -EBADMSG;
	}
	return 0;
}

FIXTURE(floor)
{
	int mgmt;
	struct npu_device_info info;
	struct npu_bar bar;
};

FIXTURE_SETUP(floor)
{
	int ret;

	self->mgmt = -1;
	self->bar.regs = NULL;
	NPU_SKIP_UNLESS_PRESENT(0);
	self->mgmt = npu_open(0, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, self->mgmt) TH_LOG("open: %s", strerror(-self->mgmt));
	ASSERT_EQ(0, npu_device_info(self->mgmt, &self->info));
	ASSERT_GE(NPU_MAX_PES, self->info.pe_count);
	ret = npu_bar_map(self->info.busname, &self->bar);
	ASSERT_EQ(0, ret) TH_LOG("map BAR0: %s", strerror(-ret));
	if (!(npu_bar_read32(&self->bar, NPU_REG_CAPS) & NPU_CAP_FAULTS))
		SKIP(return, "card 0 has no fault injection (faults=on): no floor probe");
}

FIXTURE_TEARDOWN(floor)
{
	npu_bar_unmap(&self->bar);
	if (self->mgmt >= 0)
		close(self->mgmt);
}

/* Every part for every PE, one interrupt per round, and no completion written. */
TEST_F(floor, reports_every_part_without_completions)
{
	struct floor_line lines[NPU_MAX_PES];
	uint32_t tail[NPU_MAX_PES];
	uint64_t jobs[NPU_MAX_PES];
	unsigned int iterations, pe, i;
	char why[600];
	int ret;

	NPU_RETURN_IF_SKIPPED();
	for (pe = 0; pe < self->info.pe_count; pe++) {
		tail[pe] = npu_bar_read32(&self->bar, NPU_PE_BASE(pe) + NPU_PE_CQ_TAIL);
		jobs[pe] = npu_bar_read64_stable(&self->bar, NPU_PE_BASE(pe) + NPU_PE_PERF_JOBS);
	}
	ret = read_floor(self->info.busname, self->info.pe_count, &iterations, lines, why,
			 sizeof(why));
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	for (pe = 0; pe < self->info.pe_count; pe++) {
		for (i = 0; i < 5; i++) {
			EXPECT_LT(0, lines[pe].v[i]) TH_LOG("pe%u part %u is 0", pe, i);
		}
		EXPECT_EQ(iterations, lines[pe].irqs);
		EXPECT_EQ(tail[pe], npu_bar_read32(&self->bar, NPU_PE_BASE(pe) + NPU_PE_CQ_TAIL));
		EXPECT_EQ(jobs[pe], npu_bar_read64_stable(&self->bar,
							  NPU_PE_BASE(pe) + NPU_PE_PERF_JOBS));
	}
}

/* Jobs in flight on the PE being probed complete with their own results. */
TEST_F(floor, jobs_around_the_probe_complete)
{
	struct floor_line lines[NPU_MAX_PES];
	struct npu_job_cmd nop = { .op = NPU_JOB_CMD_NOP };
	uint64_t seq[16];
	unsigned int iterations;
	struct npu_wait w;
	char why[600];
	int fd, ret;

	NPU_RETURN_IF_SKIPPED();
	fd = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, fd) TH_LOG("open npu0pe0: %s", strerror(-fd));
	for (unsigned int i = 0; i < 16; i++)
		ASSERT_EQ(0, npu_submit(fd, 0, &nop, 1, &seq[i]));
	ret = read_floor(self->info.busname, self->info.pe_count, &iterations, lines, why,
			 sizeof(why));
	EXPECT_EQ(0, ret) TH_LOG("%s", why);
	for (unsigned int i = 0; i < 16; i++) {
		ASSERT_EQ(0, npu_wait(fd, seq[i], 10ll * 1000000000, &w));
		EXPECT_EQ(NPU_JOB_OK, w.status);
	}
	ASSERT_EQ(0, npu_run(fd, 0, &nop, 1, &w));
	close(fd);
}

TEST_HARNESS_MAIN
