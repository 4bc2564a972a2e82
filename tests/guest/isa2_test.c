// SPDX-License-Identifier: MIT
/*
 * The CNN/MLP instructions on the emulated device (docs/hardware.md §10):
 * CONV2D (dense, depthwise, grouped, strided, dilated, padded), MATMUL_I8
 * with zero points/u8/bias, REQUANT(.u8), REQUANT_PC, ADD_RQ, MUL_RQ, CLIP,
 * ADD u8/WRAP, MAXPOOL, AVGPOOL, COPY_ND and FILL, on PE0, PE1 and the
 * fused pair. Each program runs on the device and in the interpreter the
 * HAL's CPU runner uses (isa/isa_exec.c, npu_cpu_run) on the same bytes;
 * the whole region (outputs, and everything around them) must be equal bit
 * for bit. A long CNN-layer program checks the model's worker-thread path.
 *
 * The device model is built from a copy of that same interpreter, so this is
 * a transport and driver check (programs and data survive the driver, DMA,
 * the PE windows and the model's threads), not a check of the arithmetic: a
 * wrong result in isa_exec.c would be wrong on both sides. The arithmetic of
 * every opcode is checked against hand-computed values and independent
 * references on the host: see the table in tests/host/isa_ref_test.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "npu_fixture.h"
#include "npu_util.h"
#include "isa_exec.h"

/* Region, relative to the variant's base in the window: program, then data. */
#define PROG_OFF	0x0000u
#define DATA_OFF	0x4000u
#define REGION		0x100000u	/* 1 MiB */
#define MAX_INSNS	(DATA_OFF / NPU_INSN_SIZE)

FIXTURE(isa2)
{
	int fd;
	uint32_t base;
	unsigned int lanes;
	struct npu_rng rng;
	uint8_t *image;		/* region contents before the run */
	uint8_t *want;		/* after the CPU run */
	uint8_t *got;		/* after the device run */
	struct npu_insn prog[MAX_INSNS];
	unsigned int count;
};

NPU_FILE_VARIANT(isa2);
NPU_FILE_VARIANTS_ADD(isa2);

FIXTURE_SETUP(isa2)
{
	struct npu_device_info info;

	self->image = self->want = self->got = NULL;
	NPU_SETUP_OPEN_NPU0(self->fd, variant->kind, &info);
	ASSERT_LE(2ull * REGION, info.dram_window);
	self->base = variant->upper_half ? (uint32_t)(info.dram_window / 2) : 0;
	self->lanes = info.fused ? 2 : 1;
	npu_rng_seed(&self->rng, 0x15a2000 + variant->kind);
	self->image = malloc(REGION);
	self->want = malloc(REGION);
	self->got = malloc(REGION);
	ASSERT_TRUE(self->image && self->want && self->got);
	/* random data everywhere: stray writes and reads of garbage both show */
	npu_rng_fill(&self->rng, self->image, REGION);
	memset(self->image + PROG_OFF, 0, DATA_OFF);
	self->count = 0;
}

FIXTURE_TEARDOWN(isa2)
{
	free(self->image);
	free(self->want);
	free(self->got);
	if (self->fd >= 0)
		close(self->fd);
}

static void emit(FIXTURE_DATA(isa2) *self, struct npu_insn insn)
{
	self->prog[self->count++] = insn;
}

/* Device addresses: every operand (all data is at DATA_OFF or above) plus the base. */
static void relocate(struct npu_insn *in, uint32_t base)
{
	in->dst += in->dst ? base : 0;
	in->src0 += in->src0 ? base : 0;
	in->src1 += in->src1 ? base : 0;
	if (in->flags & NPU_ISA_F_BIAS) {
		if (in->opcode == NPU_ISA_MATMUL_I8)
			in->arg[NPU_ARG_MM_BIAS] += base;
		else
			in->arg[NPU_ARG_CONV_BIAS] += base;
	}
}

/*
 * Runs the program (plus HALT) on the CPU interpreter and on the device and
 * compares the whole region (same interpreter on both sides: a transport
 * check). Returns the CPU's cycle count through *cycles.
 */
