// SPDX-License-Identifier: MIT
/* Device specification parsing: every accepted and rejected form, table-driven. */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "npuhal.h"

struct accepted {
	const char *text;
	const char *canonical;
};

static const struct accepted accepted_specs[] = {
	{ "warboy(2)*1", "warboy(2)*1" },
	{ "warboy(1)*1", "warboy(1)*1" },
	{ "warboy*1", "warboy(1)*1" },
	{ "warboy*4", "warboy(1)*4" },
	{ "warboy(2)*12", "warboy(2)*12" },
	{ "npu:0:1", "npu:0:1" },
	{ "npu:3:0", "npu:3:0" },
	{ "npu:0:0-1", "npu:0:0-1" },
	{ "npu:1", "npu:1" },
	{ "npu0pe1", "npu:0:1" },
	{ "npu10pe0-1", "npu:10:0-1" },
	{ "npu0", "npu:0" },
	{ "npu:1:0,npu:1:1", "npu:1:0,npu:1:1" },
	{ "warboy*1,npu:1:0", "warboy(1)*1,npu:1:0" },
	{ "npu0pe0 , npu0pe1", "npu:0:0,npu:0:1" },
	{ " warboy(2)*1 ", "warboy(2)*1" },
	{ "warboy(1)*1,warboy(2)*1", "warboy(1)*1,warboy(2)*1" },
	{ "npu:0:00", "npu:0:0" },
};

struct rejected {
	const char *text;
	unsigned int column;	/* where the message must point */
	const char *words;	/* part of the message */
};

static const struct rejected rejected_specs[] = {
	{ "", 1, "empty item" },
	{ "warboy", 7, "expected '*'" },
	{ "*1", 1, "expected an architecture" },
	{ "npu:0:1-0", 7, "lower to a higher" },
	{ "npu:0:1-1", 7, "lower to a higher" },
	{ "npu0pe0,", 9, "empty item" },
	{ ",npu0pe0", 1, "empty item" },
	{ "npu0pe0,,npu0pe1", 9, "empty item" },
	{ "warboy(2*1", 9, "expected ')'" },
	{ "warboy(3)*1", 8, "use (1) or (2)" },
	{ "warboy(0)*1", 8, "use (1) or (2)" },
	{ "warboy(4)*1", 8, "use (1) or (2)" },
	{ "warboy*0", 8, "at least 1" },
	{ "warboy*99999999999999999999", 8, "too large" },
	{ "npu:4294967296:0", 5, "too large" },
	{ "npu:0:70000", 7, "too large" },
	{ "renegade*1", 1, "unknown architecture" },
	{ "npu:", 5, "expected a number" },
	{ "npu:0:", 7, "expected a number" },
	{ "npu:0:0-", 9, "expected a number" },
	{ "npu:0x", 6, "expected ':'" },
	{ "npu0pe", 7, "expected a number" },
	{ "npu0px", 5, "expected 'pe'" },
	{ "warboy*1x", 9, "unexpected character" },
	{ "warboy (2)*1", 7, "expected '*'" },
	{ "npu:0:1;npu:0:0", 8, "unexpected character" },
};

TEST(accepts_every_documented_form)
{
	for (size_t i = 0; i < sizeof(accepted_specs) / sizeof(accepted_specs[0]); i++) {
		const struct accepted *a = &accepted_specs[i];
		npu_spec *spec = NULL;
		char buf[128];

		ASSERT_EQ(NPU_OK, npu_spec_parse(a->text, &spec))
			TH_LOG("'%s' rejected: %s", a->text, npu_last_error());
		npu_spec_format(spec, buf, sizeof(buf));
		EXPECT_STREQ(a->canonical, buf) TH_LOG("input '%s'", a->text);
		npu_spec_free(spec);
	}
}

