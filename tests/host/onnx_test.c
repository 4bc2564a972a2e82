// SPDX-License-Identifier: MIT
/*
 * The ONNX operator test cases (docs/onnx.md) on the CPU reference runner:
 * converts Debian's libonnx-testdata node cases with the converter's own
 * code (under the sanitizers), then runs every converted case through
 * npu_cpu_run and compares with ONNX's expected outputs. Prints the table
 * of cases and the counts per operator.
 */
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* The converter and the runner: libnpuonnx.a, which run.sh builds under the sanitizers. */
#include "convert.h"
#include "onnx_run.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

TEST(onnx_cases_on_cpu_runner)
{
	char out[] = "/tmp/onnx_test.XXXXXX", cmd[64];
	struct onnx_run_totals totals;
	size_t converted, skipped;

	if (access(NODE_DIR, R_OK))
		SKIP(return, "no %s: install libonnx-testdata (make setup)", NODE_DIR);
	ASSERT_NE(NULL, mkdtemp(out));
	ASSERT_TRUE(onnx_convert_dir(NODE_DIR, out, &converted, &skipped));
	TH_LOG("converted %zu cases, skipped %zu", converted, skipped);
	/* the operators the ISA claims each have cases that run */
	ASSERT_GE(converted, 60);
	ASSERT_TRUE(onnx_run_dir(out, NULL, NULL, stdout, &totals));
	EXPECT_EQ(converted, totals.ran);
	EXPECT_EQ(0, totals.failed);
	EXPECT_EQ(totals.ran, totals.passed);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", out);
	EXPECT_EQ(0, system(cmd));
}

/* The converter is deterministic: two runs give identical files. */
TEST(onnx_conversion_is_deterministic)
{
	char a[] = "/tmp/onnx_a.XXXXXX", b[] = "/tmp/onnx_b.XXXXXX", cmd[128];
	size_t ca, sa, cb, sb;

	if (access(NODE_DIR, R_OK))
		SKIP(return, "no %s", NODE_DIR);
	ASSERT_NE(NULL, mkdtemp(a));
	ASSERT_NE(NULL, mkdtemp(b));
	ASSERT_TRUE(onnx_convert_dir(NODE_DIR, a, &ca, &sa));
	ASSERT_TRUE(onnx_convert_dir(NODE_DIR, b, &cb, &sb));
	EXPECT_EQ(ca, cb);
	snprintf(cmd, sizeof(cmd), "diff -r %s %s >/dev/null", a, b);
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", a, b);
	EXPECT_EQ(0, system(cmd));
}

/* A wrong expected output is reported as a failure, not a pass. */
TEST(onnx_runner_detects_a_wrong_result)
{
	char out[] = "/tmp/onnx_bad.XXXXXX", cmd[256], path[128];
	struct onnx_run_totals totals;
	size_t converted, skipped;
	FILE *f;
	long size;

	if (access(NODE_DIR, R_OK))
		SKIP(return, "no %s", NODE_DIR);
	ASSERT_NE(NULL, mkdtemp(out));
	ASSERT_TRUE(onnx_convert_dir(NODE_DIR, out, &converted, &skipped));
	/* flip the last byte of test_relu's data: its expected output's last element */
	snprintf(path, sizeof(path), "%s/test_relu.npuio", out);
	f = fopen(path, "r+b");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, fseek(f, -1, SEEK_END));
	size = ftell(f);
	ASSERT_GT(size, 0);
	ASSERT_EQ(0x5a, fputc(0x5a, f) & 0xff);
	fclose(f);
	ASSERT_TRUE(onnx_run_dir(out, NULL, "test_relu", stdout, &totals));
	EXPECT_EQ(1, totals.ran);
	EXPECT_EQ(1, totals.failed);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", out);
	EXPECT_EQ(0, system(cmd));
}

TEST_HARNESS_MAIN
