"""--method exact (and class pairing) is refused before training when the exact eigenproblem
cannot fit --max-exact-size, instead of recording NaN for the whole run."""

from __future__ import annotations

import math

import pytest

from interplay.cli import main
from interplay.runs import read_rows
from interplay.training.session import Session

# digits: 1438 training and 359 test images, 10 classes; --width 32 gives 32-dimensional features.
TRAIN, TEST, CLASSES, DIM = 1438, 359, 10, 32
RUN = ["--epochs", "1", "--width", str(DIM), "--train-eval-samples", "100"]


def sample_side(n: int) -> int:
    """Side of the smaller exact eigenproblem of sample pairing for features of full rank: the
    n×n Gram, or the (C·d)-sided class blocks."""
    return min(n, DIM * min(CLASSES, DIM))


def error_line(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("interplay: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Session, "train_epoch", refuse)


@pytest.mark.parametrize(("flags", "split", "n"), [
    (["--max-exact-size", "100"], "test", TEST),
    (["--max-exact-size", str(sample_side(TEST) - 1)], "test", TEST),
    (["--max-exact-size", "99", "--train-eval-samples", "0"], "training", TRAIN),
])
def test_exact_method_that_cannot_fit_is_refused_up_front(flags, split, n, tmp_path, capsys, no_training):
    out = tmp_path / "run"
    err = error_line(["train", *RUN, "--method", "exact", *flags, "--run-dir", str(out)], capsys)
    side, limit = sample_side(n), int(flags[1])
    assert side > limit
    assert f"the {split} split" in err and f"{n} samples" in err and f"side {side} " in err and f"max_exact_size={limit}" in err
    assert "--method auto" in err and f"--max-exact-size {side}" in err
    assert not out.exists()


def test_class_pairing_beyond_the_exact_size_is_refused_up_front(tmp_path, capsys, no_training):
    err = error_line(["train", *RUN, "--pairing", "class", "--max-exact-size", "9", "--run-dir", str(tmp_path / "r")], capsys)
    assert f"side {CLASSES} " in err and "--max-exact-size 10" in err and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_exact_method_that_fits_records_exact_values(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *RUN, "--method", "exact", "--max-exact-size", str(sample_side(TEST)), "--run-dir", str(out)]) == 0
    rows = read_rows(out / "metrics.csv")
    assert {r["estimate"] for r in rows} == {"exact"} and all(math.isfinite(r["mir"]) for r in rows)
