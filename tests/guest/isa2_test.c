// SPDX-License-Identifier: MIT
/*
 * The CNN/MLP instructions on the emulated device (docs/hardware.md §10):
 * CONV2D (dense, depthwise, grouped, strided, dilated, padded), MATMUL_I8
 * with zero points/u8/bias, REQUANT(.u8), REQUANT_PC, ADD_RQ, MUL_RQ, CLIP,
 * ADD u8/WRAP, MAXPOOL, AVGPOOL, COPY_ND and FILL, on PE0, PE1 and the
 * fused pair. Each program runs on the device and in the interpreter the
 * HAL's CPU runner uses (hal/src/isa_exec.c, npu_cpu_run) on the same bytes;
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
	struct npu_isa_insn prog[MAX_INSNS];
	unsigned int count;
};

FIXTURE_VARIANT(isa2)
{
	enum npu_file_kind kind;
	bool upper_half;
};

FIXTURE_VARIANT_ADD(isa2, pe0) { .kind = NPU_FILE_PE0 };
FIXTURE_VARIANT_ADD(isa2, pe1) { .kind = NPU_FILE_PE1 };
FIXTURE_VARIANT_ADD(isa2, fused) { .kind = NPU_FILE_FUSED, .upper_half = true };

FIXTURE_SETUP(isa2)
{
	struct npu_device_info info;

	self->fd = -1;
	self->image = self->want = self->got = NULL;
	if (!npu_device_present(0))
		SKIP(return, "/dev/npu0_mgmt missing: npu.ko not loaded");
	self->fd = npu_open(0, variant->kind, 0);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", npu_file_kind_name(variant->kind),
				      strerror(-self->fd));
	ASSERT_EQ(0, npu_device_info(self->fd, &info));
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

static struct npu_isa_insn *emit(FIXTURE_DATA(isa2) *self, uint8_t opcode, uint8_t dtype,
				 uint16_t flags, uint32_t dst, uint32_t src0, uint32_t src1)
{
	struct npu_isa_insn *in = &self->prog[self->count++];

	memset(in, 0, sizeof(*in));
	in->opcode = opcode;
	in->dtype = dtype;
	in->flags = flags;
	in->dst = dst;
	in->src0 = src0;
	in->src1 = src1;
	return in;
}

/* Device addresses: every operand (all data is at DATA_OFF or above) plus the base. */
static void relocate(struct npu_isa_insn *in, uint32_t base)
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

	emit(self, NPU_ISA_HALT, 0, 0, 0, 0, 0);
	len = (uint64_t)self->count * NPU_INSN_SIZE;
	memcpy(self->want, self->image, REGION);
	for (unsigned int i = 0; i < self->count; i++) {
		struct npu_isa_insn moved = self->prog[i];

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
		struct npu_isa_insn *in = emit(self, NPU_ISA_CONV2D, c->dtype, c->flags,
					       0x80000, DATA_OFF, 0x40000);
		char what[32];

		in->arg[NPU_ARG_CONV_N] = c->n;
		in->arg[NPU_ARG_CONV_H] = c->h;
		in->arg[NPU_ARG_CONV_W] = c->w;
		in->arg[NPU_ARG_CONV_C_IN] = c->cin;
		in->arg[NPU_ARG_CONV_C_OUT] = c->cout;
		in->arg[NPU_ARG_CONV_GROUPS] = c->groups;
		in->arg[NPU_ARG_CONV_KERNEL] = NPU_PACK16(c->kh, c->kw);
		in->arg[NPU_ARG_CONV_STRIDE_DIL] = NPU_PACK8(c->sh, c->sw, c->dh, c->dw);
		in->arg[NPU_ARG_CONV_PADS] = NPU_PACK8(c->pt, c->pl, c->pb, c->pr);
		in->arg[NPU_ARG_CONV_BIAS] = (c->flags & NPU_ISA_F_BIAS) ? 0x70000 : 0;
		in->arg[NPU_ARG_CONV_X_ZERO_POINT] = (uint32_t)c->zx;
		in->arg[NPU_ARG_CONV_W_ZERO_POINT] = (uint32_t)c->zw;
		snprintf(what, sizeof(what), "conv shape %u", i);
		run_both(_metadata, self, what, NULL);
	}
}

