// SPDX-License-Identifier: MIT
/*
 * npuctl cdi generate|list and npuctl labels: what container runtimes and
 * Kubernetes read about the NPUs (docs/cluster.md).
 *
 * The CDI spec has one device per device file (npu0, npu0pe0, npu0pe1,
 * npu0pe0-1, ...) and "all". A device's edits add its node and its card's
 * npuN_mgmt, and set FURIOSA_DEVICES to the canonical spec of exactly that
 * file, so the HAL in the container takes it with no configuration. It uses
 * only fields of CDI 0.3.0 (deviceNodes with a path, env; names starting
 * with a letter, no dot in the class), the oldest version current runtimes
 * take: Debian 12's podman 4.3 and Debian 13's podman 5.4 both do.
 *
 * Files are written atomically (a hidden temporary file in the same
 * directory, renamed over the old one), under an flock of the directory so
 * that udev's parallel runs for the nodes of one card end with the last
 * state.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npuctl_cluster.h"
#include "npuhal.h"
#include "table.h"

#define CDI_VERSION "0.3.0"
#define JSON_VERSION 1
#define SPEC_FILE_MAX (4 << 20)
#define JSON_DEPTH_MAX 32

static const char *prog = "npuctl";

static const char *devfs_root(void)
{
	const char *v = getenv("NPU_DEVFS_ROOT");

	return v && *v ? v : "/dev";
}

static const char *sysfs_root(void)
{
	const char *v = getenv("NPU_SYSFS_ROOT");

	return v && *v ? v : "/sys";
}

/* True if the device file name exists under the devfs root. */
static bool node_exists(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", devfs_root(), name) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0;
}

/*
 * The cards; 1 with a message on failure. No driver (its class directory is
 * gone, as after the last card's removal) is an empty list for callers that
 * describe what is there (*no_driver set), a failure for the others.
 */
static int list_cards(npu_card_info **cards, size_t *n, bool *no_driver)
{
	npu_status st = npu_list_cards(NULL, cards, n);

	if (no_driver)
		*no_driver = st == NPU_ERR_NO_DEVICE;
	if (st == NPU_ERR_NO_DEVICE && no_driver) {
		fprintf(stderr, "%s: %s\n", prog, npu_last_error());
		*cards = NULL;
		*n = 0;
		return 0;
	}
	if (st) {
		fprintf(stderr, "%s: %s\n", prog,
			npu_last_error()[0] ? npu_last_error() : npu_strerror(st));
		return 1;
	}
	return 0;
}

/* The cards and a memory stream for the text about them; NULL and *rc on failure. */
static FILE *start_output(npu_card_info **cards, size_t *n, bool *no_driver, char **text,
			  size_t *len, int *rc)
{
	FILE *f;

	*rc = list_cards(cards, n, no_driver);
	if (*rc)
		return NULL;
	f = open_memstream(text, len);
	if (!f) {
		npu_cards_free(*cards);
		fprintf(stderr, "%s: out of memory\n", prog);
		*rc = 1;
	}
	return f;
}

/* ---- Atomic files ----------------------------------------------------------- */

/*
 * Writes len bytes of data to path (mode 0644): a hidden temporary file in
 * the same directory, fsync, rename. The directory is created if missing
 * (its parent must exist) and locked while the caller's content is current.
 */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	int dfd, fd;

	if (strlen(path) >= sizeof(dir) - 16) {
		fprintf(stderr, "%s: output path '%s' is too long\n", prog, path);
		return 1;
	}
	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (!dir[0])
			strcpy(dir, "/");
		base = slash + 1;
	} else {
		strcpy(dir, ".");
		base = path;
	}
	if (!*base) {
		fprintf(stderr, "%s: output '%s' names a directory; give a file name\n", prog, path);
		return 2;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create directory %s: %s%s\n", prog, dir, strerror(errno),
			errno == EACCES ? " (run as root, or give --output FILE)" : "");
		return 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX)) {
		fprintf(stderr, "%s: cannot open directory %s: %s\n", prog, dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return 1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(tmp)) {
		fprintf(stderr, "%s: output path '%s' is too long\n", prog, path);
		close(dfd);
		return 1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot write in %s: %s%s\n", prog, dir, strerror(errno),
			errno == EACCES ? " (run as root, or give --output FILE)" : "");
		close(dfd);
		return 1;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	fsync(dfd);
	close(dfd);
	return 0;
fail:
	fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	close(dfd);
	return 1;
}

