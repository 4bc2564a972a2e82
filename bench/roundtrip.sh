#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 2, roundtrip: NOP SUBMIT->WAIT p50 and p99 as a ratio to the floor
# measured in the same run.
# The measurements are npu-guest-bench's (bench/guest/); protocol in bench/README.md.
. "$(dirname "$0")/lib/guest.sh"
guest_run "npu-guest-bench $BENCH_SHORT_ARG roundtrip"
