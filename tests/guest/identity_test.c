// SPDX-License-Identifier: MIT
/*
 * Device identity: what the driver reports through DEVICE_INFO must be what
 * the hardware registers say (read raw from BAR0 through sysfs), for every
 * card; the two emulated cards must be distinguishable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"

#define MAX_CARDS 8

TEST(two_cards_enumerated)
{
	char names[MAX_CARDS][NPU_STRING_LEN];
	int count = npu_pci_find(names, MAX_CARDS);

	ASSERT_LE(2, count) TH_LOG("found %d PCI functions %04x:%04x, the VM has two",
				   count, NPU_PCI_VENDOR_ID, NPU_PCI_DEVICE_ID);
	ASSERT_TRUE(npu_device_present(0)) TH_LOG("/dev/npu0_mgmt missing: driver not bound?");
	ASSERT_TRUE(npu_device_present(1)) TH_LOG("/dev/npu1_mgmt missing: driver not bound?");
}

TEST(pci_config_matches_header)
{
	char names[MAX_CARDS][NPU_STRING_LEN];
	int count = npu_pci_find(names, MAX_CARDS);

	ASSERT_LE(1, count);
	for (int i = 0; i < count; i++) {
		char path[512];
		unsigned int class_code = 0, revision = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", names[i]);
		f = fopen(path, "re");
		ASSERT_NE(NULL, f);
		ASSERT_EQ(1, fscanf(f, "%x", &class_code));
		fclose(f);
		EXPECT_EQ(NPU_PCI_CLASS, class_code >> 8) TH_LOG("%s class 0x%06x", names[i],
								 class_code);

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/revision", names[i]);
		f = fopen(path, "re");
		ASSERT_NE(NULL, f);
		ASSERT_EQ(1, fscanf(f, "%x", &revision));
		fclose(f);
		EXPECT_EQ(NPU_PCI_REVISION, revision);
	}
}

TEST(uapi_version)
{
	struct npu_version ver = { 0 };
	int fd = npu_open(0, NPU_FILE_MGMT, 0);

	ASSERT_LE(0, fd) TH_LOG("open /dev/npu0_mgmt: %s", strerror(-fd));
	ASSERT_EQ(0, ioctl(fd, NPU_IOCTL_VERSION, &ver)) TH_LOG("VERSION: %s", strerror(errno));
	EXPECT_EQ(NPU_UAPI_VERSION_MAJOR, ver.major);
	EXPECT_LE(NPU_UAPI_VERSION_MINOR, ver.minor);
	close(fd);
}

FIXTURE(card)
{
	int fd;
	struct npu_device_info info;
	struct npu_bar bar;
};

NPU_CARD_VARIANTS(card);

FIXTURE_SETUP(card)
{
	int ret;

	self->fd = npu_open(variant->dev, NPU_FILE_MGMT, 0);
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/npu%u_mgmt: %s", variant->dev,
				      strerror(-self->fd));
	ret = npu_device_info(self->fd, &self->info);
	ASSERT_EQ(0, ret) TH_LOG("DEVICE_INFO: %s", strerror(-ret));
	ASSERT_NE(NULL, memchr(self->info.busname, 0, sizeof(self->info.busname)));
	ret = npu_bar_map(self->info.busname, &self->bar);
	ASSERT_EQ(0, ret) TH_LOG("map BAR0 of '%s': %s", self->info.busname, strerror(-ret));
}

FIXTURE_TEARDOWN(card)
{
	npu_bar_unmap(&self->bar);
	if (self->fd >= 0)
		close(self->fd);
}

/* The busname the driver reports is a PCI function with our IDs. */
TEST_F(card, busname_is_npu_function)
{
	char names[MAX_CARDS][NPU_STRING_LEN];
	int count = npu_pci_find(names, MAX_CARDS);
	bool found = false;

	for (int i = 0; i < count; i++)
		found |= !strcmp(names[i], self->info.busname);
	EXPECT_TRUE(found) TH_LOG("busname '%s' is not a %04x:%04x function",
				  self->info.busname, NPU_PCI_VENDOR_ID, NPU_PCI_DEVICE_ID);
	EXPECT_EQ(variant->dev, self->info.index);
}

/*
 * The identity register reg (a string of NPU_ID_STRING_LEN bytes) is not
 * empty, and the driver's NUL-terminated copy `field` matches it. A macro:
 * its ASSERT and EXPECTs act on the calling test.
 */
