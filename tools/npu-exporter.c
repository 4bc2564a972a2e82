// SPDX-License-Identifier: MIT
/*
 * npu-exporter: the NPUs' state as Prometheus metrics (text exposition
 * format 0.0.4) over HTTP, per card and per PE, read from sysfs through
 * libnpuhal at every scrape. Metric names follow FuriosaAI's exporter
 * (furiosa_npu_*) where it has one, npu_* otherwise; docs/cluster.md lists
 * them. One request at a time, each with a time limit, so a stuck client
 * cannot hold the exporter; cards may come and go between scrapes.
 *
 * Exit status: 0 after SIGTERM/SIGINT (or --once), 1 runtime failure, 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "npuhal.h"

#define DEFAULT_LISTEN "127.0.0.1:6254"
#define REQUEST_MAX 8192
#define IO_TIMEOUT_S 5
#define MAX_CARDS 64

static const char *prog = "npu-exporter";
static volatile sig_atomic_t stop;

/* The last sample of a PE's counters, for the utilisation between scrapes. */
struct pe_sample {
	bool valid;
	uint64_t cycles, task_cycles;
};

/* What one scrape read of a PE. */
struct pe_reading {
	bool ok;
	npu_perf_counters perf;
	unsigned long long resets;
	bool have_resets;
	double util;
};

struct exporter {
	npu_context *ctx;
	struct pe_sample prev[MAX_CARDS][NPU_CARD_MAX_PES];
	struct pe_reading now[MAX_CARDS][NPU_CARD_MAX_PES];
	unsigned long long scrapes, scrape_errors;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The first line of sysfs_root/rel without its newline; "" if unreadable. */
static void read_attr(const struct exporter *ex, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	buf[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", npu_context_get_sysfs_root(ex->ctx), rel) >=
	    (int)sizeof(path))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* An attribute of class npu_mgmt's entry `node` as a number; false if absent. */
static bool read_number(const struct exporter *ex, const char *node, const char *attr,
			unsigned long long *out)
{
	char rel[128], buf[64], *end;

	snprintf(rel, sizeof(rel), "class/npu_mgmt/%s/%s", node, attr);
	read_attr(ex, rel, buf, sizeof(buf));
	if (!buf[0])
		return false;
	errno = 0;
	*out = strtoull(buf, &end, 0);
	return !errno && end != buf;
}

/* A label value as the exposition format quotes it: \, " and newline escaped. */
static void label(FILE *f, const char *name, const char *value, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			fputc('\\', f);
		if (*value == '\n')
			fputs("\\n", f);
		else
			fputc(*value, f);
	}
	fputc('"', f);
}

/* The labels every series of a card carries: arch, device, uuid (and core). */
static void card_labels(FILE *f, const npu_card_info *c, int pe)
{
	char device[32];

	snprintf(device, sizeof(device), "npu%u", c->index);
	fputc('{', f);
	label(f, "arch", c->arch, true);
	if (pe >= 0) {
		char core[16];

		snprintf(core, sizeof(core), "%d", pe);
		label(f, "core", core, false);
	}
	label(f, "device", device, false);
	label(f, "uuid", c->uuid, false);
	fputc('}', f);
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static const char *const states[] = { "ready", "resetting", "failed", "lost" };

static void card_metrics(struct exporter *ex, FILE *f, const npu_card_info *cards, size_t n)
{
	char node[48], rel[96], version[64];
	unsigned long long v;
	size_t i, s;

	help(f, "npu_info", "gauge", "1 per card; its identity in the labels");
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "class/npu_mgmt/npu%u_mgmt/version", cards[i].index);
		read_attr(ex, rel, version, sizeof(version));
		fputs("npu_info{", f);
		label(f, "arch", cards[i].arch, true);
		snprintf(node, sizeof(node), "npu%u", cards[i].index);
		label(f, "device", node, false);
		label(f, "uuid", cards[i].uuid, false);
		label(f, "serial", cards[i].serial, false);
		label(f, "pci_address", cards[i].busname, false);
		label(f, "firmware_version", cards[i].fw_version, false);
		label(f, "driver_version", version, false);
		fprintf(f, ",pe_count=\"%u\"} 1\n", cards[i].pe_count);
	}
	help(f, "furiosa_npu_alive", "gauge", "1 if the card is ready and reports no fatal error");
	for (i = 0; i < n; i++) {
		snprintf(node, sizeof(node), "npu%u_mgmt", cards[i].index);
		fputs("furiosa_npu_alive", f);
		card_labels(f, &cards[i], -1);
		fprintf(f, " %d\n", read_number(ex, node, "alive", &v) && v == 1);
	}
	help(f, "npu_device_state", "gauge", "1 for the driver's state of the card, 0 for the others");
	for (i = 0; i < n; i++) {
		for (s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
			fputs("npu_device_state{", f);
			snprintf(node, sizeof(node), "npu%u", cards[i].index);
			label(f, "device", node, true);
			label(f, "state", states[s], false);
			fprintf(f, "} %d\n", !strcmp(cards[i].state, states[s]));
		}
	}
	help(f, "furiosa_npu_hw_temperature", "gauge", "temperature of the card, degrees Celsius");
	for (i = 0; i < n; i++) {
		if (cards[i].temp_mc < 0)
			continue;
		fputs("furiosa_npu_hw_temperature", f);
		card_labels(f, &cards[i], -1);
		fprintf(f, " %.3f\n", cards[i].temp_mc / 1000.0);
	}
	help(f, "furiosa_npu_hw_power", "gauge", "power drawn by the card, watts");
	for (i = 0; i < n; i++) {
		if (cards[i].power_uw < 0)
			continue;
		fputs("furiosa_npu_hw_power", f);
		card_labels(f, &cards[i], -1);
		fprintf(f, " %.6f\n", cards[i].power_uw / 1e6);
	}
	help(f, "npu_device_resets_total", "counter", "whole-card resets since the driver bound it");
	for (i = 0; i < n; i++) {
		snprintf(node, sizeof(node), "npu%u_mgmt", cards[i].index);
		if (!read_number(ex, node, "reset_count", &v))
			continue;
		fputs("npu_device_resets_total", f);
		card_labels(f, &cards[i], -1);
		fprintf(f, " %llu\n", v);
	}
}

