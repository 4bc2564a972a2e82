#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 4, dma: host->DRAM and DRAM->host on one PE at 4 KiB .. 64 MiB
# (short run: up to 1 MiB), from BO_CREATE, userptr and imported dma-buf
# buffers. The guest program reports GB/s and the ratio to memcpy in the
# guest; this script adds the ratio to host memcpy of the same size, measured
# here by bench/lib/memcpy-host.c: the model's data copy is a host memcpy, so
# that is the DMA's floor and the goal (>= 0.8 at 1 MiB and more).
. "$(dirname "$0")/lib/guest.sh"
cmd="npu-guest-bench $BENCH_SHORT_ARG dma"
[ "$bench_mode" != guest-cmd ] || guest_run "$cmd"
out=$(guest_run "$cmd") || { echo "$out"; exit 1; }
echo "$out"
mkdir -p "$bench_top/build/bench"
memcpy=$bench_top/build/bench/memcpy-host
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -o "$memcpy" "$bench_top/bench/lib/memcpy-host.c"
if [ "$BENCH_SHORT" = 1 ]; then
	host=$("$memcpy" 3 4096 65536 1048576)
else
	host=$("$memcpy" 15 4096 65536 1048576 8388608 67108864)
fi
HOST=$host python3 -c '
import json, os, re, sys
host = {int(l.split()[0]): float(l.split()[1]) for l in os.environ["HOST"].splitlines()}
for size, bw in sorted(host.items()):
    print(json.dumps({"bench": "dma", "metric": "host_memcpy_%dk_GBps" % (size // 1024),
                      "value": round(bw, 4), "unit": "GB/s"}))
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    r = re.match(r"^(bo|userptr|dmabuf)_(to|from)_dram_(\d+)k_GBps$", m["metric"])
    if not r:
        continue
    size = int(r.group(3)) * 1024
    if size not in host:
        sys.exit("dma: no host memcpy measured for %d bytes" % size)
    out = {"bench": "dma", "metric": "%s_%s_dram_%sk_ratio_to_host_memcpy" % r.groups(),
           "value": round(m["value"] / host[size], 4), "unit": "x"}
    if size >= 1 << 20:
        out["goal"] = ">=0.8"
        out["met"] = out["value"] >= 0.8
    print(json.dumps(out))
' <<END
$out
END
