/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arrays in ioctl arguments that carry the size of their element, so the
 * element can grow (uapi 1.1: npu_submit.cmd_size).
 */
#ifndef NPU_UAPI_H
#define NPU_UAPI_H

#include <linux/types.h>

int npu_uapi_elem_stride(u32 usize, size_t ksize, size_t max);
int npu_uapi_copy_array(void *dst, size_t ksize, u64 uptr, size_t stride, u32 count);

#endif /* NPU_UAPI_H */
