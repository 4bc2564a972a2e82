// SPDX-License-Identifier: MIT
/*
 * /proc/<pid>/fdinfo/<fd> of the device files: the drm-usage-stats keys
 * (driver, PCI address, client id, device time per PE, buffer memory) and
 * the npu- keys, exact after known jobs and buffers. Uses card 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define CARD 1

/* The fdinfo text of fd in this process. */
static int fdinfo_text(int fd, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return npu_read_text(path, buf, len) < 0 ? -1 : 0;
}

/* The value after "key:\t" on its own line, copied into val; false if absent. */
static bool fdinfo_field(const char *text, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (!strncmp(line, key, klen) && line[klen] == ':' && line[klen + 1] == '\t') {
			const char *v = line + klen + 2;
			size_t n = strcspn(v, "\n");

			snprintf(val, len, "%.*s", (int)n, v);
			return true;
		}
	}
	return false;
}

/* A numeric field ("123", "123 ns", "64 KiB"); -1 if absent. */
static long long fdinfo_number(int fd, const char *key)
{
	char text[2048], val[64];

	if (fdinfo_text(fd, text, sizeof(text)) || !fdinfo_field(text, key, val, sizeof(val)))
		return -1;
	return strtoll(val, NULL, 10);
}

/* Runs one matmul on the file's first PE; returns its device time in ns, or -1. */
static long long run_one_job(int fd, uint32_t clock_mhz)
{
	struct npu_insn code[2] = {
		npu_insn_matmul(0x8000, 0x4000, 0x6000, 16, 16, 64, false),
		npu_insn_halt(),
	};
	struct npu_wait w;

	if (npu_run_program(fd, 0, 0x1000, code, 2, &w) || w.end_ts <= w.start_ts)
		return -1;
	return (long long)((w.end_ts - w.start_ts) * 1000 / clock_mhz);
}

TEST(fdinfo_reports_each_files_usage)
{
	struct npu_device_info info;
	char text[2048], val[64], name[32];
	long long ns, ns_fused;
	struct npu_bo bo;
	int pe0, mgmt, fused;

	if (!npu_device_present(CARD))
		SKIP(return, "no /dev/npu%u_mgmt", CARD);
	pe0 = npu_open(CARD, NPU_FILE_PE0, 0);
	ASSERT_LE(0, pe0) TH_LOG("open npu%upe0: %s", CARD, strerror(-pe0));
	mgmt = npu_open(CARD, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, mgmt);
	ASSERT_EQ(0, npu_device_info(pe0, &info));

	/* a fresh PE file */
	ASSERT_EQ(0, fdinfo_text(pe0, text, sizeof(text)));
	ASSERT_TRUE(fdinfo_field(text, "drm-driver", val, sizeof(val))) TH_LOG("%s", text);
	EXPECT_STREQ("npu", val);
	ASSERT_TRUE(fdinfo_field(text, "drm-pdev", val, sizeof(val)));
	EXPECT_STREQ(info.busname, val);
	ASSERT_TRUE(fdinfo_field(text, "npu-file", val, sizeof(val)));
	snprintf(name, sizeof(name), "npu%upe0", CARD);
	EXPECT_STREQ(name, val);
	EXPECT_TRUE(fdinfo_field(text, "drm-engine-pe0", val, sizeof(val)));
	EXPECT_STREQ("0 ns", val);
	EXPECT_FALSE(fdinfo_field(text, "drm-engine-pe1", val, sizeof(val)))
		TH_LOG("npu%upe0 shows PE1's time", CARD);
	EXPECT_EQ(0, fdinfo_number(pe0, "drm-total-host"));
	EXPECT_EQ(0, fdinfo_number(pe0, "npu-jobs-finished"));

	/* the management file: an identity, no engines, no memory */
	ASSERT_EQ(0, fdinfo_text(mgmt, text, sizeof(text)));
	EXPECT_FALSE(fdinfo_field(text, "drm-engine-pe0", val, sizeof(val)));
	EXPECT_FALSE(fdinfo_field(text, "drm-total-host", val, sizeof(val)));
	EXPECT_LT(0, fdinfo_number(mgmt, "drm-client-id"));
	EXPECT_NE(fdinfo_number(mgmt, "drm-client-id"), fdinfo_number(pe0, "drm-client-id"));

	/* a buffer and a job are charged exactly */
	ASSERT_EQ(0, npu_bo_alloc(pe0, 64 * 1024, &bo));
	EXPECT_EQ(64, fdinfo_number(pe0, "drm-total-host"));
	ns = run_one_job(pe0, info.clock_mhz);
	ASSERT_LT(0, ns);
	EXPECT_EQ(ns, fdinfo_number(pe0, "drm-engine-pe0"));
	EXPECT_EQ(1, fdinfo_number(pe0, "npu-jobs-finished"));
	npu_bo_release(&bo);
	EXPECT_EQ(0, fdinfo_number(pe0, "drm-total-host"));
	close(pe0);

	/* a fused job occupies both PEs */
	fused = npu_open(CARD, NPU_FILE_FUSED, 0);
	ASSERT_LE(0, fused) TH_LOG("open npu%upe0-1: %s", CARD, strerror(-fused));
	ns_fused = run_one_job(fused, info.clock_mhz);
	ASSERT_LT(0, ns_fused);
	EXPECT_EQ(ns_fused, fdinfo_number(fused, "drm-engine-pe0"));
	EXPECT_EQ(ns_fused, fdinfo_number(fused, "drm-engine-pe1"));
	close(fused);
	close(mgmt);
}

TEST_HARNESS_MAIN
