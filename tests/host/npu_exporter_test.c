// SPDX-License-Identifier: MIT
/*
 * npu-exporter against fake sysfs trees: the exposition's series and labels,
 * utilisation between scrapes, counters restarting after a reset, a card
 * going away, and the HTTP answers to good and bad requests (over a socket
 * pair, so no port is needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fake_tree.h"

#define main exporter_main
#include "../../tools/npu-exporter.c"
#undef main

static void perf(const char *root, const char *node, unsigned long long cycles,
		 unsigned long long task, unsigned long long jobs)
{
	char rel[128], text[512];

	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/%s/perf_regs", node);
	snprintf(text, sizeof(text),
		 "CycleCount: 0x%llx\nCycleCountHigh: 0x0\nTaskExecutionTime: 0x%llx\n"
		 "TensorExecutionTime: 0x10\nDmaExecutionTime: 0x20\nInstructionCount: 0x5\n"
		 "CommandCount: 0x7\nJobCount: 0x%llx\nErrorCount: 0x1\n", cycles, task, jobs);
	put(root, rel, text);
}

/* A card with sensors, alive, version, resets and counters on both PEs. */
static void full_card(const char *root, unsigned int n)
{
	char rel[128], node[32];

	add_card(root, n, "pe0: busy pid=42 comm=bench\n", "pe1: free\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/alive", n);
	put(root, rel, "1\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/version", n);
	put(root, rel, "1.1.0\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/device_uuid", n);
	put(root, rel, "1b4e28ba-2fa1-11d2-883f-0016d3cca42e\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/reset_count", n);
	put(root, rel, "3\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/device/hwmon/hwmon%u/temp1_input",
		 n, n);
	put(root, rel, "41500\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/device/hwmon/hwmon%u/power1_input",
		 n, n);
	put(root, rel, "12500000\n");
	snprintf(node, sizeof(node), "npu%upe0", n);
	perf(root, node, 1000, 250, 9);
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%upe0/reset_count", n);
	put(root, rel, "1\n");
	snprintf(node, sizeof(node), "npu%upe1", n);
	perf(root, node, 1000, 0, 0);
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%upe1/reset_count", n);
	put(root, rel, "0\n");
}

FIXTURE(exporter)
{
	char root[64];
	struct exporter *ex;
};

FIXTURE_SETUP(exporter)
{
	char sys[96];

	snprintf(self->root, sizeof(self->root), "/tmp/npu-exporter-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	snprintf(sys, sizeof(sys), "%s/sys", self->root);
	self->ex = calloc(1, sizeof(*self->ex));
	ASSERT_NE(NULL, self->ex);
	ASSERT_EQ(NPU_OK, npu_context_new(&self->ex->ctx));
	ASSERT_EQ(NPU_OK, npu_context_set_roots(self->ex->ctx, sys, self->root));
}

FIXTURE_TEARDOWN(exporter)
{
	char cmd[128];

	npu_context_free(self->ex->ctx);
	free(self->ex);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->root);
	if (system(cmd))
		TH_LOG("could not remove %s", self->root);
}

