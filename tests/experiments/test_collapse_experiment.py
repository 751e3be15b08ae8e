"""interplay experiment collapse: the quick setting collapses; losses, subsets and errors."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from interplay.experiments import experiment_config, run_experiment
from interplay.data import balanced_subset
from interplay.experiments.collapse import NEAR, evaluate, half_squared_error

COLUMNS = ["loss", "accuracy", "nc1", "nc2_etf_distance", "nc3", "nc4", "mir", "hdr", "h_z", "h_w",
           "mir_centred", "hdr_centred", "mir_class", "hdr_class"]


@pytest.mark.slow
def test_quick_setting_reaches_collapse(tmp_path):
    # The promise of --quick: train NC1 <= 0.01 and centred sample-pairing MIR within 0.025 of MIR_NC.
    page = run_experiment("collapse", experiment_config("collapse", quick=True), out=tmp_path)
    with (page.parent / "measurements.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert set(COLUMNS) <= set(rows[0])
    last = max(int(r["epoch"]) for r in rows)
    final = next(r for r in rows if int(r["epoch"]) == last and r["split"] == "train")
    assert float(final["nc1"]) <= 0.01
    assert abs(float(final["mir_centred"]) - float(final["mir_nc"])) <= NEAR
    for name in ("readings.png", "versus_nc1.png", "collapse.png", "calibration.png", "calibration.csv"):
        assert (page.parent / name).stat().st_size > 0, name


def test_half_squared_error_against_its_definition(generator):
    logits = torch.randn(5, 4, generator=generator)
    labels = torch.tensor([0, 3, 1, 1, 2])
    target = torch.eye(4)[labels]
    expected = sum(0.5 * float(((logits[i] - target[i]) ** 2).sum()) for i in range(5)) / 5
    assert half_squared_error(logits, labels).item() == pytest.approx(expected, rel=1e-6)


def test_balanced_subset_takes_per_class_of_each():
    labels = torch.tensor([0, 1, 1, 2, 2, 2, 0, 1])
    chosen = balanced_subset(labels, 1, seed=0)
    assert sorted(labels[chosen].tolist()) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"per_class=3 asks for more images than the smallest class holds \(2\)"):
        balanced_subset(labels, 3, seed=0)


@pytest.mark.parametrize(
    ("values", "match"),
    [({"losses": ["hinge"]}, r"losses must be a non-empty list of one of ce, mse.*got \['hinge'\]"),
     ({"shuffled_loss": "hinge"}, r"shuffled_loss must be one of '', ce, mse; got 'hinge'"),
     ({"decay_at": [1.5]}, r"decay_at must be a non-empty list of finite numbers in \(0, 1\).*got \[1.5\]"),
     ({"per_class": 0}, r"per_class must be .*>= 1.*got 0")],
)
def test_bad_configs_are_clear_errors(values, match):
    with pytest.raises(ValueError, match=match):
        experiment_config("collapse", values=values)


class _ReluFeatures(torch.nn.Module):
    """A model whose representation of an all-zero input is all zeros (a dead ReLU sample)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Linear(3, 8, bias=False)
        self.head = torch.nn.Linear(8, 3)

    def features(self, x):
        return torch.relu(self.body(x))


def test_evaluation_leaves_all_zero_representations_out_of_the_uncentred_reading(generator):
    torch.manual_seed(0)
    images = torch.randn(30, 3, generator=generator)
    images[0] = 0.0
    labels = torch.arange(30) % 3
    row = evaluate(_ReluFeatures(), {"train": (images, labels)}, half_squared_error, 3)["train"]
    assert row["zero_rows"] >= 1
    assert all(0 <= row[k] <= 1 for k in ("mir", "mir_centred", "mir_class", "hdr", "hdr_centred", "hdr_class"))


def test_undefined_metrics_are_recorded_as_nan_with_the_reason():
    from interplay.models import build_model

    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), 4, width=16)
    with torch.no_grad():
        model.body[-2].weight.zero_()  # a dead last layer: every representation is the bias' ReLU, the same for all
    images, labels = torch.randn(40, 1, 8, 8), torch.arange(40) % 4
    rows = evaluate(model, {"train": (images, labels)}, half_squared_error, 4)
    row = rows["train"]
    assert math.isnan(row["nc1"]) and math.isnan(row["mir_centred"]) and "NC1 is undefined" in row["undefined"]
    assert 0 <= row["accuracy"] <= 1 and math.isfinite(row["loss"])
