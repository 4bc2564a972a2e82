// SPDX-License-Identifier: MIT
/* Discovery and spec resolution on fake sysfs/dev trees laid out like the driver's. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu.h"
#include "npuhal.h"
#include "fake_tree.h"

/*
 * The library's only ioctl() caller is hal/src/ioctl.c; this definition
 * replaces the C library's in this test program, so a test can play a
 * driver of another ABI version on the fake device files. 0: pass through.
 */
static unsigned int fake_abi_major;

int ioctl(int fd, unsigned long request, ...)
{
	void *arg;
	va_list ap;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fake_abi_major && request == NPU_IOCTL_VERSION) {
		*(struct npu_version *)arg = (struct npu_version){ .major = fake_abi_major, .minor = 3 };
		return 0;
	}
	return (int)syscall(SYS_ioctl, fd, request, arg);
}

FIXTURE(tree)
{
	char root[64];
	char sys[96], dev[96];
	npu_open_options opts;
};

FIXTURE_SETUP(tree)
{
	strcpy(self->root, "/tmp/npu-fake-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	snprintf(self->sys, sizeof(self->sys), "%s/sys", self->root);
	snprintf(self->dev, sizeof(self->dev), "%s/dev", self->root);
	self->opts.sysfs_root = self->sys;
	self->opts.devfs_root = self->dev;
	add_card(self->root, 1, "pe0: free\n", "pe1: busy pid=4242 comm=python3\n");
	add_card(self->root, 0, "pe0: free\n", "pe1: free\n");
}

FIXTURE_TEARDOWN(tree)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", self->root);
}

/* Resolves spec and joins the device file names (without the root) with commas. */
static npu_status resolve(const npu_open_options *opts, const char *spec, char *out, size_t size)
{
	char **paths;
	size_t n;
	npu_status st;

	out[0] = '\0';
	st = npu_spec_resolve(spec, opts, &paths, &n);
	for (size_t i = 0; st == NPU_OK && i < n; i++) {
		const char *name = strrchr(paths[i], '/') + 1;

		if (i)
			strncat(out, ",", size - strlen(out) - 1);
		strncat(out, name, size - strlen(out) - 1);
	}
	if (st == NPU_OK)
		npu_paths_free(paths, n);
	return st;
}

TEST_F(tree, cards_are_listed_in_index_order_with_holders)
{
	npu_card_info *cards;
	size_t n;

	ASSERT_EQ(NPU_OK, npu_list_cards(&self->opts, &cards, &n)) TH_LOG("%s", npu_last_error());
	ASSERT_EQ(2u, n);
	EXPECT_EQ(0u, cards[0].index);
	EXPECT_STREQ("warboy", cards[0].arch);
	EXPECT_EQ(2u, cards[0].pe_count);
	EXPECT_STREQ("EMU0000", cards[0].serial);
	EXPECT_STREQ("0000:00:03.0", cards[0].busname);
	EXPECT_STREQ("ready", cards[0].state);
	EXPECT_EQ(0, cards[0].pe[0].holder_pid);
	EXPECT_EQ(1u, cards[1].index);
	EXPECT_EQ(0, cards[1].pe[0].holder_pid);
	EXPECT_EQ(4242, cards[1].pe[1].holder_pid);
	EXPECT_STREQ("python3", cards[1].pe[1].holder_comm);
	npu_cards_free(cards);
}

TEST_F(tree, a_pe_being_released_is_not_available)
{
	char got[128];

	put(self->root, "sys/class/npu_mgmt/npu0pe0/holder", "pe0: releasing\n");
	ASSERT_EQ(NPU_OK, resolve(&self->opts, "warboy*1", got, sizeof(got)));
	EXPECT_STREQ("npu0pe1", got);
	EXPECT_EQ(NPU_ERR_BUSY, resolve(&self->opts, "npu:0:0", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "being released"));
}

TEST_F(tree, roots_come_from_the_environment_too)
{
	npu_card_info *cards;
	size_t n;

	setenv("NPU_SYSFS_ROOT", self->sys, 1);
	ASSERT_EQ(NPU_OK, npu_list_cards(NULL, &cards, &n));
	EXPECT_EQ(2u, n);
	npu_cards_free(cards);
	unsetenv("NPU_SYSFS_ROOT");
}

TEST_F(tree, resolution_is_named_first_then_greedy_around_holders)
{
	char got[128];

	ASSERT_EQ(NPU_OK, resolve(&self->opts, "warboy(2)*1", got, sizeof(got)));
	EXPECT_STREQ("npu0pe0-1", got);
	/* Named npu:0:0 is taken first, so the implicit single goes to npu0pe1. */
	ASSERT_EQ(NPU_OK, resolve(&self->opts, "warboy(1)*1,npu:0:0", got, sizeof(got)));
	EXPECT_STREQ("npu0pe1,npu0pe0", got);
	/* ...and a pair is then only on npu1, whose pe1 is held. */
	EXPECT_EQ(NPU_ERR_BUSY, resolve(&self->opts, "warboy(2)*1,npu:0:0", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "pid 4242"));
}