TEST(rejects_malformed_specs_naming_the_column)
{
	for (size_t i = 0; i < sizeof(rejected_specs) / sizeof(rejected_specs[0]); i++) {
		const struct rejected *r = &rejected_specs[i];
		npu_spec *spec = (npu_spec *)&spec;
		char column[32];

		ASSERT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_spec_parse(r->text, &spec))
			TH_LOG("'%s' accepted", r->text);
		EXPECT_EQ(NULL, spec);
		snprintf(column, sizeof(column), "at column %u", r->column);
		EXPECT_NE(NULL, strstr(npu_last_error(), column))
			TH_LOG("'%s': message '%s' lacks '%s'", r->text, npu_last_error(), column);
		EXPECT_NE(NULL, strstr(npu_last_error(), r->words))
			TH_LOG("'%s': message '%s' lacks '%s'", r->text, npu_last_error(), r->words);
	}
}

TEST(items_carry_their_fields)
{
	npu_spec *spec;
	const npu_spec_item *it;

	ASSERT_EQ(NPU_OK, npu_spec_parse("warboy(2)*3,npu1pe0-1,npu:2:1,npu4", &spec));
	ASSERT_EQ(4, npu_spec_item_count(spec));
	it = npu_spec_item_at(spec, 0);
	EXPECT_EQ(NPU_SPEC_IMPLICIT, it->kind);
	EXPECT_STREQ("warboy", it->arch);
	EXPECT_EQ(2, it->pes);
	EXPECT_EQ(3, it->count);
	EXPECT_EQ(1, it->column);
	it = npu_spec_item_at(spec, 1);
	EXPECT_EQ(NPU_SPEC_FUSED, it->kind);
	EXPECT_EQ(1, it->device);
	EXPECT_EQ(0, it->pe_first);
	EXPECT_EQ(1, it->pe_last);
	EXPECT_EQ(13, it->column);
	it = npu_spec_item_at(spec, 2);
	EXPECT_EQ(NPU_SPEC_PE, it->kind);
	EXPECT_EQ(2, it->device);
	EXPECT_EQ(1, it->pe_first);
	it = npu_spec_item_at(spec, 3);
	EXPECT_EQ(NPU_SPEC_DEVICE, it->kind);
	EXPECT_EQ(4, it->device);
	EXPECT_EQ(NULL, npu_spec_item_at(spec, 4));
	npu_spec_free(spec);
}

TEST(format_reports_needed_length_and_truncates_safely)
{
	npu_spec *spec;
	char small[6];
	size_t need;

	ASSERT_EQ(NPU_OK, npu_spec_parse("npu:0:0-1,warboy*2", &spec));
	need = npu_spec_format(spec, NULL, 0);
	EXPECT_EQ(strlen("npu:0:0-1,warboy(1)*2"), need);
	EXPECT_EQ(need, npu_spec_format(spec, small, sizeof(small)));
	EXPECT_STREQ("npu:0", small);
	npu_spec_free(spec);
}

TEST(default_spec_prefers_furiosa_devices_over_npu_devname)
{
	unsetenv("FURIOSA_DEVICES");
	unsetenv("NPU_DEVNAME");
	EXPECT_STREQ("warboy(2)*1", npu_spec_default_text());
	setenv("NPU_DEVNAME", "npu0pe0", 1);
	EXPECT_STREQ("npu0pe0", npu_spec_default_text());
	setenv("FURIOSA_DEVICES", "npu:1:1", 1);
	EXPECT_STREQ("npu:1:1", npu_spec_default_text());
	setenv("FURIOSA_DEVICES", "", 1);
	EXPECT_STREQ("npu0pe0", npu_spec_default_text());
}

TEST(null_arguments_are_rejected)
{
	npu_spec *spec;

	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_spec_parse(NULL, &spec));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_spec_parse("npu0", NULL));
	EXPECT_EQ(0, npu_spec_item_count(NULL));
	EXPECT_EQ(NULL, npu_spec_item_at(NULL, 0));
	npu_spec_free(NULL);
}

TEST(strerror_covers_every_status)
{
	for (int s = 0; s < NPU_HAL_STATUS_COUNT; s++)
		EXPECT_STRNE("unknown status", npu_strerror((npu_status)s));
	EXPECT_STREQ("unknown status", npu_strerror(NPU_HAL_STATUS_COUNT));
}

TEST_HARNESS_MAIN
