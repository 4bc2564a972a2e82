#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs a command that prints TAP (ok / not ok lines), passes its output
# through and ends with "N passed, N failed" for tests/run-all.sh. A command
# that fails without a "not ok" line, or reports no test at all, counts as
# one failure.
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
skip=$(grep -cE '^ok [0-9]+.*# SKIP' "$out" | tr -d ' ')
fail=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
pass=$((pass - skip))
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "tap-count: '$*' exited with status $rc"
	fail=1
elif [ $((pass + fail)) -eq 0 ]; then
	echo "tap-count: '$*' reported no test"
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
