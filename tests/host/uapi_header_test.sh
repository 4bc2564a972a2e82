#!/bin/bash
# SPDX-License-Identifier: MIT
#
# uapi/npu.h as userspace and the kernel's headers_check see it (TAP output,
# run by tests/host/run.sh): it compiles alone as C90 (the kernel's
# usr/include check), C11 and C++11 with warnings as errors; it includes
# only <linux/...> headers and uses only __u/__s types (no libc); and every
# number of the 1.0 ABI (ioctl numbers, struct layouts, flags, enum values)
# is what the frozen 1.0 header tests/guest/abi-1.0/npu.h says.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/host/uapi-header
mkdir -p "$out"
cc=${CC:-cc}
cxx=${CXX:-g++}
hdr=uapi/npu.h
n=0 bad=0

result() {	# result NAME LOG: ok when the last command succeeded
	local rc=$? name=$1 log=$2
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		sed 's/^/# /' "$log" | head -n 20
		bad=1
	fi
}

echo "1..6"
echo '#include <npu.h>' >"$out/alone.c"
"$cc" -std=c90 -Wall -Werror -fsyntax-only -Iuapi "$out/alone.c" >"$out/c90.log" 2>&1
result "compiles alone as C90" "$out/c90.log"
"$cc" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -Iuapi "$out/alone.c" \
	>"$out/c11.log" 2>&1
result "compiles alone as C11 -pedantic" "$out/c11.log"
"$cxx" -std=c++11 -Wall -Wextra -Werror -pedantic -Iuapi -o "$out/cxx" tests/host/uapi_cxx.cc \
	>"$out/cxx.log" 2>&1 && "$out/cxx" >>"$out/cxx.log" 2>&1
result "compiles and links as C++11 (extern \"C\")" "$out/cxx.log"

# Code lines only: comments and string-free preprocessor text.
code=$(sed -e 's@/\*.*\*/@@g' -e '/\/\*/,/\*\//d' "$hdr")
grep '^#include' <<<"$code" | grep -v '^#include <linux/[a-z_]*\.h>$' >"$out/includes.log"
[ ! -s "$out/includes.log" ]
result "includes only <linux/*.h>" "$out/includes.log"
grep -nwE 'u8|u16|u32|u64|s8|s16|s32|s64|u?int[0-9]+_t|size_t|bool|uintptr_t' \
	<<<"$code" >"$out/types.log"
[ ! -s "$out/types.log" ]
result "uses only __u/__s fixed-width types" "$out/types.log"

"$cc" -std=c11 -Wall -Werror -Itests/guest/abi-1.0 -o "$out/dump-1.0" tests/host/uapi_abi_dump.c \
	>"$out/abi.log" 2>&1 &&
	"$cc" -std=c11 -Wall -Werror -Iuapi -o "$out/dump-now" tests/host/uapi_abi_dump.c \
	>>"$out/abi.log" 2>&1 &&
	"$out/dump-1.0" >"$out/abi-1.0.txt" && "$out/dump-now" >"$out/abi-now.txt" &&
	diff -u "$out/abi-1.0.txt" "$out/abi-now.txt" >>"$out/abi.log" 2>&1
result "every 1.0 ioctl number, layout and value unchanged" "$out/abi.log"
exit $bad