static void run_both(struct __test_metadata *_metadata, FIXTURE_DATA(isa2) *self,
		     const char *what, uint64_t *cycles)
{
	struct npu_isa_result res;
	struct npu_insn dev[MAX_INSNS];
	struct npu_wait wait;
	uint64_t len;
	ssize_t diff;
	int ret;

	emit(self, npu_insn_halt());
	len = (uint64_t)self->count * NPU_INSN_SIZE;
	memcpy(self->want, self->image, REGION);
	for (unsigned int i = 0; i < self->count; i++) {
		struct npu_insn moved = self->prog[i];

		npu_isa_encode(&self->prog[i], self->want + PROG_OFF + i * NPU_INSN_SIZE);
		relocate(&moved, self->base);
		npu_isa_encode(&moved, (uint8_t *)&dev[i]);
	}
	ASSERT_EQ(NPU_STATUS_OK, npu_isa_run(self->want, REGION, PROG_OFF, len, 0, self->lanes,
					     &res)) TH_LOG("%s: CPU run failed at %llu", what,
							   (unsigned long long)res.insn_index);
	if (cycles)
		*cycles = res.cycles;
	/* the program bytes differ (relocated); the data must not */
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, self->base, self->image, REGION));
	ret = npu_run_program(self->fd, 0, self->base + PROG_OFF, dev, self->count, &wait);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s, status %u info %#x", what, strerror(-ret),
				 wait.status, wait.info);
	ASSERT_EQ(0, npu_read_dram(self->fd, 0, self->base, self->got, REGION));
	diff = npu_first_diff(self->want + DATA_OFF, self->got + DATA_OFF, REGION - DATA_OFF);
	EXPECT_EQ(-1, diff) TH_LOG("%s: device differs from the same interpreter on the CPU "
				   "(transport/driver path) at region offset %#zx: cpu %#x device %#x",
				   what, (size_t)diff + DATA_OFF,
				   diff >= 0 ? self->want[DATA_OFF + diff] : 0,
				   diff >= 0 ? self->got[DATA_OFF + diff] : 0);
	self->count = 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);	/* the guest is little-endian like the device */
}

/* ---- the tests -------------------------------------------------------------------- */

struct conv_shape {
	uint32_t n, h, w, cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
	uint8_t dtype;
	uint16_t flags;
	int32_t zx, zw;
};

static const struct conv_shape convs[] = {
	/* LeNet-like first layer: 28x28x1 -> 8, 5x5, u8 input, pad 2, bias */
	{ 1, 28, 28, 1, 8, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, NPU_DTYPE_A_U8, NPU_ISA_F_BIAS, 128, 0 },
	/* dense 3x3 stride 2, asymmetric pads, accumulate, both zero points */
	{ 2, 13, 11, 6, 10, 1, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1, 0, NPU_ISA_F_ACCUMULATE, -3, 5 },
	/* depthwise, multiplier 2, dilation 2 */
	{ 1, 12, 12, 8, 16, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, NPU_DTYPE_A_U8 | NPU_DTYPE_B_U8,
	  NPU_ISA_F_BIAS, 100, 128 },
	/* grouped, 1x7 kernel, stride 3x1 */
	{ 1, 9, 17, 12, 6, 3, 1, 7, 3, 1, 1, 1, 0, 3, 0, 3, NPU_DTYPE_B_U8,
	  NPU_ISA_F_BIAS | NPU_ISA_F_ACCUMULATE, -128, 255 },
};

TEST_F_TIMEOUT(isa2, conv2d_shapes, 300)
{
	NPU_RETURN_IF_SKIPPED();
	for (unsigned int i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
		const struct conv_shape *c = &convs[i];
		const struct npu_isa_conv_shape shape = { c->n, c->h, c->w, c->cin, c->cout,
							  c->groups };
		const struct npu_isa_window win = { c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
						    c->pt, c->pl, c->pb, c->pr };
		char what[32];

		emit(self, npu_insn_conv2d(c->dtype, c->flags, 0x80000, DATA_OFF, 0x40000, &shape,
					   &win, (c->flags & NPU_ISA_F_BIAS) ? 0x70000 : 0, c->zx,
					   c->zw));
		snprintf(what, sizeof(what), "conv shape %u", i);
		run_both(_metadata, self, what, NULL);
	}
}

TEST_F(isa2, matmul_zero_points_types_bias)
{
	NPU_RETURN_IF_SKIPPED();
	for (uint8_t dtype = 0; dtype < 4; dtype++)
		emit(self, npu_insn_matmul_q(dtype,
					     NPU_ISA_F_BIAS | (dtype & 1 ? NPU_ISA_F_ACCUMULATE : 0),
					     0x80000 + dtype * 0x8000, DATA_OFF, 0x20000, 17, 33, 70,
					     dtype & NPU_DTYPE_A_U8 ? 200 : -7,
					     dtype & NPU_DTYPE_B_U8 ? 1 : 127, 0x70000));
	run_both(_metadata, self, "matmul", NULL);
}

