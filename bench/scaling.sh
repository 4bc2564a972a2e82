#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Throughput ratios of the emulated NPU, measured in one VM boot with
# npu-bench on the fused example program (a 64x256x64 int8 layer):
#   - queued vs synchronous runs on one fused pair (what keeping jobs in flight buys),
#   - two fused pairs (two cards) vs one,
#   - one fused pair vs one single PE with the single-PE program of the same shape.
# Prints each measurement and the ratios. Usage: bench/scaling.sh [SECONDS per run, default 5]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-5}
prog=/usr/share/npu/programs
cmd="
npu-bench --json -d npu:0:0-1 -t $secs -q 0 $prog/matmul_relu_fused.npuprog;
npu-bench --json -d npu:0:0-1 -t $secs -q 4 $prog/matmul_relu_fused.npuprog;
npu-bench --json -d 'warboy(2)*2' -t $secs -q 4 $prog/matmul_relu_fused.npuprog;
npu-bench --json -d npu:0:0 -t $secs -q 4 $prog/matmul_relu_single.npuprog
"
out=$(make --no-print-directory vm-run CMD="$cmd" 2>/dev/null | grep '^{"version"')
echo "$out"
echo "$out" | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin]
if len(r) != 4:
    sys.exit("bench: expected 4 results, got %d" % len(r))
sync, queued, two, single = (x["qps"] for x in r)
print("queued/sync QPS on one fused pair        : %.2f" % (queued / sync))
print("two fused pairs / one fused pair QPS      : %.2f" % (two / queued))
print("fused pair / single PE QPS (same layer)   : %.2f" % (queued / single))
'