/* Per-PE counters, in one loop per metric family as the format wants them grouped. */
enum pe_metric {
	PE_CYCLES, PE_TASK, PE_TENSOR, PE_DMA, PE_INSTRUCTIONS, PE_JOBS, PE_ERRORS, PE_RESETS,
	PE_BUSY, PE_UTIL, PE_METRICS
};

static const struct {
	const char *name, *type, *help;
} pe_families[PE_METRICS] = {
	[PE_CYCLES] = { "furiosa_npu_cycle_count", "counter", "device clock cycles since reset" },
	[PE_TASK] = { "npu_task_cycles_total", "counter", "cycles spent executing commands" },
	[PE_TENSOR] = { "npu_tensor_cycles_total", "counter", "cycles spent computing" },
	[PE_DMA] = { "npu_dma_cycles_total", "counter", "cycles spent moving data" },
	[PE_INSTRUCTIONS] = { "npu_instructions_total", "counter", "program instructions retired" },
	[PE_JOBS] = { "npu_jobs_total", "counter", "jobs completed" },
	[PE_ERRORS] = { "npu_job_errors_total", "counter", "jobs completed with an error" },
	[PE_RESETS] = { "npu_core_resets_total", "counter", "resets of the PE, alone or with the card" },
	[PE_BUSY] = { "npu_core_in_use", "gauge", "1 if a process holds the PE" },
	[PE_UTIL] = { "furiosa_npu_core_utilization", "gauge",
		      "busy share of the PE since the previous scrape (first: since reset), percent" },
};