TEST_F(isa2, requant_and_elementwise)
{
	NPU_RETURN_IF_SKIPPED();
	/* a valid per-channel table: 7 channels, shifts 20..62 */
	for (uint32_t c = 0; c < 7; c++)
		put32(self->image + 0x70000 + 8 * c + 4, 20 + c * 7);
	emit(self, npu_insn_requant_pc(NPU_DTYPE_U8, 0x80000, DATA_OFF, 0x70000, 1001, 7, 3));
	emit(self, npu_insn_requant_pc(NPU_DTYPE_I8, 0x81000, DATA_OFF, 0x70000, 1001, 7, -100));
	emit(self, npu_insn_requant_to(NPU_DTYPE_U8, 0x82000, DATA_OFF, 1001, 1518500250, 40, 128));
	for (uint8_t t = NPU_DTYPE_I8; t <= NPU_DTYPE_U8; t += NPU_DTYPE_U8) {
		uint32_t out = 0x90000 + t * 0x4000;

		/* b_len 16: a per-channel broadcast */
		emit(self, npu_insn_binary_rq(NPU_ISA_ADD_RQ, t, out, 0x10000, 0x20000, 999,
					      (struct npu_isa_rq_zero_points){ 5, 100, 7 },
					      1073741824, -1500000000, 31, 16));
		emit(self, npu_insn_binary_rq(NPU_ISA_MUL_RQ, t, out + 0x1000, 0x10000, 0x20000,
					      999,
					      (struct npu_isa_rq_zero_points){ t ? 128 : -1, 0, 2 },
					      1234567890, 0, 38, 0));
		emit(self, npu_insn_clip(t, out + 0x2000, 0x10000, 999, 10, 100));
		emit(self, npu_insn_add_f(t, NPU_ISA_F_WRAP, out + 0x3000, 0x10000, 0x20000, 999));
	}
	emit(self, npu_insn_add(NPU_DTYPE_U8, 0xa0000, 0x10000, 0x20000, 999));
	emit(self, npu_insn_clip(NPU_DTYPE_I32, 0xa1000, 0x10000, 999, -100000, 2000000000));
	run_both(_metadata, self, "requant and element-wise", NULL);
}

/* A pool over one square image: kernel k, stride s, dilation d, padding pad. */
static void pool(FIXTURE_DATA(isa2) *self, uint8_t op, uint8_t dtype, uint16_t flags,
		 uint32_t dst, uint32_t src, uint32_t h, uint32_t w, uint32_t c, uint32_t k,
		 uint32_t s, uint32_t d, uint32_t pad, int32_t zero_point)
{
	const struct npu_isa_window win = { k, k, s, s, d, d, pad, pad, pad, pad };

	emit(self, npu_insn_pool(op, dtype, flags, dst, src, 1, h, w, c, &win, zero_point));
}

TEST_F(isa2, pools)
{
	NPU_RETURN_IF_SKIPPED();
	pool(self, NPU_ISA_MAXPOOL, NPU_DTYPE_U8, 0, 0x80000, DATA_OFF, 24, 24, 16, 2, 2, 1, 0, 0);
	pool(self, NPU_ISA_MAXPOOL, NPU_DTYPE_I8, 0, 0x84000, DATA_OFF, 23, 19, 5, 3, 2, 2, 3, 0);
	pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_I8, 0, 0x88000, DATA_OFF, 23, 19, 5, 3, 2, 1, 1, 0);
	pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_U8, NPU_ISA_F_COUNT_PAD, 0x8c000, DATA_OFF,
	     23, 19, 5, 3, 1, 1, 2, 128);
	/* global average pool 7x7x64 */
	pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_U8, 0, 0x90000, DATA_OFF, 7, 7, 64, 7, 1, 1, 0, 0);
	run_both(_metadata, self, "pools", NULL);
}

