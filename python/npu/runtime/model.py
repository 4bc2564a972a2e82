# SPDX-License-Identifier: MIT
"""Model metadata: DataType, Axis, TensorDesc, Model (furiosa.runtime's names)."""
from __future__ import annotations

import enum
from typing import List, Optional, Tuple

import numpy as np

from .. import _hal


class Axis(enum.Enum):
    """An inferred axis of a tensor (diagnostics only)."""

    WIDTH = "W"
    HEIGHT = "H"
    CHANNEL = "C"
    BATCH = "N"
    UNKNOWN = "?"

    def __repr__(self) -> str:
        return f"Axis.{self.name}"


class _DataTypeMeta(enum.EnumMeta):
    # Arrays and numpy types become their dtype's name before Enum looks the
    # value up (comparing an array with each member would be elementwise).
    def __call__(cls, value, *args, **kwargs):
        if args or kwargs:
            return super().__call__(value, *args, **kwargs)
        if isinstance(value, cls):
            return value
        if isinstance(value, np.ndarray):
            value = value.dtype
        try:
            name = np.dtype(value).name
        except TypeError:
            raise ValueError(f"{value!r} is not a data type the NPU knows") from None
        return super().__call__(name)


class DataType(enum.Enum, metaclass=_DataTypeMeta):
    """The data type of a tensor's items. ``DataType(np.float32)`` and
    ``DataType(array)`` find the type of a numpy dtype or array."""

    FLOAT16 = "float16"
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    UINT8 = "uint8"

    @property
    def numpy(self) -> np.dtype:
        """The numpy dtype; ValueError if numpy has none (BFLOAT16)."""
        if self is DataType.BFLOAT16:
            raise ValueError("DataType.BFLOAT16 has no numpy equivalent")
        return np.dtype(self.value)

    @property
    def numpy_dtype(self) -> type:
        """The numpy type object (np.int8, ...); deprecated in furiosa.runtime too."""
        return self.numpy.type

    def __repr__(self) -> str:
        return f"DataType.{self.name}"

    def __str__(self) -> str:
        return self.name


_FROM_PROG = {
    _hal.DTYPE_INT8: DataType.INT8,
    _hal.DTYPE_UINT8: DataType.UINT8,
    _hal.DTYPE_INT32: DataType.INT32,
    _hal.DTYPE_FLOAT32: DataType.FLOAT32,
}


class TensorDesc:
    """One input or output tensor as callers pass it: its host shape and dtype.

    The device may hold it in another form (int8 quantized, channels last,
    padded); the runtime converts, see docs/python.md.
    """

    def __init__(self, raw: _hal.ProgTensor, batch_size: int = 1):
        self._raw = raw
        dims = [int(raw.dims[i]) for i in range(raw.rank)]
        self._device_dims = tuple(dims)
        if batch_size != 1:
            dims[0] *= batch_size
        self._shape: Tuple[int, ...] = tuple(dims)
        self._dtype = _FROM_PROG[raw.host_dtype]
        device_dtype = _FROM_PROG[raw.dtype]
        # Host form and device form are the same bytes: no conversion at all.
        self._identity = (raw.host_dtype == raw.dtype and not any(raw.pad[:raw.rank])
                          and (raw.layout == _hal.LAYOUT_ROW_MAJOR or raw.rank != 4)
                          and raw.byte_size == int(np.prod(self._device_dims))
                          * device_dtype.numpy.itemsize)
        if raw.layout == _hal.LAYOUT_NHWC or raw.rank == 4:
            self._axes = (Axis.BATCH, Axis.CHANNEL, Axis.HEIGHT, Axis.WIDTH)[:raw.rank]
        else:
            self._axes = (Axis.UNKNOWN,) * raw.rank

    @property
    def name(self) -> Optional[str]:
        return self._raw.name.decode() or None

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self, idx: int) -> int:
        return self._shape[idx]

    @property
    def shape(self) -> Tuple[int, ...]:
        return self._shape

    def axis(self, idx: int) -> Axis:
        return self._axes[idx]

    @property
    def length(self) -> int:
        """The number of elements."""
        return int(np.prod(self._shape, dtype=np.int64))

    @property
    def size(self) -> int:
        """Bytes of the tensor as callers pass it."""
        return self.length * self._dtype.numpy.itemsize

    def stride(self, idx: int) -> int:
        """Distance in items between neighbours along dimension idx (row-major)."""
        if not -self.ndim <= idx < self.ndim:
            raise IndexError(f"dimension {idx} of a {self.ndim}-dimensional tensor")
        return int(np.prod(self._shape[idx:][1:], dtype=np.int64))

    @property
    def format(self) -> str:
        return "".join(a.value for a in self._axes)

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def numpy_dtype(self) -> np.dtype:
        return self._dtype.numpy

    def __repr__(self) -> str:
        return (f"TensorDesc(name={self.name!r}, shape={self.shape}, dtype={self.dtype}, "
                f"format={self.format}, size={self.size}, len={self.length})")


class Model:
    """The inputs and outputs of a loaded program."""

    def __init__(self, inputs: List[TensorDesc], outputs: List[TensorDesc]):
        self._inputs = inputs
        self._outputs = outputs

    @property
    def input_num(self) -> int:
        return len(self._inputs)

    @property
    def output_num(self) -> int:
        return len(self._outputs)

    # The seed's examples spell these num_inputs/num_outputs.
    num_inputs = input_num
    num_outputs = output_num

    def input(self, idx: int) -> TensorDesc:
        return self._inputs[idx]

    def output(self, idx: int) -> TensorDesc:
        return self._outputs[idx]

    def inputs(self) -> List[TensorDesc]:
        return list(self._inputs)

    def outputs(self) -> List[TensorDesc]:
        return list(self._outputs)

    def summary(self) -> str:
        def table(descs):
            return "{" + ", ".join(
                f"{i}: TensorDesc(shape={d.shape}, dtype={d.dtype}, format={d.format}, "
                f"size={d.size}, len={d.length})" for i, d in enumerate(descs)) + "}"
        return f"Inputs:\n{table(self._inputs)}\nOutputs:\n{table(self._outputs)}"

    def print_summary(self) -> None:
        print(self.summary())

    def __repr__(self) -> str:
        return f"Model(inputs={self._inputs!r}, outputs={self._outputs!r})"
