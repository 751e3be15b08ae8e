"""Importing the scripts of docs/results/ in tests: they import each other by bare names."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


@contextlib.contextmanager
def results_script(name: str) -> Iterator[object]:
    """``docs/results/<name>.py`` as a module, with its folder importable while it is used; the
    page's modules it imported (recompute, claims, ...) are forgotten afterwards."""
    before = set(sys.modules)
    sys.path.insert(0, str(RESULTS))
    spec = importlib.util.spec_from_file_location(name, RESULTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(RESULTS))
        for added in set(sys.modules) - before:
            if str(getattr(sys.modules[added], "__file__", "") or "").startswith(str(RESULTS)):
                del sys.modules[added]
