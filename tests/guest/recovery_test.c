// SPDX-License-Identifier: MIT
/*
 * The card goes away or is reset while both of its PEs run self-checking
 * jobs, waiters blocked in WAIT forever and PE0 possibly hung:
 *   unbind/rebind (20 cycles), FLR through sysfs `reset` (5), the link going
 *   down (LINK_DOWN armed through debugfs) then remove + rescan (3),
 * and, driven from the host by tests/reliability/qmp_reliability.py over
 * QMP, hot-unplug (device_del/device_add), AER errors and link down armed
 * with qom-set (the "agent" mode below).
 *
 * After each: every waiter came back (no hang), every job is accounted for
 * (OK with correct data, or an error status: DEVICE_LOST/CANCELLED/HANG, or
 * ENODEV once the card is gone), old files answer ENODEV and poll
 * POLLERR|POLLHUP, BO mappings stay readable, and the card (re)appears and
 * runs jobs on both PEs. The VM loop fails on any kernel warning.
 *
 * As a kselftest it uses the last card (card 0 stays for everyone else).
 * Agent mode: `recovery_test agent PHASE:CYCLES...` with PHASE one of
 * unbind, flr, link, unplug, aer, link_qmp; prints "NPUREL: READY phase n"
 * when the host may act, "NPUREL: GONE phase n" when the host may re-add the
 * device, "NPUREL: RESULT phase n ok|fail detail" per cycle (for aer, the
 * detail starts "aer=KIND:", the kind of error that arrived, which the host
 * compares with what it injected), and finally "NPUREL: TOTAL passed failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fault_util.h"
#include "npu_sys_util.h"

#define DEPTH		4
#define MAX_CARDS	4

/* ---- load: a thread per PE, WAIT without timeout ---- */

struct pe_load {
	pthread_t thread;
	int fd;
	unsigned int pe;
	struct npu_vjob_ctx ctx;
	volatile int *stop;
	bool forever;		/* WAIT with no timeout: the driver must release it */
	bool done;
	pid_t tid;		/* for its kernel stack when it hangs */
	/* results */
	unsigned long submitted, collected, ok, bad_data, status[8], enodev, other;
	unsigned long wait_enodev;	/* WAIT on an uncollected job said ENODEV: result lost */
	int other_err;
	bool lost;		/* saw DEVICE_LOST or ENODEV */
};

struct load {
	int card;
	char busname[NPU_STRING_LEN];
	volatile int stop;
	struct pe_load pe[NPU_MAX_PES];
};

static void pe_result(struct pe_load *pl, int ret, const struct npu_wait *w, unsigned int slot)
{
	if (ret == 0) {
		pl->collected++;
		pl->ok++;
		if (npu_vjob_check(&pl->ctx, slot))
			pl->bad_data++;
	} else if (ret == -EIO) {
		pl->collected++;
		if (w->status < 8)
			pl->status[w->status]++;
		if (w->status == NPU_JOB_DEVICE_LOST)
			pl->lost = true;
	} else if (ret == -ENODEV) {
		pl->enodev++;
		pl->wait_enodev++;
		pl->lost = true;
	} else {
		pl->other++;
		pl->other_err = ret;
	}
}

static void *pe_load_main(void *arg)
{
	struct pe_load *pl = arg;
	uint64_t seq[DEPTH];
	unsigned int head = 0, n = 0;

	pl->tid = gettid();

	for (;;) {
		while (!*pl->stop && !pl->lost && !pl->other && n < DEPTH) {
			unsigned int slot = (head + n) % DEPTH;
			int ret = npu_vjob_submit(&pl->ctx, slot, &seq[slot]);

			if (ret == -ENODEV) {
				pl->enodev++;
				pl->lost = true;
				break;
			}
			if (ret == -EAGAIN || ret == -EINTR) {
				usleep(10000);
				break;
			}
			if (ret) {
				pl->other++;
				pl->other_err = ret;
				break;
			}
			pl->submitted++;
			n++;
		}
		if (!n) {
			if (*pl->stop || pl->lost || pl->other)
				break;
			continue;
		}
		{
			struct npu_wait w;
			int ret = npu_wait(pl->fd, seq[head], pl->forever ? -1 : 30000000000ll, &w);

			pe_result(pl, ret, &w, head);
			if (ret == -ENODEV) {
				/* nothing left to collect on a gone card: the rest are lost too */
				break;
			}
		}
		head = (head + 1) % DEPTH;
		n--;
	}
	pl->done = true;
	return NULL;
}

static int card_of_busname(const char *busname)
{
	for (int c = 0; c < MAX_CARDS; c++) {
		struct npu_device_info info;
		int fd = npu_open(c, NPU_FILE_MGMT, 0);

		if (fd < 0)
			continue;
		if (npu_device_info(fd, &info) == 0 && !strcmp(info.busname, busname)) {
			close(fd);
			return c;
		}
		close(fd);
	}
	return -ENODEV;
}

