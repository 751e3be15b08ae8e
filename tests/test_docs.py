"""The documentation site builds without a warning, documents every public name, and its links resolve."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
# Modules whose __all__ the API reference covers, and the page that holds them.
API = {
    "interplay.functional": "functional.md",
    "interplay.metrics": "metrics.md",
    "interplay.losses": "losses.md",
    "interplay.probing": "probe.md",
    "interplay.layer_profile": "layer_profile.md",
}
INTEGRATIONS = ("interplay.integrations.lightning", "interplay.integrations.transformers", "interplay.integrations.tensorboard")


def _entries(page: str) -> set[str]:
    return set(re.findall(r"^::: ([\w.]+)\s*$", (DOCS / "api" / page).read_text(), flags=re.M))


@pytest.mark.parametrize("module", sorted(API))
def test_api_reference_lists_every_public_name(module):
    entries = _entries(API[module])
    missing = [name for name in importlib.import_module(module).__all__ if f"{module}.{name}" not in entries]
    assert not missing, f"docs/api/{API[module]} lacks '::: {module}.<name>' entries for {missing}"


def test_api_reference_covers_the_integrations():
    assert set(INTEGRATIONS) <= _entries("integrations.md")


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text()
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t and not t.startswith("#")]
    assert targets, "the README links into the documentation"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs tools are not installed: pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    api = (tmp_path / "api" / "functional" / "index.html").read_text()
    assert "interplay_metrics" in api and "Examples" in api  # the docstrings were rendered, doctests as examples
    for page in ("index.html", "guide/quantities/index.html", "benchmarks/index.html", "results/index.html"):
        assert (tmp_path / page).exists(), page