TEST_F(isa2, layout_moves)
{
	static const uint32_t pad_count[4] = { 1, 8, 8, 3 };
	static const int32_t pad_src[4] = { 0, 24, 3, 1 }, pad_dst[4] = { 0, 30, 3, 1 };
	static const uint32_t rev_count[4] = { 2, 3, 4, 5 };
	static const int32_t rev_src[4] = { -8 * 60, -8 * 20, -8 * 5, -8 };
	static const int32_t rev_dst[4] = { 8, 16, 48, 192 };
	static const uint32_t bcast_count[4] = { 1, 1, 7, 9 };
	static const int32_t bcast_src[4] = { 0, 0, 0, 2 }, bcast_dst[4] = { 0, 0, 18, 2 };

	NPU_RETURN_IF_SKIPPED();
	/* pad: fill a 1x10x10x3 buffer with the zero point, copy 8x8x3 inside */
	emit(self, npu_insn_fill(NPU_DTYPE_U8, 0x80000, 300, 128));
	emit(self, npu_insn_copy_nd(NPU_DTYPE_U8, 0x80000 + 33, DATA_OFF, pad_count, pad_src,
				    pad_dst));
	/* transpose + reverse of int64 elements, 4-d */
	emit(self, npu_insn_copy_nd(NPU_DTYPE_I64, 0x90000, 0x20000 + 8 * 119, rev_count, rev_src,
				    rev_dst));
	/* broadcast a row (stride 0), i16 fill */
	emit(self, npu_insn_copy_nd(NPU_DTYPE_I16, 0xa0000, 0x30000, bcast_count, bcast_src,
				    bcast_dst));
	emit(self, npu_insn_fill(NPU_DTYPE_I16, 0xa1001, 77, -12345));
	run_both(_metadata, self, "layout moves", NULL);
}

/*
 * A CNN layer long enough (> 2^18 cycles) that the model runs it in its
 * worker thread: conv 3x3 32->32 on 32x32, per-channel requant, ReLU,
 * then 60 ping-pong average pools.
 */
TEST_F_TIMEOUT(isa2, cnn_layer_in_the_worker_thread, 600)
{
	const struct npu_isa_conv_shape shape = { 1, 32, 32, 32, 32, 1 };
	const struct npu_isa_window win = { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
	uint64_t cycles;

	NPU_RETURN_IF_SKIPPED();
	for (uint32_t c = 0; c < 32; c++)
		put32(self->image + 0x70100 + 8 * c + 4, 18 + c % 5);
	emit(self, npu_insn_conv2d(NPU_DTYPE_A_U8, NPU_ISA_F_BIAS, 0x80000, DATA_OFF, 0x40000,
				   &shape, &win, 0x70000, 128, 0));
	emit(self, npu_insn_requant_pc(NPU_DTYPE_U8, 0x60000, 0x80000, 0x70100, 32 * 32 * 32, 32,
				       20));
	emit(self, npu_insn_clip(NPU_DTYPE_U8, 0x60000, 0x60000, 32 * 32 * 32, 20, 255));
	for (int i = 0; i < 60; i++)
		pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_U8, 0, i % 2 ? 0x60000 : 0x68000,
		     i % 2 ? 0x68000 : 0x60000, 32, 32, 32, 3, 1, 1, 1, 0);
	run_both(_metadata, self, "CNN layer", &cycles);
	/* per lane: 36864 conv + 60 * 9216 pool + 2 * 1024 element cycles */
	EXPECT_LT(1ull << 18, cycles) TH_LOG("only %llu cycles", (unsigned long long)cycles);
}

/* A bad table entry fails the instruction with BAD_DESC before it writes. */
TEST_F(isa2, requant_pc_bad_table_entry)
{
	struct npu_insn prog[2];
	struct npu_insn in = npu_insn_requant_pc(NPU_DTYPE_I8, self->base + 0x80000,
						 self->base + DATA_OFF, self->base + 0x70000, 64, 2,
						 0);
	struct npu_wait wait;
	uint8_t before[64], after[64];

	NPU_RETURN_IF_SKIPPED();
	memset(self->image + 0x70000, 0, 16);
	put32(self->image + 0x7000c, 63);
	ASSERT_EQ(0, npu_write_dram(self->fd, 0, self->base, self->image, REGION));
	npu_isa_encode(&in, (uint8_t *)&prog[0]);
	memset(&prog[1], 0, sizeof(prog[1]));
	memcpy(before, self->image + 0x80000, 64);
	EXPECT_EQ(-EIO, npu_run_program(self->fd, 0, self->base + PROG_OFF, prog, 2, &wait));
	EXPECT_EQ(NPU_JOB_BAD_DESC, wait.status);
	EXPECT_EQ(NPU_COMPLETION_INFO(1, 0), wait.info);
	ASSERT_EQ(0, npu_read_dram(self->fd, 0, self->base + 0x80000, after, 64));
	EXPECT_EQ(0, memcmp(before, after, 64));
}

TEST_HARNESS_MAIN
