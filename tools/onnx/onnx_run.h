/* SPDX-License-Identifier: MIT */
/*
 * Runs the ONNX test cases converted by npu-onnx (a directory with
 * manifest.tsv, CASE.npuprog and CASE.npuio) on the CPU reference runner or
 * on a device session, compares every output with the expected one and
 * prints a table of the cases and the counts per operator.
 *
 * Used by the npu-onnx-run tool, tests/host/onnx_test.c (CPU) and
 * tests/guest/onnx_test.c (the emulated NPU in the VM).
 */
#ifndef ONNX_RUN_H
#define ONNX_RUN_H

#include <stdio.h>

#include "npuhal.h"

struct onnx_run_totals {
	unsigned int cases, ran, passed, failed, skipped;
};

/*
 * session NULL: npu_cpu_run. filter (may be NULL): only cases whose name
 * contains it. Returns false if the directory or its manifest cannot be
 * read (message on out); mismatches are counted in totals->failed.
 */
bool onnx_run_dir(const char *dir, npu_session *session, const char *filter, FILE *out,
		  struct onnx_run_totals *totals);

#endif /* ONNX_RUN_H */
