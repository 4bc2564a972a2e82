#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Host unit tests: builds every tests/host/*_test.c together with all HAL
# and instruction-set sources (hal/**/*.c, isa/*.c) under ASan and UBSan,
# runs each one with a time limit and counts its TAP results (kselftest
# harness). Each tests/host/*_test.sh (checks that are not C programs, e.g.
# uapi_header_test.sh) runs the same way and prints TAP itself. Prints one line per test
# program and, last, "N passed, N failed, N skipped"; a program that skips
# every case fails. Exits 1 on any failure.
#
# Binaries go to build/host/. NPU_HOST_TEST_TIMEOUT (seconds, default 300)
# bounds each program; CC overrides the compiler.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
cc=${CC:-cc}
limit=${NPU_HOST_TEST_TIMEOUT:-300}
out=$top/build/host
mkdir -p "$out"

if [ ! -f "$cache/kselftest/kselftest_harness.h" ]; then
	scripts/fetch-kernel-tools.sh >/dev/null ||
		{ echo "host-test: no kselftest_harness.h; run 'make setup'" >&2; exit 1; }
fi

# The HAL's and the instruction set's sources and every directory under hal/
# that holds headers.
mapfile -t hal_srcs < <(find hal isa -name '*.c' 2>/dev/null | LC_ALL=C sort)
mapfile -t hal_incs < <(find hal -name '*.h' -printf '-I%h\n' 2>/dev/null | LC_ALL=C sort -u)
cflags=(-std=gnu11 -Wall -Wextra -Werror -fsanitize=address,undefined
	-fno-sanitize-recover=all -g -Ihal "${hal_incs[@]}" -Iisa -Ihw -Iuapi -Itools/onnx
	-isystem "$cache/kselftest" -pthread)
# Leaks are bugs too; abort on the first sanitizer report. The harness ends
# each case with _exit(), which skips LSan's exit-time check: lsan_exit.c
# wraps _exit() to run it (checked by lsan_negative.c below).
leakcheck=(tests/host/lsan_exit.c -Wl,--wrap=_exit)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

pass=0 fail=0 skip=0
shopt -s nullglob
tests=(tests/host/*_test.c tests/host/*_test.sh)
if [ ${#tests[@]} -eq 0 ]; then
	echo "FAIL no host tests found (tests/host/*_test.c)"
	fail=1
fi

# A leak in a test body must fail that case, and only that one.
neg=$out/lsan_negative
if ! "$cc" "${cflags[@]}" -o "$neg" tests/host/lsan_negative.c "${leakcheck[@]}" >"$neg.build.log" 2>&1; then
	echo "FAIL lsan_negative: does not compile:"
	head -n 30 "$neg.build.log" | sed 's/^/    /'
	fail=$((fail + 1))
elif timeout --kill-after=5 "$limit" "$neg" >"$neg.log" 2>&1 </dev/null ||
     ! grep -q '^not ok .*leaks_in_body' "$neg.log" ||
     ! grep -q '^ok .*frees_in_body' "$neg.log" ||
     ! grep -q 'ERROR: LeakSanitizer: detected memory leaks' "$neg.log"; then
	echo "FAIL lsan_negative: a leak in a test body is not reported (output: $neg.log)"
	fail=$((fail + 1))
fi

# The ONNX converter and runner (tools/onnx/*.c but the tools' main files
# npu-*.c, as tools/tools.mk takes them), built once under the sanitizers as
# the static library every test links; onnx_test uses it.
onnx_lib=$out/onnx/libnpuonnx.a
rm -rf "$out/onnx" && mkdir -p "$out/onnx"
mapfile -t onnx_srcs < <(find tools/onnx -name '*.c' ! -name 'npu-*.c' | LC_ALL=C sort)
if ! (for s in "${onnx_srcs[@]}"; do
	"$cc" "${cflags[@]}" -c -o "$out/onnx/$(basename "$s" .c).o" "$s" || exit 1
      done && ar rcs "$onnx_lib" "$out"/onnx/*.o) >"$out/onnx.build.log" 2>&1; then
	echo "FAIL libnpuonnx.a: does not compile:"
	head -n 30 "$out/onnx.build.log" | sed 's/^/    /'
	fail=$((fail + 1))
fi

for src in "${tests[@]}"; do
	name=$(basename "$src")
	name=${name%.*}
	bin=$out/$name
	log=$out/$name.log
	if [[ $src == *.sh ]]; then
		bin=$src
	elif ! "$cc" "${cflags[@]}" -o "$bin" "$src" "${hal_srcs[@]}" "$onnx_lib" "${leakcheck[@]}" -lm >"$out/$name.build.log" 2>&1; then
		echo "FAIL $name: does not compile:"
		head -n 30 "$out/$name.build.log" | sed 's/^/    /'
		fail=$((fail + 1))
		continue
	fi
	rc=0
	start=$(date +%s.%N)
	timeout --kill-after=5 "$limit" "$bin" >"$log" 2>&1 </dev/null || rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	p=$(grep -c '^ok ' "$log" || true)
	s=$(grep -c '^ok .*# SKIP' "$log" || true)
	f=$(grep -c '^not ok ' "$log" || true)
	p=$((p - s))
	why=
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		why=" killed after ${limit}s (NPU_HOST_TEST_TIMEOUT)"
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		why=" exited with status $rc"
	fi
	[ $rc -ne 0 ] || [ $((p + f + s)) -ne 0 ] || why=" reported no test cases"
	# A program whose every case skipped tested nothing.
	[ $rc -ne 0 ] || [ "$s" -eq 0 ] || [ $((p + f)) -ne 0 ] || why=" skipped every test case"
	grep -q -e '^==[0-9]*==ERROR: ' -e 'runtime error:' "$log" && why="$why, sanitizer report"
	extra=0
	[ -z "$why" ] || extra=1
	pass=$((pass + p)) fail=$((fail + f + extra)) skip=$((skip + s))
	verdict=PASS
	[ $((f + extra)) -eq 0 ] || verdict=FAIL
	printf '%s %s: %d passed, %d failed, %d skipped, %ss%s\n' \
		"$verdict" "$name" "$p" "$f" "$s" "$secs" "$why"
	if [ $verdict = FAIL ]; then
		# Not grep: under set -e, finding no "not ok" line (a crash) ended the run.
		awk '/^not ok / && n++ < 10 { print "    " $0 }' "$log"
		echo "    output: $log (last lines follow)"
		tail -n 15 "$log" | sed 's/^/    | /'
	fi
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
