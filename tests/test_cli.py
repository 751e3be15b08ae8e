"""The command line as typed: every subcommand's help, the version, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import interplay
from interplay.cli import main
from interplay.experiments import REGISTRY

HELP = [["--help"], ["train", "--help"], ["experiment", "--help"], ["report", "--help"]]
HELP += [["experiment", name, "--help"] for name in sorted(REGISTRY)]


@pytest.mark.parametrize("argv", HELP, ids=" ".join)
def test_help_of_every_subcommand(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: interplay") and err == ""


def test_version_from_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "interplay", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"interplay {interplay.__version__}"


def test_train_help_from_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "interplay", "train", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--max-exact-size" in done.stdout and done.stderr == ""
