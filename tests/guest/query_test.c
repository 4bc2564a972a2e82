// SPDX-License-Identifier: MIT
/*
 * NPU_IOCTL_QUERY (uapi 1.1): each param answers what the driver, the
 * device registers (BAR0 through sysfs) and the module parameters say, on
 * every kind of file; a short buffer gets a prefix and an oversized one
 * keeps its tail, both learning the full size; bad pointers are EFAULT,
 * unknown params and non-zero flags/reserved EINVAL, and a failing call
 * leaves the struct as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define PARAMS "/sys/module/npu/parameters/"
#define FILL 0xa5

/* NPU_IOCTL_QUERY of param into buf (size bytes); *out_size gets the answer's size. */
static int query(int fd, uint32_t param, void *buf, uint32_t size, uint32_t *out_size)
{
	struct npu_query q = { .param = param, .size = size, .ptr = (uintptr_t)buf };

	if (ioctl(fd, NPU_IOCTL_QUERY, &q) < 0)
		return -errno;
	if (out_size)
		*out_size = q.size;
	return 0;
}

static int raw_query(int fd, struct npu_query *q)
{
	return ioctl(fd, NPU_IOCTL_QUERY, q) < 0 ? -errno : 0;
}

static bool all_bytes(const void *buf, int byte, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

FIXTURE(query)
{
	int mgmt;
	struct npu_device_info info;
};

FIXTURE_SETUP(query)
{
	/* the management file: QUERY needs no PE, and every test may open PE files */
	self->mgmt = npu_device_present(0) ? npu_open(0, NPU_FILE_MGMT, 0) : -ENODEV;
	if (self->mgmt == -ENODEV)
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	ASSERT_LE(0, self->mgmt) TH_LOG("open npu0_mgmt: %s", strerror(-self->mgmt));
	ASSERT_EQ(0, npu_device_info(self->mgmt, &self->info));
}

FIXTURE_TEARDOWN(query)
{
	if (self->mgmt >= 0)
		close(self->mgmt);
}

TEST_F(query, version)
{
	struct npu_query_version v;
	struct npu_version ver = { 0 };
	char sysfs[64];
	uint32_t size = 0;

	NPU_RETURN_IF_SKIPPED();
	memset(&v, FILL, sizeof(v));
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_VERSION, &v, sizeof(v), &size));
	EXPECT_EQ(sizeof(v), size);
	ASSERT_EQ(0, ioctl(self->mgmt, NPU_IOCTL_VERSION, &ver));
	EXPECT_EQ(ver.major, v.abi_major);
	EXPECT_EQ(ver.minor, v.abi_minor);
	EXPECT_EQ(NPU_UAPI_VERSION_MAJOR, v.abi_major);
	EXPECT_EQ(NPU_UAPI_VERSION_MINOR, v.abi_minor);
	ASSERT_NE(NULL, memchr(v.driver_version, 0, sizeof(v.driver_version)));
	ASSERT_LE(0, npu_read_line("/sys/module/npu/version", sysfs, sizeof(sysfs)));
	EXPECT_STREQ(sysfs, v.driver_version);
}

/* CAPS reports what the device registers say (read here through BAR0). */
TEST_F(query, caps)
{
	struct npu_query_caps c;
	struct npu_fault_dev dev;
	struct npu_device_info pe0_info;
	uint32_t size = 0, hw_caps;
	int pe0;

	NPU_RETURN_IF_SKIPPED();
	memset(&c, FILL, sizeof(c));
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_CAPS, &c, sizeof(c), &size));
	EXPECT_EQ(sizeof(c), size);
	EXPECT_EQ(self->info.hw_rev, c.hw_rev);
	EXPECT_EQ(self->info.pe_count, c.pe_count);
	EXPECT_EQ(self->info.clock_mhz, c.clock_mhz);
	EXPECT_EQ(self->info.dram_size, c.dram_size);
	EXPECT_EQ(0u, c.flags & ~(uint32_t)(NPU_QUERY_CAP_FUSED | NPU_QUERY_CAP_FAULT_INJECTION));

	pe0 = npu_open(0, NPU_FILE_PE0, 0);
	ASSERT_LE(0, pe0);
	ASSERT_EQ(0, npu_device_info(pe0, &pe0_info));
	EXPECT_EQ(pe0_info.dram_window, c.pe_dram_size);
	close(pe0);

	ASSERT_EQ(0, npu_fault_dev_open(0, &dev)) TH_LOG("BAR0 of npu0 through sysfs");
	hw_caps = npu_fault_reg_read(&dev, NPU_REG_CAPS);
	EXPECT_EQ(npu_fault_reg_read(&dev, NPU_REG_PE_COUNT), c.pe_count);
	EXPECT_EQ(!!(hw_caps & NPU_CAP_FUSED), !!(c.flags & NPU_QUERY_CAP_FUSED));
	EXPECT_EQ(!!(hw_caps & NPU_CAP_FAULTS), !!(c.flags & NPU_QUERY_CAP_FAULT_INJECTION));
	EXPECT_EQ(hw_caps & NPU_CAP_FUSED ? 0x3u : 0u, c.fused_pe_mask);
	/* the driver programs each ring with ring_entries entries */
	for (unsigned int pe = 0; pe < c.pe_count && pe < NPU_MAX_PES; pe++) {
		EXPECT_EQ(npu_fault_reg_read(&dev, NPU_PE_BASE(pe) + NPU_PE_SQ_SIZE),
			  c.ring_entries) TH_LOG("PE%u SQ_SIZE", pe);
	}
	EXPECT_LE(NPU_JOB_MAX_CMDS, c.ring_entries);
	npu_fault_dev_close(&dev);
}

