"""The trainer examples run as scripts and are the ones the guide shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
DOC_BLOCKS = [block for page in PAGES for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)]


@pytest.mark.slow
@pytest.mark.parametrize("script, framework, prefix", [
    ("lightning_digits.py", "lightning", "interplay/val/mir"),
    ("hf_text.py", "transformers", "interplay/eval/mir"),
])
def test_example_runs_and_is_in_the_docs(script, framework, prefix, tmp_path):
    pytest.importorskip(framework)
    path = ROOT / "examples" / script
    code = path.read_text().split("\n", 2)[2]  # the script without its one-line docstring
    assert code in DOC_BLOCKS
    result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"'{prefix}'" in result.stdout
