# SPDX-License-Identifier: MIT
"""npu.runtime: FuriosaAI's furiosa.runtime API over libnpuhal.

This module is the asyncio API (Runtime, create_runner, create_queue: ``async
with``, ``await``), the model metadata, the errors and full_version(); the
synchronous API is npu.runtime.sync, with the same names.
"""
from __future__ import annotations

from .. import __version__, _hal
from .errors import (Closed, DeviceBusy, DeviceNotFound, DeviceTimeout, InvalidArgument,
                     InvalidInput, InvalidInputType, JobFailed, ModelRejected, NpuRuntimeError,
                     NpuRuntimeWarning, Unsupported)
from .model import Axis, DataType, Model, TensorDesc
from ._async import Receiver, Runner, Runtime, Submitter, create_queue, create_runner

__all__ = [
    "Runtime", "Runner", "Submitter", "Receiver", "create_runner", "create_queue",
    "Axis", "DataType", "Model", "TensorDesc", "full_version", "__version__",
    "NpuRuntimeError", "NpuRuntimeWarning", "DeviceBusy", "DeviceNotFound", "DeviceTimeout",
    "InvalidArgument", "InvalidInput", "InvalidInputType", "JobFailed", "ModelRejected",
    "Closed", "Unsupported",
]


def full_version() -> str:
    """"npu 1.0.0 (libnpuhal /usr/lib/.../libnpuhal.so.1)": this package's version and
    the library it runs on."""
    return f"npu {__version__} (libnpuhal {_hal.library_path()})"