static void pe_metrics(struct exporter *ex, FILE *f, const npu_card_info *cards, size_t n)
{
	struct pe_reading (*r)[NPU_CARD_MAX_PES] = ex->now;
	size_t i, m;
	unsigned int p;

	for (i = 0; i < n && i < MAX_CARDS; i++) {
		for (p = 0; p < cards[i].pe_count && p < NPU_CARD_MAX_PES; p++) {
			struct pe_reading *pr = &r[i][p];
			struct pe_sample *prev = &ex->prev[i][p];
			char node[32];
			uint64_t dc, dt;

			snprintf(node, sizeof(node), "npu%upe%u", cards[i].index, p);
			memset(pr, 0, sizeof(*pr));
			pr->ok = npu_ctx_read_perf(ex->ctx, node, &pr->perf) == NPU_OK;
			pr->have_resets = read_number(ex, node, "reset_count", &pr->resets);
			if (!pr->ok) {
				prev->valid = false;
				continue;
			}
			/* Counters restart at a reset: then count from zero again. */
			if (!prev->valid || pr->perf.cycles < prev->cycles ||
			    pr->perf.task_cycles < prev->task_cycles)
				*prev = (struct pe_sample){ true, 0, 0 };
			dc = pr->perf.cycles - prev->cycles;
			dt = pr->perf.task_cycles - prev->task_cycles;
			pr->util = dc ? 100.0 * (double)dt / (double)dc : 0.0;
			if (pr->util > 100.0)
				pr->util = 100.0;
			*prev = (struct pe_sample){ true, pr->perf.cycles, pr->perf.task_cycles };
		}
	}
	for (m = 0; m < PE_METRICS; m++) {
		help(f, pe_families[m].name, pe_families[m].type, pe_families[m].help);
		for (i = 0; i < n && i < MAX_CARDS; i++) {
			for (p = 0; p < cards[i].pe_count && p < NPU_CARD_MAX_PES; p++) {
				const struct pe_reading *pr = &r[i][p];
				const npu_perf_counters *c = &pr->perf;
				unsigned long long v;

				if (m == PE_RESETS ? !pr->have_resets : m != PE_BUSY && !pr->ok)
					continue;
				fputs(pe_families[m].name, f);
				card_labels(f, &cards[i], (int)p);
				switch (m) {
				case PE_UTIL:
					fprintf(f, " %.2f\n", pr->util);
					continue;
				case PE_BUSY:
					v = cards[i].pe[p].holder_pid != 0;
					break;
				case PE_CYCLES:
					v = c->cycles;
					break;
				case PE_TASK:
					v = c->task_cycles;
					break;
				case PE_TENSOR:
					v = c->tensor_cycles;
					break;
				case PE_DMA:
					v = c->dma_cycles;
					break;
				case PE_INSTRUCTIONS:
					v = c->instructions;
					break;
				case PE_JOBS:
					v = c->jobs;
					break;
				case PE_ERRORS:
					v = c->errors;
					break;
				default:
					v = pr->resets;
				}
				fprintf(f, " %llu\n", v);
			}
		}
	}
}

/* The exposition of everything present now; NULL if out of memory. */
static char *scrape(struct exporter *ex, size_t *len)
{
	npu_card_info *cards = NULL;
	size_t n = 0;
	char *text = NULL;
	npu_status st;
	FILE *f;

	f = open_memstream(&text, len);
	if (!f)
		return NULL;
	ex->scrapes++;
	st = npu_ctx_list_cards(ex->ctx, &cards, &n);
	if (st == NPU_ERR_NO_DEVICE) {
		n = 0;		/* no card (or no driver) is a valid state, not an error */
	} else if (st) {
		ex->scrape_errors++;
		fprintf(stderr, "%s: listing the cards: %s\n", prog, npu_last_error());
		n = 0;
	}
	help(f, "npu_cards", "gauge", "cards present");
	fprintf(f, "npu_cards %zu\n", n);
	if (n) {
		card_metrics(ex, f, cards, n);
		pe_metrics(ex, f, cards, n);
	}
	help(f, "npu_exporter_scrapes_total", "counter", "scrapes served, this one included");
	fprintf(f, "npu_exporter_scrapes_total %llu\n", ex->scrapes);
	help(f, "npu_exporter_scrape_errors_total", "counter", "scrapes that could not list the cards");
	fprintf(f, "npu_exporter_scrape_errors_total %llu\n", ex->scrape_errors);
	npu_cards_free(cards);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Writes all of buf, within the socket's send timeout; false if the client went away. */
static bool send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

/* The response; with head_only (a HEAD request) without its body. */
static void respond(int fd, const char *status, const char *type, const char *body, size_t len,
		    bool head_only)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, type, len);

	if (send_all(fd, head, (size_t)n) && !head_only)
		send_all(fd, body, len);
}

