// SPDX-License-Identifier: MIT
/* Contexts: defaults, the environment read once, setters, the log function; the ABI check. */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "ioctl.h"
#include "npuhal.h"

TEST(new_context_has_the_defaults_and_ignores_the_environment)
{
	npu_context *ctx;

	setenv("NPU_SYSFS_ROOT", "/elsewhere", 1);
	setenv("FURIOSA_DEVICES", "npu:1:1", 1);
	setenv("NPU_JOB_TIMEOUT_MS", "5", 1);
	setenv("NPU_LOG_LEVEL", "error", 1);
	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	EXPECT_STREQ("/sys", npu_context_get_sysfs_root(ctx));
	EXPECT_STREQ("/dev", npu_context_get_devfs_root(ctx));
	EXPECT_STREQ("warboy(2)*1", npu_context_get_devices(ctx));
	EXPECT_EQ(60000u, npu_context_get_job_timeout_ms(ctx));
	EXPECT_EQ(NPU_LOG_INFO, npu_context_get_log_level(ctx));
	EXPECT_EQ(NULL, npu_context_get_profiler_output(ctx));
	npu_context_free(ctx);
}

TEST(from_env_reads_every_variable_once)
{
	npu_context *ctx;

	setenv("NPU_SYSFS_ROOT", "/fake/sys", 1);
	setenv("NPU_DEVFS_ROOT", "/fake/dev", 1);
	unsetenv("FURIOSA_DEVICES");
	setenv("NPU_DEVNAME", "npu0pe1", 1);
	setenv("NPU_JOB_TIMEOUT_MS", "1234", 1);
	unsetenv("NPU_LOG_LEVEL");
	setenv("FURIOSA_LOG_LEVEL", "warn", 1);
	unsetenv("NPU_PROFILER_OUTPUT_PATH");
	setenv("FURIOSA_PROFILER_OUTPUT_PATH", "/tmp/npu-context-test-trace.json", 1);
	ASSERT_EQ(NPU_OK, npu_context_new_from_env(&ctx));
	setenv("NPU_SYSFS_ROOT", "/changed", 1);	/* too late: read once */
	EXPECT_STREQ("/fake/sys", npu_context_get_sysfs_root(ctx));
	EXPECT_STREQ("/fake/dev", npu_context_get_devfs_root(ctx));
	EXPECT_STREQ("npu0pe1", npu_context_get_devices(ctx));
	EXPECT_EQ(1234u, npu_context_get_job_timeout_ms(ctx));
	EXPECT_EQ(NPU_LOG_WARN, npu_context_get_log_level(ctx));
	EXPECT_STREQ("/tmp/npu-context-test-trace.json", npu_context_get_profiler_output(ctx));
	/* FURIOSA_DEVICES wins over NPU_DEVNAME, NPU_LOG_LEVEL over FURIOSA_LOG_LEVEL. */
	setenv("FURIOSA_DEVICES", "npu:1", 1);
	setenv("NPU_LOG_LEVEL", "OFF", 1);
	npu_context_free(ctx);
	ASSERT_EQ(NPU_OK, npu_context_new_from_env(&ctx));
	EXPECT_STREQ("npu:1", npu_context_get_devices(ctx));
	EXPECT_EQ(NPU_LOG_OFF, npu_context_get_log_level(ctx));
	npu_context_free(ctx);
}

TEST(setters_check_their_values)
{
	npu_context *ctx;

	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_context_set_job_timeout_ms(ctx, 0));
	EXPECT_NE(NULL, strstr(npu_last_error(), "milliseconds > 0"));
	EXPECT_EQ(NPU_OK, npu_context_set_job_timeout_ms(ctx, 250));
	EXPECT_EQ(250u, npu_context_get_job_timeout_ms(ctx));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_context_set_log_level(ctx, (npu_log_level)9));
	EXPECT_EQ(NPU_OK, npu_context_set_log_level(ctx, NPU_LOG_ERROR));
	EXPECT_EQ(NPU_LOG_ERROR, npu_context_get_log_level(ctx));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_context_set_devices(ctx, "warboy(2*1"));
	EXPECT_STREQ("warboy(2)*1", npu_context_get_devices(ctx));
	EXPECT_EQ(NPU_OK, npu_context_set_devices(ctx, "npu:0:0-1"));
	EXPECT_STREQ("npu:0:0-1", npu_context_get_devices(ctx));
	EXPECT_EQ(NPU_OK, npu_context_set_roots(ctx, "/a", NULL));
	EXPECT_STREQ("/a", npu_context_get_sysfs_root(ctx));
	EXPECT_STREQ("/dev", npu_context_get_devfs_root(ctx));
	EXPECT_EQ(NPU_OK, npu_context_set_profiler_output(ctx, "/tmp/x.json"));
	EXPECT_EQ(NPU_OK, npu_context_set_profiler_output(ctx, NULL));
	EXPECT_EQ(false, npu_ctx_profiler_enabled(ctx));
	/* The profiler has started: its output can no longer change. */
	EXPECT_EQ(NPU_ERR_BUSY, npu_context_set_profiler_output(ctx, "/tmp/y.json"));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_context_new(NULL));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_ctx_session_open(NULL, NULL, NULL));
	npu_context_free(ctx);
	npu_context_free(NULL);
}

