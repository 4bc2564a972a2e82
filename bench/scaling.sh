#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 6, scaling: throughput of a compute-bound layer (the example
# 64x256x64 int8 matmul, requantized) with npu-bench, in the one VM boot of
# the guest benchmarks (bench/README.md):
#   - two PEs (npu:0:0,npu:0:1) against one PE (npu:0:0), single-PE program;
#   - one fused pair (npu:0:0-1) against one PE, the fused program of the same layer;
#   - two cards (two fused pairs) against one fused pair;
#   - queued (depth 8) against synchronous runs on one PE, and how busy depth 8
#     keeps the PE: jobs/s x mean device time per job (modelled, from the completions);
#   - the fused unit's modelled speedup: device time per job, single / fused.
# Each npu-bench run lasts 3 s (short run: 100 jobs).
. "$(dirname "$0")/lib/guest.sh"
prog=/usr/share/npu/programs
if [ "$BENCH_SHORT" = 1 ]; then len="-n 100"; else len="-t 3"; fi
cmd="
npu-bench --json -d npu:0:0 $len -q 0 $prog/matmul_relu_single.npuprog &&
npu-bench --json -d npu:0:0 $len -q 8 $prog/matmul_relu_single.npuprog &&
npu-bench --json -d npu:0:0,npu:0:1 $len -q 8 $prog/matmul_relu_single.npuprog &&
npu-bench --json -d npu:0:0-1 $len -q 8 $prog/matmul_relu_fused.npuprog &&
npu-bench --json -d 'warboy(2)*2' $len -q 8 $prog/matmul_relu_fused.npuprog"
[ "$bench_mode" != guest-cmd ] || guest_run "$cmd"
out=$(guest_run "$cmd") || { echo "$out"; exit 1; }
echo "$out" | grep -v '^{"version"' || true
echo "$out" | grep '^{"version"' | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin]
if len(r) != 5:
    sys.exit("scaling: expected 5 npu-bench results, got %d" % len(r))
if any(x["failed"] for x in r):
    sys.exit("scaling: npu-bench reported failed jobs")
sync, one, two, fused, cards = r
def emit(metric, value, unit, goal=None):
    m = {"bench": "scaling", "metric": metric, "value": round(value, 4), "unit": unit}
    if goal:
        m["goal"] = goal
        m["met"] = value >= float(goal[2:])
    print(json.dumps(m))
emit("one_pe_jobs_per_s", one["qps"], "jobs/s")
emit("two_pes_ratio_to_one", two["qps"] / one["qps"], "x", ">=1.9")
emit("fused_ratio_to_one_pe", fused["qps"] / one["qps"], "x", ">=1.8")
emit("two_cards_ratio_to_one", cards["qps"] / fused["qps"], "x", ">=1.9")
emit("queued_ratio_to_sync", one["qps"] / sync["qps"], "x")
emit("one_pe_device_ns_per_job", one["mean_device_ns"], "ns")
emit("fused_device_ns_per_job", fused["mean_device_ns"], "ns")
emit("fused_modelled_speedup", one["mean_device_ns"] / max(fused["mean_device_ns"], 1), "x")
emit("depth8_busy_fraction", one["qps"] * one["mean_device_ns"] / 1e9, "", ">=0.95")
'