/* LIMITS reports the constants of uapi/npu.h and the module parameters of now. */
TEST_F(query, limits)
{
	uint64_t jobs, bos, bo_mb, timeout_ms, changed;
	struct npu_query_limits l;
	char path[128], val[32];
	uint32_t size = 0;

	NPU_RETURN_IF_SKIPPED();
	memset(&l, FILL, sizeof(l));
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_LIMITS, &l, sizeof(l), &size));
	EXPECT_EQ(sizeof(l), size);
	EXPECT_EQ(NPU_JOB_MAX_CMDS, l.max_job_cmds);
	EXPECT_EQ(sizeof(struct npu_job_cmd), l.job_cmd_size);
	EXPECT_EQ(NPU_BO_MAX_SIZE, l.max_bo_size);
	EXPECT_EQ(NPU_SG_MAX_ENTRIES, l.max_sg_entries);
	ASSERT_EQ(0, npu_read_u64(PARAMS "max_jobs_per_file", &jobs));
	ASSERT_EQ(0, npu_read_u64(PARAMS "max_bos_per_file", &bos));
	ASSERT_EQ(0, npu_read_u64(PARAMS "max_bo_mb_per_file", &bo_mb));
	snprintf(path, sizeof(path), "/sys/class/npu_mgmt/npu0_mgmt/job_timeout_ms");
	ASSERT_EQ(0, npu_read_u64(path, &timeout_ms));
	EXPECT_EQ(jobs, l.max_jobs_per_file);
	EXPECT_EQ(bos < 65535 ? bos : 65535, l.max_bos_per_file);
	EXPECT_EQ(bo_mb << 20, l.max_bo_bytes_per_file);
	EXPECT_EQ(timeout_ms, l.job_timeout_ms);

	/* a parameter changed now is what the next query reports */
	changed = jobs + 7;
	snprintf(val, sizeof(val), "%llu", (unsigned long long)changed);
	ASSERT_EQ(0, npu_write_file(PARAMS "max_jobs_per_file", val));
	EXPECT_EQ(0, query(self->mgmt, NPU_QUERY_LIMITS, &l, sizeof(l), NULL));
	snprintf(val, sizeof(val), "%llu", (unsigned long long)jobs);
	ASSERT_EQ(0, npu_write_file(PARAMS "max_jobs_per_file", val));
	EXPECT_EQ(changed, l.max_jobs_per_file);
}

/* Every file answers, with the same device-wide answers. */
TEST_F(query, every_file)
{
	struct npu_query_caps ref, c;
	struct npu_query_limits l;
	struct npu_query_version v;

	NPU_RETURN_IF_SKIPPED();
	memset(&ref, 0, sizeof(ref));
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_CAPS, &ref, sizeof(ref), NULL));
	for (int kind = 0; kind < NPU_FILE_KIND_COUNT; kind++) {
		int fd = npu_open(0, kind, 0);

		ASSERT_LE(0, fd) TH_LOG("open %s", npu_file_kind_name(kind));
		memset(&c, 0, sizeof(c));
		EXPECT_EQ(0, query(fd, NPU_QUERY_CAPS, &c, sizeof(c), NULL));
		EXPECT_EQ(0, memcmp(&ref, &c, sizeof(c))) TH_LOG("%s", npu_file_kind_name(kind));
		EXPECT_EQ(0, query(fd, NPU_QUERY_LIMITS, &l, sizeof(l), NULL));
		EXPECT_EQ(0, query(fd, NPU_QUERY_VERSION, &v, sizeof(v), NULL));
		close(fd);
	}
}