TEST_F(tree, the_issue_example_and_busy_versus_not_found)
{
	char got[128];

	/* npu1pe1 is held: warboy(1)*1,warboy(2)*1 must still find npu1pe0 + npu0pe0-1. */
	ASSERT_EQ(NPU_OK, resolve(&self->opts, "warboy(1)*1,warboy(2)*1", got, sizeof(got)))
		TH_LOG("%s", npu_last_error());
	EXPECT_STREQ("npu1pe0,npu0pe0-1", got);
	EXPECT_EQ(NPU_ERR_BUSY, resolve(&self->opts, "npu:1:1", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "npu1pe1 is busy (held by pid 4242, 'python3')"));
	EXPECT_EQ(NPU_ERR_BUSY, resolve(&self->opts, "warboy(2)*2", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, resolve(&self->opts, "warboy(2)*3", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_NOT_FOUND, resolve(&self->opts, "npu:2:0", got, sizeof(got)));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, resolve(&self->opts, "warboy(2*1", got, sizeof(got)));
}

TEST_F(tree, explicit_spec_wins_over_environment)
{
	char got[128];

	setenv("FURIOSA_DEVICES", "npu:1:0", 1);
	ASSERT_EQ(NPU_OK, resolve(&self->opts, NULL, got, sizeof(got)));
	EXPECT_STREQ("npu1pe0", got);
	ASSERT_EQ(NPU_OK, resolve(&self->opts, "npu:0:1", got, sizeof(got)));
	EXPECT_STREQ("npu0pe1", got);
	unsetenv("FURIOSA_DEVICES");
}

TEST_F(tree, a_context_carries_roots_and_default_spec)
{
	npu_card_info *cards;
	npu_context *ctx;
	char **paths;
	size_t n;

	setenv("FURIOSA_DEVICES", "npu:0:0", 1);	/* a context made with _new() ignores it */
	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	ASSERT_EQ(NPU_OK, npu_context_set_roots(ctx, self->sys, self->dev));
	ASSERT_EQ(NPU_OK, npu_ctx_list_cards(ctx, &cards, &n));
	EXPECT_EQ(2u, n);
	npu_cards_free(cards);
	ASSERT_EQ(NPU_OK, npu_context_set_devices(ctx, "npu:1:0"));
	ASSERT_EQ(NPU_OK, npu_ctx_spec_resolve(ctx, NULL, &paths, &n));
	ASSERT_EQ(1u, n);
	EXPECT_NE(NULL, strstr(paths[0], "/dev/npu1pe0"));
	npu_paths_free(paths, n);
	npu_context_free(ctx);
	unsetenv("FURIOSA_DEVICES");
}

TEST_F(tree, opening_a_file_that_is_no_npu_fails_with_advice)
{
	npu_session *s = (npu_session *)1;
	npu_context *ctx;

	/* The fake device files are plain files: NPU_IOCTL_VERSION gets ENOTTY. */
	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	ASSERT_EQ(NPU_OK, npu_context_set_roots(ctx, self->sys, self->dev));
	EXPECT_EQ(NPU_ERR_NO_DEVICE, npu_ctx_session_open(ctx, "npu:0:1", &s));
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(npu_last_error(), "npu0pe1 does not answer as an NPU device file"));
	npu_context_free(ctx);
}

TEST_F(tree, a_driver_of_another_abi_major_is_refused_with_advice)
{
	npu_session *s = (npu_session *)1;

	fake_abi_major = 2;
	EXPECT_EQ(NPU_ERR_UNSUPPORTED, npu_session_open("npu:0:0", &self->opts, &s));
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(npu_last_error(), "npu0pe0: the driver speaks ioctl ABI 2.3"));
	EXPECT_NE(NULL, strstr(npu_last_error(), "update libnpuhal"));
	fake_abi_major = 0;
}

TEST_F(tree, no_driver_means_no_device_with_advice)
{
	npu_open_options none = { .sysfs_root = "/nonexistent-npu-root", .devfs_root = "/dev" };
	char got[128];

	EXPECT_EQ(NPU_ERR_NO_DEVICE, resolve(&none, "warboy(2)*1", got, sizeof(got)));
	EXPECT_NE(NULL, strstr(npu_last_error(), "modprobe npu"));
}

TEST_F(tree, regular_files_are_not_device_files)
{
	npu_session *s = (npu_session *)&s;

	EXPECT_EQ(NPU_ERR_NO_DEVICE, npu_session_open("npu:0:0", &self->opts, &s));
	EXPECT_EQ(NULL, s);
	EXPECT_NE(NULL, strstr(npu_last_error(), "does not answer as an NPU device file"));
}

TEST_HARNESS_MAIN