/* Writes the memstream's text to path, or to stdout for "-". Frees text. */
static int emit(const char *path, char *text, size_t len)
{
	int rc = 0;

	if (!strcmp(path, "-")) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
			fprintf(stderr, "%s: cannot write to standard output: %s\n", prog,
				strerror(errno));
			rc = 1;
		}
	} else {
		rc = write_atomic(path, text, len);
	}
	free(text);
	return rc;
}

/* ---- cdi generate ------------------------------------------------------------- */

/* The device files of a card, whole device first, as the driver makes them. */
static size_t card_files(const npu_card_info *c, char names[][32], size_t max)
{
	size_t n = 0;

	if (n < max)
		snprintf(names[n++], 32, "npu%u", c->index);
	for (unsigned int pe = 0; pe < c->pe_count && n < max; pe++)
		snprintf(names[n++], 32, "npu%upe%u", c->index, pe);
	if (c->pe_count >= 2 && n < max)
		snprintf(names[n++], 32, "npu%upe0-%u", c->index, c->pe_count - 1);
	return n;
}

unsigned int npuctl_present_files(const npu_card_info *c, char *buf, size_t size)
{
	char names[NPU_CARD_MAX_PES + 2][32];
	size_t nf = card_files(c, names, NPU_CARD_MAX_PES + 2), len = 0;
	unsigned int all = (1u << c->pe_count) - 1, mask = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < nf; k++) {
		const char *pe = strstr(names[k] + 3, "pe");
		int w;

		if (!node_exists(names[k]))
			continue;
		/* npuN and npuNpeA-B reach every PE; npuNpeY one. */
		mask |= !pe || strchr(pe, '-') ? all : 1u << strtoul(pe + 2, NULL, 10);
		w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", names[k]);
		if (w > 0 && (size_t)w < size - len)
			len += (size_t)w;
	}
	return mask;
}

static void json_node(FILE *f, const char *name, bool first)
{
	fprintf(f, "%s\n            {\"path\": \"/dev/%s\"}", first ? "" : ",", name);
}

static int cdi_generate(const char *out)
{
	npu_card_info *cards;
	size_t n, ndev = 0, len;
	bool no_driver;
	char *text;
	int rc;
	FILE *f = start_output(&cards, &n, &no_driver, &text, &len, &rc);

	if (!f)
		return rc;
	fprintf(f, "{\n  \"cdiVersion\": \"%s\",\n  \"kind\": \"%s\",\n  \"devices\": [", CDI_VERSION,
		NPU_CDI_KIND);
	for (size_t i = 0; i < n; i++) {
		char names[NPU_CARD_MAX_PES + 2][32], mgmt[32], spec[256];
		size_t nf = card_files(&cards[i], names, NPU_CARD_MAX_PES + 2);

		snprintf(mgmt, sizeof(mgmt), "npu%u_mgmt", cards[i].index);
		if (!node_exists(mgmt)) {
			fprintf(stderr, "%s: warning: %s/%s is missing: npu%u left out\n",
				prog, devfs_root(), mgmt, cards[i].index);
			continue;
		}
		for (size_t k = 0; k < nf; k++) {
			npu_spec *sp;

			if (!node_exists(names[k]))
				continue;
			if (npu_spec_parse(names[k], &sp)) {
				fprintf(stderr, "%s: internal error: the HAL does not take '%s': %s\n",
					prog, names[k], npu_last_error());
				fclose(f);
				free(text);
				npu_cards_free(cards);
				return 1;
			}
			npu_spec_format(sp, spec, sizeof(spec));
			npu_spec_free(sp);
			fprintf(f, "%s\n    {\n      \"name\": \"%s\",\n      \"containerEdits\": {\n"
				"        \"deviceNodes\": [", ndev ? "," : "", names[k]);
			json_node(f, names[k], true);
			json_node(f, mgmt, false);
			fprintf(f, "\n        ],\n        \"env\": [\"FURIOSA_DEVICES=%s\"]\n      }\n    }",
				spec);
			ndev++;
		}
	}
	/* "all": every node of every card; the HAL's default spec picks among them. */
	fprintf(f, "%s\n    {\n      \"name\": \"all\",\n      \"containerEdits\": {\n"
		"        \"deviceNodes\": [", ndev ? "," : "");
	{
		bool first = true;

		for (size_t i = 0; i < n; i++) {
			char names[NPU_CARD_MAX_PES + 3][32];
			size_t nf = card_files(&cards[i], names, NPU_CARD_MAX_PES + 2);

			snprintf(names[nf++], 32, "npu%u_mgmt", cards[i].index);
			for (size_t k = 0; k < nf; k++) {
				if (!node_exists(names[k]))
					continue;
				json_node(f, names[k], first);
				first = false;
			}
		}
	}
	fprintf(f, "\n        ]\n      }\n    }\n  ]\n}\n");
	npu_cards_free(cards);
	if (fclose(f)) {
		free(text);
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (ndev == 0) {
		/*
		 * Nothing to offer (the last card went away): no spec at all, as
		 * runtimes reject a device without edits. A stale one is removed.
		 */
		free(text);
		if (!strcmp(out, "-")) {
			fprintf(stderr, "%s: no NPU device files under %s: no CDI spec to write\n",
				prog, devfs_root());
			return 1;
		}
		if (unlink(out) == 0)
			printf("%s: no NPU device files under %s: removed %s\n", prog, devfs_root(), out);
		else if (errno != ENOENT)
			return fprintf(stderr, "%s: no NPU device files; cannot remove the stale %s: %s\n",
				       prog, out, strerror(errno)), 1;
		else
			printf("%s: no NPU device files under %s: no CDI spec written\n", prog,
			       devfs_root());
		return no_driver ? 1 : 0;
	}
	rc = emit(out, text, len);
	if (!rc && strcmp(out, "-"))
		printf("%s: %zu devices (%s=npu0pe0, ...; %s=all) in %s\n", prog, ndev + 1,
		       NPU_CDI_KIND, NPU_CDI_KIND, out);
	return rc;
}

/* ---- A small JSON reader, for cdi list ------------------------------------------ */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	char *str;		/* J_STR */
	size_t n;		/* J_ARR, J_OBJ: items */
	struct jv *items;
	char **keys;		/* J_OBJ */
};

