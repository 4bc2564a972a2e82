/* SPDX-License-Identifier: MIT */
/* Fake sysfs/dev trees for the host tests: files laid out like the driver's. */
#ifndef NPU_TESTS_HOST_FAKE_TREE_H
#define NPU_TESTS_HOST_FAKE_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Writes content to root/rel, making the directories below root; aborts on failure. */
static inline void put(const char *root, const char *rel, const char *content)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f)) {
		perror(path);
		abort();
	}
}

/* A card as the driver lays it out: attributes, PE entries with holders, device files. */
static inline void add_card(const char *root, unsigned int n, const char *holder0, const char *holder1)
{
	char rel[128], val[64];
	const char *files[] = { "npu%u_mgmt", "npu%u", "npu%upe0", "npu%upe1", "npu%upe0-1" };

	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/device_type", n);
	put(root, rel, "warboy\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/fw_version", n);
	put(root, rel, "1.0.0-emu\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/device_sn", n);
	snprintf(val, sizeof(val), "EMU%04u\n", n);
	put(root, rel, val);
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/busname", n);
	snprintf(val, sizeof(val), "0000:00:0%u.0\n", n + 3);
	put(root, rel, val);
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%u_mgmt/device_state", n);
	put(root, rel, "ready\n");
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%upe0/holder", n);
	put(root, rel, holder0);
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%upe1/holder", n);
	put(root, rel, holder1);
	snprintf(rel, sizeof(rel), "sys/class/npu_mgmt/npu%upe0-1/holder", n);
	put(root, rel, "pe0: free\npe1: free\n");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), files[i], n);
		snprintf(rel, sizeof(rel), "dev/%s", name);
		put(root, rel, "");
	}
}

#endif /* NPU_TESTS_HOST_FAKE_TREE_H */
