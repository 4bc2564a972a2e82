// SPDX-License-Identifier: GPL-2.0
/*
 * MODULE_IMPORT_NS() takes the namespace as an identifier, as before 6.13;
 * since then it takes a string literal, and this does not compile.
 */
#include <linux/module.h>

MODULE_IMPORT_NS(NPU_PROBE_NS);