#define EXPECT_ID_STRING(bar, reg, field, reg_name) do { \
	char reg_str[NPU_ID_STRING_LEN + 1] = { 0 }; \
	npu_bar_read_bytes((bar), (reg), reg_str, NPU_ID_STRING_LEN); \
	ASSERT_NE(NULL, memchr((field), 0, NPU_STRING_LEN)); \
	EXPECT_NE(0, reg_str[0]) TH_LOG("empty " reg_name " register"); \
	EXPECT_EQ(0, strncmp(reg_str, (field), NPU_STRING_LEN - 1)) \
		TH_LOG("%s: driver '%s', BAR0 '%s'", reg_name, (field), reg_str); \
} while (0)

TEST_F(card, info_matches_bar0)
{
	const struct npu_bar *bar = &self->bar;
	uint8_t uuid[NPU_UUID_LEN];
	static const uint8_t zero_uuid[NPU_UUID_LEN];

	/* fixed by npu_hw.h */
	ASSERT_EQ(NPU_MAGIC, npu_bar_read32(bar, NPU_REG_MAGIC));
	EXPECT_EQ(NPU_MAX_PES, npu_bar_read32(bar, NPU_REG_PE_COUNT));
	EXPECT_EQ(NPU_MAX_PES, self->info.pe_count);
	EXPECT_EQ((unsigned int)(NPU_HW_REV_MAJOR << 16 | NPU_HW_REV_MINOR),
		  npu_bar_read32(bar, NPU_REG_HW_REV));

	/* reported by the driver as read from the device */
	EXPECT_EQ(npu_bar_read32(bar, NPU_REG_HW_REV), self->info.hw_rev);
	EXPECT_EQ(npu_bar_read64(bar, NPU_REG_DRAM_SIZE), self->info.dram_size);
	EXPECT_EQ(npu_bar_read32(bar, NPU_REG_CLOCK_MHZ), self->info.clock_mhz);
	EXPECT_NE(0, self->info.dram_size);
	EXPECT_NE(0, self->info.clock_mhz);

	EXPECT_ID_STRING(bar, NPU_REG_FW_VERSION, self->info.fw_version, "FW_VERSION");
	EXPECT_ID_STRING(bar, NPU_REG_SERIAL, self->info.serial, "SERIAL");

	npu_bar_read_bytes(bar, NPU_REG_UUID, uuid, sizeof(uuid));
	EXPECT_EQ(0, memcmp(uuid, self->info.uuid, NPU_UUID_LEN));
	EXPECT_NE(0, memcmp(uuid, zero_uuid, NPU_UUID_LEN)) TH_LOG("all-zero UUID");
	/* docs/hardware.md: version 8 (RFC 9562 custom), variant 10 */
	EXPECT_EQ(0x80, uuid[6] & 0xf0) TH_LOG("UUID version byte 0x%02x", uuid[6]);
	EXPECT_EQ(0x80, uuid[8] & 0xc0) TH_LOG("UUID variant byte 0x%02x", uuid[8]);

	EXPECT_NE(0, npu_bar_read32(bar, NPU_REG_CAPS) & NPU_CAP_FUSED);
	/* management file: no PEs */
	EXPECT_EQ(0, self->info.pe_mask);
	EXPECT_EQ(0, self->info.fused);
}

