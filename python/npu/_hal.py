# SPDX-License-Identifier: MIT
"""ctypes bindings of the parts of libnpuhal (hal/include/npuhal.h) the runtime uses.

ctypes releases the GIL for the duration of every foreign call, so a thread
waiting in npu_runner_run() or npu_queue_recv() lets the others run.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_float, c_int, c_int32, c_int64,
                    c_size_t, c_uint, c_uint8, c_uint32, c_uint64, c_void_p)

# enum npu_status
OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_NOT_FOUND = 2
ERR_BUSY = 3
ERR_NO_MEMORY = 4
ERR_IO = 5
ERR_TIMEOUT = 6
ERR_NO_DEVICE = 7
ERR_BAD_PROGRAM = 8
ERR_JOB_FAILED = 9
ERR_CLOSED = 10
ERR_UNSUPPORTED = 11

# enum npu_prog_dtype, enum npu_prog_layout, enum npu_prog_tensor_kind
DTYPE_INT8, DTYPE_UINT8, DTYPE_INT32, DTYPE_FLOAT32 = 1, 2, 3, 4
LAYOUT_ROW_MAJOR, LAYOUT_NHWC = 0, 1
TENSOR_INPUT, TENSOR_OUTPUT = 1, 2

PROG_MAX_RANK = 6
PROG_MAX_TENSORS = 64
IN_PLACE_MIN_BYTES = 64 * 1024


class ProgTensor(Structure):
    """struct npu_prog_tensor (hal/include/npu_program.h)."""

    _fields_ = [
        ("name", c_char * 32),
        ("kind", c_uint8),
        ("dtype", c_uint8),
        ("host_dtype", c_uint8),
        ("rank", c_uint8),
        ("layout", c_uint8),
        ("reserved0", c_uint8 * 3),
        ("dims", c_uint32 * PROG_MAX_RANK),
        ("pad", c_uint32 * PROG_MAX_RANK),
        ("dram_addr", c_uint64),
        ("byte_size", c_uint64),
        ("scale", c_float),
        ("zero_point", c_int32),
        ("reserved1", c_uint64 * 2),
    ]


class RunInfo(Structure):
    """struct npu_run_info."""

    _fields_ = [
        ("device_start", c_uint64),
        ("device_end", c_uint64),
        ("clock_mhz", c_uint32),
        ("unit", c_uint),
        ("inputs_in_place", c_uint),
    ]


class QueueOptions(Structure):
    """struct npu_queue_options."""

    _fields_ = [("inflight_per_unit", c_uint), ("output_capacity", c_uint)]


assert ctypes.sizeof(ProgTensor) == 128, "struct npu_prog_tensor changed"

# NPU_HAL_LIBRARY names another libnpuhal (a build tree's, in tests).
_lib = ctypes.CDLL(os.environ.get("NPU_HAL_LIBRARY") or "libnpuhal.so.1")

_handle = c_void_p
_ptrs = POINTER(c_void_p)


def _fn(name: str, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


strerror = _fn("npu_strerror", c_char_p, c_int)
last_error = _fn("npu_last_error", c_char_p)

context_new_from_env = _fn("npu_context_new_from_env", c_int, POINTER(_handle))
context_free = _fn("npu_context_free", None, _handle)
context_get_devices = _fn("npu_context_get_devices", c_char_p, _handle)

ctx_session_open = _fn("npu_ctx_session_open", c_int, _handle, c_char_p, POINTER(_handle))
session_close = _fn("npu_session_close", None, _handle)
session_unit_count = _fn("npu_session_unit_count", c_size_t, _handle)
session_unit_name = _fn("npu_session_unit_name", c_char_p, _handle, c_size_t)

program_from_bytes = _fn("npu_program_from_bytes", c_int, c_char_p, c_size_t, POINTER(_handle))
program_free = _fn("npu_program_free", None, _handle)
program_tensor_count = _fn("npu_program_tensor_count", c_size_t, _handle)
program_tensor = _fn("npu_program_tensor", POINTER(ProgTensor), _handle, c_size_t)

runner_create = _fn("npu_runner_create", c_int, _handle, _handle, POINTER(_handle))
runner_destroy = _fn("npu_runner_destroy", None, _handle)
runner_run = _fn("npu_runner_run", c_int, _handle, _ptrs, _ptrs, POINTER(RunInfo))

tensor_to_device = _fn("npu_tensor_to_device", c_int, POINTER(ProgTensor), c_void_p, c_void_p)
tensor_from_device = _fn("npu_tensor_from_device", c_int, POINTER(ProgTensor), c_void_p,
                         c_void_p)

queue_create = _fn("npu_queue_create", c_int, _handle, POINTER(QueueOptions), POINTER(_handle))
queue_submit = _fn("npu_queue_submit", c_int, _handle, _ptrs, c_void_p, c_int64)
queue_recv = _fn("npu_queue_recv", c_int, _handle, c_int64, POINTER(c_void_p), _ptrs,
                 POINTER(RunInfo))
queue_destroy = _fn("npu_queue_destroy", None, _handle)


def message() -> str:
    """The calling thread's last HAL error message."""
    return (last_error() or b"").decode("utf-8", "replace")


def pointers(addresses) -> ctypes.Array:
    """A void *[] holding the given addresses (at least one element)."""
    arr = (c_void_p * max(1, len(addresses)))()
    for i, a in enumerate(addresses):
        arr[i] = a
    return arr


def library_path() -> str:
    """The file of the libnpuhal this process loaded (from /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if "libnpuhal.so" in line:
                    return line.split(None, 5)[-1].strip()
    except OSError:
        pass
    return _lib._name


cpu_run = _fn("npu_cpu_run", c_int, _handle, _ptrs, _ptrs, POINTER(c_uint64))
