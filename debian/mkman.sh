#!/bin/sh
# SPDX-License-Identifier: MIT
#
# mkman.sh BUILD OUTDIR VERSION: a section-1 manual page for each tool,
# from its own --help text (the usage the tool prints is the reference; the
# long form is in /usr/share/doc/npu-tools/). Run by debian/rules.
set -eu
build=$1 out=$2 version=$3
mkdir -p "$out"
while read -r tool summary; do
	bin=$build/bin/$tool
	[ -x "$bin" ] || bin=$build/host-tools/$tool
	help=$("$bin" --help 2>&1) || true
	[ -n "$help" ] || { echo "mkman.sh: $tool --help printed nothing" >&2; exit 1; }
	{
		echo ".TH $(echo "$tool" | tr a-z A-Z) 1 \"\" \"npu-stack $version\" \"NPU tools\""
		echo ".SH NAME"
		echo "$tool \\- $summary"
		echo ".SH SYNOPSIS AND OPTIONS"
		echo ".nf"
		printf '%s\n' "$help" | sed -e 's/\\/\\e/g' -e 's/^[.'"'"']/\\\&&/'
		echo ".fi"
		echo ".SH SEE ALSO"
		echo "The documents in /usr/share/doc/npu-tools/; npuctl(1), npu-bench(1), npu-as(1), npu-inspect(1), npu-exporter(1)."
	} >"$out/$tool.1"
done <<'TOOLS'
npuctl list the NPU cards, their cores and the processes using them
npu-bench throughput and latency of a program on an NPU
npu-as assemble NPU programs (.s to .npuprog)
npu-inspect show the contents of an NPU program file
npu-exporter serve the NPUs' metrics to Prometheus over HTTP
npu-onnx convert ONNX operator test cases into NPU programs
npu-onnx-run run converted ONNX test cases on an NPU or the CPU reference
npu-fmnist-train train the int8 Fashion-MNIST MLP and write its NPU program
TOOLS
