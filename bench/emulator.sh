#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The device model's compute speed (issue: emulation speed): the instruction
# executor's MATMUL_I8 and CONV2D throughput on the host, single thread, for
# each engine (fast, portable, reference), against OpenBLAS's single-thread
# sgemm on the same shapes, measured in this run. Goals: fast >= 20x the
# reference and >= 0.5x sgemm at 256x256x256.
# Usage: bench/emulator.sh [--short]   (or BENCH_SHORT=1: CI's quick run)
set -eu
cd "$(dirname "$0")/.."
short=${BENCH_SHORT:-0}
[ "${1:-}" = --short ] && short=1
out=build/bench
mkdir -p "$out"
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -Iisa -Ihw -o "$out/isa-bench" \
	bench/isa_bench.c isa/*.c -ldl
if [ "$short" = 1 ]; then
	exec "$out/isa-bench" --short
fi
exec "$out/isa-bench"
