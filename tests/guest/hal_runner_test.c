// SPDX-License-Identifier: MIT
/*
 * libnpuhal against the real driver: sessions from specs, exclusivity seen
 * through the HAL, and runner results equal to the C reference.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hal_test_util.h"
#include "npu_util.h"
#include "npuhal.h"

#define M 8
#define K 24
#define N 16

/* out[MxN] i32 = in[MxK] i8 * weights[KxN] i8, with fresh random weights. */
static npu_program *matmul_program(unsigned int pes, int8_t *weights, struct npu_rng *rng)
{
	npu_rng_fill(rng, weights, K * N);
	return hal_test_matmul_program(pes, M, K, N, weights);
}

FIXTURE(hal)
{
	npu_program *single, *fused;
	int8_t weights_single[K * N], weights_fused[K * N];
	struct npu_rng rng;
};

FIXTURE_SETUP(hal)
{
	if (!npu_device_present(0))
		SKIP(return, "no /dev/npu0_mgmt: module not loaded");
	npu_rng_seed(&self->rng, 0x4841u);
	self->single = matmul_program(1, self->weights_single, &self->rng);
	self->fused = matmul_program(2, self->weights_fused, &self->rng);
	ASSERT_NE(NULL, self->single) TH_LOG("%s", npu_last_error());
	ASSERT_NE(NULL, self->fused) TH_LOG("%s", npu_last_error());
}

FIXTURE_TEARDOWN(hal)
{
	npu_program_free(self->single);
	npu_program_free(self->fused);
}

static int check_run(struct __test_metadata *_metadata, npu_runner *r, const int8_t *weights,
		     struct npu_rng *rng)
{
	int8_t in[M * K];
	int32_t out[M * N], want[M * N];
	const void *ins[1] = { in };
	void *outs[1] = { out };
	npu_run_info info;

	npu_rng_fill(rng, in, sizeof(in));
	memset(out, 0x7f, sizeof(out));
	EXPECT_EQ(NPU_OK, npu_runner_run(r, ins, outs, &info)) TH_LOG("%s", npu_last_error());
	npu_ref_matmul_i8(want, in, weights, M, N, K, false);
	EXPECT_EQ(-1, npu_first_diff(want, out, sizeof(out)));
	EXPECT_LT(info.device_start, info.device_end);
	EXPECT_NE(0u, info.clock_mhz);
	return 0;
}

TEST_F(hal, run_matches_reference_on_each_kind_of_unit)
{
	static const char *const single_specs[] = { "npu:0:0", "npu0pe1", "warboy*1", "npu:0" };
	npu_session *s;
	npu_runner *r;

	NPU_RETURN_IF_SKIPPED();
	for (size_t i = 0; i < sizeof(single_specs) / sizeof(single_specs[0]); i++) {
		ASSERT_EQ(NPU_OK, npu_session_open(single_specs[i], NULL, &s))
			TH_LOG("%s: %s", single_specs[i], npu_last_error());
		ASSERT_EQ(NPU_OK, npu_runner_create(s, self->single, &r)) TH_LOG("%s", npu_last_error());
		for (int k = 0; k < 4; k++)
			check_run(_metadata, r, self->weights_single, &self->rng);
		npu_runner_destroy(r);
		npu_session_close(s);
	}
	ASSERT_EQ(NPU_OK, npu_session_open("warboy(2)*1", NULL, &s)) TH_LOG("%s", npu_last_error());
	EXPECT_STREQ("npu0pe0-1", npu_session_unit_name(s, 0));
	ASSERT_EQ(NPU_OK, npu_runner_create(s, self->fused, &r)) TH_LOG("%s", npu_last_error());
	check_run(_metadata, r, self->weights_fused, &self->rng);
	npu_runner_destroy(r);
	npu_session_close(s);
}

TEST_F(hal, program_and_unit_must_agree_on_pe_count)
{
	npu_session *s;
	npu_runner *r = (npu_runner *)&r;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(NPU_OK, npu_session_open("npu:0:0", NULL, &s));
	EXPECT_EQ(NPU_ERR_INVALID_ARGUMENT, npu_runner_create(s, self->fused, &r));
	EXPECT_EQ(NULL, r);
	EXPECT_NE(NULL, strstr(npu_last_error(), "fused"));
	npu_session_close(s);
}

