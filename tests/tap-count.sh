#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs a command that prints TAP (ok / not ok lines), passes its output
# through and ends with "N passed, N failed, N skipped" for
# tests/run-all.sh. A command that fails without a "not ok" line, reports no
# test at all, skips every test, or reports another number of tests than its
# TAP plan (1..N) counts as one failure.
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
skip=$(grep -cE '^ok [0-9]+.*#[[:space:]]*[Ss][Kk][Ii][Pp]' "$out" | tr -d ' ')
fail=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$out" | head -n 1)
pass=$((pass - skip))
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "tap-count: '$*' exited with status $rc"
	fail=1
elif [ -n "$plan" ] && [ "$plan" -ne $((pass + fail + skip)) ]; then
	# It stopped early, or ran what it did not declare.
	echo "tap-count: '$*' planned $plan tests but reported $((pass + fail + skip))"
	fail=$((fail + 1))
elif [ $((pass + fail)) -eq 0 ]; then
	if [ "$skip" -gt 0 ]; then
		echo "tap-count: '$*' skipped every test"
	else
		echo "tap-count: '$*' reported no test"
	fi
	fail=1
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