struct jparser {
	const char *s, *p, *end;
	char err[160];
};

static void jv_free(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jv_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

static bool jfail(struct jparser *ps, const char *what)
{
	int line = 1, col = 1;

	if (ps->err[0])
		return false;
	for (const char *q = ps->s; q < ps->p; q++, col++)
		if (*q == '\n')
			line++, col = 0;
	snprintf(ps->err, sizeof(ps->err), "line %d, column %d: %s", line, col, what);
	return false;
}

static void jspace(struct jparser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool jstring(struct jparser *ps, char **out)
{
	size_t cap = 16, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return jfail(ps, "out of memory");
	ps->p++;	/* the opening quote */
	for (;;) {
		unsigned int cp;
		char enc[4];
		size_t elen = 1;

		if (ps->p >= ps->end) {
			free(buf);
			return jfail(ps, "unterminated string");
		}
		cp = (unsigned char)*ps->p++;
		if (cp == '"')
			break;
		if (cp < 0x20) {
			free(buf);
			ps->p--;
			return jfail(ps, "control character in a string");
		}
		enc[0] = (char)cp;
		if (cp == '\\') {
			char e = ps->p < ps->end ? *ps->p++ : 0;
			const char *map = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", e);

			if (e == 'u') {
				unsigned int u = 0;

				for (int i = 0; i < 4; i++, ps->p++) {
					if (ps->p >= ps->end || !isxdigit((unsigned char)*ps->p)) {
						free(buf);
						return jfail(ps, "bad \\u escape");
					}
					u = u * 16 + (unsigned int)(isdigit((unsigned char)*ps->p) ?
						*ps->p - '0' : (tolower((unsigned char)*ps->p) - 'a' + 10));
				}
				if (u >= 0xd800 && u < 0xe000)
					u = '?';	/* surrogates: not in any name we read */
				if (u < 0x80) {
					enc[0] = (char)u;
				} else if (u < 0x800) {
					enc[0] = (char)(0xc0 | u >> 6);
					enc[1] = (char)(0x80 | (u & 0x3f));
					elen = 2;
				} else {
					enc[0] = (char)(0xe0 | u >> 12);
					enc[1] = (char)(0x80 | ((u >> 6) & 0x3f));
					enc[2] = (char)(0x80 | (u & 0x3f));
					elen = 3;
				}
			} else if (e && map && (map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2 == 0) {
				enc[0] = map[1];
			} else {
				free(buf);
				return jfail(ps, "bad escape in a string");
			}
		}
		if (len + elen + 1 > cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger) {
				free(buf);
				return jfail(ps, "out of memory");
			}
			buf = bigger;
		}
		memcpy(buf + len, enc, elen);
		len += elen;
	}
	buf[len] = '\0';
	*out = buf;
	return true;
}

static bool jvalue(struct jparser *ps, struct jv *v, int depth);

/* Items of an array (keys NULL) or object, after its opening bracket. */
static bool jitems(struct jparser *ps, struct jv *v, char close, int depth)
{
	size_t cap = 0;

	jspace(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		char *key = NULL;

		jspace(ps);
		if (ps->p >= ps->end)
			return jfail(ps, "unexpected end of the file");
		if (v->type == J_OBJ) {
			if (ps->p >= ps->end || *ps->p != '"')
				return jfail(ps, "expected a \"key\"");
			if (!jstring(ps, &key))
				return false;
			jspace(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return jfail(ps, "expected ':' after the key");
			}
			ps->p++;
		}
		if (v->n == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			struct jv *items = realloc(v->items, ncap * sizeof(*items));
			char **keys;

			if (items)
				v->items = items;
			keys = v->type == J_OBJ && items ? realloc(v->keys, ncap * sizeof(*keys)) : NULL;
			if (keys)
				v->keys = keys;
			if (!items || (v->type == J_OBJ && !keys)) {
				free(key);
				return jfail(ps, "out of memory");
			}
			cap = ncap;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		if (v->keys)
			v->keys[v->n] = key;
		v->n++;
		if (!jvalue(ps, &v->items[v->n - 1], depth + 1))
			return false;
		jspace(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return true;
		}
		return jfail(ps, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
	}
}

static bool jvalue(struct jparser *ps, struct jv *v, int depth)
{
	static const char *const words[] = { "null", "true", "false" };

	jspace(ps);
	if (depth > JSON_DEPTH_MAX)
		return jfail(ps, "nested too deeply");
	if (ps->p >= ps->end)
		return jfail(ps, "unexpected end of the file");
	switch (*ps->p) {
	case '"':
		v->type = J_STR;
		return jstring(ps, &v->str);
	case '[':
	case '{':
		v->type = *ps->p == '[' ? J_ARR : J_OBJ;
		ps->p++;
		return jitems(ps, v, v->type == J_ARR ? ']' : '}', depth);
	}
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(words[i]);

		if ((size_t)(ps->end - ps->p) >= l && !strncmp(ps->p, words[i], l)) {
			v->type = i ? J_BOOL : J_NULL;
			ps->p += l;
			return true;
		}
	}
	if (*ps->p == '-' || isdigit((unsigned char)*ps->p)) {
		const char *q = ps->p + (*ps->p == '-');

		if (q >= ps->end || !isdigit((unsigned char)*q))
			return jfail(ps, "bad number");
		while (q < ps->end && (isdigit((unsigned char)*q) || strchr(".eE+-", *q)))
			q++;
		v->type = J_NUM;
		ps->p = q;
		return true;
	}
	return jfail(ps, "expected a value");
}

static const struct jv *jget(const struct jv *obj, const char *key)
{
	if (obj->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

/* Reads and parses path into *root; prints what is wrong and returns 1 on failure. */
static int read_json(const char *path, struct jv *root)
{
	struct jparser ps = { 0 };
	char *buf;
	long size;
	FILE *f = fopen(path, "r");

	memset(root, 0, sizeof(*root));
	if (!f) {
		fprintf(stderr, "%s: cannot read the CDI spec %s: %s%s\n", prog, path, strerror(errno),
			errno == ENOENT ? " (make it with 'npuctl cdi generate', or name another FILE)" : "");
		return 1;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "%s: cannot read the CDI spec %s: not a regular file\n", prog, path);
		fclose(f);
		return 1;
	}
	if (size > SPEC_FILE_MAX) {
		fprintf(stderr, "%s: %s is %ld bytes, more than a CDI spec has (%d at most)\n", prog,
			path, size, SPEC_FILE_MAX);
		fclose(f);
		return 1;
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, buf ? strerror(errno) : "out of memory");
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	buf[size] = '\0';
	ps.s = ps.p = buf;
	ps.end = buf + size;
	if (jvalue(&ps, root, 0)) {
		jspace(&ps);
		if (ps.p != ps.end)
			jfail(&ps, "text after the end of the JSON value");
	}
	free(buf);
	if (ps.err[0]) {
		fprintf(stderr, "%s: %s is not valid JSON: %s (a YAML spec is not read here: regenerate it with 'npuctl cdi generate')\n",
			prog, path, ps.err);
		jv_free(root);
		return 1;
	}
	return 0;
}

/* ---- cdi list ----------------------------------------------------------------------- */

/* Joins the device nodes' paths; true if all of them exist under the devfs root. */
static bool join_nodes(const struct jv *nodes, char *buf, size_t size)
{
	bool present = true;
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; nodes && i < nodes->n; i++) {
		const struct jv *p = jget(&nodes->items[i], "path");
		const char *path = p && p->type == J_STR ? p->str : "?";
		const char *name = strncmp(path, "/dev/", 5) ? path : path + 5;
		int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", path);

		if (w > 0 && (size_t)w < size - len)
			len += (size_t)w;
		present &= node_exists(name);
	}
	return present;
}

/* Checks the structure cdi list relies on; prints what is wrong. */
static int check_spec(const char *path, const struct jv *root)
{
	const struct jv *ver = jget(root, "cdiVersion"), *kind = jget(root, "kind");
	const struct jv *devs = jget(root, "devices");
	const char *why = NULL;

	if (root->type != J_OBJ)
		why = "the top level is not an object";
	else if (!ver || ver->type != J_STR)
		why = "no \"cdiVersion\" string";
	else if (!kind || kind->type != J_STR || !strchr(kind->str, '/'))
		why = "no \"kind\" string of the form vendor/class";
	else if (!devs || devs->type != J_ARR)
		why = "no \"devices\" array";
	for (size_t i = 0; !why && i < devs->n; i++) {
		const struct jv *d = &devs->items[i], *name = jget(d, "name");
		const struct jv *ed = jget(d, "containerEdits");
		const struct jv *nodes = ed ? jget(ed, "deviceNodes") : NULL, *env = ed ? jget(ed, "env") : NULL;

		if (d->type != J_OBJ || !name || name->type != J_STR || !name->str[0])
			why = "a device has no \"name\" string";
		else if (!ed || ed->type != J_OBJ)
			why = "a device has no \"containerEdits\" object";
		else if (nodes && nodes->type != J_ARR)
			why = "a device's \"deviceNodes\" is not an array";
		else if (env && env->type != J_ARR)
			why = "a device's \"env\" is not an array";
		for (size_t k = 0; !why && nodes && k < nodes->n; k++) {
			const struct jv *p = jget(&nodes->items[k], "path");

			if (!p || p->type != J_STR)
				why = "a device node has no \"path\" string";
		}
		for (size_t k = 0; !why && env && k < env->n; k++)
			if (env->items[k].type != J_STR)
				why = "an \"env\" entry is not a string";
	}
	if (why) {
		fprintf(stderr, "%s: %s is not a CDI spec: %s (regenerate it with 'npuctl cdi generate')\n",
			prog, path, why);
		return 1;
	}
	return 0;
}

static const char *env_value(const struct jv *env, const char *name)
{
	size_t l = strlen(name);

	for (size_t k = 0; env && k < env->n; k++)
		if (!strncmp(env->items[k].str, name, l) && env->items[k].str[l] == '=')
			return env->items[k].str + l + 1;
	return NULL;
}

static int cdi_list(const char *path, bool json)
{
	static const char *const hdr[] = { "CDI device", "Device nodes", "FURIOSA_DEVICES",
					   "Nodes here" };
	const struct jv *devs, *kind;
	struct table t;
	struct jv root;
	int rc = read_json(path, &root);

	if (rc)
		return rc;
	if (check_spec(path, &root)) {
		jv_free(&root);
		return 1;
	}
	devs = jget(&root, "devices");
	kind = jget(&root, "kind");
	if (json) {
		printf("{\"version\": %d, \"file\": ", JSON_VERSION);
		json_string(stdout, path);
		printf(", \"cdiVersion\": ");
		json_string(stdout, jget(&root, "cdiVersion")->str);
		printf(", \"kind\": ");
		json_string(stdout, kind->str);
		printf(", \"devices\": [");
	} else {
		printf("%s: cdiVersion %s, kind %s, %zu devices\n", path,
		       jget(&root, "cdiVersion")->str, kind->str, devs->n);
		if (table_init(&t, 4, hdr)) {
			jv_free(&root);
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
	}
	for (size_t i = 0; i < devs->n; i++) {
		const struct jv *d = &devs->items[i], *ed = jget(d, "containerEdits");
		const struct jv *nodes = jget(ed, "deviceNodes"), *env = jget(ed, "env");
		const char *fd = env_value(env, "FURIOSA_DEVICES");
		char name[256], paths[1024];
		bool present = join_nodes(nodes, paths, sizeof(paths));

		snprintf(name, sizeof(name), "%s=%s", kind->str, jget(d, "name")->str);
		if (json) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_string(stdout, name);
			printf(", \"device_nodes\": [");
			for (size_t k = 0; nodes && k < nodes->n; k++) {
				printf("%s", k ? ", " : "");
				json_string(stdout, jget(&nodes->items[k], "path")->str);
			}
			printf("], \"furiosa_devices\": ");
			if (fd)
				json_string(stdout, fd);
			else
				printf("null");
			printf(", \"nodes_present\": %s}", present ? "true" : "false");
		} else {
			const char *row[] = { name, paths, fd ? fd : "-", present ? "yes" : "NO" };

			table_add_row(&t, row);
		}
	}
	if (json) {
		printf("\n]}\n");
	} else {
		table_print(&t, stdout);
		table_free(&t);
	}
	jv_free(&root);
	return 0;
}

/* ---- labels ------------------------------------------------------------------------- */

/* A Kubernetes label value: [A-Za-z0-9._-], at most 63, alphanumeric at both ends. */
static void label_value(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size && n < 63; in++)
		out[n++] = isalnum((unsigned char)*in) || strchr("._-", *in) ? *in : '_';
	while (n && !isalnum((unsigned char)out[n - 1]))
		n--;
	out[n] = '\0';
	while (out[0] && !isalnum((unsigned char)out[0]))
		memmove(out, out + 1, strlen(out));
}

static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* A version label and its numeric parts (those "X.Y.Z" starts with). */
static void version_labels(FILE *f, const char *name, const char *version)
{
	static const char *const parts[] = { "major", "minor", "patch" };
	unsigned int v[3];
	char val[64];
	int got;

	label_value(version, val, sizeof(val));
	if (!val[0])
		return;
	fprintf(f, "%snpu.%s.version=%s\n", NPU_LABEL_PREFIX, name, val);
	got = sscanf(version, "%u.%u.%u", &v[0], &v[1], &v[2]);
	for (int i = 0; i < got; i++)
		fprintf(f, "%snpu.%s.version.%s=%u\n", NPU_LABEL_PREFIX, name, parts[i], v[i]);
}

/* acc becomes the value every card shares so far, or "mixed". */
static void merge(char *acc, size_t size, size_t i, const char *v)
{
	if (i == 0)
		snprintf(acc, size, "%s", v);
	else if (strcmp(acc, v))
		snprintf(acc, size, "mixed");
}

static int labels(const char *out)
{
	char family[64] = "", fw[64] = "", product[96] = "", driver[64] = "", path[PATH_MAX];
	npu_card_info *cards;
	size_t n, len;
	char *text;
	int rc;
	FILE *f = start_output(&cards, &n, &(bool){ false }, &text, &len, &rc);

	if (!f)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char platform[64], prod[96];

		snprintf(path, sizeof(path), "%s/class/npu_mgmt/npu%u_mgmt/platform_type", sysfs_root(),
			 cards[i].index);
		read_line(path, platform, sizeof(platform));
		/* The emulated card is its own product: schedulers must not take it for silicon. */
		snprintf(prod, sizeof(prod), "%s%s", cards[i].arch,
			 !strcmp(platform, "emulated") ? "-emulated" : "");
		merge(family, sizeof(family), i, cards[i].arch);
		merge(fw, sizeof(fw), i, cards[i].fw_version);
		merge(product, sizeof(product), i, prod);
		if (!driver[0]) {
			snprintf(path, sizeof(path), "%s/class/npu_mgmt/npu%u_mgmt/version",
				 sysfs_root(), cards[i].index);
			read_line(path, driver, sizeof(driver));
		}
	}
	if (!driver[0]) {
		snprintf(path, sizeof(path), "%s/module/npu/version", sysfs_root());
		read_line(path, driver, sizeof(driver));
	}
	fprintf(f, "%snpu.present=%s\n", NPU_LABEL_PREFIX, n ? "true" : "false");
	fprintf(f, "%snpu.count=%zu\n", NPU_LABEL_PREFIX, n);
	if (n) {
		char v[64];

		label_value(family, v, sizeof(v));
		fprintf(f, "%snpu.family=%s\n", NPU_LABEL_PREFIX, v);
		label_value(product, v, sizeof(v));
		fprintf(f, "%snpu.product=%s\n", NPU_LABEL_PREFIX, v);
		fprintf(f, "%snpu.pe.count=%u\n", NPU_LABEL_PREFIX, cards[0].pe_count);
	}
	if (driver[0])
		version_labels(f, "driver", driver);
	if (n && strcmp(fw, "mixed"))
		version_labels(f, "firmware", fw);
	else if (n)
		fprintf(f, "%snpu.firmware.version=mixed\n", NPU_LABEL_PREFIX);
	npu_cards_free(cards);
	if (fclose(f)) {
		free(text);
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	rc = emit(out, text, len);
	if (!rc && strcmp(out, "-"))
		printf("%s: labels of %zu NPUs in %s\n", prog, n, out);
	return rc;
}

/* ---- Command line ----------------------------------------------------------------- */

void npuctl_cluster_usage(FILE *out)
{
	fprintf(out,
		"  cdi generate [--output FILE]\n"
		"                           CDI spec for podman, containerd, ...: one device per\n"
		"                           device file (" NPU_CDI_KIND "=npu0pe1, ...) and =all;\n"
		"                           default " NPU_CDI_DEFAULT_FILE ", '-' stdout\n"
		"  cdi list [FILE]          the devices a CDI spec offers, and if their nodes are here\n"
		"  labels [--output FILE]   node-feature-discovery labels (" NPU_LABEL_PREFIX "npu.*);\n"
		"                           default " NPU_LABELS_DEFAULT_FILE "\n");
}

int npuctl_cluster_command(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "cdi") || !strcmp(argv[1], "labels"));
}