struct thread_arg {
	npu_runner *r;
	const int8_t *weights;
	int failures;
	uint64_t seed;
};

static void *run_many(void *p)
{
	struct thread_arg *a = p;
	struct npu_rng rng;

	npu_rng_seed(&rng, a->seed);
	for (int i = 0; i < 25; i++) {
		int8_t in[M * K];
		int32_t out[M * N], want[M * N];
		const void *ins[1] = { in };
		void *outs[1] = { out };

		npu_rng_fill(&rng, in, sizeof(in));
		if (npu_runner_run(a->r, ins, outs, NULL) != NPU_OK) {
			a->failures++;
			continue;
		}
		npu_ref_matmul_i8(want, in, a->weights, M, N, K, false);
		a->failures += npu_first_diff(want, out, sizeof(out)) != -1;
	}
	return NULL;
}

TEST_F(hal, runs_from_threads_spread_over_units)
{
	struct thread_arg args[4];
	pthread_t th[4];
	npu_session *s;
	npu_runner *r;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(NPU_OK, npu_session_open("warboy*2", NULL, &s)) TH_LOG("%s", npu_last_error());
	ASSERT_EQ(2u, npu_session_unit_count(s));
	ASSERT_EQ(NPU_OK, npu_runner_create(s, self->single, &r)) TH_LOG("%s", npu_last_error());
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .r = r, .weights = self->weights_single, .seed = i + 1 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, run_many, &args[i]));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].failures);
	}
	npu_runner_destroy(r);
	npu_session_close(s);
}

