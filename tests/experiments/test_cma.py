"""The CoOp-style CMA protocol: class split, λ chosen on validation, both tuning modes, clear errors."""

from __future__ import annotations

import pytest

from interplay.experiments import experiment_config, run_experiment
from interplay.experiments.cma import chosen_lambdas, coop_epochs
from interplay.experiments.cma_setup import DIGIT_NAMES, few_shot_classes
from interplay.experiments.runs import load_splits
from interplay.runs import Records
from tests.fakes import write_eurosat_like, write_tiny_clip


def row(k, lam, seed, validation, test):
    return {"shots": k, "lam": lam, "seed": seed, "validation_accuracy": validation, "accuracy": test}


def test_lambda_is_chosen_on_validation_not_on_test():
    rows = [row(1, 0.0, s, 0.5, 0.60 + 0.02 * s) for s in (1, 2)]
    rows += [row(1, 0.1, s, 0.7, 0.50) for s in (1, 2)]  # best on validation, worse on test
    rows += [row(1, 0.3, s, 0.6, 0.70) for s in (1, 2)]  # best on test
    [chosen] = chosen_lambdas(rows)
    assert chosen["chosen_lambda"] == 0.1 and chosen["hindsight_lambda"] == 0.3
    assert chosen["ce_accuracy"] == pytest.approx(0.63) and chosen["cma_accuracy"] == pytest.approx(0.50)
    assert chosen["difference"] == pytest.approx(-0.13) and chosen["ce_std"] == pytest.approx(0.02 * 2 ** 0.5 / 2)
    assert chosen["seeds"] == 2


def test_ties_go_to_the_smaller_lambda_and_shot_counts_stay_apart():
    rows = [row(k, lam, 1, 0.5, 0.5) for k in (1, 4) for lam in (0.0, 0.5, 0.1)]
    assert [(c["shots"], c["chosen_lambda"]) for c in chosen_lambdas(rows)] == [(1, 0.1), (4, 0.1)]


def test_coop_schedule_and_its_scale():
    assert [coop_epochs(k, 0.5) for k in (1, 2, 16)] == [25, 50, 100]
    assert coop_epochs(1, 0.001) == 1


def test_few_shot_classes_are_the_ones_left_out_of_pretraining():
    config = experiment_config("cma", quick=True)
    train, test = few_shot_classes(config, *load_splits("digits"))
    assert train.classes == DIGIT_NAMES[5:] == test.classes
    assert set(train.labels.tolist()) == set(range(5)) and len(train.labels) < 1000


@pytest.mark.parametrize(("values", "message"), [
    ({"base_classes": (0, 12)}, r"base_classes \[12\] do not exist: digits has classes 0..9"),
    ({"base_classes": tuple(range(9))}, "leave 1 class"),
    ({"shots": (1, 500)}, "shots 500 and their validation images ask for 504 images per class"),
    ({"base_classes": ()}, "the image encoder has nothing to learn from: set pretrain_dataset or base_classes"),
])
def test_bad_class_splits_are_refused_before_training(values, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        run_experiment("cma", experiment_config("cma", quick=True, values=values), out=tmp_path)
    assert not list(tmp_path.rglob("image_encoder.pt"))


def test_pretraining_on_the_few_shot_data_set_itself_is_refused():
    with pytest.raises(ValueError, match="its new classes would not be new"):
        experiment_config("cma", values={"dataset": "mnist", "pretrain_dataset": "mnist"})


@pytest.mark.slow
@pytest.mark.parametrize("tune", ["prompt", "image"])
def test_cma_tunes_a_clip_checkpoint(tune, tmp_path):
    pytest.importorskip("transformers")
    folder = write_tiny_clip(tmp_path / "clip", ["a", "photo", "of", "x", *DIGIT_NAMES])
    values = {"clip": str(folder), "tune": tune, "shots": (2,), "steps": 3, "epoch_scale": 0.02, "seeds": (0,), "test_samples": 100}
    page = run_experiment("cma", experiment_config("cma", quick=True, values=values), out=tmp_path / "runs")
    rows = Records(page.parent / "records.jsonl").rows()
    assert {r["setting"] for r in rows} == {"zero-shot", "λ=0.0", "λ=0.5"} and not (page.parent / "image_encoder.pt").exists()
    assert all(0 <= r["accuracy"] <= 1 and r["cma"] >= 0 for r in rows)
    assert all(0 <= r["validation_accuracy"] <= 1 for r in rows if r["setting"] != "zero-shot")


@pytest.mark.slow
def test_coop_protocol_runs_on_a_coop_data_set(tmp_path):
    pytest.importorskip("transformers")
    clip = write_tiny_clip(tmp_path / "clip", ["a", "centered", "satellite", "photo", "of", "forest", "sea", "or", "lake", "x"])
    values = {"dataset": "eurosat", "data_dir": str(write_eurosat_like(tmp_path / "data")), "clip": str(clip), "base_classes": [],
              "template": "a centered satellite photo of {}.", "shots": [1], "lambdas": [0.0, 0.3], "n_ctx": 2, "epoch_scale": 0.04,
              "seeds": [1]}
    page = run_experiment("cma", experiment_config("cma", values=values), out=tmp_path / "runs")
    rows = Records(page.parent / "records.jsonl").rows()
    assert [r["setting"] for r in rows] == ["zero-shot", "λ=0.0", "λ=0.3"] and all(0 <= r["accuracy"] <= 1 for r in rows)
    assert (page.parent / "chosen.csv").read_text().count("\n") == 2
