# SPDX-License-Identifier: MIT
"""npu: Python bindings of the NPU stack's libnpuhal (see npu.runtime)."""

__version__ = "1.1.0"