static void respond_text(int fd, const char *status, const char *text)
{
	respond(fd, status, "text/plain", text, strlen(text), false);
}

/* Reads the request head (up to the blank line) within the receive timeout. */
static bool read_request(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		ssize_t r = recv(fd, buf + got, size - 1 - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return true;
	}
	return false;	/* too long */
}

static void serve(struct exporter *ex, int fd)
{
	static const char index[] = "npu-exporter: metrics at /metrics\n";
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	char req[REQUEST_MAX], method[16], target[256];
	char *body;
	size_t len;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!read_request(fd, req, sizeof(req)) ||
	    sscanf(req, "%15s %255s", method, target) != 2) {
		respond_text(fd, "400 Bad Request", "bad request\n");
		return;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		respond_text(fd, "405 Method Not Allowed", "GET or HEAD only\n");
		return;
	}
	target[strcspn(target, "?")] = '\0';
	if (!strcmp(target, "/")) {
		respond_text(fd, "200 OK", index);
		return;
	}
	if (strcmp(target, "/metrics")) {
		respond_text(fd, "404 Not Found", "not found: try /metrics\n");
		return;
	}
	body = scrape(ex, &len);
	if (!body) {
		respond_text(fd, "500 Internal Server Error", "out of memory\n");
		return;
	}
	respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len,
		!strcmp(method, "HEAD"));
	free(body);
}

/*
 * A listening socket on a numeric address: "127.0.0.1:6254", "[::1]:6254",
 * ":6254" (every IPv4 address) or "localhost:6254". Numeric only, so the
 * statically linked tool needs no name service. -2: a malformed address.
 */
static int listen_on(const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char host[64], *colon, *end;
	int fd, one = 1;
	long port;

	memset(&ss, 0, sizeof(ss));
	if (snprintf(host, sizeof(host), "%s", addr) >= (int)sizeof(host) ||
	    !(colon = strrchr(host, ':')))
		goto bad;
	*colon = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		goto bad;
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			goto bad;
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		if (!strcmp(host, "localhost"))
			snprintf(host, sizeof(host), "127.0.0.1");
		if (!host[0])
			in4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			goto bad;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ? sizeof(*in6) :
		 sizeof(*in4)) || listen(fd, 16)) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad:
	fprintf(stderr, "%s: --listen %s: want a numeric HOST:PORT, e.g. %s or [::1]:6254\n",
		prog, addr, DEFAULT_LISTEN);
	return -2;
}

/* The port a socket is bound to (for --listen HOST:0). */
static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
		     ((struct sockaddr_in *)&ss)->sin_port);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: npu-exporter [--listen HOST:PORT] [--once]\n"
		"Serves the NPUs' metrics for Prometheus at http://HOST:PORT/metrics.\n"
		"  -l, --listen HOST:PORT  address to listen on (default %s; :PORT for all,\n"
		"                          port 0 picks a free one and prints it)\n"
		"  -1, --once              print one scrape to stdout and exit\n"
		"  -h, --help              this text\n"
		"The sysfs root is NPU_SYSFS_ROOT (default /sys). Metric names: docs/cluster.md.\n",
		DEFAULT_LISTEN);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = DEFAULT_LISTEN;
	struct exporter *ex;
	bool once = false;
	struct sigaction sa;
	int opt, lfd, rc = 0;

	while ((opt = getopt_long(argc, argv, "l:1h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			addr = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	ex = calloc(1, sizeof(*ex));
	if (!ex || npu_context_new_from_env(&ex->ctx)) {
		fprintf(stderr, "%s: %s\n", prog, ex ? npu_last_error() : "out of memory");
		free(ex);
		return 1;
	}
	if (once) {
		size_t len;
		char *text = scrape(ex, &len);

		if (!text || fwrite(text, 1, len, stdout) != len || fflush(stdout))
			rc = 1;
		free(text);
		goto out;
	}

	lfd = listen_on(addr);
	if (lfd < 0) {
		rc = lfd == -2 ? 2 : 1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "%s: listening on %s (port %d)\n", prog, addr, bound_port(lfd));
	while (!stop) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;	/* timeout, or EINTR from a signal: check stop */
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(ex, fd);
		close(fd);
	}
	close(lfd);
out:
	npu_context_free(ex->ctx);
	free(ex);
	return rc;
}