TEST_F(isa2, matmul_zero_points_types_bias)
{
	NPU_RETURN_IF_SKIPPED();
	for (uint8_t dtype = 0; dtype < 4; dtype++) {
		struct npu_isa_insn *in = emit(self, NPU_ISA_MATMUL_I8, dtype,
					       NPU_ISA_F_BIAS | (dtype & 1 ? NPU_ISA_F_ACCUMULATE : 0),
					       0x80000 + dtype * 0x8000, DATA_OFF, 0x20000);

		in->arg[NPU_ARG_M] = 17;
		in->arg[NPU_ARG_N] = 33;
		in->arg[NPU_ARG_K] = 70;
		in->arg[NPU_ARG_A_ZERO_POINT] = (uint32_t)(dtype & NPU_DTYPE_A_U8 ? 200 : -7);
		in->arg[NPU_ARG_B_ZERO_POINT] = (uint32_t)(dtype & NPU_DTYPE_B_U8 ? 1 : 127);
		in->arg[NPU_ARG_MM_BIAS] = 0x70000;
	}
	run_both(_metadata, self, "matmul", NULL);
}

TEST_F(isa2, requant_and_elementwise)
{
	struct npu_isa_insn *in;

	NPU_RETURN_IF_SKIPPED();
	/* a valid per-channel table: 7 channels, shifts 20..62 */
	for (uint32_t c = 0; c < 7; c++)
		put32(self->image + 0x70000 + 8 * c + 4, 20 + c * 7);
	in = emit(self, NPU_ISA_REQUANT_PC, NPU_DTYPE_U8, 0, 0x80000, DATA_OFF, 0x70000);
	in->arg[NPU_ARG_COUNT] = 1001;
	in->arg[NPU_ARG_RQ_CHANNELS] = 7;
	in->arg[NPU_ARG_ZERO_POINT] = 3;
	in = emit(self, NPU_ISA_REQUANT_PC, NPU_DTYPE_I8, 0, 0x81000, DATA_OFF, 0x70000);
	in->arg[NPU_ARG_COUNT] = 1001;
	in->arg[NPU_ARG_RQ_CHANNELS] = 7;
	in->arg[NPU_ARG_ZERO_POINT] = (uint32_t)-100;
	in = emit(self, NPU_ISA_REQUANT, NPU_DTYPE_U8, 0, 0x82000, DATA_OFF, 0);
	in->arg[NPU_ARG_COUNT] = 1001;
	in->arg[NPU_ARG_MULTIPLIER] = 1518500250;
	in->arg[NPU_ARG_SHIFT] = 40;
	in->arg[NPU_ARG_ZERO_POINT] = 128;
	for (uint8_t t = NPU_DTYPE_I8; t <= NPU_DTYPE_U8; t += NPU_DTYPE_U8) {
		uint32_t out = 0x90000 + t * 0x4000;

		in = emit(self, NPU_ISA_ADD_RQ, t, 0, out, 0x10000, 0x20000);
		in->arg[NPU_ARG_COUNT] = 999;
		in->arg[NPU_ARG_RQ_A_ZERO_POINT] = 5;
		in->arg[NPU_ARG_RQ_B_ZERO_POINT] = 100;
		in->arg[NPU_ARG_RQ_OUT_ZERO_POINT] = 7;
		in->arg[NPU_ARG_RQ_A_MULTIPLIER] = 1073741824;
		in->arg[NPU_ARG_RQ_B_MULTIPLIER] = (uint32_t)-1500000000;
		in->arg[NPU_ARG_RQ_SHIFT] = 31;
		in->arg[NPU_ARG_RQ_B_LEN] = 16;		/* per-channel broadcast */
		in = emit(self, NPU_ISA_MUL_RQ, t, 0, out + 0x1000, 0x10000, 0x20000);
		in->arg[NPU_ARG_COUNT] = 999;
		in->arg[NPU_ARG_RQ_A_ZERO_POINT] = (uint32_t)(t ? 128 : -1);
		in->arg[NPU_ARG_RQ_B_ZERO_POINT] = 0;
		in->arg[NPU_ARG_RQ_OUT_ZERO_POINT] = 2;
		in->arg[NPU_ARG_RQ_A_MULTIPLIER] = 1234567890;
		in->arg[NPU_ARG_RQ_SHIFT] = 38;
		in = emit(self, NPU_ISA_CLIP, t, 0, out + 0x2000, 0x10000, 0);
		in->arg[NPU_ARG_COUNT] = 999;
		in->arg[NPU_ARG_CLIP_MIN] = 10;
		in->arg[NPU_ARG_CLIP_MAX] = 100;
		in = emit(self, NPU_ISA_ADD, t, NPU_ISA_F_WRAP, out + 0x3000, 0x10000, 0x20000);
		in->arg[NPU_ARG_COUNT] = 999;
	}
	in = emit(self, NPU_ISA_ADD, NPU_DTYPE_U8, 0, 0xa0000, 0x10000, 0x20000);
	in->arg[NPU_ARG_COUNT] = 999;
	in = emit(self, NPU_ISA_CLIP, NPU_DTYPE_I32, 0, 0xa1000, 0x10000, 0);
	in->arg[NPU_ARG_COUNT] = 999;
	in->arg[NPU_ARG_CLIP_MIN] = (uint32_t)-100000;
	in->arg[NPU_ARG_CLIP_MAX] = 2000000000;
	run_both(_metadata, self, "requant and element-wise", NULL);
}

