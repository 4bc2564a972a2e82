# SPDX-License-Identifier: MIT
# A larger dense layer for a single PE (npu:X:Y, warboy(1)*N); the same layer as matmul_relu_fused.s:
# y int8 [64x64] = requant(relu(x int8 [64x256] * W int8 [256x64])).
.arch warboy
.pes 1
.dram 0x20000

.equ W    0x04000           # 256x64 int8 weights
.equ ACC  0x10000           # 64x64 int32
.input  x int8 [64, 256] at 0x08000
.output y int8 [64, 64]  at 0x18000

.const W fill 3 16384

.code 0x0
    matmul_i8 dst=ACC a=x b=W m=64 n=64 k=256
    relu.i32  dst=ACC src=ACC n=4096
    requant   dst=y src=ACC n=4096 multiplier=1 shift=8 zero_point=0
    halt
