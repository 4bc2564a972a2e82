// SPDX-License-Identifier: MIT
/*
 * npuctl cdi generate|list and npuctl labels (tools/npuctl_cluster.c) on
 * fake sysfs/dev trees: the spec's devices, nodes and FURIOSA_DEVICES, the
 * atomic write, reading specs back (malformed ones included), the labels,
 * and which device files a container's npuctl list shows.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fake_tree.h"

/* The code under test, with its static functions. */
#include "../../tools/npuctl_cluster.c"
#include "../../tools/table.c"

/* add_card, and what the cluster commands read besides: platform and driver version. */
static void add_cluster_card(const char *root, unsigned int n, bool fused_node)
{
	char rel[128];

	add_card(root, n, "pe0: free\n", "pe1: free\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/platform_type", n);
	put(root, rel, "emulated\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/version", n);
	put(root, rel, "1.2.3\n");
	if (!fused_node) {
		char path[256];

		snprintf(path, sizeof(path), "%s/dev/npu%upe0-1", root, n);
		if (unlink(path))
			abort();
	}
}

/* The whole file, NUL-terminated, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

FIXTURE(tree)
{
	char root[64], out[128], err[128];
};

FIXTURE_SETUP(tree)
{
	char path[128];

	strcpy(self->root, "/tmp/npu-cluster-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	snprintf(path, sizeof(path), "%s/sys", self->root);
	setenv("NPU_SYSFS_ROOT", path, 1);
	snprintf(path, sizeof(path), "%s/dev", self->root);
	setenv("NPU_DEVFS_ROOT", path, 1);
	snprintf(self->out, sizeof(self->out), "%s/etc/cdi/spec.json", self->root);
	snprintf(self->err, sizeof(self->err), "%s/stderr", self->root);
	add_cluster_card(self->root, 0, true);
	add_cluster_card(self->root, 1, false);	/* no npu1pe0-1 node */
	put(self->root, "etc/.keep", "");
}

FIXTURE_TEARDOWN(tree)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", self->root);
}

/* Runs npuctl's cluster main with stdout and stderr in files; returns its status. */
static int run(const char *errfile, const char *a0, const char *a1, const char *a2,
	       const char *a3)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL };
	int argc = a1 ? a2 ? a3 ? 4 : 3 : 2 : 1;
	int saved_err = dup(2), saved_out = dup(1), fd, rc;

	fflush(stdout);
	fflush(stderr);
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	{
		char outfile[256];
		int ofd;

		snprintf(outfile, sizeof(outfile), "%s.out", errfile);
		ofd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(ofd, 1);
		close(ofd);
	}
	close(fd);
	rc = npuctl_cluster_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_err, 2);
	dup2(saved_out, 1);
	close(saved_err);
	close(saved_out);
	return rc;
}

TEST_F(tree, generate_writes_one_device_per_present_file_and_all)
{
	char *spec;
	struct stat st;

	ASSERT_EQ(0, run(self->err, "cdi", "generate", "--output", self->out));
	spec = slurp(self->out);
	ASSERT_NE(NULL, spec);
	ASSERT_EQ(0, stat(self->out, &st));
	EXPECT_EQ(0644, st.st_mode & 0777);
	EXPECT_NE(NULL, strstr(spec, "\"cdiVersion\": \"0.3.0\""));
	EXPECT_NE(NULL, strstr(spec, "\"kind\": \"npu-stack.org/npu\""));
	EXPECT_NE(NULL, strstr(spec,
		"\"name\": \"npu0pe1\",\n      \"containerEdits\": {\n        \"deviceNodes\": [\n"
		"            {\"path\": \"/dev/npu0pe1\"},\n            {\"path\": \"/dev/npu0_mgmt\"}\n"
		"        ],\n        \"env\": [\"FURIOSA_DEVICES=npu:0:1\"]"));
	EXPECT_NE(NULL, strstr(spec, "\"env\": [\"FURIOSA_DEVICES=npu:0:0-1\"]"));
	EXPECT_NE(NULL, strstr(spec, "\"env\": [\"FURIOSA_DEVICES=npu:1\"]"));
	EXPECT_NE(NULL, strstr(spec, "\"name\": \"all\""));
	/* npu1pe0-1 has no node: no device, and not in "all". */
	EXPECT_EQ(NULL, strstr(spec, "npu1pe0-1"));
	/* Nothing but the spec in the directory: the temporary file was renamed. */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s/etc/cdi')\" = spec.json", self->root);
		EXPECT_EQ(0, system(cmd));
	}
	free(spec);
	/* Read back: 8 devices (4 + 3 + all), all nodes present. */
	ASSERT_EQ(0, run(self->err, "cdi", "list", "--json", self->out));
	{
		char outfile[256], *out;
		size_t count = 0;

		snprintf(outfile, sizeof(outfile), "%s.out", self->err);
		out = slurp(outfile);
		ASSERT_NE(NULL, out);
		for (char *p = out; (p = strstr(p, "\"nodes_present\": true")); p++)
			count++;
		EXPECT_EQ(8u, count) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "\"name\": \"npu-stack.org/npu=npu1pe1\", \"device_nodes\": [\"/dev/npu1pe1\", \"/dev/npu1_mgmt\"], \"furiosa_devices\": \"npu:1:1\""));
		free(out);
	}
}

