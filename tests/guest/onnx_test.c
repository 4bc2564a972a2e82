// SPDX-License-Identifier: MIT
/*
 * The ONNX operator test cases (docs/onnx.md) on the emulated NPU: every
 * case converted by npu-onnx (copied to /usr/share/npu/onnx by the VM's
 * initramfs) runs on a PE and must match ONNX's expected outputs. Prints
 * the table of cases (ran, passed, skipped and why) and the counts per
 * operator as TAP comments.
 */
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* The runner shared with the npu-onnx-run tool and the host test. */
#include "../../tools/onnx/onnx_run.c"

#define ONNX_DIR "/usr/share/npu/onnx"

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

	if (access(ONNX_DIR "/manifest.tsv", R_OK))
		SKIP(return, "no converted cases in %s (make onnx)", ONNX_DIR);
	ASSERT_EQ(NPU_OK, npu_session_open("warboy(1)*1", NULL, &session)) {
		TH_LOG("session: %s", npu_last_error());
	}
	mem = open_memstream(&report, &report_size);
	ASSERT_NE(NULL, mem);
	ok = onnx_run_dir(ONNX_DIR, session, NULL, mem, &totals);
	fclose(mem);
	npu_session_close(session);
	print_commented(report);
	free(report);
	ASSERT_TRUE(ok);
	TH_LOG("%u cases: %u ran, %u passed, %u failed, %u skipped", totals.cases, totals.ran,
	       totals.passed, totals.failed, totals.skipped);
	EXPECT_GT(totals.ran, 0);
	EXPECT_EQ(0, totals.failed);
	EXPECT_EQ(totals.ran, totals.passed);
}

TEST_HARNESS_MAIN
