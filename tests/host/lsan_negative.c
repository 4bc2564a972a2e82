// SPDX-License-Identifier: MIT
/*
 * Negative test for run.sh's leak check (tests/host/lsan_exit.c): built and
 * run like a host test, it must report "not ok" for the case that leaks and
 * "ok" for the one that does not. Not named *_test.c, so it is not counted
 * as a test program of its own.
 */
#include <stdlib.h>
#include "kselftest_harness.h"

/* volatile, so the compiler cannot drop the allocation. */
static void *volatile sink;

TEST(leaks_in_body)
{
	sink = malloc(4096);
	ASSERT_NE(NULL, sink);
	sink = NULL;
}

TEST(frees_in_body)
{
	sink = malloc(4096);
	ASSERT_NE(NULL, sink);
	free(sink);
	sink = NULL;
}

TEST_HARNESS_MAIN
