"""The frameworks stay optional: importing interplay imports none of them, and the package works without them."""

from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORKS = ("lightning", "pytorch_lightning", "transformers", "accelerate", "tensorboard")

# Makes the frameworks look uninstalled: neither importable nor listed as distributions.
BLOCK = f"""
import importlib.metadata, sys
blocked = {FRAMEWORKS!r} + ("pytorch-lightning",)
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Block())
def hidden(real):
    def lookup(name):
        if name.lower().replace("_", "-") in blocked or name in blocked:
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)
    return lookup
importlib.metadata.version = hidden(importlib.metadata.version)
importlib.metadata.distribution = hidden(importlib.metadata.distribution)
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def imported_after(statements: str) -> list[str]:
    result = run(f"import sys\n{statements}\nprint([m for m in {FRAMEWORKS!r} if m in sys.modules])")
    assert result.returncode == 0, result.stderr
    return eval(result.stdout)


@pytest.mark.slow
def test_import_interplay_imports_no_framework():
    assert imported_after("import interplay, interplay.integrations, interplay.integrations.tensorboard") == []


@pytest.mark.slow
def test_the_training_loop_imports_lightning_and_tensorboard_only_when_asked():
    # torchmetrics, which the metrics build on, imports transformers itself when it is installed.
    assert set(imported_after("import interplay.training.loop\ninterplay.probe")) <= {"transformers"}


@pytest.mark.slow
@pytest.mark.parametrize("module, extra", [("lightning", "lightning"), ("transformers", "transformers")])
def test_without_the_extras_the_core_works_and_a_callback_names_its_extra(module, extra):
    code = BLOCK + (
        "import torch, interplay\n"
        "from interplay import interplay_metrics, simplex_etf\n"
        "heads = simplex_etf(4); labels = torch.arange(8) % 4\n"
        "print(round(float(interplay_metrics(heads[labels], labels, heads).hdr), 6))\n"
        f"import interplay.integrations.{module}\n"
    )
    result = run(code)
    assert result.stdout.strip() == "0.0"
    assert f"pip install 'interplay[{extra}]'" in result.stderr.strip().splitlines()[-1]
