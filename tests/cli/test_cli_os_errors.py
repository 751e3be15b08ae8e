"""Folders that cannot be written and records that cannot be read: one line each, no traceback."""

from __future__ import annotations

import errno
import os
import pathlib

import pytest

from interplay.cli import main
from commands import one_line_error

TINY = ["--epochs", "1", "--train-eval-samples", "100", "--width", "8"]
QUICK_EXPERIMENT = ["experiment", "dynamics", "--quick", "--set", "seeds=[0]", "--set", "epochs=1"]


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """A folder whose contents cannot be created: chmod where that binds, else a refusing mkdir."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # the superuser writes anyway
        original = pathlib.Path.mkdir

        def mkdir(self, *args, **kwargs):
            if folder in self.parents:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    yield folder
    folder.chmod(0o755)


def test_train_into_a_read_only_folder(read_only, capsys):
    err = one_line_error(["train", *TINY, "--run-dir", str(read_only / "run")], capsys)
    assert str(read_only / "run") in err and "pass --run-dir a folder you can write to" in err


def test_train_below_a_file(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    err = one_line_error(["train", *TINY, "--run-dir", str(tmp_path / "notes.txt" / "run")], capsys)
    assert str(tmp_path / "notes.txt") in err and "is a file" in err and "--run-dir" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_experiment_into_a_read_only_folder_or_a_file(read_only, tmp_path, capsys):
    err = one_line_error([*QUICK_EXPERIMENT, "--out", str(read_only)], capsys)
    assert str(read_only / "dynamics") in err and "pass --out a folder you can write to" in err
    (tmp_path / "notes.txt").write_text("mine")
    err = one_line_error([*QUICK_EXPERIMENT, "--run-dir", str(tmp_path / "notes.txt")], capsys)
    assert str(tmp_path / "notes.txt") in err and "is a file" in err and "--run-dir" in err
    err = one_line_error([*QUICK_EXPERIMENT, "--out", str(tmp_path / "notes.txt")], capsys)
    assert str(tmp_path / "notes.txt") in err and "is a file" in err and "--out" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", *TINY, "--run-dir", str(out)]) == 0
    return out


def test_report_onto_a_file(finished_run, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    err = one_line_error(["report", str(finished_run), "--out", str(tmp_path / "notes.txt")], capsys)
    assert str(tmp_path / "notes.txt") in err and "is a file" in err and "--out" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_report_into_a_read_only_folder(finished_run, read_only, capsys):
    err = one_line_error(["report", str(finished_run), "--out", str(read_only / "report")], capsys)
    assert str(read_only / "report") in err and "pass --out a folder you can write to" in err


def copy_run(run, target, metrics: str):
    target.mkdir()
    (target / "config.json").write_text((run / "config.json").read_text())
    (target / "metrics.csv").write_text(metrics)
    return target


def test_report_of_a_header_only_metrics_file(finished_run, tmp_path, capsys):
    header = (finished_run / "metrics.csv").read_text().splitlines()[0] + "\n"
    run = copy_run(finished_run, tmp_path / "new", header)
    err = one_line_error(["report", str(run)], capsys)
    assert str(run / "metrics.csv") in err and "no records yet" in err and f"interplay train --resume {run}" in err


def test_report_of_a_truncated_metrics_file(finished_run, tmp_path, capsys):
    text = (finished_run / "metrics.csv").read_text()
    run = copy_run(finished_run, tmp_path / "cut", text[: len(text) - 40])
    err = one_line_error(["report", str(run)], capsys)
    assert str(run / "metrics.csv") in err and "cut short" in err and f"interplay train --resume {run}" in err


def test_report_of_an_empty_metrics_file_and_a_broken_config(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path / "empty", "")
    assert "no records yet" in one_line_error(["report", str(run)], capsys)
    run = copy_run(finished_run, tmp_path / "broken", (finished_run / "metrics.csv").read_text())
    (run / "config.json").write_text('{"config": ')
    err = one_line_error(["report", str(run)], capsys)
    assert str(run / "config.json") in err and "cannot be parsed" in err
