#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Usage: scan-kernel-log.sh [FILE]   (default: standard input)
#
# Prints every kernel log line that shows a kernel bug (warnings, oopses,
# lockups, sanitizer and lockdep reports, panics) and exits 1 if there is
# one, 0 if there is none, 2 if the log cannot be read. POSIX sh and grep
# only, so the same script runs on the host (on the console log) and in the
# busybox guest (on dmesg).
set -u

input=${1:--}
if [ "$input" != - ] && [ ! -r "$input" ]; then
	echo "scan-kernel-log: cannot read $input" >&2
	exit 2
fi

# Keep this list in sync with README.md ("How the VM loop works").
# -a: the console log may hold stray control bytes; treat it as text anyway.
grep -a -F \
	-e 'WARNING:' \
	-e 'BUG:' \
	-e 'Oops' \
	-e 'general protection fault' \
	-e 'Call Trace' \
	-e 'soft lockup' \
	-e 'hard LOCKUP' \
	-e 'hung_task' \
	-e 'blocked for more than' \
	-e 'KASAN:' \
	-e 'UBSAN:' \
	-e 'circular locking dependency' \
	-e 'suspicious RCU usage' \
	-e 'kernel panic' \
	-e 'Kernel panic' \
	-- "$input"
case $? in
0) exit 1 ;;	# found something
1) exit 0 ;;	# clean
*) echo "scan-kernel-log: grep failed on $input" >&2; exit 2 ;;
esac
