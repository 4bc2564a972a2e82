# SPDX-License-Identifier: MIT
"""npu.runtime.sync on the NPU: the seed's examples, Runner.run, threads, errors."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import npu.runtime as rt
from npu.runtime import sync
from conftest import cpu_reference, fd_count

pytestmark = pytest.mark.device

RNG = np.random.default_rng(12)


def int8_input(shape=(4, 16)):
    return RNG.integers(-128, 128, size=shape, dtype=np.int8)


def expected(programs, x, name="matmul_relu.npuprog"):
    (out,) = cpu_reference(programs / name, [x])
    return out.view(np.int8).reshape(4, 8)


def test_seed_runtime_example(programs):
    # furiosa.runtime.sync's Runtime example; only the import line changed.
    from npu.runtime.sync import Runtime

    inputs = int8_input((64, 256))
    with Runtime() as runtime:
        with runtime.create_runner(str(programs / "matmul_relu_fused.npuprog")) as runner:
            outputs = runner.run(inputs)
    assert isinstance(outputs, list) and len(outputs) == 1
    (want,) = cpu_reference(programs / "matmul_relu_fused.npuprog", [inputs])
    np.testing.assert_array_equal(outputs[0], want.view(np.int8).reshape(64, 64))


def test_seed_model_example(programs, capsys):
    # The Runner.model example (sync form): its loop over model.num_inputs.
    from npu.runtime.sync import Runtime

    with Runtime("npu:0:0") as runtime:
        with runtime.create_runner(programs / "matmul_relu.npuprog") as runner:
            model = runner.model
            for i in range(model.num_inputs):
                print(f"Input tensor #{i}:", model.input(i))
    assert "Input tensor #0: TensorDesc(name='x', shape=(4, 16), dtype=INT8" in \
        capsys.readouterr().out


def test_module_level_create_runner_from_bytes(programs):
    data = (programs / "matmul_relu.npuprog").read_bytes()
    x = int8_input()
    with sync.create_runner(data, device="npu:1:1") as runner:
        assert runner.model.input(0).shape == (4, 16)
        (y,) = runner.run([x])
        assert y.dtype == np.int8 and y.shape == (4, 8)
    np.testing.assert_array_equal(y, expected(programs, x))
    assert runner.model.input(0).shape == (4, 16)   # the model outlives the runner
    # Closing the runner closed its runtime: the PE is free again.
    with sync.Runtime("npu:1:1"):
        pass


def test_run_accepts_noncontiguous_input_and_does_not_change_it(programs):
    big = int8_input((4, 32))
    x = big[:, ::2]
    before = x.copy()
    with sync.create_runner(programs / "matmul_relu.npuprog", device="npu:0:0") as runner:
        (y,) = runner.run(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(y, expected(programs, before))


def test_batch_size_multiplies_the_first_dimension(programs):
    with sync.create_runner(programs / "matmul_relu.npuprog", device="npu:0:0",
                            batch_size=3) as runner:
        assert runner.model.input(0).shape == (12, 16)
        x = int8_input((12, 16))
        (y,) = runner.run(x)
    assert y.shape == (12, 8)
    for b in range(3):
        np.testing.assert_array_equal(y[4 * b:4 * b + 4], expected(programs, x[4 * b:4 * b + 4]))


def test_runs_from_threads_at_once(programs):
    inputs = [int8_input() for _ in range(8)]
    want = [expected(programs, x) for x in inputs]
    bad = []

    def work(runner, k):
        for n in range(40):
            i = (k + n) % len(inputs)
            (y,) = runner.run(inputs[i])
            if not np.array_equal(y, want[i]):
                bad.append((k, n))

    with sync.Runtime("warboy(1)*2") as runtime:
        with runtime.create_runner(programs / "matmul_relu.npuprog") as runner:
            threads = [threading.Thread(target=work, args=(runner, k)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert bad == []


def test_wrong_inputs(programs):
    with sync.create_runner(programs / "matmul_relu.npuprog", device="npu:0:0") as runner:
        with pytest.raises(rt.InvalidInput, match=r"\(4, 16\)") as e:
            runner.run(np.zeros((4, 15), np.int8))
        assert isinstance(e.value, ValueError) and e.value.index == 0
        assert e.value.expected.shape == (4, 16)
        with pytest.raises(rt.InvalidInputType, match="int8") as e:
            runner.run(np.zeros((4, 16), np.float32))
        assert isinstance(e.value, TypeError)
        with pytest.raises(rt.InvalidInput, match="takes 1 input"):
            runner.run([int8_input(), int8_input()])
        with pytest.raises(TypeError):
            runner.run("not an array")
        with pytest.raises(TypeError):
            runner.run([[1, 2, 3]])
        (y,) = runner.run(int8_input())   # still works after the refusals
        assert y.shape == (4, 8)
    with pytest.raises(rt.Closed):
        runner.run(int8_input())


def test_device_not_found_and_spec_errors():
    with pytest.raises(rt.DeviceNotFound, match="npu9"):
        sync.Runtime("npu:9:0")
    with pytest.raises(rt.InvalidArgument):
        sync.Runtime("warboy(3)*1")


def test_device_busy_names_the_holder(programs):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from npu.runtime.sync import Runtime\n"
         "with Runtime('npu:1:0'):\n"
         "    print('held', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(rt.DeviceBusy) as e:
            sync.Runtime("npu:1:0")
        assert (holder.pid, "python3") in [(p, c[:7]) for p, c in e.value.holders], \
            e.value.message
    finally:
        holder.communicate("\n", timeout=60)
    with sync.Runtime("npu:1:0"):   # released when the holder ended
        pass


def test_fused_program_on_single_pe_is_refused(programs):
    with sync.Runtime("npu:0:0") as runtime:
        with pytest.raises(rt.ModelRejected, match="needs 2 fused PE"):
            runtime.create_runner(programs / "matmul_relu_fused.npuprog")
        # The refusal left the runtime's devices free for a program that fits.
        with runtime.create_runner(programs / "matmul_relu.npuprog") as runner:
            assert runner.run(int8_input())[0].shape == (4, 8)


def test_second_runner_on_a_named_device_is_busy(programs):
    with sync.Runtime("npu:0:1") as runtime:
        with runtime.create_runner(programs / "matmul_relu.npuprog"):
            with pytest.raises(rt.DeviceBusy):
                runtime.create_runner(programs / "matmul_relu.npuprog", device="npu:0:1")
        # The first one closed: the runtime's devices take a runner again.
        with runtime.create_runner(programs / "matmul_relu.npuprog") as r2:
            assert r2.run(int8_input())[0].shape == (4, 8)


def test_no_fd_leak_over_open_close_cycles(programs):
    data = (programs / "matmul_relu.npuprog").read_bytes()
    x = int8_input()
    before = fd_count()
    t0 = time.monotonic()
    for _ in range(1000):
        with sync.Runtime("npu:0:0"):
            pass
    for _ in range(100):
        with sync.create_runner(data, device="npu:0:0") as runner:
            runner.run(x)
    assert fd_count() == before
    print(f"1000 runtime and 100 runner cycles: {time.monotonic() - t0:.1f} s")