static int wait_card(const char *busname, bool present, unsigned int ms)
{
	uint64_t end = npu_now_ns() + (uint64_t)ms * 1000000;

	for (;;) {
		int card = card_of_busname(busname);

		if (present && card >= 0) {
			char pe0[64], pe1[64];

			/* the PE nodes appear after the management node */
			npu_file_path(pe0, sizeof(pe0), card, NPU_FILE_PE0);
			npu_file_path(pe1, sizeof(pe1), card, NPU_FILE_PE1);
			if (!access(pe0, F_OK) && !access(pe1, F_OK))
				return card;
		}
		if (!present && card < 0)
			return 0;
		if (npu_now_ns() > end)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

static int load_start(struct load *l, int card, bool forever, char *err, size_t len)
{
	l->stop = 0;
	l->card = card;
	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		struct pe_load *pl = &l->pe[p];
		int ret;

		memset(pl, 0, sizeof(*pl));
		pl->pe = p;
		pl->stop = &l->stop;
		pl->forever = forever;
		pl->fd = npu_open(card, p ? NPU_FILE_PE1 : NPU_FILE_PE0, 0);
		if (pl->fd < 0) {
			snprintf(err, len, "open card %d pe%u: %s", card, p, strerror(-pl->fd));
			return pl->fd;
		}
		ret = npu_vjob_init(&pl->ctx, pl->fd, 0, DEPTH, 0x100000, 0x5eed + p);
		if (ret) {
			snprintf(err, len, "buffers on pe%u: %s", p, strerror(-ret));
			return ret;
		}
		ret = pthread_create(&pl->thread, NULL, pe_load_main, pl);
		if (ret) {
			snprintf(err, len, "pthread_create: %s", strerror(ret));
			return -ret;
		}
	}
	return 0;
}

/* Joins the load threads within ms; -ETIMEDOUT names a waiter that hangs. */
static int load_join(struct load *l, unsigned int ms, char *err, size_t len)
{
	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += ms / 1000;
		if (pthread_timedjoin_np(l->pe[p].thread, NULL, &ts)) {
			char path[64], stack[512] = "";
			int fd;

			/* where it sleeps in the kernel, for the report */
			snprintf(path, sizeof(path), "/proc/self/task/%d/stack", (int)l->pe[p].tid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t n = read(fd, stack, sizeof(stack) - 1);

				stack[n > 0 ? n : 0] = 0;
				close(fd);
				for (char *c = stack; *c; c++)
					if (*c == '\n')
						*c = '|';
			}
			snprintf(err, len, "pe%u: a waiter did not come back within %u ms; "
				 "kernel stack: %s", p, ms, stack);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static void load_close(struct load *l)
{
	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		npu_vjob_fini(&l->pe[p].ctx);
		if (l->pe[p].fd >= 0)
			close(l->pe[p].fd);
		l->pe[p].fd = -1;
	}
}

static void load_summary(const struct load *l, char *buf, size_t len)
{
	size_t used = 0;

	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		const struct pe_load *pl = &l->pe[p];

		used += (size_t)snprintf(buf + used, len - used,
					 "%spe%u %lu jobs: %lu OK, %lu lost, %lu cancelled, %lu hang, "
					 "%lu ENODEV", p ? "; " : "", p, pl->submitted, pl->ok,
					 pl->status[NPU_JOB_DEVICE_LOST],
					 pl->status[NPU_JOB_CANCELLED], pl->status[NPU_JOB_HANG],
					 pl->enodev);
		if (used >= len)
			break;
	}
}

/*
 * Every job accounted for. removal: the threads ended by losing the card;
 * otherwise no job may be lost and none may see ENODEV.
 */
static int load_verify(const struct load *l, bool removal, char *err, size_t len)
{
	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		const struct pe_load *pl = &l->pe[p];
		unsigned long bad_status = pl->status[NPU_JOB_BAD_DESC] +
			pl->status[NPU_JOB_DRAM_OOB] + pl->status[NPU_JOB_DMA_FAULT] +
			pl->status[NPU_JOB_TIMEOUT];

		if (pl->bad_data) {
			snprintf(err, len, "pe%u: %lu jobs OK with wrong data", p, pl->bad_data);
			return -EBADMSG;
		}
		if (pl->other) {
			snprintf(err, len, "pe%u: unexpected %s", p, strerror(-pl->other_err));
			return -EPROTO;
		}
		if (bad_status) {
			snprintf(err, len, "pe%u: %lu jobs with a device error status", p,
				 bad_status);
			return -EPROTO;
		}
		if (pl->wait_enodev) {
			snprintf(err, len, "pe%u: WAIT on %lu submitted, uncollected jobs returned "
				 "ENODEV instead of their result", p, pl->wait_enodev);
			return -EPROTO;
		}
		if (removal && !pl->lost) {
			snprintf(err, len, "pe%u: never saw DEVICE_LOST or ENODEV", p);
			return -EPROTO;
		}
		if (!removal && (pl->lost || pl->enodev)) {
			snprintf(err, len, "pe%u: lost the card in a reset", p);
			return -EPROTO;
		}
		if (!removal && !pl->ok) {
			snprintf(err, len, "pe%u: no job completed", p);
			return -EPROTO;
		}
		if (pl->collected + pl->enodev < pl->submitted && !removal) {
			snprintf(err, len, "pe%u: %lu of %lu jobs never reported", p,
				 pl->submitted - pl->collected, pl->submitted);
			return -EPROTO;
		}
	}
	return 0;
}

