// SPDX-License-Identifier: MIT
/*
 * Host-side tensor steps: what FuriosaAI's profiler shows as CPU operators
 * around a device execution. Quantize + lower turn a caller's tensor (host
 * dtype, host shape, row-major) into the device bytes a tensor descriptor
 * asks for (device dtype, layout, padding); unlower + dequantize undo it.
 *
 * Quantization follows ONNX QuantizeLinear: q = saturate(round_half_even(x /
 * scale) + zero_point); dequantization is (q - zero_point) * scale. Padding
 * elements are filled with the zero point (a real 0).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "npuhal.h"
#include "tensor.h"

/* Device dims in device order: NHWC turns host [N,C,H,W] into [N,H,W,C]. */
static void device_dims(const struct npu_prog_tensor *t, uint32_t *dims, unsigned int *perm)
{
	static const unsigned int nhwc[4] = { 0, 2, 3, 1 };	/* device dim i = host dim perm[i] */

	for (unsigned int d = 0; d < t->rank; d++) {
		perm[d] = t->layout == NPU_LAYOUT_NHWC ? nhwc[d] : d;
		dims[d] = t->dims[perm[d]];
	}
}

size_t npu_tensor_elements(const struct npu_prog_tensor *t)
{
	size_t n = 1;

	for (unsigned int d = 0; d < t->rank; d++)
		n *= t->dims[d];
	return n;
}

uint64_t npu_tensor_device_elements(const struct npu_prog_tensor *t)
{
	uint32_t ddims[NPU_PROG_MAX_RANK];
	unsigned int perm[NPU_PROG_MAX_RANK];
	uint64_t n = 1;

	device_dims(t, ddims, perm);
	for (unsigned int d = 0; d < t->rank; d++) {
		uint64_t extent = (uint64_t)ddims[d] + t->pad[d];

		if (extent && n > UINT64_MAX / 8 / extent)
			return UINT64_MAX;
		n *= extent;
	}
	return n;
}

size_t npu_tensor_host_bytes(const struct npu_prog_tensor *t)
{
	return npu_tensor_elements(t) * npu_prog_dtype_size(t->host_dtype);
}

