"""A resumed run's metrics.csv holds each evaluation once, whatever point the interruption hit."""

from __future__ import annotations

import json

import pytest

from interplay.cli import main
from interplay.runs import read_rows
from interplay.training.session import Session

TINY = ["--epochs", "2", "--train-eval-samples", "100", "--width", "8", "--record-every", "1"]


def interrupt_epoch(monkeypatch, stop_at: int) -> None:
    """Ctrl-C as epoch ``stop_at`` trains (after the records before it are written)."""
    original = Session.train_epoch

    def train_epoch(self, epoch, *args, **kwargs):
        if epoch == stop_at:
            raise KeyboardInterrupt
        return original(self, epoch, *args, **kwargs)

    monkeypatch.setattr(Session, "train_epoch", train_epoch)


@pytest.mark.parametrize("stop_at", [1, 2])
def test_resume_writes_each_epoch_once(stop_at, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    interrupt_epoch(monkeypatch, stop_at)
    assert main(["train", *TINY, "--run-dir", str(out)]) == 130
    assert (out / "checkpoint.pt").exists() == (stop_at > 1)
    monkeypatch.undo()
    assert main(["train", "--resume", str(out)]) == 0
    rows = read_rows(out / "metrics.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [(e, s) for e in range(3) for s in ("train", "test")]


def test_a_row_cut_short_by_a_crash_is_rewritten_on_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    interrupt_epoch(monkeypatch, 2)
    assert main(["train", *TINY, "--run-dir", str(out)]) == 130
    monkeypatch.undo()
    # A process killed while appending leaves part of a row of the epoch after the checkpoint.
    with (out / "metrics.csv").open("a") as f:
        f.write("2,train,0.0")
    assert main(["train", "--resume", str(out)]) == 0
    rows = read_rows(out / "metrics.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [(e, s) for e in range(3) for s in ("train", "test")]
    assert all(r["mir"] is not None for r in rows)


def test_a_run_folder_from_before_the_records_file_resumes(tmp_path, capsys):
    # Folders written before records.jsonl held metrics.csv alone, with a "method" column where
    # "path" is now, and config.json without the command and with "metrics_every".
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--run-dir", str(out)]) == 0
    (out / "records.jsonl").unlink()
    table = (out / "metrics.csv").read_text().splitlines()
    table[0] = table[0].replace(",path,", ",method,")
    (out / "metrics.csv").write_text("\n".join(table) + "\n")
    stored = json.loads((out / "config.json").read_text())
    del stored["command"]
    stored["config"]["metrics_every"] = stored["config"].pop("record_every")
    (out / "config.json").write_text(json.dumps(stored))
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 0
    rows = read_rows(out / "metrics.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [(e, s) for e in range(3) for s in ("train", "test")]
    assert all(r["path"] for r in rows) and "method" not in rows[0]
    assert main(["report", str(out)]) == 0


def test_a_records_line_cut_short_by_a_crash_is_redone(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--run-dir", str(out)]) == 0
    whole = read_rows(out / "metrics.csv")
    with (out / "records.jsonl").open("a") as f:
        f.write('{"unit": "epoch=3", "epoch": 3, "spl')
    assert main(["train", *TINY, "--run-dir", str(out)]) == 0
    assert read_rows(out / "metrics.csv") == whole