static struct npu_isa_insn *pool(FIXTURE_DATA(isa2) *self, uint8_t op, uint8_t dtype,
				 uint16_t flags, uint32_t dst, uint32_t src, uint32_t h, uint32_t w,
				 uint32_t c, uint32_t k, uint32_t s, uint32_t d, uint32_t pad)
{
	struct npu_isa_insn *in = emit(self, op, dtype, flags, dst, src, 0);

	in->arg[NPU_ARG_POOL_N] = 1;
	in->arg[NPU_ARG_POOL_H] = h;
	in->arg[NPU_ARG_POOL_W] = w;
	in->arg[NPU_ARG_POOL_C] = c;
	in->arg[NPU_ARG_POOL_KERNEL] = NPU_PACK16(k, k);
	in->arg[NPU_ARG_POOL_STRIDE_DIL] = NPU_PACK8(s, s, d, d);
	in->arg[NPU_ARG_POOL_PADS] = NPU_PACK8(pad, pad, pad, pad);
	return in;
}

TEST_F(isa2, pools)
{
	struct npu_isa_insn *in;

	NPU_RETURN_IF_SKIPPED();
	pool(self, NPU_ISA_MAXPOOL, NPU_DTYPE_U8, 0, 0x80000, DATA_OFF, 24, 24, 16, 2, 2, 1, 0);
	pool(self, NPU_ISA_MAXPOOL, NPU_DTYPE_I8, 0, 0x84000, DATA_OFF, 23, 19, 5, 3, 2, 2, 3);
	pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_I8, 0, 0x88000, DATA_OFF, 23, 19, 5, 3, 2, 1, 1);
	in = pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_U8, NPU_ISA_F_COUNT_PAD, 0x8c000, DATA_OFF,
		  23, 19, 5, 3, 1, 1, 2);
	in->arg[NPU_ARG_POOL_ZERO_POINT] = 128;
	/* global average pool 7x7x64 */
	pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_U8, 0, 0x90000, DATA_OFF, 7, 7, 64, 7, 1, 1, 0);
	run_both(_metadata, self, "pools", NULL);
}