static int32_t sat(int64_t v, int64_t lo, int64_t hi)
{
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Nearest integer, ties to even (ONNX QuantizeLinear); |v| < 2^62. */
static int64_t round_half_even(double v)
{
	int64_t i = (int64_t)v;		/* truncates toward zero */
	double frac = v - (double)i;

	if (frac > 0.5 || (frac == 0.5 && (i & 1)))
		i++;
	else if (frac < -0.5 || (frac == -0.5 && (i & 1)))
		i--;
	return i;
}

/* One host element (host dtype) to the device dtype, quantizing floats. */
static int32_t to_device(const struct npu_prog_tensor *t, const uint8_t *src)
{
	int64_t lo = t->dtype == NPU_PROG_DTYPE_INT8 ? -128 : t->dtype == NPU_PROG_DTYPE_UINT8 ? 0 : INT32_MIN;
	int64_t hi = t->dtype == NPU_PROG_DTYPE_INT8 ? 127 : t->dtype == NPU_PROG_DTYPE_UINT8 ? 255 : INT32_MAX;

	switch (t->host_dtype) {
	case NPU_PROG_DTYPE_FLOAT32: {
		float x;
		double v;

		memcpy(&x, src, 4);
		if (x != x)	/* NaN */
			return sat(t->zero_point, lo, hi);
		v = (double)x / t->scale;
		/* Clamp before converting: the zero point moves the range by < 2^32. */
		if (v < -4e18)
			v = -4e18;
		if (v > 4e18)
			v = 4e18;
		return sat(round_half_even(v) + t->zero_point, lo, hi);
	}
	case NPU_PROG_DTYPE_INT8:
		return sat((int8_t)src[0], lo, hi);
	case NPU_PROG_DTYPE_UINT8:
		return sat(src[0], lo, hi);
	default: {
		int32_t v;

		memcpy(&v, src, 4);
		return sat(v, lo, hi);
	}
	}
}

static void from_device(const struct npu_prog_tensor *t, int32_t q, uint8_t *dst)
{
	switch (t->host_dtype) {
	case NPU_PROG_DTYPE_FLOAT32: {
		float x = (float)(((double)q - t->zero_point) * t->scale);

		memcpy(dst, &x, 4);
		break;
	}
	case NPU_PROG_DTYPE_INT8:
		dst[0] = (uint8_t)(int8_t)sat(q, -128, 127);
		break;
	case NPU_PROG_DTYPE_UINT8:
		dst[0] = (uint8_t)sat(q, 0, 255);
		break;
	default:
		memcpy(dst, &q, 4);
		break;
	}
}

static int32_t load_device(const struct npu_prog_tensor *t, const uint8_t *p)
{
	int32_t v;

	switch (t->dtype) {
	case NPU_PROG_DTYPE_INT8:
		return (int8_t)p[0];
	case NPU_PROG_DTYPE_UINT8:
		return p[0];
	default:
		memcpy(&v, p, 4);
		return v;
	}
}

static void store_device(const struct npu_prog_tensor *t, int32_t v, uint8_t *p)
{
	if (t->dtype == NPU_PROG_DTYPE_INT32)
		memcpy(p, &v, 4);
	else
		p[0] = (uint8_t)v;
}

/*
 * Walks every host element in row-major order, giving its byte offset in the
 * host buffer and in the (padded, permuted) device buffer.
 */
typedef void (*visit_fn)(const struct npu_prog_tensor *t, size_t host_off, size_t dev_off,
			 const void *in, void *out);

static void walk(const struct npu_prog_tensor *t, visit_fn fn, const void *in, void *out)
{
	uint32_t ddims[NPU_PROG_MAX_RANK];
	unsigned int perm[NPU_PROG_MAX_RANK];
	size_t dstride[NPU_PROG_MAX_RANK], host_stride_of[NPU_PROG_MAX_RANK];
	size_t idx[NPU_PROG_MAX_RANK] = { 0 };
	size_t n = npu_tensor_elements(t), hsize = npu_prog_dtype_size(t->host_dtype);
	size_t dsize = npu_prog_dtype_size(t->dtype);

	device_dims(t, ddims, perm);
	/* Device strides (elements) in device order, padding included. */
	for (int d = (int)t->rank - 1; d >= 0; d--)
		dstride[d] = d == (int)t->rank - 1 ? 1 :
			     dstride[d + 1] * ((size_t)ddims[d + 1] + t->pad[d + 1]);
	/* The device stride of each host dimension. */
	for (unsigned int d = 0; d < t->rank; d++)
		host_stride_of[perm[d]] = dstride[d];
	for (size_t e = 0; e < n; e++) {
		size_t dev = 0;

		for (unsigned int d = 0; d < t->rank; d++)
			dev += idx[d] * host_stride_of[d];
		fn(t, e * hsize, dev * dsize, in, out);
		for (int d = (int)t->rank - 1; d >= 0; d--) {
			if (++idx[d] < t->dims[d])
				break;
			idx[d] = 0;
		}
	}
}

static void visit_lower(const struct npu_prog_tensor *t, size_t h, size_t dv, const void *in,
			void *out)
{
	store_device(t, to_device(t, (const uint8_t *)in + h), (uint8_t *)out + dv);
}

static void visit_unlower(const struct npu_prog_tensor *t, size_t h, size_t dv, const void *in,
			  void *out)
{
	from_device(t, load_device(t, (const uint8_t *)in + dv), (uint8_t *)out + h);
}

npu_status npu_tensor_to_device(const struct npu_prog_tensor *t, const void *host, void *device)
{
	int32_t fill;

	if (!t || !host || !device)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "tensor, host and device must not be NULL");
	/* Padding holds the zero point, i.e. a real 0. */
	fill = t->host_dtype == NPU_PROG_DTYPE_FLOAT32 ? t->zero_point : 0;
	if (t->dtype == NPU_PROG_DTYPE_INT32) {
		for (size_t i = 0; i < t->byte_size / 4; i++)
			memcpy((uint8_t *)device + 4 * i, &fill, 4);
	} else {
		memset(device, (uint8_t)fill, t->byte_size);
	}
	walk(t, visit_lower, host, device);
	return NPU_OK;
}

npu_status npu_tensor_from_device(const struct npu_prog_tensor *t, const void *device, void *host)
{
	if (!t || !host || !device)
		return npu_fail(NPU_ERR_INVALID_ARGUMENT, "tensor, host and device must not be NULL");
	walk(t, visit_unlower, device, host);
	return NPU_OK;
}
