// SPDX-License-Identifier: MIT
/*
 * npu-onnx-run: runs the ONNX test cases converted by npu-onnx.
 *
 *   npu-onnx-run [--cpu | --device SPEC] [--filter TEXT] [DIR]
 *
 * DIR defaults to /usr/share/npu/onnx (where the test VM has them), SPEC to
 * "warboy(1)*1" (any free PE). --cpu uses the CPU reference runner, no
 * device needed. Prints one line per case and the counts per operator;
 * exits 1 if a case failed, 2 on a usage or setup error.
 */
#include <stdio.h>
#include <string.h>

#include "onnx_run.h"

int main(int argc, char **argv)
{
	const char *dir = "/usr/share/npu/onnx", *spec = "warboy(1)*1", *filter = NULL;
	struct onnx_run_totals totals;
	npu_session *session = NULL;
	bool cpu = false, ok;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cpu")) {
			cpu = true;
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			spec = argv[++i];
		} else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			filter = argv[++i];
		} else if (argv[i][0] != '-') {
			dir = argv[i];
		} else {
			fprintf(stderr,
				"usage: npu-onnx-run [--cpu | --device SPEC] [--filter TEXT] [DIR]\n");
			return 2;
		}
	}
	if (!cpu && npu_session_open(spec, NULL, &session) != NPU_OK) {
		fprintf(stderr, "npu-onnx-run: cannot open '%s': %s\n", spec, npu_last_error());
		return 2;
	}
	ok = onnx_run_dir(dir, session, filter, stdout, &totals);
	if (session)
		npu_session_close(session);
	if (!ok)
		return 2;
	printf("%s: %u cases, %u ran, %u passed, %u failed, %u skipped\n",
	       cpu ? "cpu" : spec, totals.cases, totals.ran, totals.passed, totals.failed,
	       totals.skipped);
	return totals.failed ? 1 : 0;
}
