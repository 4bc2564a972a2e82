# SPDX-License-Identifier: MIT
"""The synchronous API, furiosa.runtime.sync's: Runtime, Runner, Submitter, Receiver.

    from npu.runtime.sync import Runtime

    with Runtime() as runtime:
        with runtime.create_runner("model.npuprog") as runner:
            outputs = runner.run(inputs)
"""
from __future__ import annotations

import weakref
from typing import Any, Iterator, List, Optional, Tuple

import numpy as np

from . import _core
from .errors import Closed
from .model import Model

__all__ = ["Runtime", "Runner", "Submitter", "Receiver", "create_runner", "create_queue"]


class _Closing:
    """close() at the end of a with block and when collected; _close_runtime()
    ends the Runtime a module-level create_runner/create_queue made."""

    _runtime: Optional["Runtime"] = None
    _ready = False       # set once __init__ finished: __del__ of a half-made object does nothing

    def close(self) -> bool:
        raise NotImplementedError

    def _close_runtime(self) -> bool:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if self._ready:
            self.close()


class Runtime(_Closing):
    """A set of NPU devices (``device``: a spec such as "warboy(2)*1" or "npu:0:1";
    None: FURIOSA_DEVICES, else NPU_DEVNAME, else warboy(2)*1), held until close()."""

    def __init__(self, device: Optional[str] = None):
        self._ctx = _core.Context()
        try:
            self._session: Optional[_core.Session] = _core.Session(self._ctx, device)
        except BaseException:
            self._ctx.close()
            raise
        self.device = device
        self._children: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._ready = True

    @property
    def devices(self) -> List[str]:
        """The device files this runtime holds ("npu0pe0-1", ...)."""
        return list(self._session.units) if self._session else []

    def _check_open(self) -> _core.Session:
        if self._session is None:
            raise Closed("the runtime is closed")
        return self._session

    def create_runner(self, model: _core.ModelSource, *, device: Optional[str] = None,
                      worker_num: Optional[int] = None,
                      batch_size: Optional[int] = None) -> "Runner":
        """A Runner of model (a path, path-like or bytes of a compiled program) on
        this runtime's devices, or on ``device`` (opened for this runner)."""
        session = self._check_open()
        program = _core.load_program(model, worker_num, batch_size)
        runner = Runner(_core.make_loaded(session, self._ctx, program, device, batch_size))
        self._children.add(runner)
        return runner

    def create_queue(self, model: _core.ModelSource, *, device: Optional[str] = None,
                     worker_num: Optional[int] = None, batch_size: Optional[int] = None,
                     input_queue_size: Optional[int] = None,
                     output_queue_size: Optional[int] = None) -> "Tuple[Submitter, Receiver]":
        """(Submitter, Receiver) of a queue of model; see Submitter and Receiver."""
        session = self._check_open()
        program = _core.load_program(model, worker_num, batch_size)
        loaded = _core.make_loaded(session, self._ctx, program, device, batch_size)
        try:
            queue = _core.Queue(loaded, input_queue_size, output_queue_size)
        except BaseException:
            loaded.close()
            raise
        pair = _QueuePair((Submitter(queue), Receiver(queue)))
        self._children.add(pair[1])
        return pair

    def close(self) -> bool:
        """Closes every runner and queue made from this runtime, then releases the
        devices. Returns True (closing always completes)."""
        for child in list(self._children):
            child.close()
        if self._session is not None:
            self._session.close()
            self._session = None
        self._ctx.close()
        return True


class Runner(_Closing):
    """Runs a model: ``run(inputs)`` from any number of threads at once."""

    def __init__(self, loaded: _core.Loaded, runtime: Optional[Runtime] = None):
        self._loaded = loaded
        self._runtime = runtime      # create_runner()'s own runtime, closed with us
        self._ready = True

    @property
    def model(self) -> Model:
        return self._loaded.model

    def run(self, inputs: Any) -> List[np.ndarray]:
        """One inference: inputs is an array or a list of arrays, as the model's
        inputs (shape and dtype); returns the outputs as a list of arrays. Inputs
        are read where they are when the model takes them as they are."""
        return self._loaded.run(inputs)

    def close(self) -> bool:
        self._loaded.close()
        return self._close_runtime()


