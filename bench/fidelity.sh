#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 7, fidelity: the device time completions report (end_ts -
# start_ts) against the cost table of docs/hardware.md section 12.
# The measurements are npu-guest-bench's (bench/guest/); protocol in bench/README.md.
. "$(dirname "$0")/lib/guest.sh"
guest_run "npu-guest-bench $BENCH_SHORT_ARG fidelity"
