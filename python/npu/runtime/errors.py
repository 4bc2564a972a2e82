# SPDX-License-Identifier: MIT
"""The runtime's exceptions: NpuRuntimeError and the subclasses a caller branches on."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from .. import _hal


class NpuRuntimeError(Exception):
    """Base class of every runtime error (furiosa.runtime.FuriosaRuntimeError).

    ``status`` is the HAL's status name ("busy", ...) when the HAL reported it.
    """

    def __init__(self, message: str, status: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.status = status


class NpuRuntimeWarning(Warning):
    """Base class of the runtime's warnings."""


class DeviceNotFound(NpuRuntimeError):
    """No device matches the spec, or the driver is not loaded."""


class DeviceBusy(NpuRuntimeError):
    """The devices exist but another process holds them.

    ``holders`` lists (pid, command) of each holder the HAL named.
    """

    def __init__(self, message: str, status: Optional[str] = None):
        super().__init__(message, status)
        self.holders = [(int(pid), comm) for pid, comm in
                        re.findall(r"held by pid (\d+), '([^']*)'", message)]


class ModelRejected(NpuRuntimeError, ValueError):
    """The program failed validation; the message is the loader's."""


class InvalidInput(NpuRuntimeError, ValueError):
    """Input tensors that do not match the model: wrong count or shape.

    ``index`` is the input's position (None: the count was wrong), ``expected``
    the TensorDesc it had to match.
    """

    def __init__(self, message: str, index: Optional[int] = None, expected=None):
        super().__init__(message)
        self.index = index
        self.expected = expected


class InvalidInputType(InvalidInput, TypeError):
    """An input of the wrong dtype (or not an array at all)."""


class InvalidArgument(NpuRuntimeError, ValueError):
    """The HAL refused an argument, e.g. a malformed device spec."""


class JobFailed(NpuRuntimeError):
    """The device ran the job and it failed. ``context``: the queue's context, if any."""

    context = None


class DeviceTimeout(NpuRuntimeError, TimeoutError):
    """The device did not finish a job in time (NPU_JOB_TIMEOUT_MS)."""


class Closed(NpuRuntimeError):
    """The runtime, runner or queue was closed."""


class Unsupported(NpuRuntimeError):
    """Something this device, driver or library version cannot do."""


_BY_STATUS = {
    _hal.ERR_INVALID_ARGUMENT: InvalidArgument,
    _hal.ERR_NOT_FOUND: DeviceNotFound,
    _hal.ERR_NO_DEVICE: DeviceNotFound,
    _hal.ERR_BUSY: DeviceBusy,
    _hal.ERR_BAD_PROGRAM: ModelRejected,
    _hal.ERR_JOB_FAILED: JobFailed,
    _hal.ERR_TIMEOUT: DeviceTimeout,
    _hal.ERR_CLOSED: Closed,
    _hal.ERR_UNSUPPORTED: Unsupported,
}


def from_status(status: int, what: str) -> NpuRuntimeError:
    """The exception for a HAL status; call it in the thread that made the call."""
    name = (_hal.strerror(status) or b"?").decode()
    detail = _hal.message() or name
    return _BY_STATUS.get(status, NpuRuntimeError)(f"{what}: {detail}", name)


def check(status: int, what: str) -> None:
    if status != _hal.OK:
        raise from_status(status, what)


__all__: Sequence[str] = [
    "NpuRuntimeError", "NpuRuntimeWarning", "DeviceNotFound", "DeviceBusy", "ModelRejected",
    "InvalidInput", "InvalidInputType", "InvalidArgument", "JobFailed", "DeviceTimeout",
    "Closed", "Unsupported",
]
