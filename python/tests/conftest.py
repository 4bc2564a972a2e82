# SPDX-License-Identifier: MIT
"""Fixtures of the npu package's tests.

Tests marked ``device`` need an NPU (the VM lanes); elsewhere they skip, unless
NPU_PYTEST_REQUIRE_DEVICE=1 (the system VM sets it), where a missing device fails.
NPU_PROGRAMS names the directory of the example programs (default
/usr/share/npu/programs, else the build tree's build/programs).
"""
from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def programs_dir() -> Path:
    for d in (os.environ.get("NPU_PROGRAMS"), "/usr/share/npu/programs",
              HERE.parent.parent / "build" / "programs"):
        if d and (Path(d) / "matmul_relu.npuprog").is_file():
            return Path(d)
    pytest.fail("no example programs: set NPU_PROGRAMS or run make examples")


@pytest.fixture(scope="session")
def programs() -> Path:
    return programs_dir()


def have_device() -> bool:
    return bool(glob.glob("/dev/npu[0-9]*pe*"))


def pytest_configure(config):
    config.addinivalue_line("markers", "device: needs an NPU")


def pytest_collection_modifyitems(config, items):
    if have_device():
        return
    if os.environ.get("NPU_PYTEST_REQUIRE_DEVICE") == "1":
        fail = pytest.mark.usefixtures("_no_device_is_a_failure")
        for item in items:
            if "device" in item.keywords:
                item.add_marker(fail)
        return
    skip = pytest.mark.skip(reason="no NPU here (/dev/npu*); the VM lanes run these")
    for item in items:
        if "device" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def _no_device_is_a_failure():
    pytest.fail("NPU_PYTEST_REQUIRE_DEVICE=1 but there is no /dev/npu*")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def cpu_reference(path, inputs):
    """npu_cpu_run (the HAL's CPU runner, the device's instruction semantics) on
    device-form inputs: the outputs as uint8 byte arrays of each output's size."""
    import numpy as np

    from npu import _hal
    from npu.runtime._core import Program, read_model

    prog = Program(read_model(path))
    try:
        outs = []
        for i in range(_hal.program_tensor_count(prog.handle)):
            t = _hal.program_tensor(prog.handle, i).contents
            if t.kind == _hal.TENSOR_OUTPUT:
                outs.append(np.zeros(t.byte_size, np.uint8))
        ins = [np.ascontiguousarray(a) for a in inputs]
        st = _hal.cpu_run(prog.handle, _hal.pointers([a.ctypes.data for a in ins]),
                          _hal.pointers([o.ctypes.data for o in outs]), None)
        assert st == 0, _hal.message()
        return outs
    finally:
        prog.close()

