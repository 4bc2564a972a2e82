# SPDX-License-Identifier: MIT
"""The asyncio API, furiosa.runtime's: Runtime, Runner, Submitter, Receiver.

    from npu.runtime import Runtime

    async with Runtime() as runtime:
        async with runtime.create_runner("model.npuprog") as runner:
            outputs = await runner.run(inputs)

Built on npu.runtime.sync: a blocking call (a run, a submit into a full queue)
runs in a worker thread (asyncio.to_thread, which releases the event loop;
the HAL releases the GIL while it waits), and each Receiver has one completion
thread that takes results from the HAL's queue only when a recv() asks for
one, so a cancelled recv() (asyncio.wait_for) loses nothing: the result it
would have had goes to the next recv().
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Generator, Generic, List, Optional, Tuple, TypeVar

import numpy as np

from . import sync
from .errors import Closed
from .model import Model

__all__ = ["Runtime", "Runner", "Submitter", "Receiver", "create_runner", "create_queue"]

T = TypeVar("T")


class _Opening(Generic[T]):
    """What create_runner/create_queue return: awaitable (``await
    runtime.create_runner(...)``) and an async context manager (``async with
    runtime.create_runner(...) as runner``) that closes what it opened."""

    def __init__(self, make: Callable[[], T]):
        self._make = make
        self._opened: Optional[T] = None

    async def _open(self) -> T:
        return await asyncio.to_thread(self._make)

    def __await__(self) -> Generator[Any, None, T]:
        return self._open().__await__()

    async def __aenter__(self) -> T:
        self._opened = await self._open()
        return self._opened

    async def __aexit__(self, *exc: Any) -> None:
        if self._opened is not None:
            await self._opened.close()  # type: ignore[attr-defined]


class _AsyncClosing:
    """``async with`` calls close(); close() returns True once closed."""

    async def close(self) -> bool:
        raise NotImplementedError

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class Runtime(_AsyncClosing):
    """A set of NPU devices, as npu.runtime.sync.Runtime (``device``: a spec such as
    "warboy(2)*1"; None: FURIOSA_DEVICES, else NPU_DEVNAME, else warboy(2)*1)."""

    def __init__(self, device: Optional[str] = None):
        self._sync = sync.Runtime(device)
        self.device = device

    @property
    def devices(self) -> List[str]:
        return self._sync.devices

    def create_runner(self, model: Any, *, device: Optional[str] = None,
                      worker_num: Optional[int] = None,
                      batch_size: Optional[int] = None) -> "_Opening[Runner]":
        return _Opening(lambda: Runner(self._sync.create_runner(
            model, device=device, worker_num=worker_num, batch_size=batch_size)))

    def create_queue(self, model: Any, *, device: Optional[str] = None,
                     worker_num: Optional[int] = None, batch_size: Optional[int] = None,
                     input_queue_size: Optional[int] = None,
                     output_queue_size: Optional[int] = None) -> "_Opening[_QueuePair]":
        return _Opening(lambda: _QueuePair.of(self._sync.create_queue(
            model, device=device, worker_num=worker_num, batch_size=batch_size,
            input_queue_size=input_queue_size, output_queue_size=output_queue_size)))

    async def close(self) -> bool:
        """Closes every runner and queue made from this runtime, then the devices."""
        return await asyncio.to_thread(self._sync.close)


class Runner(_AsyncClosing):
    """Runs a model: ``await run(inputs)`` from any number of tasks at once."""

    def __init__(self, runner: sync.Runner):
        self._sync = runner

    @property
    def model(self) -> Model:
        return self._sync.model

    async def run(self, inputs: Any) -> List[np.ndarray]:
        """One inference, as npu.runtime.sync.Runner.run, without blocking the loop."""
        return await asyncio.to_thread(self._sync.run, inputs)

    async def close(self) -> bool:
        return await asyncio.to_thread(self._sync.close)


class Submitter(_AsyncClosing):
    """The submitting half of a queue."""

    def __init__(self, submitter: sync.Submitter):
        self._sync = submitter

    @property
    def model(self) -> Model:
        return self._sync.model

    def allocate(self) -> List[np.ndarray]:
        return self._sync.allocate()

    async def submit(self, inputs: Any, context: Any = None) -> None:
        """Queues one inference; waits (without blocking the loop) while the input
        queue is full."""
        await asyncio.to_thread(self._sync.submit, inputs, context)

    async def close(self) -> bool:
        """No more submissions; the Receiver still gets every result submitted."""
        return self._sync.close()


_END = object()     # the completion thread's last item: nothing more will come


class Receiver(_AsyncClosing):
    """The receiving half of a queue: ``await recv()``, or ``async for context,
    outputs in receiver`` until the Submitter is closed and all was received."""

    # How often the completion thread, waiting for a recv() to serve, checks
    # whether the receiver was closed.
    POLL_S = 0.1

    def __init__(self, receiver: sync.Receiver):
        self._sync = receiver
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._items: Optional["asyncio.Queue[Any]"] = None
        self._wanted = threading.Semaphore(0)    # recv() calls not yet served
        self._closing = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._ended = False

    @property
    def model(self) -> Model:
        return self._sync.model

    def _start(self) -> "asyncio.Queue[Any]":
        if self._items is None:
            self._loop = asyncio.get_running_loop()
            self._items = asyncio.Queue()
            self._thread = threading.Thread(target=self._complete, name="npu-receiver",
                                            daemon=True)
            self._thread.start()
        return self._items

    def _post(self, item: Any) -> bool:
        assert self._loop is not None and self._items is not None
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
            return True
        except RuntimeError:        # the event loop is gone: nobody will ask again
            return False

    def _complete(self) -> None:
        """The completion thread: one result from the HAL per recv() asked."""
        while not self._closing.is_set():
            if not self._wanted.acquire(timeout=self.POLL_S):
                continue
            try:
                item: Any = next(iter(self._sync))
            except (StopIteration, Closed):
                self._post(_END)
                return
            except BaseException as err:    # JobFailed & co: that result's error
                item = err
            if not self._post(item):
                return

    async def recv(self) -> Tuple[Any, List[np.ndarray]]:
        """The next finished inference as (context, outputs), in completion order.
        Closed once the Submitter is closed and every result was received. For a
        time limit, use asyncio.wait_for: a result that arrives after it went off
        is kept for the next recv()."""
        if self._ended:
            raise Closed("every result was received and the submitter is closed")
        items = self._start()
        self._wanted.release()
        item = await items.get()
        if item is _END:
            self._ended = True
            raise Closed("every result was received and the submitter is closed")
        if isinstance(item, BaseException):
            raise item
        return item

    def __aiter__(self) -> "Receiver":
        return self

    async def __anext__(self) -> Tuple[Any, List[np.ndarray]]:
        try:
            return await self.recv()
        except Closed:
            if self._ended or self._closing.is_set():
                raise StopAsyncIteration from None
            raise

    async def close(self) -> bool:
        """Ends the queue: further submissions fail, unreceived results are dropped."""
        self._closing.set()
        closed = await asyncio.to_thread(self._sync.close)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        return closed


class _QueuePair(tuple):
    """(Submitter, Receiver); closing it closes both."""

    @classmethod
    def of(cls, pair: "Tuple[sync.Submitter, sync.Receiver]") -> "_QueuePair":
        return cls((Submitter(pair[0]), Receiver(pair[1])))

    async def close(self) -> bool:
        await self[0].close()
        return await self[1].close()


def create_runner(model: Any, *, device: Optional[str] = None, worker_num: Optional[int] = None,
                  batch_size: Optional[int] = None) -> "_Opening[Runner]":
    """A Runner on its own Runtime(device), closed with the runner."""
    return _Opening(lambda: Runner(sync.create_runner(
        model, device=device, worker_num=worker_num, batch_size=batch_size)))


def create_queue(model: Any, *, device: Optional[str] = None, worker_num: Optional[int] = None,
                 batch_size: Optional[int] = None, input_queue_size: Optional[int] = None,
                 output_queue_size: Optional[int] = None) -> "_Opening[_QueuePair]":
    """(Submitter, Receiver) on their own Runtime(device), closed with the Receiver."""
    return _Opening(lambda: _QueuePair.of(sync.create_queue(
        model, device=device, worker_num=worker_num, batch_size=batch_size,
        input_queue_size=input_queue_size, output_queue_size=output_queue_size)))

