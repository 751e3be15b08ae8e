"""interplay train --center centres both splits by the mean of the training evaluation features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.cli import main
from interplay.config import TrainConfig
from interplay.training.checkpoint import load_checkpoint
from interplay.runs import read_rows
from interplay.training.session import Session
from reference import entropies

SETTINGS = {"epochs": 1, "train_eval_samples": 100, "width": 32}


def head_inputs(model, images) -> np.ndarray:
    """The representations read at the input of the model's final layer, in float64."""
    seen = []
    handle = model.head.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].detach()))
    try:
        with torch.no_grad():
            model.eval()
            model(images)
    finally:
        handle.remove()
    return torch.cat(seen).double().numpy()


def test_test_split_is_centred_by_the_training_mean(tmp_path, capsys):
    out = tmp_path / "run"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items()]
    assert main(["train", *flags, "--center", "--run-dir", str(out)]) == 0
    final = {r["split"]: r for r in read_rows(out / "metrics.csv") if r["epoch"] == 1}

    session = Session.create(TrainConfig(**SETTINGS))
    session.model.load_state_dict(load_checkpoint(out / "checkpoint.pt")["model"])
    heads = session.model.head.weight.detach().double().numpy()
    chosen = torch.randperm(len(session.train_set.labels), generator=torch.Generator().manual_seed(0))[:100]
    train = head_inputs(session.model, session.images["train"][chosen])
    test = head_inputs(session.model, session.images["test"])
    live = train[np.abs(train).sum(1) > 0]
    mean = live.mean(0)  # (d,) the training mean, of the samples the metrics measure
    train_labels, test_labels = session.train_set.labels[chosen].numpy(), session.test_set.labels.numpy()
    expected = {
        "train": entropies(live - mean, heads[train_labels[np.abs(train).sum(1) > 0]]),
        "test": entropies(test[np.abs(test).sum(1) > 0] - mean, heads[test_labels[np.abs(test).sum(1) > 0]]),
    }
    own_mean = entropies(test - test.mean(0), heads[test_labels])
    for split in ("train", "test"):
        assert final[split]["estimate"] == "exact"
        assert final[split]["mir"] == pytest.approx(expected[split]["mir"], rel=1e-7), split
        assert final[split]["hdr"] == pytest.approx(expected[split]["hdr"], rel=1e-7, abs=1e-12), split
    # The two centrings differ measurably here, so the comparison tells them apart.
    assert abs(expected["test"]["mir"] - own_mean["mir"]) > 1e-4


def class_means(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.stack([x[labels == c].mean(0) for c in range(int(labels.max()) + 1)])


@pytest.mark.parametrize("pairing", ["sample", "class"])
def test_dead_representations_are_left_out_of_the_training_mean(pairing):
    session = Session.create(TrainConfig(**SETTINGS, center=True, pairing=pairing))
    session.train_epoch(1)
    chosen = session.evaluation_indices()["train"]
    first = head_inputs(session.model, session.images["train"][chosen])
    threshold = float(np.quantile(first.sum(1), 0.7))
    # A dead layer for some inputs: every unit of the representation is zero.
    session.model.head.register_forward_pre_hook(lambda _m, inputs: (inputs[0] * (inputs[0].sum(1, keepdim=True) <= threshold),))
    results = session.evaluate()
    train = head_inputs(session.model, session.images["train"][chosen])
    test = head_inputs(session.model, session.images["test"])
    heads = session.model.head.weight.detach().double().numpy()
    live = {name: np.abs(x).sum(1) > 0 for name, x in (("train", train), ("test", test))}
    assert 0.2 < 1 - live["train"].mean() < 0.4 and not live["test"].all()
    mean = train[live["train"]].mean(0)
    labels = session.test_set.labels.numpy()[live["test"]]
    if pairing == "sample":
        expected = entropies(test[live["test"]] - mean, heads[labels])
    else:
        expected = entropies(class_means(test[live["test"]], labels) - mean, heads)
    assert results["test"].information.mir.item() == pytest.approx(expected["mir"], rel=1e-7)
    assert results["test"].information.hdr.item() == pytest.approx(expected["hdr"], rel=1e-7, abs=1e-12)
    assert results["test"].information.n == live["test"].sum()
