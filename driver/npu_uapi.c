// SPDX-License-Identifier: GPL-2.0
/*
 * Arrays in ioctl arguments whose element may grow (npu_submit.cmd_size):
 * userspace names the size of its element, 0 for the size of ABI 1.0.
 * Elements larger than the kernel's struct are read at the caller's
 * stride, and their bytes beyond the kernel's struct must be zero, as
 * reserved fields must: a caller built against a newer uapi/npu.h that
 * leaves its new fields zero works with this driver, one that sets them
 * gets EINVAL instead of having them ignored.
 */

#include <linux/align.h>
#include <linux/errno.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>

#include "npu_uapi.h"

/**
 * npu_uapi_elem_stride - validate the element size userspace gave
 * @usize: the caller's element size, 0 for @ksize (the 1.0 size)
 * @ksize: size of the kernel's struct (the smallest valid element)
 * @max: largest element size accepted
 *
 * Return: the stride of the caller's array, or -EINVAL unless @usize is 0
 * or a multiple of 8 from @ksize to @max.
 */
int npu_uapi_elem_stride(u32 usize, size_t ksize, size_t max)
{
	if (!usize)
		return ksize;
	if (usize < ksize || usize > max || !IS_ALIGNED(usize, 8))
		return -EINVAL;
	return usize;
}

/**
 * npu_uapi_copy_array - copy an array of elements from userspace
 * @dst: @count kernel structs of @ksize bytes
 * @ksize: size of the kernel's struct
 * @uptr: user address of the array
 * @stride: element size, from npu_uapi_elem_stride()
 * @count: elements
 *
 * Return: 0, -EFAULT for memory that cannot be read, -EINVAL for an
 * element with non-zero bytes beyond @ksize.
 */
int npu_uapi_copy_array(void *dst, size_t ksize, u64 uptr, size_t stride, u32 count)
{
	const u8 __user *src = u64_to_user_ptr(uptr);
	u32 i;
	int ret;

	if (stride == ksize)
		return copy_from_user(dst, src, array_size(count, ksize)) ? -EFAULT : 0;
	for (i = 0; i < count; i++) {
		ret = copy_struct_from_user((u8 *)dst + i * ksize, ksize, src + i * stride,
					    stride);
		if (ret)
			return ret == -E2BIG ? -EINVAL : ret;
	}
	return 0;
}
