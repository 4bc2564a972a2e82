# SPDX-License-Identifier: MIT
"""The objects under the sync (and later async) API: HAL handles with their lifetimes."""
from __future__ import annotations

import ctypes
import itertools
import os
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _hal
from . import errors
from .errors import Closed, InvalidInput, InvalidInputType
from .model import Model, TensorDesc

ModelSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]

PAGE = 4096


def aligned_empty(shape: Tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array starting on a page boundary, which the
    device can read in place when it is large enough (NPU_IN_PLACE_MIN_BYTES)."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    buf = np.empty(nbytes + PAGE, dtype=np.uint8)
    off = (-buf.ctypes.data) % PAGE
    return buf[off:off + nbytes].view(dtype).reshape(shape)


def read_model(model: Any) -> bytes:
    """The bytes of a ModelSource: a path (str or path-like), or raw data."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    if isinstance(model, (str, os.PathLike)):
        with open(model, "rb") as f:
            return f.read()
    if hasattr(model, "__bytes__"):
        return bytes(model)
    raise TypeError(f"model must be a path, a path-like or bytes, not {type(model).__name__}")


def _positive(name: str, value: Optional[int]) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


class _Handle:
    """A HAL object freed by _free(handle) on close() or collection."""

    handle: Optional[int] = None

    @staticmethod
    def _free(handle: int) -> None:
        raise NotImplementedError

    def _open(self, status: int, what: str, h: ctypes.c_void_p) -> None:
        errors.check(status, what)
        self.handle = h.value

    def close(self) -> None:
        if self.handle:
            handle, self.handle = self.handle, None
            self._free(handle)

    def __del__(self) -> None:
        self.close()


class Context(_Handle):
    """An npu_context made from the environment: log level, profiler, job timeout,
    roots and the default spec (FURIOSA_DEVICES, NPU_DEVNAME)."""

    _free = staticmethod(_hal.context_free)

    def __init__(self) -> None:
        h = ctypes.c_void_p()
        self._open(_hal.context_new_from_env(ctypes.byref(h)), "context", h)


class Session(_Handle):
    """The device files a spec resolved to, held exclusively until closed."""

    _free = staticmethod(_hal.session_close)

    def __init__(self, ctx: Context, device: Optional[str]):
        if device is not None and not isinstance(device, str):
            raise TypeError(f"device must be a str or None, not {type(device).__name__}")
        h = ctypes.c_void_p()
        spec = device.encode() if device is not None else None
        self._open(_hal.ctx_session_open(ctx.handle, spec, ctypes.byref(h)),
                   f"device {device or '(default)'}", h)
        self.ctx = ctx           # the HAL session holds its own reference too
        self.units = [_hal.session_unit_name(self.handle, i).decode()
                      for i in range(_hal.session_unit_count(self.handle))]
        self.in_use = False      # the HAL takes one runner per session at a time


class Program(_Handle):
    """A validated compiled program."""

    _free = staticmethod(_hal.program_free)

    def __init__(self, data: bytes):
        h = ctypes.c_void_p()
        self._open(_hal.program_from_bytes(data, len(data), ctypes.byref(h)), "model", h)


class _Io:
    """Moves one tensor between the caller's numpy array and device bytes."""

    def __init__(self, desc: TensorDesc):
        self.desc = desc
        self.raw = ctypes.pointer(desc._raw)
        self.byte_size = int(desc._raw.byte_size)

    def check(self, index: int, arr: Any, batch_size: int) -> np.ndarray:
        d = self.desc
        if not isinstance(arr, (np.ndarray, np.generic)):
            raise InvalidInputType(
                f"input {index} must be a numpy array, not {type(arr).__name__} "
                f"(expected shape {d.shape}, dtype {d.numpy_dtype})", index, d)
        arr = np.asarray(arr)
        if arr.dtype != d.numpy_dtype:
            raise InvalidInputType(
                f"input {index} ({d.name}) has dtype {arr.dtype}, the model wants "
                f"{d.numpy_dtype} (shape {d.shape})", index, d)
        if arr.shape != d.shape:
            raise InvalidInput(
                f"input {index} ({d.name}) has shape {arr.shape}, the model wants {d.shape} "
                f"(dtype {d.numpy_dtype})", index, d)
        return np.ascontiguousarray(arr)


class _Users:
    """Counts the calls in progress, so that close() can wait for them to leave."""

    what = "object"

    def _init_users(self) -> None:
        self._lock = threading.Condition()
        self._users = 0
        self.closed = False

    def enter(self) -> None:
        with self._lock:
            if self.closed:
                raise Closed(f"the {self.what} is closed")
            self._users += 1

    def leave(self) -> None:
        with self._lock:
            self._users -= 1
            if not self._users:
                self._lock.notify_all()

    def _close_when_idle(self) -> bool:
        """Marks it closed and waits for the calls in progress; False if it already was."""
        with self._lock:
            if self.closed:
                return False
            self.closed = True
            self._lock.notify_all()
            while self._users:
                self._lock.wait()
        return True


class Loaded(_Users):
    """A program on a session: the HAL runner, the model and the tensor plumbing."""

    handle: Optional[int] = None
    what = "runner"

    def __init__(self, session: Session, program: Program, owns_session: bool,
                 batch_size: Optional[int]):
        if session.in_use:
            raise errors.DeviceBusy(
                f"the runtime's devices ({','.join(session.units)}) already run a model: "
                "one runner or queue per runtime at a time")
        self.batch = batch_size or 1
        ins, outs = [], []
        for i in range(_hal.program_tensor_count(program.handle)):
            # A copy: the descriptors outlive the program (runner.model after close()).
            t = _hal.ProgTensor.from_buffer_copy(_hal.program_tensor(program.handle, i).contents)
            (ins if t.kind == _hal.TENSOR_INPUT else outs).append(t)
        self.model = Model([TensorDesc(t, self.batch) for t in ins],
                           [TensorDesc(t, self.batch) for t in outs])
        self.job_model = Model([TensorDesc(t) for t in ins], [TensorDesc(t) for t in outs])
        if self.batch != 1 and any(t.rank == 0 for t in ins + outs):
            raise ValueError("batch_size needs tensors with a first dimension")
        self.ins = [_Io(d) for d in self.job_model.inputs()]
        self.outs = [_Io(d) for d in self.job_model.outputs()]
        self._init_users()
        h = ctypes.c_void_p()
        st = _hal.runner_create(session.handle, program.handle, ctypes.byref(h))
        where = f"loading the model on {','.join(session.units)}"
        if st == _hal.ERR_INVALID_ARGUMENT:   # the program does not fit these devices
            raise errors.ModelRejected(f"{where}: {_hal.message()}", "invalid argument")
        errors.check(st, where)
        session.in_use = True
        self.session, self.program, self.owns_session = session, program, owns_session
        self.handle: Optional[int] = h.value

    def close(self) -> None:
        if not self._close_when_idle():
            return
        if self.handle:
            _hal.runner_destroy(self.handle)
            self.handle = None
        self.session.in_use = False
        self.program.close()
        if self.owns_session:
            self.session.close()

    # -- tensors ----------------------------------------------------------------------
    def split_inputs(self, inputs: Any) -> List[List[np.ndarray]]:
        """Checked, contiguous inputs for each job (batch_size jobs per call)."""
        if isinstance(inputs, (np.ndarray, np.generic)):
            inputs = [inputs]
        elif isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
            raise TypeError("inputs must be a numpy array or a list of them, not "
                            f"{type(inputs).__name__}")
        inputs = list(inputs)
        if len(inputs) != len(self.ins):
            want = ", ".join(f"{d.shape} {d.numpy_dtype}" for d in self.model.inputs())
            raise InvalidInput(f"the model takes {len(self.ins)} input(s) ({want}), "
                               f"got {len(inputs)}")
        descs = self.model.inputs()
        checked = []
        for i, (io, arr) in enumerate(zip(self.ins, inputs)):
            full = _Io(descs[i]) if self.batch != 1 else io
            checked.append(full.check(i, arr, self.batch))
        if self.batch == 1:
            return [checked]
        return [[np.ascontiguousarray(np.split(a, self.batch)[b]) for a in checked]
                for b in range(self.batch)]

    def device_inputs(self, arrays: Sequence[np.ndarray]) -> Tuple[List[int], list]:
        """Addresses of device-form inputs, and what must stay alive while they are used."""
        addrs, keep = [], []
        for io, arr in zip(self.ins, arrays):
            if io.desc._identity:
                addrs.append(arr.ctypes.data)      # zero copy: the caller's memory
                keep.append(arr)
            else:
                dev = aligned_empty((io.byte_size,), np.uint8)
                errors.check(_hal.tensor_to_device(io.raw, arr.ctypes.data, dev.ctypes.data),
                             f"converting input {io.desc.name}")
                addrs.append(dev.ctypes.data)
                keep.append(dev)
        return addrs, keep

    def output_buffers(self) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """(what the device writes, what the caller gets): the same arrays when the
        device's bytes are the host form."""
        dev, host = [], []
        for io in self.outs:
            h = np.empty(io.desc.shape, io.desc.numpy_dtype)
            host.append(h)
            dev.append(h if io.desc._identity else np.empty(io.byte_size, np.uint8))
        return dev, host

    def finish_outputs(self, dev: List[np.ndarray], host: List[np.ndarray]) -> List[np.ndarray]:
        for io, d, h in zip(self.outs, dev, host):
            if d is not h:
                errors.check(_hal.tensor_from_device(io.raw, d.ctypes.data, h.ctypes.data),
                             f"converting output {io.desc.name}")
        return host

    def run_job(self, arrays: Sequence[np.ndarray]) -> List[np.ndarray]:
        addrs, keep = self.device_inputs(arrays)
        dev, host = self.output_buffers()
        info = _hal.RunInfo()
        st = _hal.runner_run(self.handle, _hal.pointers(addrs),
                             _hal.pointers([d.ctypes.data for d in dev]), ctypes.byref(info))
        del keep
        errors.check(st, "run")
        return self.finish_outputs(dev, host)

    def run(self, inputs: Any) -> List[np.ndarray]:
        jobs = self.split_inputs(inputs)
        self.enter()
        try:
            results = [self.run_job(j) for j in jobs]
        finally:
            self.leave()
        if len(results) == 1:
            return results[0]
        return [np.concatenate([r[i] for r in results]) for i in range(len(self.outs))]


class Queue(_Users):
    """An npu_queue with the bookkeeping of Submitter and Receiver."""

    handle: Optional[int] = None
    what = "queue"

    # Blocking waits are cut into slices of this many ns so that close() and
    # KeyboardInterrupt are noticed.
    SLICE_NS = 100_000_000

    def __init__(self, loaded: Loaded, input_queue_size: Optional[int],
                 output_queue_size: Optional[int]):
        _positive("input_queue_size", input_queue_size)
        _positive("output_queue_size", output_queue_size)
        if loaded.batch != 1:
            raise errors.Unsupported("batch_size with a queue is not supported yet")
        units = len(loaded.session.units)
        opts = _hal.QueueOptions()
        if input_queue_size:
            opts.inflight_per_unit = -(-input_queue_size // units)
        if output_queue_size:
            opts.output_capacity = output_queue_size
        h = ctypes.c_void_p()
        errors.check(_hal.queue_create(loaded.handle, ctypes.byref(opts), ctypes.byref(h)),
                     "queue")
        self.loaded = loaded
        self.handle: Optional[int] = h.value
        self._init_users()
        self._contexts: Dict[int, Any] = {}
        self._ids = itertools.count(1)
        self.submitted = 0
        self.received = 0
        self.submitter_closed = False

    def submit(self, inputs: Any, context: Any) -> None:
        with self._lock:
            if self.submitter_closed:
                raise Closed("the submitter is closed")
        (arrays,) = self.loaded.split_inputs(inputs)
        addrs, keep = self.loaded.device_inputs(arrays)
        ptrs = _hal.pointers(addrs)
        token = next(self._ids)
        self.enter()
        with self._lock:
            self._contexts[token] = context
        try:
            while True:
                st = _hal.queue_submit(self.handle, ptrs, token, self.SLICE_NS)
                if st != _hal.ERR_TIMEOUT:
                    break
                with self._lock:
                    if self.closed:
                        st = _hal.ERR_CLOSED
                        break
        finally:
            self.leave()
            del keep     # npu_queue_submit copied the inputs
        with self._lock:
            if st == _hal.OK:
                self.submitted += 1
                return
            self._contexts.pop(token, None)
        if st == _hal.ERR_CLOSED:
            raise Closed("the queue was closed while submitting")
        errors.check(st, "submit")

    def close_submitter(self) -> None:
        with self._lock:
            self.submitter_closed = True
            self._lock.notify_all()

    def done(self) -> bool:
        with self._lock:
            return self.closed or (self.submitter_closed and self.received >= self.submitted)

    def recv(self, timeout: Optional[float], stop_when_done: bool = False):
        """(context, outputs); TimeoutError after timeout seconds (None: forever).
        With stop_when_done, StopIteration once the submitter is closed and every
        result was received."""
        if timeout is not None and (isinstance(timeout, bool) or
                                    not isinstance(timeout, (int, float))):
            raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__}")
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must not be negative")
        left = None if timeout is None else int(timeout * 1e9)
        dev, host = self.loaded.output_buffers()
        outs = _hal.pointers([d.ctypes.data for d in dev])
        ctx = ctypes.c_void_p()
        # Iterating ends when the receiver itself is closed, too.
        if stop_when_done and self.done():
            raise StopIteration
        self.enter()
        try:
            while True:
                if stop_when_done and self.done():
                    raise StopIteration
                wait = self.SLICE_NS if left is None else min(left, self.SLICE_NS)
                st = _hal.queue_recv(self.handle, wait, ctypes.byref(ctx), outs, None)
                if st != _hal.ERR_TIMEOUT:
                    break
                if self.closed:
                    if stop_when_done:
                        raise StopIteration
                    raise Closed("the receiver is closed")
                if left is not None:
                    left -= wait
                    if left <= 0:
                        raise TimeoutError(f"no result within {timeout} s")
        finally:
            self.leave()
        with self._lock:
            self.received += 1
            context = self._contexts.pop(ctx.value or 0, None)
        if st != _hal.OK:
            err = errors.from_status(st, "job")
            if isinstance(err, errors.JobFailed):
                err.context = context
            raise err
        return context, self.loaded.finish_outputs(dev, host)

    def close(self) -> None:
        with self._lock:
            self.submitter_closed = True
        if not self._close_when_idle():
            return
        if self.handle:
            _hal.queue_destroy(self.handle)
            self.handle = None
        self.loaded.close()


def load_program(model: ModelSource, worker_num: Optional[int],
                 batch_size: Optional[int]) -> Program:
    """Checks the options and validates the model before any device is opened."""
    _positive("worker_num", worker_num)
    _positive("batch_size", batch_size)
    return Program(read_model(model))


def make_loaded(runtime_session: Optional[Session], ctx: Context, program: Program,
                device: Optional[str], batch_size: Optional[int]) -> Loaded:
    """The program on the runtime's session if it is free and no device was named,
    else on a session of its own. Takes over program (freed on failure)."""
    try:
        if runtime_session is not None and device is None and not runtime_session.in_use:
            return Loaded(runtime_session, program, False, batch_size)
        session = Session(ctx, device)
        try:
            return Loaded(session, program, True, batch_size)
        except BaseException:
            session.close()
            raise
    except BaseException:
        program.close()
        raise
