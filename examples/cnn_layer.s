# SPDX-License-Identifier: MIT
# A small quantized CNN layer on one PE, the way a compiler lowers ONNX QLinearConv +
# Relu + MaxPool (docs/hardware.md §10):
#   x uint8 NHWC [1,8,8,2] (zero point 128)
#   -> conv2d 3x3, pad 1, 4 output channels, int8 OHWI weights, int32 bias
#   -> per-channel requantize to uint8 (zero point 10) -> ReLU as clip(10, 255)
#   -> 2x2 max pool, stride 2 -> y uint8 NHWC [1,4,4,4]
#   -> t: y transposed to NCHW by a strided copy (what an ONNX consumer expects)
# Assemble: build/bin/npu-as examples/cnn_layer.s -o cnn_layer.npuprog
.arch warboy
.pes 1
.dram 0x4000

.equ W    0x0400            # weights int8 [4][3][3][2] (OHWI)
.equ B    0x0480            # bias int32 [4]
.equ RQ   0x04c0            # requant table: {multiplier, shift} x 4
.equ ACC  0x1000            # int32 [1][8][8][4]
.equ Q    0x1800            # uint8 [1][8][8][4]
.input  x uint8 [1, 2, 8, 8] at 0x0800 layout=nhwc
.output y uint8 [1, 4, 4, 4] at 0x2000 layout=nhwc
.output t uint8 [1, 4, 4, 4] at 0x2100

.const W+0 i8   4  -4   3  -5   2  -6   1  -7   0   7  -1   6  -2   5  -3   4  -4   3
.const W+18 i8  -5   2  -6   1  -7   0   7  -1   6  -2   5  -3   4  -4   3  -5   2  -6
.const W+36 i8   1  -7   0   7  -1   6  -2   5  -3   4  -4   3  -5   2  -6   1  -7   0
.const W+54 i8   7  -1   6  -2   5  -3   4  -4   3  -5   2  -6   1  -7   0   7  -1   6
.const B i32 100 -50 0 25
.const RQ i32 1073741824 36 1518500250 37 858993459 35 2147483647 38

.code 0x0
    conv2d.u8i8   dst=ACC x=x weights=W h=8 w=8 cin=2 cout=4 kh=3 kw=3 pt=1 pl=1 pb=1 pr=1 bias=B zx=128 zw=0
    requant_pc.u8 dst=Q src=ACC table=RQ n=256 channels=4 zero_point=10
    clip.u8       dst=Q src=Q n=256 lo=10 hi=255
    maxpool.u8    dst=y src=Q h=8 w=8 c=4 kh=2 kw=2 sh=2 sw=2
    # t[c][h][w] = y[h][w][c]: counts (c, h, w), source strides (1, 16, 4), destination (16, 4, 1)
    copy_nd.u8    dst=t src=y c1=4 c2=4 c3=4 ss1=1 ss2=16 ss3=4 ds1=16 ds2=4 ds3=1
    halt