/* True if text has a line that starts with want (a series with its labels). */
static bool has_line(const char *text, const char *want)
{
	const char *p = text;
	size_t n = strlen(want);

	while (p && *p) {
		if (!strncmp(p, want, n))
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

#define LABELS0 "{arch=\"warboy\",device=\"npu0\",uuid=\"1b4e28ba-2fa1-11d2-883f-0016d3cca42e\"}"
#define CORE(c) "{arch=\"warboy\",core=\"" #c "\",device=\"npu0\"," \
		"uuid=\"1b4e28ba-2fa1-11d2-883f-0016d3cca42e\"}"

TEST_F(exporter, series_and_labels_of_two_cards)
{
	size_t len;
	char *text;

	full_card(self->root, 0);
	full_card(self->root, 1);
	text = scrape(self->ex, &len);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(strlen(text), len);
	EXPECT_TRUE(has_line(text, "npu_cards 2\n"));
	EXPECT_TRUE(has_line(text, "# TYPE furiosa_npu_alive gauge\n"));
	EXPECT_TRUE(has_line(text, "furiosa_npu_alive" LABELS0 " 1\n"));
	EXPECT_TRUE(has_line(text, "furiosa_npu_hw_temperature" LABELS0 " 41.500\n"));
	EXPECT_TRUE(has_line(text, "furiosa_npu_hw_power" LABELS0 " 12.500000\n"));
	EXPECT_TRUE(has_line(text, "npu_device_resets_total" LABELS0 " 3\n"));
	EXPECT_TRUE(has_line(text, "npu_device_state{device=\"npu0\",state=\"ready\"} 1\n"));
	EXPECT_TRUE(has_line(text, "npu_device_state{device=\"npu0\",state=\"lost\"} 0\n"));
	EXPECT_TRUE(has_line(text, "npu_info{arch=\"warboy\",device=\"npu1\",uuid=\"1b4e28ba-2fa1-"
			     "11d2-883f-0016d3cca42e\",serial=\"EMU0001\",pci_address=\"0000:00:04.0\","
			     "firmware_version=\"1.0.0-emu\",driver_version=\"1.1.0\",pe_count=\"2\"} 1\n"));
	EXPECT_TRUE(has_line(text, "furiosa_npu_cycle_count" CORE(0) " 1000\n"));
	EXPECT_TRUE(has_line(text, "npu_task_cycles_total" CORE(0) " 250\n"));
	EXPECT_TRUE(has_line(text, "npu_jobs_total" CORE(0) " 9\n"));
	EXPECT_TRUE(has_line(text, "npu_job_errors_total" CORE(1) " 1\n"));
	EXPECT_TRUE(has_line(text, "npu_core_resets_total" CORE(0) " 1\n"));
	EXPECT_TRUE(has_line(text, "npu_core_in_use" CORE(0) " 1\n"));
	EXPECT_TRUE(has_line(text, "npu_core_in_use" CORE(1) " 0\n"));
	EXPECT_TRUE(has_line(text, "furiosa_npu_core_utilization" CORE(0) " 25.00\n"));
	EXPECT_TRUE(has_line(text, "npu_exporter_scrapes_total 1\n"));
	free(text);
}

TEST_F(exporter, utilisation_is_since_the_previous_scrape_and_restarts_after_a_reset)
{
	size_t len;
	char *text;

	full_card(self->root, 0);
	free(scrape(self->ex, &len));
	perf(self->root, "npu0pe0", 3000, 1250, 10);	/* +2000 cycles, +1000 busy */
	text = scrape(self->ex, &len);
	ASSERT_NE(NULL, text);
	EXPECT_TRUE(has_line(text, "furiosa_npu_core_utilization" CORE(0) " 50.00\n"));
	free(text);
	perf(self->root, "npu0pe0", 400, 100, 0);	/* counters restarted (a PE reset) */
	text = scrape(self->ex, &len);
	ASSERT_NE(NULL, text);
	EXPECT_TRUE(has_line(text, "furiosa_npu_core_utilization" CORE(0) " 25.00\n"));
	EXPECT_TRUE(has_line(text, "npu_jobs_total" CORE(0) " 0\n"));
	free(text);
}

TEST_F(exporter, a_card_going_away_and_no_driver)
{
	char path[512];
	size_t len;
	char *text;

	full_card(self->root, 0);
	full_card(self->root, 1);
	free(scrape(self->ex, &len));
	snprintf(path, sizeof(path), "rm -rf '%s/sys/class/npu_mgmt/npu1_mgmt' "
		 "'%s/sys/class/npu_mgmt/npu1pe0' '%s/sys/class/npu_mgmt/npu1pe1'",
		 self->root, self->root, self->root);
	ASSERT_EQ(0, system(path));
	text = scrape(self->ex, &len);
	ASSERT_NE(NULL, text);
	EXPECT_TRUE(has_line(text, "npu_cards 1\n"));
	EXPECT_FALSE(strstr(text, "device=\"npu1\""));
	free(text);
	snprintf(path, sizeof(path), "rm -rf '%s/sys/class/npu_mgmt'", self->root);
	ASSERT_EQ(0, system(path));
	text = scrape(self->ex, &len);
	ASSERT_NE(NULL, text);
	EXPECT_TRUE(has_line(text, "npu_cards 0\n"));
	EXPECT_TRUE(has_line(text, "npu_exporter_scrape_errors_total 0\n"));
	free(text);
}

/* serve() on one end of a socket pair with request written to the other; the response. */
static char *exchange(struct exporter *ex, const char *request)
{
	static char buf[65536];
	size_t got = 0;
	int sv[2];
	ssize_t r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return NULL;
	if (write(sv[0], request, strlen(request)) != (ssize_t)strlen(request))
		return NULL;
	shutdown(sv[0], SHUT_WR);
	serve(ex, sv[1]);
	close(sv[1]);
	while (got + 1 < sizeof(buf) && (r = read(sv[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(sv[0]);
	return buf;
}

TEST_F(exporter, http_answers)
{
	char *resp;

	full_card(self->root, 0);
	resp = exchange(self->ex, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_NE(NULL, resp);
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 200 OK\r\n", 17));
	EXPECT_TRUE(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
	EXPECT_TRUE(strstr(resp, "\r\n\r\n# HELP npu_cards"));
	EXPECT_TRUE(strstr(resp, "furiosa_npu_alive" LABELS0 " 1\n"));
	resp = exchange(self->ex, "GET /metrics?x=1 HTTP/1.0\n\n");
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 200 OK\r\n", 17));
	resp = exchange(self->ex, "GET /other HTTP/1.1\r\n\r\n");
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 404 Not Found\r\n", 24));
	resp = exchange(self->ex, "POST /metrics HTTP/1.1\r\n\r\n");
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 405 Method Not Allowed\r\n", 33));
	resp = exchange(self->ex, "\r\n\r\n");
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 400 Bad Request\r\n", 26));
	resp = exchange(self->ex, "GET /metrics");	/* the client stops mid-request */
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 400 Bad Request\r\n", 26));
	resp = exchange(self->ex, "HEAD /metrics HTTP/1.1\r\n\r\n");
	EXPECT_EQ(0, strncmp(resp, "HTTP/1.1 200 OK\r\n", 17));
	EXPECT_FALSE(strstr(resp, "Content-Length: 0\r\n"));
	EXPECT_EQ(0, strcmp(strstr(resp, "\r\n\r\n"), "\r\n\r\n"));	/* no body */
}

TEST(listen_addresses)
{
	int fd;

	EXPECT_EQ(-2, listen_on("6254"));
	EXPECT_EQ(-2, listen_on("127.0.0.1:99999"));
	EXPECT_EQ(-2, listen_on("example.org:80"));
	EXPECT_EQ(-2, listen_on("[::1:80"));
	fd = listen_on("127.0.0.1:0");
	ASSERT_GE(fd, 0);
	EXPECT_GT(bound_port(fd), 0);
	close(fd);
}

TEST_HARNESS_MAIN
