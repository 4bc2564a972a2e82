// SPDX-License-Identifier: MIT
/*
 * The ONNX operator test cases (docs/onnx.md) on the emulated NPU: every
 * case converted by npu-onnx (copied to /usr/share/npu/onnx by the VM's
 * initramfs) runs on a PE and must match ONNX's expected outputs. Prints
 * the table of cases (ran, passed, skipped and why) and the counts per
 * operator as TAP comments.
 *
 * Which cases run is decided by the converter on the host (manifest.tsv), so
 * "ran == passed" alone would stay green if the converter gave up on cases:
 * the test also requires the host test's floor and, per operator, at least
 * the cases docs/onnx.md measured as running (a case that moves from ran to
 * skipped fails here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* The runner shared with the npu-onnx-run tool and the host test (libnpuonnx.a). */
#include "onnx_run.h"

#define ONNX_DIR "/usr/share/npu/onnx"

/* tests/host/onnx_test.c's floor: the operators the ISA claims have cases that run. */
#define ONNX_MIN_RAN 60

/* Cases that ran per operator, docs/onnx.md (libonnx-testdata 1.12.0): keep the two in step. */
static const struct {
	const char *op;
	unsigned int ran;
} expected_ran[] = {
	{ "Add", 1 }, { "AveragePool", 4 }, { "Clip", 3 }, { "Concat", 12 },
	{ "Conv", 6 }, { "ConvInteger", 3 }, { "DequantizeLinear", 1 }, { "Flatten", 9 },
	{ "GlobalAveragePool", 1 }, { "GlobalMaxPool", 1 }, { "Identity", 1 },
	{ "MatMulInteger", 1 }, { "MaxPool", 6 }, { "Mul", 2 }, { "Pad", 3 },
	{ "QLinearConv", 1 }, { "QLinearMatMul", 2 }, { "QuantizeLinear", 1 }, { "Relu", 1 },
	{ "Reshape", 9 }, { "Slice", 7 }, { "Squeeze", 2 }, { "Sub", 2 }, { "Transpose", 7 },
	{ "Unsqueeze", 8 },
};

/*
 * The "ran" column of op's row in the report's per-operator table
 * ("operator cases ran passed failed skipped"), or -1 if op has no row.
 */
static long ran_of(const char *report, const char *op)
{
	const char *p = strstr(report, "\noperator ");

	while (p && (p = strchr(p + 1, '\n'))) {
		char name[64];
		unsigned int cases, ran;

		if (sscanf(p + 1, "%63s %u %u", name, &cases, &ran) == 3 && !strcmp(name, op))
			return ran;
	}
	return -1;
}

/* Copies a memory buffer to stdout with a "# " before every line (TAP comments). */
static void print_commented(const char *text)
{
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);

		printf("# %.*s\n", len, line);
		line += len + (end ? 1 : 0);
	}
	fflush(stdout);
}

TEST(onnx_cases_on_npu)
{
	struct onnx_run_totals totals;
	npu_session *session = NULL;
	char *report = NULL;
	size_t report_size = 0;
	FILE *mem;
	bool ok;

	/* make all converts them and the VM always gets them: missing is a failure */
	ASSERT_EQ(0, access(ONNX_DIR "/manifest.tsv", R_OK))
		TH_LOG("no converted cases in %s (make onnx, NPU_VM_FILES)", ONNX_DIR);
	ASSERT_EQ(NPU_OK, npu_session_open("warboy(1)*1", NULL, &session)) {
		TH_LOG("session: %s", npu_last_error());
	}
	mem = open_memstream(&report, &report_size);
	ASSERT_NE(NULL, mem);
	ok = onnx_run_dir(ONNX_DIR, session, NULL, mem, &totals);
	fclose(mem);
	npu_session_close(session);
	print_commented(report);
	ASSERT_TRUE(ok);
	TH_LOG("%u cases: %u ran, %u passed, %u failed, %u skipped", totals.cases, totals.ran,
	       totals.passed, totals.failed, totals.skipped);
	EXPECT_LE(ONNX_MIN_RAN, totals.ran);
	for (size_t i = 0; i < sizeof(expected_ran) / sizeof(expected_ran[0]); i++) {
		long ran = ran_of(report, expected_ran[i].op);

		EXPECT_LE((long)expected_ran[i].ran, ran)
			TH_LOG("%s: %ld cases ran, %u in docs/onnx.md", expected_ran[i].op, ran,
			       expected_ran[i].ran);
		if (ran > (long)expected_ran[i].ran)
			TH_LOG("%s: %ld cases ran, more than docs/onnx.md's %u: update both",
			       expected_ran[i].op, ran, expected_ran[i].ran);
	}
	EXPECT_EQ(0, totals.failed);
	EXPECT_EQ(totals.ran, totals.passed);
	free(report);
}

TEST_HARNESS_MAIN
