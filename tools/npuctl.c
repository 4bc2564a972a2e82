// SPDX-License-Identifier: MIT
/*
 * npuctl: inspect NPUs like furiosactl (info, list, ps, top) and work with
 * device specifications (spec). Every subcommand takes --json for stable,
 * versioned machine-readable output.
 *
 * Exit status: 0 success, 1 runtime failure (no driver, no device, ...),
 * 2 bad usage or a malformed spec.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "npuctl_cluster.h"
#include "npuhal.h"
#include "table.h"

#define JSON_VERSION 1
#define MAX_USERS 256

struct opts {
	int json, full, resolve;	/* int: getopt_long sets them */
	long interval_ms;
	long count;		/* top: samples to take; 0 forever */
};

static int fail(npu_status st)
{
	fprintf(stderr, "npuctl: %s\n", npu_last_error()[0] ? npu_last_error() : npu_strerror(st));
	return st == NPU_ERR_INVALID_ARGUMENT ? 2 : 1;
}

static int list_cards(npu_card_info **cards, size_t *n)
{
	npu_status st = npu_list_cards(NULL, cards, n);

	if (st)
		return fail(st);
	if (*n == 0) {
		fprintf(stderr, "npuctl: the npu driver is loaded but found no NPU device\n");
		npu_cards_free(*cards);
		return 1;
	}
	return 0;
}

static void fmt_temp(char *buf, size_t size, long mc)
{
	if (mc < 0 || snprintf(buf, size, "%3ld°C", (mc + 500) / 1000) >= (int)size)
		snprintf(buf, size, "-");
}

static void fmt_power(char *buf, size_t size, long uw)
{
	if (uw < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2f W", uw / 1e6);
}

/* The cards being printed, and the table they go into without --json. */
struct card_list {
	npu_card_info *cards;
	size_t n;
	struct table t;
};

/*
 * Lists the cards and starts the output: the JSON document's opening, or an
 * empty table of `columns` columns named hdr. Non-zero (said why) on failure.
 */
static int begin_cards(const struct opts *o, size_t columns, const char *const *hdr,
		       struct card_list *l)
{
	int rc = list_cards(&l->cards, &l->n);

	if (rc)
		return rc;
	if (o->json) {
		printf("{\"version\": %d, \"devices\": [", JSON_VERSION);
	} else if (table_init(&l->t, columns, hdr)) {
		npu_cards_free(l->cards);
		return fail(NPU_ERR_NO_MEMORY);
	}
	return 0;
}

static int cmd_info(const struct opts *o)
{
	static const char *const short_hdr[] = { "NPU", "Name", "Firmware", "Temp.", "Power",
						 "PCI-BDF" };
	static const char *const full_hdr[] = { "NPU", "Name", "UUID", "S/N", "Firmware",
						"Temp.", "Power", "PCI-BDF", "PCI-DEV" };
	struct card_list l;
	int rc = begin_cards(o, o->full ? 9 : 6, o->full ? full_hdr : short_hdr, &l);

	if (rc)
		return rc;
	if (o->json) {
		for (size_t i = 0; i < l.n; i++) {
			const npu_card_info *c = &l.cards[i];

			printf("%s\n  {\"npu\": \"npu%u\", \"index\": %u, \"name\": ", i ? "," : "",
			       c->index, c->index);
			json_string(stdout, c->arch);
			/* The string members, in the order the JSON format documents them. */
			const struct { const char *key, *value; } strings[] = {
				{ "firmware", c->fw_version }, { "uuid", c->uuid },
				{ "serial", c->serial }, { "pci_bdf", c->busname },
				{ "pci_dev", c->dev }, { "state", c->state },
			};

			for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
				printf(", \"%s\": ", strings[k].key);
				json_string(stdout, strings[k].value);
			}
			printf(", \"pe_count\": %u", c->pe_count);
			if (c->temp_mc >= 0)
				printf(", \"temperature_celsius\": %.3f", c->temp_mc / 1000.0);
			if (c->power_uw >= 0)
				printf(", \"power_watts\": %.6f", c->power_uw / 1e6);
			printf("}");
		}
		printf("\n]}\n");
		npu_cards_free(l.cards);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		const npu_card_info *c = &l.cards[i];
		char npu[24], temp[16], power[24];

		snprintf(npu, sizeof(npu), "npu%u", c->index);
		fmt_temp(temp, sizeof(temp), c->temp_mc);
		fmt_power(power, sizeof(power), c->power_uw);
		if (o->full) {
			const char *row[] = { npu, c->arch, c->uuid, c->serial, c->fw_version,
					      temp, power, c->busname, c->dev };

			table_add_row(&l.t, row);
		} else {
			const char *row[] = { npu, c->arch, c->fw_version, temp, power, c->busname };

			table_add_row(&l.t, row);
		}
	}
	table_print(&l.t, stdout);
	table_free(&l.t);
	npu_cards_free(l.cards);
	return 0;
}

