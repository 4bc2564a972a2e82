// SPDX-License-Identifier: MIT
/*
 * The command-line tools in the VM: npuctl's tables and JSON against the
 * driver's state, npu-bench, the profiler's trace, and the HAL example of
 * docs/hal.md. The tools are in /usr/bin, programs in /usr/share/npu/programs.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_sys_util.h"
#include "npu_util.h"

#define PROGRAM "/usr/share/npu/programs/matmul_relu.npuprog"
#define OUT_MAX (256 * 1024)

/* Runs a shell command, captures stdout+stderr into out, returns the exit status. */
static int run(const char *cmd, char *out, size_t size)
{
	char full[1024];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	while (n + 1 < size && !feof(p)) {
		size_t got = fread(out + n, 1, size - 1 - n, p);

		if (!got)
			break;
		n += got;
	}
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A minimal JSON syntax check: returns the end of one value or NULL. */
static const char *json_value(const char *s);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	return s;
}

static const char *json_string_end(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s && *s != '"'; s++)
		if (*s == '\\' && !*++s)
			return NULL;
	return *s == '"' ? s + 1 : NULL;
}

static const char *json_value(const char *s)
{
	s = json_ws(s);
	if (*s == '"')
		return json_string_end(s);
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';

		s = json_ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (close == '}') {
				s = json_string_end(json_ws(s));
				if (!s || *(s = json_ws(s)) != ':')
					return NULL;
				s++;
			}
			s = json_value(s);
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
		}
	}
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		char *end;

		strtod(s, &end);
		return end;
	}
	return NULL;
}

static int json_valid(const char *text)
{
	const char *end = json_value(text);

	return end && *json_ws(end) == '\0';
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * Sum of a perf_regs counter (the device's own count, e.g. "JobCount") over
 * the given nodes; -1 if one cannot be read.
 */
static long long perf_sum(const char *const *nodes, const char *name)
{
	long long sum = 0;

	for (; *nodes; nodes++) {
		char text[4096], bad[128];
		struct npu_perf perf;
		uint64_t v;

		if (npu_node_attr(*nodes, "perf_regs", text, sizeof(text)) < 0 ||
		    npu_perf_parse(text, &perf, bad, sizeof(bad)) || !npu_perf_get(&perf, name, &v))
			return -1;
		sum += (long long)v;
	}
	return sum;
}

/* Every PE once: a fused unit counts in both of its PEs' counters, so no npuNpe0-1. */
static const char *const all_pes[] = { "npu0pe0", "npu0pe1", "npu1pe0", "npu1pe1", NULL };

/* The number after `label` in out, or -1. */
static double number_after(const char *out, const char *label)
{
	const char *p = strstr(out, label);

	return p ? strtod(p + strlen(label), NULL) : -1;
}

FIXTURE(tools)
{
	char *out;
};

FIXTURE_SETUP(tools)
{
	/* The VM installs build/bin (make all builds the tools): missing is a failure. */
	ASSERT_EQ(0, access("/usr/bin/npuctl", X_OK)) TH_LOG("npuctl is not installed in the VM");
	self->out = malloc(OUT_MAX);
	ASSERT_NE(NULL, self->out);
}

FIXTURE_TEARDOWN(tools)
{
	free(self->out);
}

TEST_F(tools, info_shows_every_card_as_the_driver_reports_it)
{
	struct npu_device_info info;
	char want[128];
	int fd;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, run("npuctl info --full", self->out, OUT_MAX)) TH_LOG("%s", self->out);
	for (unsigned int d = 0; d < 2; d++) {
		fd = npu_open(d, NPU_FILE_MGMT, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, npu_device_info(fd, &info));
		close(fd);
		snprintf(want, sizeof(want), "| npu%u ", d);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
		EXPECT_NE(NULL, strstr(self->out, info.serial)) TH_LOG("no %s", info.serial);
		EXPECT_NE(NULL, strstr(self->out, info.fw_version));
		EXPECT_NE(NULL, strstr(self->out, info.busname));
	}
	EXPECT_NE(NULL, strstr(self->out, "°C"));
	EXPECT_NE(NULL, strstr(self->out, " W |"));
	ASSERT_EQ(0, run("npuctl --json info", self->out, OUT_MAX));
	EXPECT_TRUE(json_valid(self->out)) TH_LOG("%s", self->out);
	EXPECT_EQ(2, count(self->out, "\"temperature_celsius\""));
}

TEST_F(tools, list_and_ps_follow_a_holder)
{
	int ready[2];
	pid_t child;
	char pidtxt[64], c;

	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, run("npuctl list", self->out, OUT_MAX));
	EXPECT_NE(NULL, strstr(self->out, "0 (available), 1 (available)"));
	EXPECT_NE(NULL, strstr(self->out, "npu1, npu1pe0, npu1pe1, npu1pe0-1"));
	ASSERT_EQ(0, pipe(ready));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd = open("/dev/npu1pe1", O_RDWR);

		c = fd >= 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ('y', c);
	snprintf(pidtxt, sizeof(pidtxt), "1 (occupied by %d)", child);
	ASSERT_EQ(0, run("npuctl list", self->out, OUT_MAX));
	EXPECT_NE(NULL, strstr(self->out, pidtxt)) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run("npuctl ps", self->out, OUT_MAX));
	snprintf(pidtxt, sizeof(pidtxt), "| npu1pe1 | %d ", child);
	EXPECT_NE(NULL, strstr(self->out, pidtxt)) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run("npuctl --json ps", self->out, OUT_MAX));
	EXPECT_TRUE(json_valid(self->out)) TH_LOG("%s", self->out);
	/* The allocation around the holder: the example. */
	ASSERT_EQ(0, run("npuctl spec --resolve 'warboy(1)*1,warboy(2)*1'", self->out, OUT_MAX));
	EXPECT_STREQ("/dev/npu1pe0\n/dev/npu0pe0-1\n", self->out);
	EXPECT_EQ(1, run("npuctl spec --resolve npu:1:1", self->out, OUT_MAX));
	snprintf(pidtxt, sizeof(pidtxt), "npu1pe1 is busy (held by pid %d", child);
	EXPECT_NE(NULL, strstr(self->out, pidtxt)) TH_LOG("%s", self->out);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(ready[0]);
	close(ready[1]);
}