TEST_F(hal, busy_units_name_their_holder)
{
	npu_session *s, *other = (npu_session *)&other;
	int pipefd[2];
	pid_t child;
	char c;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(NPU_OK, npu_session_open("npu:0:1", NULL, &s));
	/* Another process asks for the same PE, for any pair, and for what is left. */
	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int bad = 0;

		bad |= npu_session_open("npu:0:1", NULL, &other) != NPU_ERR_BUSY;
		bad |= !strstr(npu_last_error(), "is busy (held by pid");
		bad |= npu_session_open("npu:0:0-1", NULL, &other) != NPU_ERR_BUSY;
		if (npu_session_open("warboy*1", NULL, &other) == NPU_OK) {
			bad |= strcmp(npu_session_unit_name(other, 0), "npu0pe0") != 0;
			npu_session_close(other);
		} else {
			bad = 1;
		}
		c = (char)bad;
		_exit(write(pipefd[1], &c, 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	EXPECT_EQ(0, c);
	waitpid(child, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	npu_session_close(s);
}

TEST_F(hal, large_aligned_inputs_are_read_in_place)
{
	const uint64_t big = 256 * 1024;
	npu_program *p = hal_test_copy_program(big), *small = hal_test_copy_program(4096);
	uint8_t *aligned = npu_alloc_tensor(big), *raw = malloc(big + 1), *out = malloc(big);
	const void *ins[1];
	void *outs[1] = { out };
	npu_session *s, *s2;
	npu_runner *r, *rs;
	npu_run_info info;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_NE(NULL, p) TH_LOG("%s", npu_last_error());
	ASSERT_NE(NULL, small);
	ASSERT_NE(NULL, aligned);
	ASSERT_NE(NULL, raw);
	ASSERT_NE(NULL, out);
	npu_rng_fill(&self->rng, aligned, big);
	npu_rng_fill(&self->rng, raw, big + 1);
	ASSERT_EQ(NPU_OK, npu_session_open("npu:1:0", NULL, &s)) TH_LOG("%s", npu_last_error());
	ASSERT_EQ(NPU_OK, npu_runner_create(s, p, &r)) TH_LOG("%s", npu_last_error());
	/* A session's DRAM holds one program: a second runner there is refused. */
	EXPECT_EQ(NPU_ERR_BUSY, npu_runner_create(s, small, &rs));
	EXPECT_NE(NULL, strstr(npu_last_error(), "already runs a program"));
	ASSERT_EQ(NPU_OK, npu_session_open("npu:1:1", NULL, &s2)) TH_LOG("%s", npu_last_error());
	ASSERT_EQ(NPU_OK, npu_runner_create(s2, small, &rs)) TH_LOG("%s", npu_last_error());

	ins[0] = aligned;	/* page-aligned and large: pinned, not copied */
	ASSERT_EQ(NPU_OK, npu_runner_run(r, ins, outs, &info)) TH_LOG("%s", npu_last_error());
	EXPECT_EQ(1u, info.inputs_in_place);
	EXPECT_EQ(-1, npu_first_diff(aligned, out, big));
	/* The same buffer changed since: the next run must see the new bytes. */
	aligned[0] ^= 0xff;
	aligned[big - 1] ^= 0xff;
	ASSERT_EQ(NPU_OK, npu_runner_run(r, ins, outs, &info));
	EXPECT_EQ(-1, npu_first_diff(aligned, out, big));

	ins[0] = raw + 1;	/* unaligned: copied */
	ASSERT_EQ(NPU_OK, npu_runner_run(r, ins, outs, &info));
	EXPECT_EQ(0u, info.inputs_in_place);
	EXPECT_EQ(-1, npu_first_diff(raw + 1, out, big));

	ins[0] = aligned;	/* aligned but small: copied */
	ASSERT_EQ(NPU_OK, npu_runner_run(rs, ins, outs, &info));
	EXPECT_EQ(0u, info.inputs_in_place);
	EXPECT_EQ(-1, npu_first_diff(aligned, out, 4096));

	npu_runner_destroy(rs);
	npu_runner_destroy(r);
	npu_session_close(s2);
	npu_session_close(s);
	npu_program_free(p);
	npu_program_free(small);
	npu_free_tensor(aligned);
	free(raw);
	free(out);
}

struct log_capture {
	int messages;
	char last[256];
};

static void capture_log(void *data, npu_log_level level, const char *message)
{
	struct log_capture *c = data;

	(void)level;
	c->messages++;
	snprintf(c->last, sizeof(c->last), "%s", message);
}

/*
 * A session opened through a context (1.1) passes the driver's ABI check,
 * runs like any other, survives npu_context_free() and logs through the
 * context's function, not stderr.
 */
TEST_F(hal, a_context_session_runs_and_logs_through_the_context)
{
	struct log_capture log = { 0 };
	char trace[] = "/tmp/hal-ctx-trace-XXXXXX";
	npu_context *ctx;
	npu_session *s;
	npu_runner *r;
	int fd;

	NPU_RETURN_IF_SKIPPED();
	fd = mkstemp(trace);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(NPU_OK, npu_context_new(&ctx));
	npu_context_set_log_fn(ctx, capture_log, &log);
	ASSERT_EQ(NPU_OK, npu_context_set_devices(ctx, "npu:1:1"));
	ASSERT_EQ(NPU_OK, npu_context_set_job_timeout_ms(ctx, 30000));
	ASSERT_EQ(NPU_OK, npu_context_set_profiler_output(ctx, trace));
	ASSERT_EQ(NPU_OK, npu_ctx_session_open(ctx, NULL, &s)) TH_LOG("%s", npu_last_error());
	npu_context_free(ctx);	/* the session keeps it */
	EXPECT_STREQ("npu1pe1", npu_session_unit_name(s, 0));
	ASSERT_EQ(NPU_OK, npu_runner_create(s, self->single, &r)) TH_LOG("%s", npu_last_error());
	check_run(_metadata, r, self->weights_single, &self->rng);
	EXPECT_EQ(1, log.messages);
	EXPECT_NE(NULL, strstr(log.last, trace)) TH_LOG("last message: '%s'", log.last);
	npu_runner_destroy(r);
	npu_session_close(s);	/* the last reference: completes the trace */
	unlink(trace);
}

TEST_HARNESS_MAIN