/* The old files after the card left: ENODEV everywhere, mappings readable. */
static int check_dead_files(const struct load *l, char *err, size_t len)
{
	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		const struct pe_load *pl = &l->pe[p];
		struct pollfd pfd = { .fd = pl->fd, .events = POLLIN | POLLOUT };
		struct npu_device_info info;
		int ret;

		ret = npu_wait(pl->fd, NPU_WAIT_ANY, 0, NULL);
		if (ret != -ENODEV && ret != -ENOENT) {
			snprintf(err, len, "pe%u: WAIT_ANY after removal: %s", p, strerror(-ret));
			return -EPROTO;
		}
		ret = npu_device_info(pl->fd, &info);
		if (ret != -ENODEV) {
			snprintf(err, len, "pe%u: DEVICE_INFO after removal: %s", p,
				 strerror(-ret));
			return -EPROTO;
		}
		if (poll(&pfd, 1, 0) != 1 || (pfd.revents & (POLLERR | POLLHUP)) !=
		    (POLLERR | POLLHUP)) {
			snprintf(err, len, "pe%u: poll revents 0x%x after removal", p, pfd.revents);
			return -EPROTO;
		}
		/* the mapping still reads (no SIGBUS) */
		(void)*(volatile uint8_t *)pl->ctx.in.map;
	}
	return 0;
}

