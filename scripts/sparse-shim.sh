#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sparse for kernels whose headers are newer than Debian's sparse (0.6.4):
# 7.x headers use __typeof_unqual__ and __builtin_strlen() in
# constant expressions (MODULE_INFO's static_assert), which it cannot parse,
# and their kbuild turns C=1 off ("not available or not up to date").
# check-kernel-style.sh uses this only then. The two stand-ins matter to
# sparse alone (gcc builds the module as usual): __typeof_unqual__ becomes
# typeof (a qualifier kept can only add findings), and the static_assert on
# a literal's length holds.
exec sparse -D__typeof_unqual__=__typeof__ "-D__builtin_strlen(s)=(sizeof(s) - 1)" "$@"