TEST_F(tree, list_marks_a_stale_spec)
{
	char path[256], outfile[256], *out;

	ASSERT_EQ(0, run(self->err, "cdi", "generate", "--output", self->out));
	snprintf(path, sizeof(path), "%s/dev/npu1pe1", self->root);
	ASSERT_EQ(0, unlink(path));
	ASSERT_EQ(0, run(self->err, "cdi", "list", self->out, NULL));
	snprintf(outfile, sizeof(outfile), "%s.out", self->err);
	out = slurp(outfile);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "| npu-stack.org/npu=npu1pe1 "));
	EXPECT_NE(NULL, strstr(out, "| npu:1:1         | NO         |")) TH_LOG("%s", out);
	free(out);
}

TEST_F(tree, generate_without_nodes_removes_the_spec)
{
	char path[256];

	ASSERT_EQ(0, run(self->err, "cdi", "generate", "--output", self->out));
	snprintf(path, sizeof(path), "%s/nodev", self->root);
	setenv("NPU_DEVFS_ROOT", path, 1);
	EXPECT_EQ(0, run(self->err, "cdi", "generate", "--output", self->out));
	EXPECT_NE(0, access(self->out, F_OK));
	/* No driver at all: no spec either, and a failure that says why. */
	snprintf(path, sizeof(path), "%s/nosys", self->root);
	setenv("NPU_SYSFS_ROOT", path, 1);
	EXPECT_EQ(1, run(self->err, "cdi", "generate", "--output", self->out));
	{
		char *err = slurp(self->err);

		ASSERT_NE(NULL, err);
		EXPECT_NE(NULL, strstr(err, "the npu driver is not loaded")) TH_LOG("%s", err);
		free(err);
	}
}

/* Each malformed spec is refused with a message naming the problem. */
TEST_F(tree, list_refuses_missing_and_malformed_specs)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "", "line 1, column 1: unexpected end of the file" },
		{ "{\"cdiVersion\": \"0.3.0\",", "unexpected end" },
		{ "{\"cdiVersion\": \"0.3.0\"} x", "text after the end" },
		{ "{\"a\": \"\\q\"}", "bad escape" },
		{ "{\"a\": \"\\u12\"}", "bad \\u escape" },
		{ "{\"a\" 1}", "expected ':'" },
		{ "[1, 2", "expected ',' or ']'" },
		{ "\"open", "unterminated string" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		  "nested too deeply" },
		{ "[]", "the top level is not an object" },
		{ "{\"kind\": \"a/b\", \"devices\": []}", "no \"cdiVersion\"" },
		{ "{\"cdiVersion\": \"0.3.0\", \"kind\": \"ab\", \"devices\": []}", "vendor/class" },
		{ "{\"cdiVersion\": \"0.3.0\", \"kind\": \"a/b\"}", "no \"devices\" array" },
		{ "{\"cdiVersion\": \"0.3.0\", \"kind\": \"a/b\", \"devices\": [{\"name\": \"x\"}]}",
		  "no \"containerEdits\"" },
		{ "{\"cdiVersion\": \"0.3.0\", \"kind\": \"a/b\", \"devices\": [{\"name\": \"x\", "
		  "\"containerEdits\": {\"deviceNodes\": [{\"major\": 1}]}}]}", "no \"path\"" },
		{ "{\"cdiVersion\": \"0.3.0\", \"kind\": \"a/b\", \"devices\": [{\"name\": \"x\", "
		  "\"containerEdits\": {\"env\": [1]}}]}", "\"env\" entry is not a string" },
	};
	char path[256];

	snprintf(path, sizeof(path), "%s/missing.json", self->root);
	EXPECT_EQ(1, run(self->err, "cdi", "list", path, NULL));
	{
		char *err = slurp(self->err);

		ASSERT_NE(NULL, err);
		EXPECT_NE(NULL, strstr(err, "No such file or directory (make it with 'npuctl cdi generate'"));
		free(err);
	}
	snprintf(path, sizeof(path), "%s/bad.json", self->root);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err;
		FILE *f = fopen(path, "w");

		ASSERT_NE(NULL, f);
		fputs(bad[i].text, f);
		fclose(f);
		EXPECT_EQ(1, run(self->err, "cdi", "list", path, NULL)) TH_LOG("spec %zu", i);
		err = slurp(self->err);
		ASSERT_NE(NULL, err);
		EXPECT_NE(NULL, strstr(err, bad[i].message)) TH_LOG("spec %zu: %s", i, err);
		free(err);
	}
	/* A valid spec with escapes and unknown fields is read. */
	{
		FILE *f = fopen(path, "w");

		ASSERT_NE(NULL, f);
		fputs("{\"cdiVersion\": \"0.6.0\", \"kind\": \"a/b\", \"annotations\": {\"x\": [true, null, -1.5e3]},"
		      " \"devices\": [{\"name\": \"d\\u00e9\\n\", \"containerEdits\": {\"env\": [\"FURIOSA_DEVICES=npu:0\"]}}]}",
		      f);
		fclose(f);
		EXPECT_EQ(0, run(self->err, "cdi", "list", path, NULL));
	}
}

