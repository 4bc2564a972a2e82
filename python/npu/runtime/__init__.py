# SPDX-License-Identifier: MIT
"""npu.runtime: FuriosaAI's furiosa.runtime API over libnpuhal.

The synchronous API is npu.runtime.sync (Runtime, create_runner, create_queue);
this module has the model metadata, the errors and full_version().
"""
from __future__ import annotations

from .. import __version__, _hal
from .errors import (Closed, DeviceBusy, DeviceNotFound, DeviceTimeout, InvalidArgument,
                     InvalidInput, InvalidInputType, JobFailed, ModelRejected, NpuRuntimeError,
                     NpuRuntimeWarning, Unsupported)
from .model import Axis, DataType, Model, TensorDesc

__all__ = [
    "Axis", "DataType", "Model", "TensorDesc", "full_version", "__version__",
    "NpuRuntimeError", "NpuRuntimeWarning", "DeviceBusy", "DeviceNotFound", "DeviceTimeout",
    "InvalidArgument", "InvalidInput", "InvalidInputType", "JobFailed", "ModelRejected",
    "Closed", "Unsupported",
]


def full_version() -> str:
    """"npu 1.0.0 (libnpuhal /usr/lib/.../libnpuhal.so.1)": this package's version and
    the library it runs on."""
    return f"npu {__version__} (libnpuhal {_hal.library_path()})"