static int usage_error(const char *what)
{
	fprintf(stderr, "%s: %s\nusage:\n", prog, what);
	npuctl_cluster_usage(stderr);
	return 2;
}

/* generate and labels write a file: no positional argument, no --json. */
static int writer_args(const char *what, const char *file, bool json)
{
	char msg[128];

	if (!file && !json)
		return 0;
	snprintf(msg, sizeof(msg), file ? "%s takes no argument; the file is --output FILE"
				   : "%s has no --json: it writes its file", what);
	return usage_error(msg);
}

int npuctl_cluster_main(int argc, char **argv)
{
	const char *cmd = argv[0], *sub = NULL, *output = NULL, *file = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("usage:\n");
			npuctl_cluster_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--output") || !strcmp(a, "-o")) {
			if (++i == argc || !argv[i][0])
				return usage_error("--output needs a FILE ('-' for standard output)");
			output = argv[i];
		} else if (!strncmp(a, "--output=", 9)) {
			output = a + 9;
			if (!*output)
				return usage_error("--output needs a FILE ('-' for standard output)");
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "%s: unknown option '%s' for %s\n", prog, a, cmd);
			return usage_error("see the options below");
		} else if (!strcmp(cmd, "cdi") && !sub) {
			sub = a;
		} else if (!file) {
			file = a;
		} else {
			fprintf(stderr, "%s: %s: unexpected argument '%s'\n", prog, cmd, a);
			return usage_error("see the usage below");
		}
	}
	if (!strcmp(cmd, "labels"))
		return writer_args("labels", file, json) ?: labels(output ? output : NPU_LABELS_DEFAULT_FILE);
	if (!sub)
		return usage_error("cdi needs a subcommand: generate or list");
	if (!strcmp(sub, "generate"))
		return writer_args("cdi generate", file, json) ?:
		       cdi_generate(output ? output : NPU_CDI_DEFAULT_FILE);
	if (!strcmp(sub, "list")) {
		if (output)
			return usage_error("cdi list reads a spec: give its FILE, not --output");
		return cdi_list(file ? file : NPU_CDI_DEFAULT_FILE, json);
	}
	fprintf(stderr, "%s: unknown cdi subcommand '%s'\n", prog, sub);
	return usage_error("cdi takes generate or list");
}