TEST_F(tree, usage_errors_are_status_2)
{
	EXPECT_EQ(2, run(self->err, "cdi", NULL, NULL, NULL));
	EXPECT_EQ(2, run(self->err, "cdi", "frobnicate", NULL, NULL));
	EXPECT_EQ(2, run(self->err, "cdi", "generate", "--output", NULL));
	EXPECT_EQ(2, run(self->err, "cdi", "generate", "extra", NULL));
	EXPECT_EQ(2, run(self->err, "cdi", "list", "--output", "x"));
	EXPECT_EQ(2, run(self->err, "labels", "--bogus", NULL, NULL));
	EXPECT_EQ(0, run(self->err, "cdi", "--help", NULL, NULL));
}

TEST_F(tree, labels_name_count_family_product_and_versions)
{
	static const char *const want[] = {
		"npu-stack.org/npu.present=true\n", "npu-stack.org/npu.count=2\n",
		"npu-stack.org/npu.family=warboy\n", "npu-stack.org/npu.product=warboy-emulated\n",
		"npu-stack.org/npu.driver.version=1.2.3\n", "npu-stack.org/npu.driver.version.major=1\n",
		"npu-stack.org/npu.driver.version.minor=2\n", "npu-stack.org/npu.driver.version.patch=3\n",
		"npu-stack.org/npu.firmware.version=1.0.0-emu\n",
		"npu-stack.org/npu.firmware.version.patch=0\n",
	};
	char path[256], *labels;

	snprintf(path, sizeof(path), "%s/etc/features.d/npu", self->root);
	ASSERT_EQ(0, run(self->err, "labels", "--output", path, NULL));
	labels = slurp(path);
	ASSERT_NE(NULL, labels);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_NE(NULL, strstr(labels, want[i])) TH_LOG("no %s in:\n%s", want[i], labels);
	}
	free(labels);
	/* Cards that disagree: "mixed", no numeric parts; values made valid. */
	put(self->root, "sys/class/npu_mgmt/npu1_mgmt/fw_version", "2.0.0, 3c10fd3\n");
	ASSERT_EQ(0, run(self->err, "labels", "--output", path, NULL));
	labels = slurp(path);
	ASSERT_NE(NULL, labels);
	EXPECT_NE(NULL, strstr(labels, "npu-stack.org/npu.firmware.version=mixed\n"));
	EXPECT_EQ(NULL, strstr(labels, "firmware.version.major"));
	free(labels);
	{
		char v[64];

		label_value("1.6.0, 3c10fd3", v, sizeof(v));
		EXPECT_STREQ("1.6.0__3c10fd3", v);
		label_value("--x--", v, sizeof(v));
		EXPECT_STREQ("x", v);
	}
}

TEST_F(tree, a_container_sees_only_its_files_and_pes)
{
	npu_card_info c = { .index = 0, .pe_count = 2 };
	char path[256], files[128];

	EXPECT_EQ(3u, npuctl_present_files(&c, files, sizeof(files)));
	EXPECT_STREQ("npu0, npu0pe0, npu0pe1, npu0pe0-1", files);
	/* What a container given npu0pe1 has in /dev. */
	snprintf(path, sizeof(path), "%s/ctr", self->root);
	ASSERT_EQ(0, mkdir(path, 0755));
	put(path, "dev/npu0pe1", "");
	put(path, "dev/npu0_mgmt", "");
	snprintf(path, sizeof(path), "%s/ctr/dev", self->root);
	setenv("NPU_DEVFS_ROOT", path, 1);
	EXPECT_EQ(2u, npuctl_present_files(&c, files, sizeof(files)));
	EXPECT_STREQ("npu0pe1", files);
	c.index = 1;
	EXPECT_EQ(0u, npuctl_present_files(&c, files, sizeof(files)));
	EXPECT_STREQ("", files);
}

TEST_HARNESS_MAIN
