# SPDX-License-Identifier: MIT
"""npu.runtime's asyncio API on the NPU: the seed's async examples, tasks at once,
queues with async for, cancelled receives, closing and errors."""
from __future__ import annotations

import asyncio
import collections

import numpy as np
import pytest

import npu.runtime as rt
from conftest import cpu_reference, fd_count

pytestmark = pytest.mark.device

RNG = np.random.default_rng(21)


def int8_input(shape=(4, 16)):
    return RNG.integers(-128, 128, size=shape, dtype=np.int8)


def expected(programs, x, name="matmul_relu.npuprog"):
    (out,) = cpu_reference(programs / name, [x])
    return out.view(np.int8).reshape(4, 8)


def test_seed_async_runtime_example(programs):
    # furiosa.runtime's Runtime example; only the import line changed.
    from npu.runtime import Runtime

    inputs = int8_input((64, 256))

    async def main():
        async with Runtime() as runtime:
            async with runtime.create_runner(str(programs / "matmul_relu_fused.npuprog")) \
                    as runner:
                return await runner.run(inputs)

    outputs = asyncio.run(main())
    (want,) = cpu_reference(programs / "matmul_relu_fused.npuprog", [inputs])
    np.testing.assert_array_equal(outputs[0], want.view(np.int8).reshape(64, 64))


def test_seed_async_queue_example(programs):
    # The seed's Submitter/Receiver example: awaited create_queue, async with each half.
    from npu.runtime import Runtime

    inputs = int8_input((64, 256))

    async def main():
        async with Runtime() as runtime:
            submitter, receiver = await runtime.create_queue(
                str(programs / "matmul_relu_fused.npuprog"))
            async with submitter:
                await submitter.submit(inputs)
            async with receiver:
                _, outputs = await receiver.recv()
            return outputs

    outputs = asyncio.run(main())
    (want,) = cpu_reference(programs / "matmul_relu_fused.npuprog", [inputs])
    np.testing.assert_array_equal(outputs[0], want.view(np.int8).reshape(64, 64))


def test_many_tasks_run_at_once(programs):
    xs = [int8_input() for _ in range(32)]

    async def main():
        async with rt.create_runner(programs / "matmul_relu.npuprog",
                                    device="warboy(1)*2") as runner:
            return await asyncio.gather(*(runner.run(x) for x in xs))

    for x, (y,) in zip(xs, asyncio.run(main())):
        np.testing.assert_array_equal(y, expected(programs, x))


def test_async_for_receives_every_context_once(programs):
    xs = [int8_input() for _ in range(8)]
    total = 300
    seen = collections.Counter()
    wrong = []

    async def main():
        async with rt.create_queue(programs / "matmul_relu.npuprog", device="warboy(1)*2",
                                   input_queue_size=4) as (submitter, receiver):
            async def submit():
                async with submitter:   # closing it ends the async for below
                    for n in range(total):
                        await submitter.submit(xs[n % len(xs)], context=n)

            task = asyncio.create_task(submit())
            async for ctx, (y,) in receiver:
                seen[ctx] += 1
                if not np.array_equal(y, expected(programs, xs[ctx % len(xs)])):
                    wrong.append(ctx)
            await task

    asyncio.run(main())
    assert sorted(seen) == list(range(total))
    assert set(seen.values()) == {1}
    assert wrong == []


def test_recv_waits_without_blocking_the_loop(programs):
    # recv() is awaited before anything is submitted; the submit can only happen
    # if the event loop keeps running while recv() waits.
    x = int8_input()

    async def main():
        async with rt.create_queue(programs / "matmul_relu.npuprog",
                                   device="npu:0:0") as (submitter, receiver):
            async def submit_later():
                await asyncio.sleep(0.2)
                await submitter.submit(x, context="late")

            (ctx, (y,)), _ = await asyncio.gather(receiver.recv(), submit_later())
            return ctx, y

    ctx, y = asyncio.run(main())
    assert ctx == "late"
    np.testing.assert_array_equal(y, expected(programs, x))


def test_cancelled_recv_loses_no_result(programs):
    # asyncio.wait_for is the seed's way to time out a recv(); whatever a
    # cancelled recv() would have received goes to a later one.
    x = int8_input()
    total = 40

    async def main():
        got = []
        timeouts = 0
        async with rt.create_queue(programs / "matmul_relu.npuprog",
                                   device="npu:0:0") as (submitter, receiver):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(receiver.recv(), 0.05)   # nothing submitted yet
            for n in range(total):
                await submitter.submit(x, context=n)
                try:
                    got.append((await asyncio.wait_for(receiver.recv(), 0.0005))[0])
                except asyncio.TimeoutError:
                    timeouts += 1
            await submitter.close()
            async for ctx, _ in receiver:
                got.append(ctx)
        return got, timeouts

    got, timeouts = asyncio.run(main())
    assert sorted(got) == list(range(total))
    print(f"{timeouts} of {total} receives timed out and were cancelled")


def test_errors_come_through_await(programs):
    async def main():
        async with rt.create_runner(programs / "matmul_relu.npuprog",
                                    device="npu:0:0") as runner:
            with pytest.raises(rt.InvalidInput, match=r"\(4, 16\)"):
                await runner.run(np.zeros((4, 15), np.int8))
            with pytest.raises(rt.InvalidInputType):
                await runner.run(np.zeros((4, 16), np.float32))
            (y,) = await runner.run(int8_input())
            assert y.shape == (4, 8)
        with pytest.raises(rt.Closed):
            await runner.run(int8_input())
        with pytest.raises(rt.DeviceNotFound):
            await rt.create_runner(programs / "matmul_relu.npuprog", device="npu:9:0")
        async with rt.create_queue(programs / "matmul_relu.npuprog",
                                   device="npu:0:0") as (submitter, receiver):
            await submitter.close()
            with pytest.raises(rt.Closed):
                await submitter.submit(int8_input())
            with pytest.raises(rt.Closed):
                await receiver.recv()       # the submitter is closed and nothing came

    asyncio.run(main())


def test_closing_releases_everything(programs):
    x = int8_input()
    before = fd_count()

    async def main():
        for _ in range(20):
            async with rt.Runtime("npu:0:0") as runtime:
                async with runtime.create_runner(programs / "matmul_relu.npuprog") as runner:
                    await runner.run(x)
                submitter, receiver = await runtime.create_queue(
                    programs / "matmul_relu.npuprog", device="npu:1:1")
                await submitter.submit(x)
                await receiver.recv()
                await submitter.close()
                await receiver.close()
            runner = await rt.create_runner(programs / "matmul_relu.npuprog", device="npu:0:0")
            assert await runner.close() is True

    asyncio.run(main())
    assert fd_count() == before
