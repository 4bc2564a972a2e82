# SPDX-License-Identifier: MIT
"""docs/python.md's complete example, extracted from the page and run as it is."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def doc_page() -> Path:
    # The source tree's docs/, or a copy next to the tests (the system VM's payload).
    for p in (HERE.parent.parent / "docs" / "python.md", HERE / "python.md"):
        if p.is_file():
            return p
    pytest.fail("docs/python.md not found")


def example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", doc_page().read_text(), re.S)
    assert len(blocks) == 1, "docs/python.md should have exactly one python block"
    return blocks[0]


def test_the_page_has_the_example():
    code = example()
    compile(code, "docs/python.md", "exec")
    assert "from npu.runtime.sync import Runtime" in code


@pytest.mark.device
def test_doc_example_runs(programs):
    code = example().replace("/usr/share/npu/programs", str(programs))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert "queue: 100 jobs, each received once" in out.stdout
    assert "refused:" in out.stdout and "as expected:" in out.stdout
