#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-guest: yes
#
# Benchmark 1, floor: the cost of each part of a job (ioctl entry, doorbell
# write, the model's reaction, MSI-X delivery, waiter wake-up) and their sum.
# The measurements are npu-guest-bench's (bench/guest/); protocol in bench/README.md.
. "$(dirname "$0")/lib/guest.sh"
guest_run "npu-guest-bench $BENCH_SHORT_ARG floor"
