// SPDX-License-Identifier: MIT
/*
 * Linked into every host test with -Wl,--wrap=_exit. The kselftest harness
 * runs each case in a forked child that ends with _exit(), which skips the
 * atexit leak check LeakSanitizer relies on, so a leak in a test body (or in
 * the HAL code it calls) was never reported. Checking here, before the real
 * _exit(), makes a leak fail its own case: LSan prints its report and exits
 * non-zero, which the harness counts as a failed case.
 */
#include <sanitizer/lsan_interface.h>

void __real__exit(int status) __attribute__((noreturn));
void __wrap__exit(int status) __attribute__((noreturn));

void __wrap__exit(int status)
{
	__lsan_do_leak_check();
	__real__exit(status);
}
