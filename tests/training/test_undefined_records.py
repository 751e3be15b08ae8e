"""A record that cannot be computed is NaN with a warning; training goes on."""

from __future__ import annotations

import csv
import math

from interplay.config import TrainConfig
from interplay.training.loop import train


def test_rank_one_records_are_nan_and_training_continues(tmp_path, capsys):
    # Two ReLU units on digits: the training subset's representation collapses to one direction.
    run = train(TrainConfig(width=2, epochs=2, train_eval_samples=200, seed=0), run_dir=tmp_path / "run")
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows if r["split"] == "train"] == [0, 1, 2]
    undefined = [r for r in rows if r["estimate"] == "undefined"]
    assert undefined and all(math.isnan(float(r["mir"])) for r in undefined)
    assert all(math.isfinite(float(r["accuracy"])) for r in rows)
    assert "recorded as NaN" in capsys.readouterr().err
