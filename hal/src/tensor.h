/* SPDX-License-Identifier: MIT */
/* Internal tensor helpers shared with the program loader. */
#ifndef NPUHAL_TENSOR_H
#define NPUHAL_TENSOR_H

#include <stdint.h>

#include "npuhal.h"

/*
 * Elements of the device tensor: the device-order dims (NHWC permutes the
 * host's NCHW) each plus its padding. UINT64_MAX if absurdly large.
 */
uint64_t npu_tensor_device_elements(const struct npu_prog_tensor *t);

#endif /* NPUHAL_TENSOR_H */