class Submitter(_Closing):
    """The submitting half of a queue."""

    def __init__(self, queue: _core.Queue):
        self._queue = queue
        self._ready = True

    @property
    def model(self) -> Model:
        return self._queue.loaded.model

    def allocate(self) -> List[np.ndarray]:
        """Fresh (zeroed) input arrays, page-aligned so the device can read large
        ones in place."""
        out = []
        for d in self.model.inputs():
            a = _core.aligned_empty(d.shape, d.numpy_dtype)
            a[...] = 0
            out.append(a)
        return out

    def submit(self, inputs: Any, context: Any = None) -> None:
        """Queues one inference; blocks while the input queue is full. The inputs
        are copied, so they may be reused as soon as this returns."""
        self._queue.submit(inputs, context)

    def close(self) -> bool:
        """No more submissions; the Receiver still gets every result submitted."""
        self._queue.close_submitter()
        return True


class Receiver(_Closing):
    """The receiving half of a queue; iterating it yields (context, outputs) until
    the Submitter is closed and every result was received."""

    def __init__(self, queue: _core.Queue, runtime: Optional[Runtime] = None):
        self._queue = queue
        self._runtime = runtime
        self._ready = True

    @property
    def model(self) -> Model:
        return self._queue.loaded.model

    def recv(self, timeout: Optional[float] = None) -> Tuple[Any, List[np.ndarray]]:
        """The next finished inference as (context, outputs), in completion order.
        TimeoutError if none finished within timeout seconds (None: wait)."""
        return self._queue.recv(timeout)

    def __iter__(self) -> Iterator[Tuple[Any, List[np.ndarray]]]:
        return self

    def __next__(self) -> Tuple[Any, List[np.ndarray]]:
        return self._queue.recv(None, stop_when_done=True)

    def close(self) -> bool:
        """Ends the queue: further submissions fail, unreceived results are dropped."""
        self._queue.close()
        return self._close_runtime()


class _QueuePair(tuple):
    """(Submitter, Receiver), also usable as ``with ... as (submitter, receiver)``."""

    def __enter__(self) -> "_QueuePair":
        return self

    def __exit__(self, *exc: Any) -> None:
        self[0].close()
        self[1].close()


def _own_runtime(model: _core.ModelSource, device: Optional[str], worker_num: Optional[int],
                 batch_size: Optional[int]) -> "Tuple[Runtime, _core.Loaded]":
    """A Runtime(device) of its own with the model loaded on it; the model is
    checked before any device is opened."""
    program = _core.load_program(model, worker_num, batch_size)
    try:
        runtime = Runtime(device)
    except BaseException:
        program.close()
        raise
    try:
        return runtime, _core.make_loaded(runtime._session, runtime._ctx, program, None,
                                          batch_size)
    except BaseException:
        runtime.close()
        raise


def create_runner(model: _core.ModelSource, *, device: Optional[str] = None,
                  worker_num: Optional[int] = None, batch_size: Optional[int] = None) -> Runner:
    """A Runner on its own Runtime(device), closed with the runner."""
    runtime, loaded = _own_runtime(model, device, worker_num, batch_size)
    return Runner(loaded, runtime)


def create_queue(model: _core.ModelSource, *, device: Optional[str] = None,
                 worker_num: Optional[int] = None, batch_size: Optional[int] = None,
                 input_queue_size: Optional[int] = None,
                 output_queue_size: Optional[int] = None) -> "Tuple[Submitter, Receiver]":
    """(Submitter, Receiver) on their own Runtime(device), closed with the Receiver."""
    runtime, loaded = _own_runtime(model, device, worker_num, batch_size)
    try:
        queue = _core.Queue(loaded, input_queue_size, output_queue_size)
    except BaseException:
        loaded.close()          # before the session the runtime closes
        runtime.close()
        raise
    return _QueuePair((Submitter(queue), Receiver(queue, runtime)))