static int cmd_list(const struct opts *o)
{
	static const char *const hdr[] = { "NPU", "Cores", "DEVFILES" };
	struct card_list l;
	int rc = begin_cards(o, 3, hdr, &l);

	if (rc)
		return rc;
	for (size_t i = 0, shown = 0; i < l.n; i++) {
		const npu_card_info *c = &l.cards[i];
		char npu[24], cores[256] = "", files[128];
		size_t len = 0;
		/* Only what is here: a container given one PE sees that PE and its file. */
		unsigned int pes = npuctl_present_files(c, files, sizeof(files));

		if (!pes)
			continue;
		snprintf(npu, sizeof(npu), "npu%u", c->index);
		if (o->json) {
			printf("%s\n  {\"npu\": \"%s\", \"cores\": [", shown++ ? "," : "", npu);
			for (unsigned int pe = 0; pe < c->pe_count; pe++) {
				const npu_pe_info *p = &c->pe[pe];

				if (!(pes & 1u << pe))
					continue;
				printf("%s{\"core\": %u, \"available\": %s", pes & ((1u << pe) - 1) ? ", " : "", pe,
				       p->holder_pid ? "false" : "true");
				if (p->holder_pid > 0)
					printf(", \"pid\": %d", p->holder_pid);
				else if (p->holder_pid < 0)
					printf(", \"releasing\": true");
				printf("}");
			}
			printf("], \"devfiles\": [");
			for (char *tok = strtok(files, ", "), *first = tok; tok; tok = strtok(NULL, ", "))
				printf("%s\"%s\"", tok == first ? "" : ", ", tok);
			printf("]}");
			continue;
		}
		for (unsigned int pe = 0; pe < c->pe_count && len < sizeof(cores); pe++) {
			const npu_pe_info *p = &c->pe[pe];
			const char *sep = len ? ", " : "";
			int w;

			if (!(pes & 1u << pe))
				continue;
			if (p->holder_pid > 0)
				w = snprintf(cores + len, sizeof(cores) - len, "%s%u (occupied by %d)",
					     sep, pe, p->holder_pid);
			else if (p->holder_pid < 0)
				w = snprintf(cores + len, sizeof(cores) - len, "%s%u (releasing)",
					     sep, pe);
			else
				w = snprintf(cores + len, sizeof(cores) - len, "%s%u (available)",
					     sep, pe);
			len += w > 0 ? (size_t)w : 0;
		}
		{
			const char *row[] = { npu, cores, files };

			table_add_row(&l.t, row);
		}
	}
	if (o->json) {
		printf("\n]}\n");
	} else {
		table_print(&l.t, stdout);
		table_free(&l.t);
	}
	npu_cards_free(l.cards);
	return 0;
}

/* A process holding a device file. */
struct user {
	int pid;
	char devfile[64];	/* "npu0pe0-1" */
	char command[512];
};

/* The /dev/npu* file (not _mgmt) of card `index` that pid has open, from /proc/pid/fd. */
static bool held_file(int pid, unsigned int index, char *out, size_t size)
{
	char dir[64], prefix[32];
	struct dirent *e;
	DIR *d;
	bool found = false;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	snprintf(prefix, sizeof(prefix), "npu%u", index);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char link[PATH_MAX], target[PATH_MAX];
		const char *base;
		ssize_t len;

		if (snprintf(link, sizeof(link), "%s/%s", dir, e->d_name) >= (int)sizeof(link))
			continue;
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		base = strrchr(target, '/');
		base = base ? base + 1 : target;
		if (strncmp(base, prefix, strlen(prefix)) != 0 || strstr(base, "_mgmt"))
			continue;
		/* npu1 must not match npu10pe0: what follows is the end or "pe". */
		if (base[strlen(prefix)] && strncmp(base + strlen(prefix), "pe", 2) != 0)
			continue;
		found = snprintf(out, size, "%s", base) < (int)size;
	}
	closedir(d);
	return found;
}

static void command_line(int pid, const char *fallback, char *out, size_t size)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(out, 1, size - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i + 1 < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "%s", fallback);
}

