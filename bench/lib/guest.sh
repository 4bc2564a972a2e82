# SPDX-License-Identifier: MIT
#
# Sourced by the guest benchmarks (bench/README.md). guest_run CMD prints
# what CMD printed in the VM and returns its exit status:
#   - under bench/lib/run.py (BENCH_GUEST_OUTPUT set), from the one boot all
#     guest benchmarks shared;
#   - run alone (bench/floor.sh), from a boot of its own (make vm-run);
#   - with the argument guest-cmd ($1 of the script), it only prints CMD
#     for the runner and exits.
# BENCH_SHORT=1 asks for the short version: $BENCH_SHORT_ARG is then --short.
set -eu
bench_top=$(cd "$(dirname "$0")/.." && pwd)
bench_mode=${1:-run}
BENCH_SHORT=${BENCH_SHORT:-0}
BENCH_SHORT_ARG=
[ "$BENCH_SHORT" != 1 ] || BENCH_SHORT_ARG=--short

guest_run() {
	if [ "$bench_mode" = guest-cmd ]; then
		printf '%s\n' "$1"
		exit 0
	fi
	if [ -n "${BENCH_GUEST_OUTPUT:-}" ]; then
		cat "$BENCH_GUEST_OUTPUT"
		return "${BENCH_GUEST_STATUS:-0}"
	fi
	make -C "$bench_top" --no-print-directory -s all >&2
	bench_status=0
	NPU_VM_SKIP_BUILD=1 "$bench_top/tests/vm/vm.sh" run "$1" >/dev/null || bench_status=$?
	tr -d '\r' <"$bench_top/build/vm/last/output.log" | grep -v '^NPUVM: ' || true
	return "$bench_status"
}
