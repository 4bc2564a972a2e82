// SPDX-License-Identifier: MIT
/*
 * npu-onnx: converts ONNX's single-operator test cases (Debian's
 * libonnx-testdata) into NPU programs and test data.
 *
 *   npu-onnx [-d NODE_DIR] -o OUT_DIR
 *
 * For every case of an operator the converter knows (docs/onnx.md), it writes
 * OUT_DIR/CASE.npuprog and OUT_DIR/CASE.npuio (the inputs and expected
 * outputs, in the tensors' host form), or records why the case is skipped.
 * OUT_DIR/manifest.tsv lists every case: name, operator, "run" or "skip",
 * and the reason. Deterministic: cases in name order, no timestamps.
 */
#include <stdio.h>
#include <string.h>

#include "convert.h"

#define DEFAULT_NODE_DIR "/usr/share/libonnx-testdata/data/node"

int main(int argc, char **argv)
{
	const char *node_dir = DEFAULT_NODE_DIR, *out_dir = NULL;
	size_t converted, skipped;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			node_dir = argv[++i];
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out_dir = argv[++i];
		} else {
			fprintf(stderr, "usage: npu-onnx [-d NODE_DIR] -o OUT_DIR\n"
				"  NODE_DIR: ONNX node test cases (default %s)\n", DEFAULT_NODE_DIR);
			return 2;
		}
	}
	if (!out_dir) {
		fprintf(stderr, "npu-onnx: -o OUT_DIR is required\n");
		return 2;
	}
	if (!onnx_convert_dir(node_dir, out_dir, &converted, &skipped))
		return 1;
	printf("npu-onnx: %zu cases converted, %zu skipped (%s/manifest.tsv)\n", converted, skipped,
	       out_dir);
	return 0;
}
