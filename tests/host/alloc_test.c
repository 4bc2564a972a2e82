// SPDX-License-Identifier: MIT
/* Allocation of device files for specs, on synthetic topologies. */
#include <string.h>

#include "kselftest_harness.h"
#include "alloc.h"
#include "npuhal.h"

#define MAX_UNITS 16

FIXTURE(topo)
{
	struct npu_topo_device dev[3];
	struct npu_topology topo;
	struct npu_unit units[MAX_UNITS];
};

FIXTURE_SETUP(topo)
{
	memset(self, 0, sizeof(*self));
	for (unsigned int i = 0; i < 2; i++) {
		self->dev[i].index = i;
		strcpy(self->dev[i].arch, "warboy");
		self->dev[i].pe_count = 2;
	}
	self->topo.devices = self->dev;
	self->topo.count = 2;
}

FIXTURE_TEARDOWN(topo)
{
}

static void hold(struct npu_topo_device *d, unsigned int pe, int pid)
{
	d->pe[pe].pid = pid;
	snprintf(d->pe[pe].comm, sizeof(d->pe[pe].comm), "proc%d", pid);
}

/* Allocates text and joins the chosen names with commas into out. */
static npu_status alloc_names(struct _test_data_topo *self, const char *text, char *out,
			      size_t size)
{
	npu_spec *spec;
	npu_status st;

	out[0] = '\0';
	st = npu_spec_parse(text, &spec);
	if (st)
		return st;
	st = npu_allocate(spec, &self->topo, self->units, MAX_UNITS);
	for (size_t i = 0; st == NPU_OK && i < npu_spec_unit_count(spec); i++) {
		if (i)
			strncat(out, ",", size - strlen(out) - 1);
		strncat(out, self->units[i].name, size - strlen(out) - 1);
	}
	npu_spec_free(spec);
	return st;
}

TEST_F(topo, default_spec_takes_first_fused_pair)
{
	char got[128];

	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy(2)*1", got, sizeof(got)));
	EXPECT_STREQ("npu0pe0-1", got);
}

TEST_F(topo, implicit_singles_are_greedy_in_device_order)
{
	char got[128];

	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy*3", got, sizeof(got)));
	EXPECT_STREQ("npu0pe0,npu0pe1,npu1pe0", got);
}

TEST_F(topo, implicit_skips_held_pes)
{
	char got[128];

	hold(&self->dev[0], 0, 100);
	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy(2)*1", got, sizeof(got)));
	EXPECT_STREQ("npu1pe0-1", got);
	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy*1", got, sizeof(got)));
	EXPECT_STREQ("npu0pe1", got);
}

TEST_F(topo, finds_an_assignment_where_greedy_would_fail)
{
	char got[128];

	/* Greedy would give warboy(1) npu0pe0 and then find no free pair. */
	hold(&self->dev[1], 1, 4242);
	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy(1)*1,warboy(2)*1", got, sizeof(got)))
		TH_LOG("%s", npu_last_error());
	EXPECT_STREQ("npu1pe0,npu0pe0-1", got);
	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy(2)*1,warboy(1)*1", got, sizeof(got)));
	EXPECT_STREQ("npu0pe0-1,npu1pe0", got);
}

TEST_F(topo, named_items_come_first_and_implicit_avoid_them)
{
	char got[128];

	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy(2)*1,npu:0:1", got, sizeof(got)));
	EXPECT_STREQ("npu1pe0-1,npu0pe1", got);
	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy*1,npu0pe0", got, sizeof(got)));
	EXPECT_STREQ("npu0pe1,npu0pe0", got);
	ASSERT_EQ(NPU_OK, alloc_names(self, "npu:1,warboy*2", got, sizeof(got)));
	EXPECT_STREQ("npu1,npu0pe0,npu0pe1", got);
}

TEST_F(topo, named_busy_names_the_holder)
{
	char got[128];

	hold(&self->dev[0], 1, 4242);
	EXPECT_EQ(NPU_ERR_BUSY, alloc_names(self, "npu:0:1", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "npu0pe1 is busy (held by pid 4242"));
	EXPECT_EQ(NPU_ERR_BUSY, alloc_names(self, "npu0pe0-1", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_BUSY, alloc_names(self, "npu0", got, sizeof(got)));
	EXPECT_EQ(NPU_OK, alloc_names(self, "npu0pe0", got, sizeof(got)));
}

TEST_F(topo, implicit_busy_vs_not_found)
{
	char got[128];

	hold(&self->dev[0], 0, 11);
	hold(&self->dev[1], 1, 22);
	EXPECT_EQ(NPU_ERR_BUSY, alloc_names(self, "warboy(2)*1", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "pid 11"));
	EXPECT_NE(NULL, strstr(npu_last_error(), "pid 22"));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "warboy(2)*3", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "warboy*5", got, sizeof(got)));
	EXPECT_EQ(NPU_OK, alloc_names(self, "warboy*2", got, sizeof(got)));
	EXPECT_STREQ("npu0pe1,npu1pe0", got);
}

TEST_F(topo, named_not_found)
{
	char got[128];

	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "npu:2:0", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "no device npu2"));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "npu:0:2", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "npu:0:1-3", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "npu7", got, sizeof(got)));
}

TEST_F(topo, overlapping_named_items_are_rejected)
{
	char got[128];

	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, alloc_names(self, "npu:0:0,npu:0:0-1", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, alloc_names(self, "npu0,npu0pe1", got, sizeof(got)));
	EXPECT_EQ(NPU_OK, alloc_names(self, "npu:0:0,npu:0:1", got, sizeof(got)));
}

TEST_F(topo, no_devices_is_no_device)
{
	char got[128];

	self->topo.count = 0;
	EXPECT_EQ(NPU_ERR_NO_DEVICE, alloc_names(self, "warboy(2)*1", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "modprobe npu"));
}

TEST_F(topo, unknown_arch_units_are_not_taken)
{
	char got[128];

	strcpy(self->dev[0].arch, "renegade");
	ASSERT_EQ(NPU_OK, alloc_names(self, "warboy(2)*1", got, sizeof(got)));
	EXPECT_STREQ("npu1pe0-1", got);
	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "warboy(2)*2", got, sizeof(got)));
}

TEST_F(topo, large_requests_fail_cleanly)
{
	char got[128];

	EXPECT_EQ(NPU_ERR_NOT_FOUND, alloc_names(self, "warboy*65535", got, sizeof(got)));
}

TEST_HARNESS_MAIN
