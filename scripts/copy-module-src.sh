#!/bin/sh
# SPDX-License-Identifier: MIT
#
# copy-module-src.sh DEST: what kbuild needs to build npu.ko (Kbuild,
# driver/ with its compat probes, uapi/, hw/) copied to DEST, so a build for
# another kernel leaves driver/npu.ko alone. Build outputs of the tree
# (the probe header included) are not copied.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
mkdir -p "$dest/driver/compat" "$dest/uapi" "$dest/hw"
cp -p "$top/Kbuild" "$dest/"
cp -p "$top/driver/Kbuild" "$dest/driver/"
for f in "$top"/driver/*.[ch]; do
	case ${f##*/} in
	*.mod.c | npu_compat_config.h) ;;
	*) cp -p "$f" "$dest/driver/" ;;
	esac
done
cp -p "$top"/driver/compat/probe.sh "$top"/driver/compat/*.c "$dest/driver/compat/"
cp -p "$top"/uapi/*.h "$dest/uapi/"
cp -p "$top"/hw/*.h "$dest/hw/"
