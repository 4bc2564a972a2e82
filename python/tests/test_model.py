# SPDX-License-Identifier: MIT
"""What needs no device: DataType, TensorDesc/Model of real programs, errors raised
before any device is opened."""
from __future__ import annotations

import numpy as np
import pytest

import npu.runtime as rt
from npu.runtime import DataType, sync
from npu.runtime._core import Program, read_model
from npu.runtime.model import Model, TensorDesc
from npu import _hal


def test_datatype_from_numpy_types_and_arrays():
    assert DataType(np.float32) is DataType.FLOAT32
    assert DataType(np.zeros((3, 3), dtype="int8")) is DataType.INT8
    assert DataType("uint8") is DataType.UINT8
    assert DataType.INT32.numpy == np.dtype(np.int32)
    assert DataType.INT8.numpy_dtype is np.int8
    with pytest.raises(ValueError):
        DataType(np.complex64)
    with pytest.raises(ValueError):
        DataType.BFLOAT16.numpy


def model_of(path) -> Model:
    prog = Program(read_model(path))
    ins, outs = [], []
    for i in range(_hal.program_tensor_count(prog.handle)):
        t = _hal.program_tensor(prog.handle, i).contents
        (ins if t.kind == _hal.TENSOR_INPUT else outs).append(TensorDesc(t))
    m = Model(ins, outs)
    m._keep = prog
    return m


def test_tensor_desc_of_matmul_relu(programs):
    m = model_of(programs / "matmul_relu.npuprog")
    assert (m.input_num, m.output_num) == (1, 1)
    x, y = m.input(0), m.output(0)
    assert x.name == "x" and y.name == "y"
    assert x.shape == (4, 16) and x.ndim == 2 and x.dim(1) == 16
    assert x.dtype is DataType.INT8 and x.numpy_dtype == np.int8
    assert x.length == 64 and x.size == 64
    assert (x.stride(0), x.stride(1)) == (16, 1)
    assert x.format == "??" and x.axis(0) is rt.Axis.UNKNOWN
    assert y.shape == (4, 8)
    assert m.summary() == (
        "Inputs:\n{0: TensorDesc(shape=(4, 16), dtype=INT8, format=??, size=64, len=64)}\n"
        "Outputs:\n{0: TensorDesc(shape=(4, 8), dtype=INT8, format=??, size=32, len=32)}")


def test_tensor_desc_of_fmnist_is_the_host_form(programs):
    m = model_of(programs / "fmnist-mlp.npuprog")
    x = m.input(0)
    assert x.ndim == 4 and x.shape[2:] == (28, 28)
    assert x.dtype is DataType.FLOAT32          # quantized on the host
    assert x.format == "NCHW" and x.axis(1) is rt.Axis.CHANNEL
    assert x.stride(0) == 28 * 28 * x.shape[1]
    assert m.output(0).shape[1] == 10


def test_bad_model_is_rejected_with_the_loaders_message(programs):
    with pytest.raises(rt.ModelRejected, match="bad program"):
        sync.create_runner(b"not a program at all")
    data = bytearray((programs / "matmul_relu.npuprog").read_bytes())
    data[-1] ^= 0xFF
    with pytest.raises(rt.ModelRejected, match="CRC") as e:
        sync.create_runner(bytes(data))
    assert isinstance(e.value, rt.NpuRuntimeError)


def test_wrong_python_types(tmp_path):
    with pytest.raises(TypeError):
        sync.create_runner(1234)
    with pytest.raises(FileNotFoundError):
        sync.create_runner(tmp_path / "missing.npuprog")
    with pytest.raises(ValueError):
        sync.create_runner(b"x", worker_num=0)
    with pytest.raises(TypeError):
        sync.create_runner(b"x", batch_size="2")
    with pytest.raises(TypeError):
        sync.Runtime(device=0)


def test_no_driver_is_device_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("NPU_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("NPU_DEVFS_ROOT", str(tmp_path))
    with pytest.raises(rt.DeviceNotFound, match="driver is not loaded"):
        sync.Runtime()


def test_malformed_spec_names_the_column():
    with pytest.raises(rt.InvalidArgument, match="column 9") as e:
        sync.Runtime("warboy(2*1")
    assert isinstance(e.value, ValueError)


def test_full_version_names_the_library():
    v = rt.full_version()
    assert v.startswith(f"npu {rt.__version__} (libnpuhal ")
    assert "libnpuhal.so" in v