TEST_F(tools, spec_prints_canonical_forms_and_rejects_bad_ones)
{
	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, run("npuctl spec 'warboy*2,npu0pe0-1'", self->out, OUT_MAX));
	EXPECT_STREQ("warboy(1)*2,npu:0:0-1\n", self->out);
	EXPECT_EQ(2, run("npuctl spec 'warboy(2*1'", self->out, OUT_MAX));
	EXPECT_NE(NULL, strstr(self->out, "expected ')' at column 9")) TH_LOG("%s", self->out);
	EXPECT_EQ(2, run("npuctl spec", self->out, OUT_MAX));
	EXPECT_EQ(2, run("npuctl frobnicate", self->out, OUT_MAX));
}

TEST_F_TIMEOUT(tools, the_documented_hal_example_runs, 120)
{
	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, run("npu-hal-example " PROGRAM " npu:0:0", self->out, OUT_MAX))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "identical to the CPU reference")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "queue: 64 jobs, 0 mismatch(es)"));
}

TEST_F_TIMEOUT(tools, bench_reports_throughput_and_the_trace_has_one_device_span_per_job, 120)
{
	long long jobs0, insns0;
	double wall, jobs, elapsed, qps;
	uint64_t t0;
	char *trace;
	FILE *f;
	size_t n;

	NPU_RETURN_IF_SKIPPED();
	/*
	 * The figures npu-bench prints against the device's own counts: each
	 * inference is one job with one run of the 4-instruction program, and
	 * loading the program is one more job per unit ('warboy*2': two single
	 * PEs). Rate: the QPS printed is jobs / elapsed, and elapsed lies within
	 * the test's own measure of the run.
	 */
	jobs0 = perf_sum(all_pes, "JobCount");
	insns0 = perf_sum(all_pes, "InstructionCount");
	ASSERT_LE(0, jobs0);
	ASSERT_LE(0, insns0);
	t0 = npu_now_ns();
	ASSERT_EQ(0, run("npu-bench -d 'warboy*2' -n 300 -q 4 " PROGRAM, self->out, OUT_MAX))
		TH_LOG("%s", self->out);
	wall = (npu_now_ns() - t0) / 1e9;
	EXPECT_NE(NULL, strstr(self->out, "Throughput (QPS)"));
	EXPECT_NE(NULL, strstr(self->out, "Jobs             : 300 (0 failed)")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "99.9 percentile latency (ns)"));
	EXPECT_EQ(300 + 2, perf_sum(all_pes, "JobCount") - jobs0) TH_LOG("device jobs");
	EXPECT_EQ(300 * 4, perf_sum(all_pes, "InstructionCount") - insns0);
	jobs = number_after(self->out, "Jobs             : ");
	elapsed = number_after(self->out, "Elapsed          : ");
	qps = number_after(self->out, "Throughput (QPS) : ");
	EXPECT_EQ(300, (long)jobs);
	EXPECT_LT(0, elapsed);
	EXPECT_GE(wall, elapsed) TH_LOG("elapsed %.3f s, the test measured %.3f s", elapsed, wall);
	/* elapsed is printed to 1 ms, QPS to 0.01 */
	EXPECT_GE(0.01 + jobs / (elapsed - 0.0005), qps) TH_LOG("%.2f QPS for %.0f jobs in %.3f s",
								  qps, jobs, elapsed);
	EXPECT_LE(-0.01 + jobs / (elapsed + 0.0005), qps) TH_LOG("%.2f QPS for %.0f jobs in %.3f s",
								   qps, jobs, elapsed);
	jobs0 = perf_sum(all_pes, "JobCount");
	ASSERT_EQ(0, run("NPU_PROFILER_OUTPUT_PATH=/tmp/trace.json npu-bench -d npu:0:1 -n 50 -q 2 "
			 PROGRAM, self->out, OUT_MAX)) TH_LOG("%s", self->out);
	EXPECT_EQ(50 + 1, perf_sum(all_pes, "JobCount") - jobs0) TH_LOG("device jobs");
	f = fopen("/tmp/trace.json", "r");
	ASSERT_NE(NULL, f);
	trace = malloc(16 << 20);
	ASSERT_NE(NULL, trace);
	n = fread(trace, 1, (16 << 20) - 1, f);
	trace[n] = '\0';
	fclose(f);
	EXPECT_TRUE(json_valid(trace));
	EXPECT_EQ(50, count(trace, "\"name\":\"execute\""));
	EXPECT_EQ(50, count(trace, "\"name\":\"inference\""));
	EXPECT_LE(1, count(trace, "\"name\":\"load\""));
	free(trace);
}