static size_t find_users(const npu_card_info *cards, size_t n, struct user *users)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		for (unsigned int pe = 0; pe < cards[i].pe_count; pe++) {
			const npu_pe_info *p = &cards[i].pe[pe];
			struct user u = { .pid = p->holder_pid };
			bool dup = false;

			if (p->holder_pid <= 0 || count == MAX_USERS)
				continue;
			if (!held_file(u.pid, cards[i].index, u.devfile, sizeof(u.devfile)))
				snprintf(u.devfile, sizeof(u.devfile), "npu%upe%u", cards[i].index, pe);
			for (size_t k = 0; k < count; k++)
				dup |= users[k].pid == u.pid && !strcmp(users[k].devfile, u.devfile);
			if (dup)
				continue;
			command_line(u.pid, p->holder_comm, u.command, sizeof(u.command));
			users[count++] = u;
		}
	}
	return count;
}

static int cmd_ps(const struct opts *o)
{
	static const char *const hdr[] = { "NPU", "PID", "CMD" };
	static struct user users[MAX_USERS];
	npu_card_info *cards;
	struct table t;
	size_t n, nu;
	int rc = list_cards(&cards, &n);

	if (rc)
		return rc;
	nu = find_users(cards, n, users);
	npu_cards_free(cards);
	if (o->json) {
		printf("{\"version\": %d, \"processes\": [", JSON_VERSION);
		for (size_t i = 0; i < nu; i++) {
			printf("%s\n  {\"npu\": ", i ? "," : "");
			json_string(stdout, users[i].devfile);
			printf(", \"pid\": %d, \"cmd\": ", users[i].pid);
			json_string(stdout, users[i].command);
			printf("}");
		}
		printf("\n]}\n");
		return 0;
	}
	if (table_init(&t, 3, hdr))
		return fail(NPU_ERR_NO_MEMORY);
	for (size_t i = 0; i < nu; i++) {
		char pid[16];
		const char *row[] = { users[i].devfile, pid, users[i].command };

		snprintf(pid, sizeof(pid), "%d", users[i].pid);
		table_add_row(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
	return 0;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void now_iso8601(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec) >= (int)size)
		buf[size - 1] = '\0';
}

/*
 * NPU% is the share of the interval the file's PEs were busy; Comp% and
 * I/O% split that busy time into computing and moving data.
 */
static int cmd_top(const struct opts *o)
{
	static struct user users[MAX_USERS];
	static npu_perf_counters before[MAX_USERS];
	struct timespec pause = { o->interval_ms / 1000, (o->interval_ms % 1000) * 1000000 };
	npu_card_info *cards;
	size_t n, nu = 0;
	long samples = 0;
	int rc;

	if (!o->json) {
		printf("Datetime                        PID       Device        NPU(%%)   Comp(%%)   I/O(%%)   Command\n");
		fflush(stdout);
	}
	for (;;) {
		static struct user now_users[MAX_USERS];
		size_t now_n;

		rc = list_cards(&cards, &n);
		if (rc)
			return rc;
		now_n = find_users(cards, n, now_users);
		npu_cards_free(cards);
		for (size_t i = 0; i < now_n; i++) {
			npu_perf_counters cur;
			char when[40];
			size_t k;
			int pes;

			if (npu_read_perf(NULL, now_users[i].devfile, &cur))
				continue;
			for (k = 0; k < nu; k++)
				if (users[k].pid == now_users[i].pid &&
				    !strcmp(users[k].devfile, now_users[i].devfile))
					break;
			if (k < nu) {
				uint64_t dc = cur.cycles - before[k].cycles;
				uint64_t dt = cur.task_cycles - before[k].task_cycles;

				pes = strchr(now_users[i].devfile, '-') ||
				      !strstr(now_users[i].devfile, "pe") ? 2 : 1;
				now_iso8601(when, sizeof(when));
				if (o->json) {
					printf("{\"version\": %d, \"datetime\": \"%s\", \"pid\": %d, \"device\": ",
					       JSON_VERSION, when, now_users[i].pid);
					json_string(stdout, now_users[i].devfile);
					printf(", \"npu_percent\": %.2f, \"compute_percent\": %.2f, \"io_percent\": %.2f, \"command\": ",
					       pct(dt, dc * pes),
					       pct(cur.tensor_cycles - before[k].tensor_cycles, dt),
					       pct(cur.dma_cycles - before[k].dma_cycles, dt));
					json_string(stdout, now_users[i].command);
					printf("}\n");
				} else {
					printf("%-31s %-9d %-13s %6.2f    %6.2f   %6.2f   %s\n", when,
					       now_users[i].pid, now_users[i].devfile,
					       pct(dt, dc * pes),
					       pct(cur.tensor_cycles - before[k].tensor_cycles, dt),
					       pct(cur.dma_cycles - before[k].dma_cycles, dt),
					       now_users[i].command);
				}
			}
			now_users[i].pid = now_users[i].pid;
			before[i] = cur;
		}
		memcpy(users, now_users, now_n * sizeof(users[0]));
		nu = now_n;
		fflush(stdout);
		/* The first pass only takes the baseline; each later one is a sample. */
		if (o->count && samples++ >= o->count)
			return 0;
		nanosleep(&pause, NULL);
	}
}

static int cmd_spec(const struct opts *o, const char *text)
{
	npu_spec *spec;
	npu_status st;
	char buf[1024];

	st = npu_spec_parse(text, &spec);
	if (st)
		return fail(st);
	npu_spec_format(spec, buf, sizeof(buf));
	npu_spec_free(spec);
	if (o->resolve) {
		char **paths;
		size_t n;

		st = npu_spec_resolve(text, NULL, &paths, &n);
		if (st)
			return fail(st);
		if (o->json) {
			printf("{\"version\": %d, \"spec\": ", JSON_VERSION);
			json_string(stdout, buf);
			printf(", \"devfiles\": [");
		}
		for (size_t i = 0; i < n; i++) {
			if (o->json) {
				printf("%s", i ? ", " : "");
				json_string(stdout, paths[i]);
			} else {
				printf("%s\n", paths[i]);
			}
		}
		if (o->json)
			printf("]}\n");
		npu_paths_free(paths, n);
		return 0;
	}
	if (o->json) {
		printf("{\"version\": %d, \"spec\": ", JSON_VERSION);
		json_string(stdout, buf);
		printf("}\n");
	} else {
		printf("%s\n", buf);
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: npuctl [--json] COMMAND [options]\n"
		"  info [--full]            NPUs with firmware, temperature, power, PCI address\n"
		"  list                     cores (available or held by a PID) and device files\n"
		"  ps                       processes holding device files\n"
		"  top [--interval MS] [--count N]\n"
		"                           utilization per process and device file, every MS\n"
		"                           (default 1000), N samples (default: until interrupted)\n"
		"  spec [--resolve] SPEC    canonical form of a device spec, or the files it takes now\n");
	npuctl_cluster_usage(out);
	fprintf(out,
		"Environment: NPU_SYSFS_ROOT, NPU_DEVFS_ROOT override /sys and /dev.\n"
		"Exit status: 0 ok, 1 failure, 2 bad usage or malformed spec.\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .interval_ms = 1000 };
	/* The switches set their member of o themselves; getopt_long returns 0 for them. */
	const struct option longopts[] = {
		{ "json", no_argument, &o.json, 1 },
		{ "full", no_argument, &o.full, 1 },
		{ "resolve", no_argument, &o.resolve, 1 },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = NULL, *arg = NULL;
	char *end;
	int c;

	if (npuctl_cluster_command(argc, argv))
		return npuctl_cluster_main(argc - 1, argv + 1);
	/* Options may come before or after the command: permute, then take positionals. */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 0:
			break;
		case 'i':
			errno = 0;
			o.interval_ms = strtol(optarg, &end, 10);
			if (errno || *end || o.interval_ms < 10 || o.interval_ms > 3600000) {
				fprintf(stderr, "npuctl: --interval takes milliseconds, 10 to 3600000\n");
				return 2;
			}
			break;
		case 'c':
			errno = 0;
			o.count = strtol(optarg, &end, 10);
			if (errno || *end || o.count < 1) {
				fprintf(stderr, "npuctl: --count takes a positive number\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc)
		arg = argv[optind++];
	if (!cmd || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "spec")) {
		if (!arg) {
			fprintf(stderr, "npuctl: spec needs a SPEC, e.g. npuctl spec 'warboy(2)*1'\n");
			return 2;
		}
		return cmd_spec(&o, arg);
	}
	if (arg) {
		fprintf(stderr, "npuctl: %s takes no argument '%s'\n", cmd, arg);
		return 2;
	}
	if (!strcmp(cmd, "info"))
		return cmd_info(&o);
	if (!strcmp(cmd, "list"))
		return cmd_list(&o);
	if (!strcmp(cmd, "ps"))
		return cmd_ps(&o);
	if (!strcmp(cmd, "top"))
		return cmd_top(&o);
	fprintf(stderr, "npuctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