/* An older caller's shorter struct gets the prefix the driver has. */
TEST_F(query, short_buffer)
{
	const uint32_t params[] = { NPU_QUERY_VERSION, NPU_QUERY_CAPS, NPU_QUERY_LIMITS };
	uint8_t full[256], part[256];

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		uint32_t size = 0, got = 0;

		memset(full, 0, sizeof(full));
		ASSERT_EQ(0, query(self->mgmt, params[i], full, sizeof(full), &size));
		ASSERT_LT(4u, size);
		/* size 0: nothing written, no pointer needed, the size reported */
		EXPECT_EQ(0, query(self->mgmt, params[i], NULL, 0, &got));
		EXPECT_EQ(size, got);
		for (uint32_t len = 1; len < size; len += 3) {
			memset(part, FILL, sizeof(part));
			got = 0;
			ASSERT_EQ(0, query(self->mgmt, params[i], part, len, &got));
			EXPECT_EQ(size, got) TH_LOG("param %u, %u bytes", params[i], len);
			EXPECT_EQ(0, memcmp(full, part, len));
			EXPECT_TRUE(all_bytes(part + len, FILL, sizeof(part) - len))
				TH_LOG("param %u: wrote past %u bytes", params[i], len);
		}
	}
}

/* A newer caller's longer struct keeps the bytes the driver does not know. */
TEST_F(query, oversized_buffer)
{
	uint8_t buf[512];
	struct npu_query_limits l;
	uint32_t size = 0;

	NPU_RETURN_IF_SKIPPED();
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_LIMITS, &l, sizeof(l), NULL));
	memset(buf, FILL, sizeof(buf));
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_LIMITS, buf, sizeof(buf), &size));
	EXPECT_EQ(sizeof(l), size);
	EXPECT_EQ(0, memcmp(&l, buf, sizeof(l)));
	EXPECT_TRUE(all_bytes(buf + sizeof(l), FILL, sizeof(buf) - sizeof(l)));
	/* the largest size, with a buffer that small: only the answer is written */
	memset(buf, FILL, sizeof(buf));
	size = 0;
	ASSERT_EQ(0, query(self->mgmt, NPU_QUERY_LIMITS, buf, 0xffffffffu, &size));
	EXPECT_EQ(sizeof(l), size);
	EXPECT_EQ(0, memcmp(&l, buf, sizeof(l)));
}

TEST_F(query, bad_pointers)
{
	uint8_t *pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct npu_query_caps c;
	const struct {
		uint64_t ptr;
		uint32_t size;
	} cases[] = {
		{ 0, sizeof(c) },
		{ 8, 4 },
		{ ~0ull - 8, sizeof(c) },
		{ 0xffff888000000000ull, sizeof(c) },	/* kernel address */
		{ 0, 0 },	/* replaced below: crosses into an unmapped page */
	};

	NPU_RETURN_IF_SKIPPED();
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, munmap(pages + 4096, 4096));
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_query q = { .param = NPU_QUERY_CAPS, .ptr = cases[i].ptr,
				       .size = cases[i].size };

		if (!cases[i].size) {
			q.ptr = (uintptr_t)(pages + 4096 - 8);
			q.size = sizeof(c);
		}
		EXPECT_EQ(-EFAULT, raw_query(self->mgmt, &q))
			TH_LOG("ptr %#llx", (unsigned long long)q.ptr);
		/* the struct is untouched: size still the input */
		EXPECT_EQ(cases[i].size ? cases[i].size : sizeof(c), q.size);
	}
	/* the argument itself */
	EXPECT_EQ(-EFAULT, raw_query(self->mgmt, NULL));
	EXPECT_EQ(-EFAULT, raw_query(self->mgmt, (struct npu_query *)(pages + 4096 - 8)));
	munmap(pages, 4096);
}

TEST_F(query, rejects_unknown_and_reserved)
{
	const struct npu_query bad[] = {
		{ .param = NPU_QUERY_LIMITS + 1 },
		{ .param = 0x80000000u },
		{ .param = 0xffffffffu },
		{ .param = NPU_QUERY_VERSION, .flags = 1 },
		{ .param = NPU_QUERY_VERSION, .flags = 0x80000000u },
		{ .param = NPU_QUERY_CAPS, .reserved = 1 },
		{ .param = NPU_QUERY_LIMITS, .reserved = 0xffffffffu },
	};
	uint8_t buf[256];

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct npu_query q = bad[i];

		q.ptr = (uintptr_t)buf;
		q.size = sizeof(buf);
		memset(buf, FILL, sizeof(buf));
		EXPECT_EQ(-EINVAL, raw_query(self->mgmt, &q)) TH_LOG("case %u", i);
		EXPECT_EQ(sizeof(buf), q.size);
		EXPECT_TRUE(all_bytes(buf, FILL, sizeof(buf)));
	}
}

TEST_HARNESS_MAIN
