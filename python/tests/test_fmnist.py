# SPDX-License-Identifier: MIT
"""The Fashion-MNIST MLP (tools/fmnist) classifying its test subset through Runner.run,
as tests/guest/fmnist_test.c does through the C API: the logits equal the C CPU
runner's, the predictions the build-time ones, the accuracy is above 84 %."""
from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from npu import _hal
from npu.runtime import sync
from npu.runtime._core import Program, read_model

pytestmark = pytest.mark.device


def load_set(path):
    data = path.read_bytes()
    magic, count, rows, cols = struct.unpack_from("<8sIII", data)
    assert magic == b"FMNSET1\0" and (rows, cols) == (28, 28)
    off = 8 + 4 * 6
    labels = np.frombuffer(data, np.uint8, count, off)
    predicted = np.frombuffer(data, np.uint8, count, off + count)
    pixels = np.frombuffer(data, np.uint8, count * 784, off + 2 * count).reshape(count, 784)
    return labels, predicted, pixels


def c_reference_logits(path, images):
    """The C side: npu_tensor_to_device, npu_cpu_run, npu_tensor_from_device."""
    prog = Program(read_model(path))
    try:
        tensors = [_hal.program_tensor(prog.handle, i)
                   for i in range(_hal.program_tensor_count(prog.handle))]
        tin = next(t for t in tensors if t.contents.kind == _hal.TENSOR_INPUT)
        tout = next(t for t in tensors if t.contents.kind == _hal.TENSOR_OUTPUT)
        dev_in = np.zeros(tin.contents.byte_size, np.uint8)
        dev_out = np.zeros(tout.contents.byte_size, np.uint8)
        logits = np.zeros((tout.contents.dims[0], tout.contents.dims[1]), np.float32)
        images = np.ascontiguousarray(images)
        assert _hal.tensor_to_device(tin, images.ctypes.data, dev_in.ctypes.data) == 0
        assert _hal.cpu_run(prog.handle, _hal.pointers([dev_in.ctypes.data]),
                            _hal.pointers([dev_out.ctypes.data]), None) == 0
        assert _hal.tensor_from_device(tout, dev_out.ctypes.data, logits.ctypes.data) == 0
        return logits
    finally:
        prog.close()



def test_fmnist_through_runner_run(programs):
    path = programs / "fmnist-mlp.npuprog"
    labels, predicted, pixels = load_set(programs / "fmnist-test-1000.bin")
    count = len(labels)
    with sync.create_runner(path, device="warboy(1)*2") as runner:
        desc = runner.model.input(0)
        batch = desc.shape[0]
        jobs = -(-count // batch)
        images = np.zeros((jobs * batch, 784), np.float32)
        images[:count] = pixels / np.float32(255.0)
        images = images.reshape((jobs, *desc.shape))
        t0 = time.monotonic()
        logits = np.concatenate([runner.run(images[j])[0] for j in range(jobs)])[:count]
        t_npu = time.monotonic() - t0
    assert logits.dtype == np.float32 and logits.shape == (count, 10)
    reference = np.concatenate([c_reference_logits(path, images[j]) for j in range(jobs)])
    assert np.array_equal(logits, reference[:count]), "logits differ from the C CPU runner"
    guess = logits.argmax(axis=1)
    assert np.array_equal(guess, predicted), "predictions differ from the build-time ones"
    accuracy = 100.0 * np.mean(guess == labels)
    print(f"fmnist: {count} images, {jobs} runs of {batch}: {t_npu:.2f} s, "
          f"accuracy {accuracy:.2f}%")
    assert accuracy >= 84.0
