/* SPDX-License-Identifier: MIT */
/*
 * Pieces of kselftest fixtures that many guest tests share. Include after
 * kselftest_harness.h. They are macros because SKIP() and ASSERT_*() act on
 * the test that runs them (a SKIP in a helper function would return from
 * the helper only).
 */
#ifndef NPU_FIXTURE_H
#define NPU_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "npu_util.h"

/* Skips the calling setup or test when the driver has no npu<dev>. */
#define NPU_SKIP_UNLESS_PRESENT(dev) do { \
	if (!npu_device_present(dev)) \
		SKIP(return, "/dev/npu%u_mgmt missing: npu.ko not loaded", (unsigned int)(dev)); \
} while (0)

/*
 * The start of a setup that works on one file of npu0: fd is -1 if the
 * test skips, else the open file (asserted), and *info its DEVICE_INFO.
 */
#define NPU_SETUP_OPEN_NPU0(fd, kind, info) do { \
	(fd) = -1; \
	NPU_SKIP_UNLESS_PRESENT(0); \
	(fd) = npu_open(0, (kind), 0); \
	ASSERT_LE(0, (fd)) TH_LOG("open %s: %s", npu_file_kind_name(kind), strerror(-(fd))); \
	ASSERT_EQ(0, npu_device_info((fd), (info))); \
} while (0)

/*
 * A fixture's variants over the files of npu0 that each run alone: kind is
 * the file, pe SUBMIT's pe field (0 unless a variant sets it), upper_half
 * says to work in the second half of the file's DRAM window (the fused
 * file, so both PEs' halves are used).
 */
#define NPU_FILE_VARIANT(fixture) \
	FIXTURE_VARIANT(fixture) { \
		enum npu_file_kind kind; \
		uint32_t pe; \
		bool upper_half; \
	}
#define NPU_FILE_VARIANTS_ADD(fixture) \
	FIXTURE_VARIANT_ADD(fixture, pe0) { .kind = NPU_FILE_PE0 }; \
	FIXTURE_VARIANT_ADD(fixture, pe1) { .kind = NPU_FILE_PE1 }; \
	FIXTURE_VARIANT_ADD(fixture, fused) { .kind = NPU_FILE_FUSED, .upper_half = true }

/*
 * A fixture without data (its tests keep their state in locals) whose
 * variants name one file kind each; FIXTURE_VARIANT_ADD()s follow.
 */
#define NPU_FIXTURE_OVER_FILE_KINDS(fixture) \
	FIXTURE(fixture) { int unused; }; \
	FIXTURE_VARIANT(fixture) { enum npu_file_kind kind; }

/* A fixture that only needs npu0 to be there: nothing to set up or tear down. */
#define NPU_FIXTURE_NEEDS_NPU0(fixture) \
	FIXTURE_SETUP(fixture) { NPU_SKIP_UNLESS_PRESENT(0); } \
	FIXTURE_TEARDOWN(fixture) {}

/* Variants over the two cards of the test VM. */
#define NPU_CARD_VARIANTS(fixture) \
	FIXTURE_VARIANT(fixture) { unsigned int dev; }; \
	FIXTURE_VARIANT_ADD(fixture, npu0) { .dev = 0 }; \
	FIXTURE_VARIANT_ADD(fixture, npu1) { .dev = 1 }

#endif /* NPU_FIXTURE_H */