TEST_F(isa2, layout_moves)
{
	struct npu_isa_insn *in;

	NPU_RETURN_IF_SKIPPED();
	/* pad: fill a 1x10x10x3 buffer with the zero point, copy 8x8x3 inside */
	in = emit(self, NPU_ISA_FILL, NPU_DTYPE_U8, 0, 0x80000, 0, 0);
	in->arg[NPU_ARG_COUNT] = 300;
	in->arg[NPU_ARG_FILL_VALUE] = 128;
	in = emit(self, NPU_ISA_COPY_ND, NPU_DTYPE_U8, 0, 0x80000 + 33, DATA_OFF, 0);
	in->arg[NPU_ARG_ND_COUNT(0)] = 1;
	in->arg[NPU_ARG_ND_COUNT(1)] = 8;
	in->arg[NPU_ARG_ND_COUNT(2)] = 8;
	in->arg[NPU_ARG_ND_COUNT(3)] = 3;
	in->arg[NPU_ARG_ND_SRC_STRIDE(1)] = 24;
	in->arg[NPU_ARG_ND_SRC_STRIDE(2)] = 3;
	in->arg[NPU_ARG_ND_SRC_STRIDE(3)] = 1;
	in->arg[NPU_ARG_ND_DST_STRIDE(1)] = 30;
	in->arg[NPU_ARG_ND_DST_STRIDE(2)] = 3;
	in->arg[NPU_ARG_ND_DST_STRIDE(3)] = 1;
	/* transpose + reverse of int64 elements, 4-d */
	in = emit(self, NPU_ISA_COPY_ND, NPU_DTYPE_I64, 0, 0x90000, 0x20000 + 8 * 119, 0);
	in->arg[NPU_ARG_ND_COUNT(0)] = 2;
	in->arg[NPU_ARG_ND_COUNT(1)] = 3;
	in->arg[NPU_ARG_ND_COUNT(2)] = 4;
	in->arg[NPU_ARG_ND_COUNT(3)] = 5;
	in->arg[NPU_ARG_ND_SRC_STRIDE(0)] = (uint32_t)(-8 * 60);
	in->arg[NPU_ARG_ND_SRC_STRIDE(1)] = (uint32_t)(-8 * 20);
	in->arg[NPU_ARG_ND_SRC_STRIDE(2)] = (uint32_t)(-8 * 5);
	in->arg[NPU_ARG_ND_SRC_STRIDE(3)] = (uint32_t)-8;
	in->arg[NPU_ARG_ND_DST_STRIDE(0)] = 8;
	in->arg[NPU_ARG_ND_DST_STRIDE(1)] = 16;
	in->arg[NPU_ARG_ND_DST_STRIDE(2)] = 48;
	in->arg[NPU_ARG_ND_DST_STRIDE(3)] = 192;
	/* broadcast a row (stride 0), i16 fill */
	in = emit(self, NPU_ISA_COPY_ND, NPU_DTYPE_I16, 0, 0xa0000, 0x30000, 0);
	in->arg[NPU_ARG_ND_COUNT(0)] = 1;
	in->arg[NPU_ARG_ND_COUNT(1)] = 1;
	in->arg[NPU_ARG_ND_COUNT(2)] = 7;
	in->arg[NPU_ARG_ND_COUNT(3)] = 9;
	in->arg[NPU_ARG_ND_SRC_STRIDE(3)] = 2;
	in->arg[NPU_ARG_ND_DST_STRIDE(2)] = 18;
	in->arg[NPU_ARG_ND_DST_STRIDE(3)] = 2;
	in = emit(self, NPU_ISA_FILL, NPU_DTYPE_I16, 0, 0xa1001, 0, 0);
	in->arg[NPU_ARG_COUNT] = 77;
	in->arg[NPU_ARG_FILL_VALUE] = (uint32_t)-12345;
	run_both(_metadata, self, "layout moves", NULL);
}

