#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 3, throughput: NOP and 4 KiB-copy jobs per second on one PE at
# queue depths 1, 8, 64; two PEs and two cards against one.
# The measurements are npu-guest-bench's (bench/guest/); protocol in bench/README.md.
. "$(dirname "$0")/lib/guest.sh"
guest_run "npu-guest-bench $BENCH_SHORT_ARG throughput"
