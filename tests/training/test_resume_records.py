"""A resumed run's metrics.csv holds each evaluation once, whatever point the interruption hit."""

from __future__ import annotations

import pytest

from interplay.cli import main
from interplay.training.records import read_rows
from interplay.training.session import Session

TINY = ["--epochs", "2", "--train-eval-samples", "100", "--width", "8", "--metrics-every", "1"]


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
    assert main(["train", *TINY, "--out", str(out)]) == 130
    assert (out / "checkpoint.pt").exists() == (stop_at > 1)
    monkeypatch.undo()
    assert main(["train", "--resume", str(out)]) == 0
    rows = read_rows(out / "metrics.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [(e, s) for e in range(3) for s in ("train", "test")]


def test_a_row_cut_short_by_a_crash_is_rewritten_on_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    interrupt_epoch(monkeypatch, 2)
    assert main(["train", *TINY, "--out", str(out)]) == 130
    monkeypatch.undo()
    # A process killed while appending leaves part of a row of the epoch after the checkpoint.
    with (out / "metrics.csv").open("a") as f:
        f.write("2,train,0.0")
    assert main(["train", "--resume", str(out)]) == 0
    rows = read_rows(out / "metrics.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [(e, s) for e in range(3) for s in ("train", "test")]
    assert all(r["mir"] is not None for r in rows)


def test_a_header_cut_short_is_written_afresh(tmp_path):
    from interplay.training.records import MetricsLog

    log = MetricsLog(tmp_path / "metrics.csv")
    log.path.write_text("epoch,split,accu")
    log.truncate_after(-1)
    log.append({"epoch": 0, "split": "train", "accuracy": 0.5})
    assert read_rows(log.path) == [{"epoch": 0, "split": "train", "accuracy": 0.5}]


def test_a_run_folder_from_before_the_path_column_keeps_its_header(tmp_path):
    # Folders written when the column was called "method" stay readable and resumable.
    from interplay.training.records import MetricsLog, read_rows

    path = tmp_path / "metrics.csv"
    path.write_text("epoch,split,method,mir\n0,test,gram,0.5\n")
    MetricsLog(path).append({"epoch": 1, "split": "test", "path": "class-blocks", "mir": 0.6})
    assert [row["method"] for row in read_rows(path)] == ["gram", "class-blocks"]
