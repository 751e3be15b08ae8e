"""Degenerate input a network really produces: dead layers, coinciding means, rank-one batches."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import reference
from interplay import neural_collapse
from interplay.data import load_dataset
from interplay.functional import entropy
from interplay.losses import InterplayLoss
from interplay.metrics import NeuralCollapse


@pytest.mark.parametrize("make", [
    lambda g: torch.zeros(30, 5),  # a dead layer
    lambda g: torch.ones(30, 5),  # constant features
    lambda g: torch.randn(1, 5, generator=g).repeat(30, 1),  # every class mean the same
])
def test_nc1_is_never_zero_for_degenerate_features(make, generator):
    features, labels, heads = make(generator), torch.arange(30) % 3, torch.randn(3, 5, generator=generator)
    with pytest.raises(ValueError, match="NC1 is undefined for these features"):
        neural_collapse(features, labels, heads)
    metric = NeuralCollapse(3, 5)
    metric.update(features, labels, heads)
    with pytest.raises(ValueError, match="NC1 is undefined for these features"):
        metric.compute()


def test_two_coinciding_class_means_are_refused(generator):
    features = torch.randn(40, 6, generator=generator)
    labels = torch.arange(40) % 4
    features[labels == 1] = features[labels == 1] - features[labels == 1].mean(0) + features[labels == 0].mean(0)
    with pytest.raises(ValueError, match="span 2 of the 3 directions"):
        neural_collapse(features, labels, torch.randn(4, 6, generator=generator))


def test_dead_units_do_not_count_as_missing_directions(generator):
    features = torch.randn(40, 6, generator=generator)
    features[:, 2] = 0.0  # a dead unit: no feature varies there, no class is hidden there
    labels = torch.arange(40) % 4
    heads = torch.randn(4, 6, generator=generator)
    want = reference.neural_collapse(features.double().numpy(), labels.numpy(), heads.double().numpy())
    assert float(neural_collapse(features, labels, heads).nc1) == pytest.approx(want["nc1"], rel=1e-9)


def test_zero_rows_in_the_loss_count_as_dropped_samples(generator):
    features = torch.randn(20, 8, generator=generator)
    labels = torch.arange(20) % 4
    heads = torch.randn(4, 8, generator=generator)
    dead = features.clone()
    dead[[3, 7, 11]] = 0.0
    keep = torch.ones(20, dtype=torch.bool)
    keep[[3, 7, 11]] = False
    loss = InterplayLoss(1.0, 1.0, dtype=torch.float64)
    assert float(loss(dead, labels, heads)) == pytest.approx(float(loss(features[keep], labels[keep], heads)), abs=1e-12)
    x = dead.clone().requires_grad_()
    loss(x, labels, heads).backward()
    assert bool(torch.isfinite(x.grad).all())


@pytest.mark.parametrize("features", [torch.zeros(10, 4), torch.ones(10, 4), torch.zeros(0, 4)])
def test_loss_is_zero_with_finite_gradients_where_undefined(features):
    x = features.clone().requires_grad_()
    heads = torch.randn(3, 4, requires_grad=True)
    value = InterplayLoss(1.0, 1.0, validate_args=False)(x, torch.arange(len(x)) % 3, heads)
    value.backward()
    assert float(value.detach()) == 0.0 and bool(torch.isfinite(x.grad).all()) and bool(torch.isfinite(heads.grad).all())


def test_an_eigen_solve_that_fails_to_converge_is_repeated(monkeypatch, generator):
    real = torch.linalg.eigvalsh
    failures = []

    def flaky(matrix):
        if matrix.dtype == torch.float32:
            failures.append(matrix.shape)
            raise torch.linalg.LinAlgError("linalg.eigh: The algorithm failed to converge")
        return real(matrix)

    features, labels, heads = torch.randn(16, 5, generator=generator), torch.arange(16) % 4, torch.randn(4, 5, generator=generator)
    want = InterplayLoss(1.0, 1.0, dtype=torch.float64)(features.double(), labels, heads.double())
    monkeypatch.setattr(entropy.torch.linalg, "eigvalsh", flaky)
    got = InterplayLoss(1.0, 1.0, dtype=torch.float32, validate_args=False)(features, labels, heads)
    assert failures and float(got) == pytest.approx(float(want), abs=1e-5)


class _NoSync:
    """Makes every host read of a tensor's value an error, as a device synchronisation would be."""

    def __init__(self, monkeypatch):
        for name in ("__bool__", "__float__", "__int__", "item", "tolist", "nonzero", "unique"):
            monkeypatch.setattr(torch.Tensor, name, self._refuse(name))

    @staticmethod
    def _refuse(name):
        def refuse(*_args, **_kwargs):
            raise AssertionError(f"Tensor.{name} synchronises with the device")
        return refuse


def test_validate_args_false_reads_no_tensor_value(monkeypatch, generator):
    features = torch.randn(32, 8, generator=generator, requires_grad=True)
    labels, heads = torch.arange(32) % 4, torch.randn(4, 8, generator=generator, requires_grad=True)
    loss = InterplayLoss(0.5, 0.5, dtype=torch.float32, validate_args=False)
    _NoSync(monkeypatch)
    loss(features, labels, heads).backward()
    monkeypatch.undo()
    with pytest.raises(AssertionError, match="synchronises"):
        _NoSync(monkeypatch)
        InterplayLoss(0.5, 0.5)(features, labels, heads)


def test_training_with_dead_units_and_the_terms_survives():
    torch.manual_seed(0)
    data = load_dataset("digits", split="train")
    x, y = data.images.flatten(1), data.labels
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    model = nn.Sequential(nn.Linear(64, 4), nn.ReLU(), nn.Linear(4, 10))
    with torch.no_grad():
        model[0].bias[:2] = -100.0  # two of the four units are dead for every input
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    terms = InterplayLoss(0.5, 0.5, dtype=torch.float32, validate_args=False)
    captured = {}
    model[2].register_forward_hook(lambda _m, inputs, _o: captured.update(z=inputs[0]))
    for _epoch in range(3):
        for start in range(0, len(y), 64):
            logits = model(x[start : start + 64])
            loss = nn.functional.cross_entropy(logits, y[start : start + 64])
            loss = loss + terms(captured["z"], y[start : start + 64], model[2].weight)
            optimizer.zero_grad()
            loss.backward()
            assert all(bool(torch.isfinite(p.grad).all()) for p in model.parameters())
            optimizer.step()
    assert math.isfinite(float(loss))