static int read_attr(unsigned int dev, const char *name, char *buf, size_t len)
{
	char path[256];
	FILE *f;
	char *nl;

	snprintf(path, sizeof(path), "/sys/class/npu_mgmt/npu%u_mgmt/%s", dev, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return 0;
}

/* The driver's sysfs identity attributes say what DEVICE_INFO says. */
TEST_F(card, sysfs_identity)
{
	char buf[128], hex[64];
	size_t n = 0;

	ASSERT_EQ(0, read_attr(variant->dev, "device_sn", buf, sizeof(buf)));
	EXPECT_STREQ(self->info.serial, buf);
	ASSERT_EQ(0, read_attr(variant->dev, "fw_version", buf, sizeof(buf)));
	EXPECT_STREQ(self->info.fw_version, buf);
	ASSERT_EQ(0, read_attr(variant->dev, "busname", buf, sizeof(buf)));
	EXPECT_STREQ(self->info.busname, buf);
	ASSERT_EQ(0, read_attr(variant->dev, "device_uuid", buf, sizeof(buf)));
	for (int i = 0; i < NPU_UUID_LEN; i++)
		n += snprintf(hex + n, sizeof(hex) - n, "%02x", self->info.uuid[i]);
	/* compare the hex digits, whatever the dashes and case */
	n = 0;
	for (char *c = buf; *c; c++) {
		if (*c == '-')
			continue;
		if (n >= 32 || (*c | 0x20) != hex[n]) {
			EXPECT_STREQ(hex, buf);
			break;
		}
		n++;
	}
	EXPECT_EQ(32, n) TH_LOG("device_uuid '%s', DEVICE_INFO %s", buf, hex);
}

/* The PE partitions lie back to back inside DRAM, as fused mode needs. */
TEST_F(card, partitions_back_to_back)
{
	uint64_t base0 = npu_bar_read64(&self->bar, NPU_PE_BASE(0) + NPU_PE_DRAM_BASE);
	uint64_t size0 = npu_bar_read64(&self->bar, NPU_PE_BASE(0) + NPU_PE_DRAM_SIZE);
	uint64_t base1 = npu_bar_read64(&self->bar, NPU_PE_BASE(1) + NPU_PE_DRAM_BASE);
	uint64_t size1 = npu_bar_read64(&self->bar, NPU_PE_BASE(1) + NPU_PE_DRAM_SIZE);

	EXPECT_NE(0, size0);
	EXPECT_NE(0, size1);
	EXPECT_EQ(base0 + size0, base1);
	EXPECT_LE(base1 + size1, self->info.dram_size);
}

/* Each file kind reports the PEs it drives and the DRAM window of its jobs. */
TEST_F(card, per_file_info)
{
	uint64_t size0 = npu_bar_read64(&self->bar, NPU_PE_BASE(0) + NPU_PE_DRAM_SIZE);
	uint64_t size1 = npu_bar_read64(&self->bar, NPU_PE_BASE(1) + NPU_PE_DRAM_SIZE);

	for (int kind = NPU_FILE_ALL; kind < NPU_FILE_MGMT; kind++) {
		struct npu_device_info info;
		int fd = npu_open(variant->dev, kind, 0);

		ASSERT_LE(0, fd) TH_LOG("open %s: %s", npu_file_kind_name(kind), strerror(-fd));
		ASSERT_EQ(0, npu_device_info(fd, &info));
		close(fd);

		EXPECT_EQ(npu_file_pe_mask(kind), info.pe_mask)
			TH_LOG("%s: pe_mask %#x", npu_file_kind_name(kind), info.pe_mask);
		EXPECT_EQ(kind == NPU_FILE_FUSED, info.fused)
			TH_LOG("%s: fused %u", npu_file_kind_name(kind), info.fused);
		EXPECT_EQ(self->info.dram_size, info.dram_size);
		EXPECT_EQ(0, strcmp(self->info.serial, info.serial));
		EXPECT_EQ(0, strcmp(self->info.busname, info.busname));
		EXPECT_EQ(variant->dev, info.index);
		switch (kind) {
		case NPU_FILE_PE0:
			EXPECT_EQ(size0, info.dram_window);
			break;
		case NPU_FILE_PE1:
			EXPECT_EQ(size1, info.dram_window);
			break;
		case NPU_FILE_FUSED:
			EXPECT_EQ(self->info.dram_size, info.dram_window);
			break;
		default:
			/* a job of /dev/npuN may land on either PE */
			EXPECT_EQ(size0 < size1 ? size0 : size1, info.dram_window);
			break;
		}
	}
}

/* The two cards are told apart by every identifying field. */
TEST(cards_differ)
{
	struct npu_device_info info[2];

	for (int dev = 0; dev < 2; dev++) {
		int fd = npu_open(dev, NPU_FILE_MGMT, 0);

		ASSERT_LE(0, fd) TH_LOG("open /dev/npu%d_mgmt: %s", dev, strerror(-fd));
		ASSERT_EQ(0, npu_device_info(fd, &info[dev]));
		close(fd);
	}
	EXPECT_NE(info[0].index, info[1].index);
	EXPECT_NE(0, strcmp(info[0].serial, info[1].serial))
		TH_LOG("both cards report serial '%s'", info[0].serial);
	EXPECT_NE(0, memcmp(info[0].uuid, info[1].uuid, NPU_UUID_LEN));
	EXPECT_NE(0, strcmp(info[0].busname, info[1].busname));
}

/* The management file has many openers and does not take any PE. */
TEST(mgmt_many_openers)
{
	int fds[4];

	for (int i = 0; i < 4; i++) {
		fds[i] = npu_open(0, NPU_FILE_MGMT, 0);
		ASSERT_LE(0, fds[i]) TH_LOG("mgmt open #%d: %s", i, strerror(-fds[i]));
	}
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
