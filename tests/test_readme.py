"""The Python examples of the README and of the documentation's pages run as written, each on its own.

A block preceded by ``<!-- requires: module -->`` is skipped when that module (an optional extra)
is not installed; one preceded by ``<!-- no-test -->`` is not run (for blocks that train for minutes).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "index.md", ROOT / "docs" / "benchmarks.md",
         *sorted((ROOT / "docs" / "guide").glob("*.md"))]
BLOCK = re.compile(r"(?:<!--\s*(?P<marker>requires:[^>]*?|no-test)\s*-->\s*\n)?```python\n(?P<code>.*?)```", flags=re.S)


def _blocks(page: Path | str) -> list[tuple[str, str]]:
    """(marker, code) of every python block of ``page`` (a file or its text); marker is "" when it has none."""
    text = page.read_text() if isinstance(page, Path) else page
    return [(m["marker"] or "", m["code"]) for m in BLOCK.finditer(text)]


# The blocks that need an extra train a model through a framework: seconds each, hence slow.
EXAMPLES = [
    pytest.param(marker, code, id=f"{page.relative_to(ROOT)}:{i}", marks=[pytest.mark.slow] if marker.startswith("requires:") else [])
    for page in PAGES
    for i, (marker, code) in enumerate(_blocks(page))
]


def test_readme_has_examples():
    assert len(_blocks(ROOT / "README.md")) >= 1
    assert len(EXAMPLES) >= 10


def test_markers_apply_to_the_next_block_only():
    page = "<!-- requires: lightning -->\n\n```python\na = 1\n```\n\n```python\nb = 2\n```\n<!-- no-test -->\n```python\nc = 3\n```\n"
    assert _blocks(page) == [("requires: lightning", "a = 1\n"), ("", "b = 2\n"), ("no-test", "c = 3\n")]


def test_markers_are_known():
    # A misspelt marker would run a block that needs an extra, or skip a block silently.
    for page in PAGES:
        for comment in re.findall(r"<!--(.*?)-->", page.read_text(), flags=re.S):
            comment = comment.strip()
            assert comment == "no-test" or re.fullmatch(r"requires:\s*[\w.]+(\s*,\s*[\w.]+)*", comment), (page, comment)


@pytest.mark.slow  # each example runs in a fresh interpreter: seconds apiece
@pytest.mark.parametrize(("marker", "code"), EXAMPLES)
def test_example_runs_on_its_own(marker, code, tmp_path):
    if marker == "no-test":
        pytest.skip("marked <!-- no-test --> in the page")
    if marker.startswith("requires:"):
        for module in (name.strip() for name in marker.removeprefix("requires:").split(",")):
            if importlib.util.find_spec(module) is None:
                pytest.skip(f"needs the optional module {module!r} (pip install 'interplay[{module}]')")
    # Each block is a script a reader may copy alone: a fresh interpreter, no names from other blocks.
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