/*
 * A CNN layer long enough (> 2^18 cycles) that the model runs it in its
 * worker thread: conv 3x3 32->32 on 32x32, per-channel requant, ReLU,
 * then 60 ping-pong average pools.
 */
TEST_F_TIMEOUT(isa2, cnn_layer_in_the_worker_thread, 600)
{
	struct npu_isa_insn *in;
	uint64_t cycles;

	NPU_RETURN_IF_SKIPPED();
	for (uint32_t c = 0; c < 32; c++)
		put32(self->image + 0x70100 + 8 * c + 4, 18 + c % 5);
	in = emit(self, NPU_ISA_CONV2D, NPU_DTYPE_A_U8, NPU_ISA_F_BIAS, 0x80000, DATA_OFF,
		  0x40000);
	in->arg[NPU_ARG_CONV_N] = 1;
	in->arg[NPU_ARG_CONV_H] = 32;
	in->arg[NPU_ARG_CONV_W] = 32;
	in->arg[NPU_ARG_CONV_C_IN] = 32;
	in->arg[NPU_ARG_CONV_C_OUT] = 32;
	in->arg[NPU_ARG_CONV_GROUPS] = 1;
	in->arg[NPU_ARG_CONV_KERNEL] = NPU_PACK16(3, 3);
	in->arg[NPU_ARG_CONV_STRIDE_DIL] = NPU_PACK8(1, 1, 1, 1);
	in->arg[NPU_ARG_CONV_PADS] = NPU_PACK8(1, 1, 1, 1);
	in->arg[NPU_ARG_CONV_BIAS] = 0x70000;
	in->arg[NPU_ARG_CONV_X_ZERO_POINT] = 128;
	in = emit(self, NPU_ISA_REQUANT_PC, NPU_DTYPE_U8, 0, 0x60000, 0x80000, 0x70100);
	in->arg[NPU_ARG_COUNT] = 32 * 32 * 32;
	in->arg[NPU_ARG_RQ_CHANNELS] = 32;
	in->arg[NPU_ARG_ZERO_POINT] = 20;
	in = emit(self, NPU_ISA_CLIP, NPU_DTYPE_U8, 0, 0x60000, 0x60000, 0);
	in->arg[NPU_ARG_COUNT] = 32 * 32 * 32;
	in->arg[NPU_ARG_CLIP_MIN] = 20;
	in->arg[NPU_ARG_CLIP_MAX] = 255;
	for (int i = 0; i < 60; i++)
		pool(self, NPU_ISA_AVGPOOL, NPU_DTYPE_U8, 0, i % 2 ? 0x60000 : 0x68000,
		     i % 2 ? 0x68000 : 0x60000, 32, 32, 32, 3, 1, 1, 1);
	run_both(_metadata, self, "CNN layer", &cycles);
	/* per lane: 36864 conv + 60 * 9216 pool + 2 * 1024 element cycles */
	EXPECT_LT(1ull << 18, cycles) TH_LOG("only %llu cycles", (unsigned long long)cycles);
}

/* A bad table entry fails the instruction with BAD_DESC before it writes. */
TEST_F(isa2, requant_pc_bad_table_entry)
{
	struct npu_insn prog[2];
	struct npu_isa_insn in = { .opcode = NPU_ISA_REQUANT_PC, .dtype = NPU_DTYPE_I8,
				   .dst = self->base + 0x80000, .src0 = self->base + DATA_OFF,
				   .src1 = self->base + 0x70000 };
	struct npu_wait wait;
	uint8_t before[64], after[64];

	NPU_RETURN_IF_SKIPPED();
	in.arg[NPU_ARG_COUNT] = 64;
	in.arg[NPU_ARG_RQ_CHANNELS] = 2;
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