TEST_F_TIMEOUT(tools, top_shows_a_busy_process, 120)
{
	static const char *const fused[] = { "npu0pe0-1", NULL };
	long long jobs0, jobs = -1;
	pid_t bench;

	NPU_RETURN_IF_SKIPPED();
	jobs0 = perf_sum(fused, "JobCount");
	ASSERT_LE(0, jobs0);
	bench = fork();
	ASSERT_LE(0, bench);
	if (bench == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execlp("npu-bench", "npu-bench", "-d", "npu:0:0-1", "-t", "12", "-q", "4",
		       "/usr/share/npu/programs/matmul_relu_fused.npuprog", (char *)NULL);
		_exit(127);
	}
	/*
	 * Until it runs: the load job and one inference have finished (its -t
	 * 12 s starts before the first job, so top's 2 s fall inside it). The
	 * first two jobs take milliseconds of device time; the 12 s leave 10 s
	 * for them, npuctl's start and its 4 samples on a loaded two-core
	 * host. Had bench exited, top would not show it and the test fails
	 * loudly rather than passing by luck.
	 */
	for (int i = 0; i < 3000 && jobs - jobs0 < 2 && waitpid(bench, NULL, WNOHANG) == 0; i++) {
		usleep(10000);
		jobs = perf_sum(fused, "JobCount");
	}
	if (jobs - jobs0 < 2)
		kill(bench, SIGTERM);
	ASSERT_LE(2, jobs - jobs0) TH_LOG("npu-bench ran no job in 30 s, or exited");
	EXPECT_EQ(0, run("npuctl top --interval 500 --count 4", self->out, OUT_MAX))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "npu0pe0-1")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "npu-bench"));
	kill(bench, SIGTERM);
	waitpid(bench, NULL, 0);
}

TEST_F(tools, inspect_and_assembler_round_trip)
{
	NPU_RETURN_IF_SKIPPED();
	ASSERT_EQ(0, run("npu-inspect --asm " PROGRAM " > /tmp/rt.s && npu-as /tmp/rt.s -o /tmp/rt.npuprog"
			 " && cmp " PROGRAM " /tmp/rt.npuprog", self->out, OUT_MAX)) TH_LOG("%s", self->out);
	EXPECT_EQ(1, run("echo 'matmul_i8 dst=0 q=1' > /tmp/bad.s && npu-as /tmp/bad.s -o /tmp/bad.npuprog",
			 self->out, OUT_MAX));
	EXPECT_NE(NULL, strstr(self->out, "/tmp/bad.s:1: matmul_i8 has no operand 'q'"))
		TH_LOG("%s", self->out);
}

TEST_HARNESS_MAIN
