#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 5, hal: npu_runner_run and an npu_queue against the raw ioctl
# sequence doing the same work on the same program.
# The measurements are npu-guest-bench's (bench/guest/); protocol in bench/README.md.
. "$(dirname "$0")/lib/guest.sh"
guest_run "npu-guest-bench $BENCH_SHORT_ARG hal"