struct captured {
	int calls;
	npu_log_level level;
	char text[256];
};

static void capture(void *data, npu_log_level level, const char *message)
{
	struct captured *c = data;

	c->calls++;
	c->level = level;
	snprintf(c->text, sizeof(c->text), "%s", message);
}

TEST(log_messages_go_to_the_context_function_from_its_level)
{
	struct captured c = { 0 };
	npu_card_info *cards;
	npu_context *ctx;
	size_t n;

	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	npu_context_set_log_fn(ctx, capture, &c);
	/* An unwritable trace file is a warning through the context's log. */
	ASSERT_EQ(NPU_OK, npu_context_set_profiler_output(ctx, "/nonexistent-dir/trace.json"));
	EXPECT_EQ(false, npu_ctx_profiler_enabled(ctx));
	EXPECT_EQ(1, c.calls);
	EXPECT_EQ(NPU_LOG_WARN, c.level);
	EXPECT_NE(NULL, strstr(c.text, "cannot write /nonexistent-dir/trace.json"));
	npu_context_free(ctx);

	/* Below the context's level: dropped. */
	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	npu_context_set_log_fn(ctx, capture, &c);
	ASSERT_EQ(NPU_OK, npu_context_set_log_level(ctx, NPU_LOG_ERROR));
	ASSERT_EQ(NPU_OK, npu_context_set_profiler_output(ctx, "/nonexistent-dir/trace.json"));
	EXPECT_EQ(false, npu_ctx_profiler_enabled(ctx));
	EXPECT_EQ(1, c.calls);
	/* Errors say where the context looked. */
	ASSERT_EQ(NPU_OK, npu_context_set_roots(ctx, "/nonexistent-npu-root", NULL));
	EXPECT_EQ(NPU_ERR_NO_DEVICE, npu_ctx_list_cards(ctx, &cards, &n));
	EXPECT_NE(NULL, strstr(npu_last_error(), "/nonexistent-npu-root/class/npu_mgmt"));
	npu_context_free(ctx);
}

TEST(a_context_outlives_its_trace_until_freed)
{
	char path[] = "/tmp/npu-ctx-trace-XXXXXX", buf[64] = "";
	npu_context *ctx;
	FILE *f;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	npu_context_set_log_fn(ctx, capture, &(struct captured){ 0 });
	ASSERT_EQ(NPU_OK, npu_context_set_profiler_output(ctx, path));
	EXPECT_EQ(true, npu_ctx_profiler_enabled(ctx));
	EXPECT_EQ(NPU_OK, npu_ctx_profiler_flush(ctx));
	npu_context_free(ctx);
	/* Freeing completes the trace: an empty JSON array. */
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(4u, fread(buf, 1, sizeof(buf) - 1, f));
	EXPECT_STREQ("[\n]\n", buf);
	fclose(f);
	unlink(path);
}

TEST(the_abi_check_takes_any_minor_of_its_major_only)
{
	struct npu_version v = { .major = NPU_UAPI_VERSION_MAJOR, .minor = 7 };

	EXPECT_EQ(NPU_OK, npu_abi_check("/dev/npu0pe0", &v));
	v.major = NPU_UAPI_VERSION_MAJOR + 1;
	v.minor = 0;
	EXPECT_EQ(NPU_ERR_UNSUPPORTED, npu_abi_check("/dev/npu0pe0", &v));
	EXPECT_NE(NULL, strstr(npu_last_error(), "/dev/npu0pe0: the driver speaks ioctl ABI 2.0"));
	EXPECT_NE(NULL, strstr(npu_last_error(), "knows only ABI 1.x"));
	EXPECT_NE(NULL, strstr(npu_last_error(), "update libnpuhal"));
	v.major = 0;
	v.minor = 9;
	EXPECT_EQ(NPU_ERR_UNSUPPORTED, npu_abi_check("/dev/npu1", &v));
	EXPECT_NE(NULL, strstr(npu_last_error(), "ABI 0.9, but this libnpuhal needs ABI 1.x"));
	EXPECT_NE(NULL, strstr(npu_last_error(), "update the npu driver"));
}

TEST_HARNESS_MAIN
