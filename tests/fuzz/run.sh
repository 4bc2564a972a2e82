#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with ASan/UBSan and runs each for a bounded time.
# NPU_FUZZ_SECONDS (default 20) sets the time per target; the documented long
# run is NPU_FUZZ_SECONDS=3600 tests/fuzz/run.sh. Prints a TAP-style summary.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/fuzz
seconds=${NPU_FUZZ_SECONDS:-20}
mkdir -p "$out/corpus-program"
flags="-std=gnu11 -g -O1 -Wall -Wextra -Werror -I$top/hal/include -I$top/hal/src -I$top/uapi \
	-I$top/isa -I$top/hw"
# The HAL as it links: its own sources and the instruction set's (isa/).
hal_srcs=$(ls "$top"/hal/src/*.c "$top"/isa/*.c)

clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$out/program_fuzz" "$top/tests/fuzz/program_fuzz.c" $hal_srcs
cc $flags -o "$out/make_seed" "$top/tests/fuzz/make_seed.c" $hal_srcs
"$out/make_seed" "$out/corpus-program/seed.npuprog"

echo "TAP version 13"
echo "1..1"
if "$out/program_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
	"$out/corpus-program" >"$out/program_fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/program_fuzz.log")
	echo "ok 1 program_fuzz: ${runs:-?} inputs in ${seconds}s, no crash"
else
	tail -n 40 "$out/program_fuzz.log"
	echo "not ok 1 program_fuzz: crash (reproducer and log in $out)"
	exit 1
fi
