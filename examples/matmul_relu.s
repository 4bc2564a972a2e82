# SPDX-License-Identifier: MIT
# A dense layer on one PE: y = requant(relu(x * W)), x int8 [4x16], W int8 [16x8].
# Assemble: build/bin/npu-as examples/matmul_relu.s -o matmul_relu.npuprog
.arch warboy
.pes 1
.dram 0x4000

.equ W    0x0400            # weights, 16x8 int8
.equ ACC  0x1000            # int32 accumulator, 4x8
.input  x int8 [4, 16] at 0x0800
.output y int8 [4, 8]  at 0x2000

.const W i8   1  -2   3  -4   5  -6   7  -8
.const W+8 i8 2   2   2   2   2   2   2   2
.const W+16 fill 1 112       # the remaining 14 rows are all 1

.code 0x0
    matmul_i8 dst=ACC a=x b=W m=4 n=8 k=16
    relu.i32  dst=ACC src=ACC n=32
    requant   dst=y src=ACC n=32 multiplier=1 shift=2 zero_point=-128
    halt