/* A fresh job on both PEs of the card (retrying while a release finishes). */
static int card_works(int card, char *err, size_t len)
{
	for (unsigned int p = 0; p < NPU_MAX_PES; p++) {
		struct npu_vjob_ctx ctx;
		uint64_t seq;
		int fd = -EAGAIN, ret;

		for (int i = 0; i < 200 && (fd == -EAGAIN || fd == -EBUSY); i++) {
			fd = npu_open(card, p ? NPU_FILE_PE1 : NPU_FILE_PE0, 0);
			if (fd == -EAGAIN || fd == -EBUSY)
				usleep(50000);
		}
		if (fd < 0) {
			snprintf(err, len, "open pe%u afterwards: %s", p, strerror(-fd));
			return fd;
		}
		ret = npu_vjob_init(&ctx, fd, 0, 1, 0x300000, 99);
		if (!ret)
			ret = npu_vjob_submit(&ctx, 0, &seq);
		if (!ret)
			ret = npu_wait(fd, seq, 30000000000ll, NULL);
		if (!ret)
			ret = npu_vjob_check(&ctx, 0);
		npu_vjob_fini(&ctx);
		close(fd);
		if (ret) {
			snprintf(err, len, "a job on pe%u afterwards: %s", p, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int sysfs_pci_write(const char *busname, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", busname, attr);
	return npu_write_file(path, val);
}

static int debugfs_write(const char *busname, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/kernel/debug/npu/%s/%s", busname, file);
	return npu_write_file(path, val);
}

/*
 * Disarms every fault through BAR0 (sysfs resource0 works without a driver):
 * fault switches survive unbind and every reset, so an unlimited HANG armed
 * for the cycle would hang the rebound card. Returns what FAULT_ARM still
 * reads (0 when done), or ~0u when BAR0 cannot be mapped.
 */
static uint32_t disarm_via_bar0_once(const char *busname)
{
	char path[256];
	uint32_t armed;
	void *map;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", busname,
		 NPU_BAR_REGS);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return ~0u;
	map = mmap(NULL, NPU_REGS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return ~0u;
	/* remove's DEV_CTRL.RESET: writes are ignored until READY again */
	for (int i = 0; i < 100; i++) {
		if (*(volatile uint32_t *)((uint8_t *)map + NPU_REG_DEV_STATUS) &
		    NPU_DEV_STATUS_READY)
			break;
		usleep(1000);
	}
	*(volatile uint32_t *)((uint8_t *)map + NPU_REG_FAULT_DISARM) = NPU_FAULT_ALL;
	/* back to the power-on arming defaults: all PEs, fire once */
	*(volatile uint32_t *)((uint8_t *)map + NPU_REG_FAULT_PE_MASK) = 3;
	*(volatile uint32_t *)((uint8_t *)map + NPU_REG_FAULT_COUNT) = 1;
	armed = *(volatile uint32_t *)((uint8_t *)map + NPU_REG_FAULT_ARM);
	munmap(map, NPU_REGS_SIZE);
	return armed;
}

/*
 * Unbind resets the device, which ignores register writes until it is READY
 * again: a disarm written in that window was lost once in 150 cycles. So
 * wait for READY, and check and retry for up to a second. The model is not
 * READY for 1 ms of virtual time, which runs with the host's clock: the
 * 100 x 1 ms poll and the 1 s of retries are 100 and 1000 times that, and
 * the retry reads FAULT_ARM back, so success is checked, not assumed.
 */
static uint32_t disarm_via_bar0(const char *busname)
{
	uint32_t armed = ~0u;

	for (int tries = 0; tries < 50 && armed; tries++) {
		if (tries)
			usleep(20000);
		armed = disarm_via_bar0_once(busname);
	}
	return armed;
}

/* Kernel log lines that show a bug, counted over the whole log buffer. */
static long kernel_bug_lines(void)
{
	static const char *const pats[] = {
		"WARNING:", "BUG:", "Oops", "general protection fault", "UBSAN:",
		"circular locking dependency", "suspicious RCU usage", "Call Trace:",
		"device recovery failed",	/* the AER core gave up on a device */
	};
	int size = klogctl(10, NULL, 0);
	char *buf;
	long count = 0;
	int n;

	if (size <= 0)
		return 0;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return 0;
	n = klogctl(3, buf, size);
	if (n > 0) {
		buf[n] = 0;
		for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
			for (char *p = strstr(buf, pats[i]); p; p = strstr(p + 1, pats[i]))
				count++;
	}
	free(buf);
	return count;
}

/*
 * Evidence that an injected AER error arrived. The root port's totals
 * (aer_rootport_total_err_*) count every message it received, fatal ones
 * included (the kernel logs those as "Inaccessible" and leaves the device's
 * own counters alone); unlike kernel log lines they neither race with the
 * injection nor fall out of a full log buffer. Which of the three rose
 * names the kind of error that arrived. Also gives the port's name.
 */
enum { AER_COR, AER_NONFATAL, AER_FATAL, AER_KINDS };

static int aer_root_port_counts(const char *busname, long long v[AER_KINDS], char *port_name,
				size_t name_len)
{
	static const char *const kinds[AER_KINDS] = { "cor", "nonfatal", "fatal" };
	char dev[300], *port;
	int ret = 0;

	snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", busname);
	port = realpath(dev, NULL);
	if (!port)
		return -errno;
	*strrchr(port, '/') = 0;	/* the upstream port's sysfs directory */
	if (port_name)
		snprintf(port_name, name_len, "%s", strrchr(port, '/') + 1);
	for (size_t i = 0; i < AER_KINDS; i++) {
		char path[400];
		uint64_t u;

		snprintf(path, sizeof(path), "%s/aer_rootport_total_err_%s", port, kinds[i]);
		ret = npu_read_u64(path, &u);
		if (ret)
			break;
		v[i] = (long long)u;
	}
	free(port);
	return ret;
}

/*
 * Offset of the device's Correctable Error Status register (AER extended
 * capability + 0x10) in its config space, or 0 if it has none.
 */
static off_t aer_cor_status_offset(int cfg)
{
	off_t off = 0x100;

	for (int hops = 0; off >= 0x100 && hops < 64; hops++) {
		uint32_t hdr;

		if (pread(cfg, &hdr, sizeof(hdr), off) != (ssize_t)sizeof(hdr) || !hdr)
			return 0;
		if ((hdr & 0xffff) == 0x0001)	/* PCI_EXT_CAP_ID_ERR */
			return off + 0x10;
		off = (hdr >> 20) & 0xffc;
	}
	return 0;
}

/*
 * Reads the device's Correctable Error Status and, with clear, writes the
 * bits back (RW1C). QEMU 7.2 records an injected correctable error there
 * but forwards only uncorrectable messages to the root port
 * (pcie_aer_msg_alldev()), so for correctable errors this is the evidence.
 * Returns the bits, or 0 if unreadable.
 */
static uint32_t aer_cor_status(const char *busname, bool clear)
{
	char path[300];
	uint32_t bits = 0;
	off_t off;
	int cfg;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", busname);
	cfg = open(path, clear ? O_RDWR : O_RDONLY);
	if (cfg < 0)
		return 0;
	off = aer_cor_status_offset(cfg);
	if (off && pread(cfg, &bits, sizeof(bits), off) != (ssize_t)sizeof(bits))
		bits = 0;
	if (bits && clear && pwrite(cfg, &bits, sizeof(bits), off) != (ssize_t)sizeof(bits))
		bits = 0;
	close(cfg);
	return bits;
}

/* ---- AER: what arrived, and what the driver and the AER core did with it ---- */

/* What arrived of an injected error; the RESULT line says "aer=<name>" for the host. */
enum aer_seen { SEEN_NONE, SEEN_COR_DEVICE, SEEN_COR, SEEN_NONFATAL, SEEN_FATAL };
static const char *const aer_seen_name[] = {
	[SEEN_NONE] = "none", [SEEN_COR_DEVICE] = "cor-device", [SEEN_COR] = "cor",
	[SEEN_NONFATAL] = "nonfatal", [SEEN_FATAL] = "fatal",
};

struct aer_watch {
	char port[NPU_STRING_LEN];	/* the root port's busname */
	long long port0[AER_KINDS];	/* its counters before the injection */
	uint64_t resets0;		/* the card's device resets before */
	int kmsg;			/* /dev/kmsg, positioned at the injection */
	enum aer_seen seen;
	int channel_state;		/* from the driver's "PCI error, channel state N" */
	int restarted;			/* resume: "device restarted after a PCI reset" 1, "... failed" -1 */
	int recovery;			/* the AER core: "device recovery successful" 1, "failed" -1 */
};

static int device_resets(int card, uint64_t *count)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/npu_mgmt/npu%d_mgmt/reset_count", card);
	return npu_read_u64(path, count);
}

/*
 * Before READY: from here on every kernel log record is read through
 * /dev/kmsg (opened at its end, so nothing logged before counts and nothing
 * logged after is missed, however fast the host injects).
 */
static int aer_watch_begin(struct aer_watch *w, const char *busname, int card)
{
	int ret;

	aer_cor_status(busname, true);
	w->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (w->kmsg < 0)
		return -errno;
	if (lseek(w->kmsg, 0, SEEK_END) < 0)
		return -errno;
	ret = aer_root_port_counts(busname, w->port0, w->port, sizeof(w->port));
	return ret ?: device_resets(card, &w->resets0);
}

/* Notes what the records logged since aer_watch_begin() say about this card. */
static void aer_watch_scan(struct aer_watch *w, const char *busname)
{
	char rec[2048], dev[NPU_STRING_LEN + 4], port[NPU_STRING_LEN + 4];

	snprintf(dev, sizeof(dev), "%s: ", busname);
	snprintf(port, sizeof(port), "%s: ", w->port);
	for (;;) {
		ssize_t n = read(w->kmsg, rec, sizeof(rec) - 1);
		const char *msg, *p;

		/* EPIPE: records were overwritten unread; what they said stays unseen (a fail) */
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;	/* EAGAIN: nothing more yet */
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		if ((p = strstr(msg, dev))) {
			p += strlen(dev);
			if (!strncmp(p, "PCI error, channel state ", 25))
				w->channel_state = atoi(p + 25);
			else if (!strncmp(p, "device restarted after a PCI reset", 34))
				w->restarted = strstr(p, "failed") ? -1 : 1;
		} else if ((p = strstr(msg, port))) {
			if (strstr(p, "device recovery successful"))
				w->recovery = 1;
			else if (strstr(p, "device recovery failed"))
				w->recovery = -1;
		}
	}
}

/*
 * After READY: waits for the error to arrive (a root port counter, or for a
 * correctable error under QEMU 7.2 the device's status bit) and, for an
 * uncorrectable one, for the AER core's last word on its recovery. The
 * deadlines are generous; the waits end at the event.
 */
static void aer_watch_wait(struct aer_watch *w, const char *busname)
{
	uint64_t end = npu_now_ns() + 30000000000ull;

	while (w->seen == SEEN_NONE && npu_now_ns() < end) {
		long long v[AER_KINDS];

		if (!aer_root_port_counts(busname, v, NULL, 0)) {
			if (v[AER_FATAL] > w->port0[AER_FATAL])
				w->seen = SEEN_FATAL;
			else if (v[AER_NONFATAL] > w->port0[AER_NONFATAL])
				w->seen = SEEN_NONFATAL;
			else if (v[AER_COR] > w->port0[AER_COR])
				w->seen = SEEN_COR;
		}
		if (w->seen == SEEN_NONE && aer_cor_status(busname, false))
			w->seen = SEEN_COR_DEVICE;
		if (w->seen == SEEN_NONE)
			usleep(20000);
	}
	end = npu_now_ns() + 30000000000ull;
	while ((w->seen == SEEN_NONFATAL || w->seen == SEEN_FATAL) && !w->recovery &&
	       npu_now_ns() < end) {
		aer_watch_scan(w, busname);
		if (!w->recovery)
			usleep(20000);
	}
	aer_watch_scan(w, busname);
}

/*
 * Did the driver do its part? Non-fatal: error_detected(normal) ran, no
 * reset. Fatal: error_detected(frozen) quiesced, slot_reset found the device
 * answering and resume restarted it: one device reset, and the AER core
 * reports the recovery successful.
 */
static int aer_watch_check(const struct aer_watch *w, int card, char *err, size_t len)
{
	const char *name = aer_seen_name[w->seen];
	uint64_t resets;
	long long delta;
	int ret = device_resets(card, &resets);

	if (ret) {
		snprintf(err, len, "aer=%s: reading reset_count: %s", name, strerror(-ret));
		return ret;
	}
	delta = (long long)(resets - w->resets0);
	switch (w->seen) {
	case SEEN_NONE:
		snprintf(err, len, "aer=none: no AER report at the root port, nothing in the "
			 "device's error status");
		return -EPROTO;
	case SEEN_COR_DEVICE:
	case SEEN_COR:
		/*
		 * The driver has no part in a correctable error: 6.1 calls no
		 * recovery callback for one (only cor_error_detected, which
		 * the driver does not implement), and QEMU 7.2 does not even
		 * forward it to the root port (pcie_aer_msg_alldev()). So this
		 * is a device-level check: recorded, no reset, card working.
		 */
		if (w->channel_state || delta) {
			snprintf(err, len, "aer=%s: a correctable error made the driver act "
				 "(channel state %d, %lld device resets)", name, w->channel_state,
				 delta);
			return -EPROTO;
		}
		snprintf(err, len, "aer=%s: device-level check only (%s), no reset; ", name,
			 w->seen == SEEN_COR ? "reported at the root port" :
			 "only in the device's error status");
		return 0;
	case SEEN_NONFATAL:
	case SEEN_FATAL:
		break;
	}
	if (w->channel_state != (w->seen == SEEN_FATAL ? 2 : 1)) {
		snprintf(err, len, "aer=%s: error_detected did not run with channel state %s "
			 "(%d seen)", name, w->seen == SEEN_FATAL ? "frozen (2)" : "normal (1)",
			 w->channel_state);
		return -EPROTO;
	}
	if (w->recovery != 1) {
		snprintf(err, len, "aer=%s: the AER core did not report \"device recovery "
			 "successful\" (%s)", name, w->recovery ? "it failed" : "no word in 30 s");
		return -EPROTO;
	}
	if (w->seen == SEEN_FATAL && w->restarted != 1) {
		snprintf(err, len, "aer=fatal: resume did not restart the device (%s)",
			 w->restarted ? "restart failed" : "no \"device restarted\" line");
		return -EPROTO;
	}
	if (delta != (w->seen == SEEN_FATAL)) {
		snprintf(err, len, "aer=%s: %lld device resets, expected %d", name, delta,
			 w->seen == SEEN_FATAL);
		return -EPROTO;
	}
	snprintf(err, len, "aer=%s: driver recovery: error_detected(%s)%s, %lld device "
		 "reset, recovery successful; ", name, w->seen == SEEN_FATAL ? "frozen" : "normal",
		 w->seen == SEEN_FATAL ? ", slot_reset, resume" : "", delta);
	return 0;
}

/* ---- cycles ---- */

enum phase { PH_UNBIND, PH_FLR, PH_LINK, PH_UNPLUG, PH_AER, PH_LINK_QMP, PH_COUNT };
static const char *const phase_names[PH_COUNT] = {
	"unbind", "flr", "link", "unplug", "aer", "link_qmp",
};

struct cycle_ctx {
	char busname[NPU_STRING_LEN];
	char driver_dir[256];
	bool agent;		/* print NPUREL lines for the host */
	char detail[768];
};

static void agent_say(const struct cycle_ctx *cc, const char *fmt, ...)
{
	va_list ap;

	if (!cc->agent)
		return;
	va_start(ap, fmt);
	printf("NPUREL: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

/*
 * Arms HANG on PE0 until disarmed (or the card goes), so its jobs stay in
 * flight; the count register goes back to 1 at once (armings keep their own).
 */
static void hang_pe0(const char *busname)
{
	debugfs_write(busname, "fault_pe_mask", "1");
	debugfs_write(busname, "fault_count", "0");
	debugfs_write(busname, "fault_arm", "1");
	debugfs_write(busname, "fault_count", "1");
	debugfs_write(busname, "fault_pe_mask", "3");
}

static int run_cycle(struct cycle_ctx *cc, enum phase ph, unsigned int n)
{
	const char *name = phase_names[ph];
	char *err = cc->detail, sum[400], path[300];
	size_t elen = sizeof(cc->detail);
	bool removal = ph != PH_FLR && ph != PH_AER;
	long bugs0 = kernel_bug_lines();
	struct aer_watch aw = { .kmsg = -1 };
	char aer_sum[200] = "";
	uint32_t armed;
	struct load l;
	int card, ret;

	err[0] = 0;
	card = wait_card(cc->busname, true, 5000);
	if (card < 0) {
		/* an earlier cycle lost the card: try remove + rescan, fail this cycle */
		sysfs_pci_write(cc->busname, "remove", "1");
		npu_write_file("/sys/bus/pci/rescan", "1");
		card = wait_card(cc->busname, true, 30000);
		snprintf(err, elen, "card %s was not present at the start (%s)", cc->busname,
			 card < 0 ? "remove+rescan did not help" : "back after remove+rescan");
		return -ENODEV;
	}
	memset(&l, 0, sizeof(l));
	for (unsigned int p = 0; p < NPU_MAX_PES; p++)
		l.pe[p].fd = -1;
	ret = load_start(&l, card, removal, err, elen);
	if (ret) {
		l.stop = 1;
		goto out;
	}
	if (removal && ph != PH_LINK && ph != PH_LINK_QMP)
		hang_pe0(cc->busname);	/* in flight for sure when the card goes */
	/*
	 * Let the loads run before the event. Not a margin the checks need
	 * for removals (the load runs until it sees ENODEV, PE0 is held by
	 * HANG); FLR and AER need one completed job per PE over this and the
	 * 500 ms after, where a job takes about a millisecond even on a
	 * loaded two-core host.
	 */
	usleep(300000);

	switch (ph) {
	case PH_UNBIND:
		snprintf(path, sizeof(path), "%s/unbind", cc->driver_dir);
		ret = npu_write_file(path, cc->busname);
		break;
	case PH_FLR:
		ret = sysfs_pci_write(cc->busname, "reset", "1");
		break;
	case PH_LINK:
		/*
		 * Once: a LINK_DOWN arming with firings left fires again right
		 * after the PCI reset that is meant to bring the card back.
		 */
		ret = debugfs_write(cc->busname, "fault_count", "1");
		if (!ret)
			ret = debugfs_write(cc->busname, "fault_arm", "0x40");
		break;
	case PH_AER:
		/* before READY: the host injects as soon as it reads it */
		ret = aer_watch_begin(&aw, cc->busname, card);
		if (!ret)
			agent_say(cc, "READY %s %u", name, n);
		break;
	case PH_UNPLUG:
	case PH_LINK_QMP:
		agent_say(cc, "READY %s %u", name, n);
		ret = 0;
		break;
	default:
		ret = -EINVAL;
	}
	if (ret) {
		snprintf(err, elen, "%s: %s", name, strerror(-ret));
		l.stop = 1;
		load_join(&l, 60000, sum, sizeof(sum));
		goto out;
	}
	if (ph == PH_AER)
		aer_watch_wait(&aw, cc->busname);	/* its end, not a time */
	else if (!removal)
		usleep(500000);
	if (!removal)
		l.stop = 1;
	ret = load_join(&l, removal ? 60000 : 60000, err, elen) ?: ret;
	if (ret)
		goto out;
	if (ph == PH_AER) {
		/* the kind that arrived, for the host to compare with what it injected */
		ret = aer_watch_check(&aw, card, aer_sum, sizeof(aer_sum));
		if (ret) {
			snprintf(err, elen, "%s", aer_sum);
			goto out;
		}
	}
	ret = load_verify(&l, removal, err, elen);
	if (!ret && removal)
		ret = check_dead_files(&l, err, elen);
	load_summary(&l, sum, sizeof(sum));
	load_close(&l);
	if (ret)
		goto out;

	/* bring the card back */
	switch (ph) {
	case PH_UNBIND:
		wait_card(cc->busname, false, 10000);
		armed = disarm_via_bar0(cc->busname);
		if (armed) {
			snprintf(err, elen, "faults still armed after disarming through BAR0 "
				 "(FAULT_ARM reads %#x)", armed);
			ret = -EIO;
			goto out;
		}
		snprintf(path, sizeof(path), "%s/bind", cc->driver_dir);
		ret = npu_write_file(path, cc->busname);
		break;
	case PH_LINK:
	case PH_LINK_QMP:
		ret = sysfs_pci_write(cc->busname, "remove", "1");
		if (!ret)
			ret = npu_write_file("/sys/bus/pci/rescan", "1");
		break;
	case PH_UNPLUG:
		wait_card(cc->busname, false, 60000);
		agent_say(cc, "GONE %s %u", name, n);
		break;
	default:
		break;
	}
	if (ret) {
		snprintf(err, elen, "bringing the card back: %s", strerror(-ret));
		goto out;
	}
	card = wait_card(cc->busname, true, 60000);
	if (card < 0) {
		snprintf(err, elen, "the card did not come back");
		ret = card;
		goto out;
	}
	ret = card_works(card, err, elen);
	if (!ret && kernel_bug_lines() > bugs0) {
		snprintf(err, elen, "the kernel log shows a bug");
		ret = -EPROTO;
	}
	if (!ret)
		snprintf(err, elen, "%s%s", aer_sum, sum);
out:
	if (aw.kmsg >= 0)
		close(aw.kmsg);
	if (l.pe[0].fd >= 0 || l.pe[1].fd >= 0) {
		l.stop = 1;
		load_close(&l);
	}
	/* A failed cycle must not leave PE0 hanging for the tests after it. */
	if (ret && removal && ph != PH_LINK && ph != PH_LINK_QMP)
		disarm_via_bar0(cc->busname);
	return ret;
}

static int cycle_ctx_init(struct cycle_ctx *cc, int card, bool agent)
{
	int ret;

	memset(cc, 0, sizeof(*cc));
	cc->agent = agent;
	ret = npu_card_busname(card, cc->busname, sizeof(cc->busname));
	if (ret)
		return ret;
	return npu_pci_driver_dir(cc->busname, cc->driver_dir, sizeof(cc->driver_dir));
}

/* ---- kselftest mode: the phases the guest can do alone, on the last card ---- */

static int last_card(void)
{
	int c = -1;

	for (int i = 0; i < MAX_CARDS; i++)
		if (npu_device_present(i))
			c = i;
	return c;
}

FIXTURE(recovery)
{
	struct cycle_ctx cc;
	unsigned int old_timeout;
};

FIXTURE_VARIANT(recovery)
{
	enum phase phase;
	unsigned int cycles;
	bool needs_faults;
};

FIXTURE_VARIANT_ADD(recovery, unbind_rebind) { .phase = PH_UNBIND, .cycles = 20,
	.needs_faults = false };
FIXTURE_VARIANT_ADD(recovery, flr_under_load) { .phase = PH_FLR, .cycles = 5 };
FIXTURE_VARIANT_ADD(recovery, link_down_then_rescan) { .phase = PH_LINK, .cycles = 3,
	.needs_faults = true };

FIXTURE_SETUP(recovery)
{
	struct npu_fault_dev dev;
	int card = last_card();

	if (card < 0)
		SKIP(return, "no card");
	ASSERT_EQ(0, cycle_ctx_init(&self->cc, card, false));
	if (variant->needs_faults) {
		ASSERT_EQ(0, npu_fault_dev_open(card, &dev));
		npu_fault_dev_close(&dev);
		if (!npu_fault_supported(&dev))
			SKIP(return, "no NPU_CAP_FAULTS: boot with -device npu,faults=on");
		if (!dev.debugfs[0])
			SKIP(return, "no fault knobs in debugfs");
	}
}

FIXTURE_TEARDOWN(recovery)
{
	char path[300];

	/* leave the card bound and working for the tests that follow */
	if (self->cc.busname[0] && card_of_busname(self->cc.busname) < 0) {
		snprintf(path, sizeof(path), "%s/bind", self->cc.driver_dir);
		npu_write_file(path, self->cc.busname);
		wait_card(self->cc.busname, true, 10000);
	}
}

TEST_F_TIMEOUT(recovery, cycles, 110)
{
	unsigned int passed = 0;
	uint64_t t0 = npu_now_ns();

	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < variant->cycles; i++) {
		int ret = run_cycle(&self->cc, variant->phase, i);

		EXPECT_EQ(0, ret) TH_LOG("%s cycle %u: %s", phase_names[variant->phase], i,
					 self->cc.detail);
		if (ret)
			break;
		if (i == 0 || i + 1 == variant->cycles)
			ksft_print_msg("%s cycle %u: %s\n", phase_names[variant->phase], i,
				       self->cc.detail);
		passed++;
	}
	ksft_print_msg("%s: %u of %u cycles passed in %.1f s\n", phase_names[variant->phase],
		       passed, variant->cycles, (npu_now_ns() - t0) / 1e9);
}

/* ---- agent mode, for tests/reliability/qmp_reliability.py ---- */

/* "PHASE:CYCLES", CYCLES 1..10000: the phase's index, or -1. */
static int parse_phase(const char *arg, unsigned int *cycles)
{
	const char *colon = strchr(arg, ':');
	unsigned long v;
	char *end;

	if (!colon || colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || *end || v < 1 || v > 10000)
		return -1;
	*cycles = (unsigned int)v;
	for (int i = 0; i < PH_COUNT; i++)
		if (strlen(phase_names[i]) == (size_t)(colon - arg) &&
		    !strncmp(arg, phase_names[i], colon - arg))
			return i;
	return -1;
}

/*
 * Every argument is checked before any cycle runs: a typo must fail the
 * run, not shorten it. A failure before the first cycle says why on the
 * TOTAL line; the host also compares the cycles reported with those asked.
 */
static int agent_main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0, cycles[64];
	int phases[64];
	struct cycle_ctx cc;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || argc - 2 > 64) {
		printf("NPUREL: TOTAL 0 1 give 1 to 64 PHASE:CYCLES arguments\n");
		return 2;
	}
	for (int a = 2; a < argc; a++) {
		phases[a - 2] = parse_phase(argv[a], &cycles[a - 2]);
		if (phases[a - 2] < 0) {
			printf("NPUREL: TOTAL 0 1 unparsable phase argument '%s' (PHASE:CYCLES, "
			       "PHASE one of unbind flr link unplug aer link_qmp)\n", argv[a]);
			return 2;
		}
	}
	if (npu_device_present(0) == false) {
		printf("NPUREL: TOTAL 0 1 no card\n");
		return 1;
	}
	ret = cycle_ctx_init(&cc, 0, true);
	if (ret) {
		printf("NPUREL: TOTAL 0 1 card 0: %s\n", strerror(-ret));
		return 1;
	}
	for (int a = 0; a < argc - 2; a++) {
		const char *phase = phase_names[phases[a]];

		for (unsigned int n = 0; n < cycles[a]; n++) {
			uint64_t t0 = npu_now_ns();

			ret = run_cycle(&cc, (enum phase)phases[a], n);
			printf("NPUREL: RESULT %s %u %s %.1fs %s\n", phase, n, ret ? "fail" : "ok",
			       (npu_now_ns() - t0) / 1e9, cc.detail);
			if (ret)
				failed++;
			else
				passed++;
		}
	}
	printf("NPUREL: TOTAL %u %u\n", passed, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "agent"))
		return agent_main(argc, argv);
	return test_harness_run(argc, argv);
}
