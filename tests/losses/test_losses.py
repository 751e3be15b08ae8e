"""InterplayLoss and CrossModalAlignmentLoss: values, gradients and errors."""

from __future__ import annotations

import math

import pytest
import torch

import reference
from interplay import interplay_metrics, simplex_etf
from interplay.losses import CrossModalAlignmentLoss, InterplayLoss


def batch(generator, n=24, d=6, c=4):
    features = torch.randn(n, d, generator=generator, dtype=torch.float64, requires_grad=True)
    labels = torch.arange(n) % c
    heads = torch.randn(c, d, generator=generator, dtype=torch.float64, requires_grad=True)
    return features, labels, heads


def test_value_matches_the_metrics(generator):
    features, labels, heads = batch(generator)
    expected = reference.sample_pairing(features.detach(), labels, heads.detach())
    loss = InterplayLoss(alpha=0.7, beta=0.3)(features, labels, heads)
    assert loss.item() == pytest.approx(-0.7 * expected["mir"] + 0.3 * expected["hdr"], abs=1e-10)
    raw = InterplayLoss(alpha=1.0, beta=2.0, use_ratios=False)(features, labels, heads)
    assert raw.item() == pytest.approx(-expected["mi"] + 2.0 * abs(expected["h_x"] - expected["h_y"]), abs=1e-10)


def test_gradcheck(generator):
    features, labels, heads = batch(generator, n=8, d=3, c=3)
    assert torch.autograd.gradcheck(lambda f, w: InterplayLoss()(f, labels, w), (features, heads))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_gradients_at_collapse_and_for_one_class(dtype):
    heads = simplex_etf(5, 8, dtype=dtype).clone().requires_grad_()
    labels = torch.arange(20) % 5
    features = heads.detach()[labels].clone().requires_grad_()
    InterplayLoss()(features, labels, heads).backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(heads.grad).all()
    one = torch.randn(6, 8, dtype=dtype, requires_grad=True)
    loss = InterplayLoss()(one, torch.zeros(6, dtype=torch.long), heads)
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(one.grad).all()


def test_detach_heads_leaves_heads_without_gradient(generator):
    features, labels, heads = batch(generator)
    InterplayLoss(detach_heads=True)(features, labels, heads).backward()
    assert heads.grad is None and features.grad.abs().sum() > 0


def test_minimising_raises_mir_on_a_toy_problem(generator):
    features, labels, heads = batch(generator, n=40, d=8, c=5)
    loss_fn = InterplayLoss(alpha=1.0, beta=1.0)
    before = interplay_metrics(features.detach(), labels, heads.detach()).mir.item()
    optimizer = torch.optim.Adam([features, heads], lr=0.05)
    for _ in range(100):
        optimizer.zero_grad()
        loss_fn(features, labels, heads).backward()
        optimizer.step()
    after = interplay_metrics(features.detach(), labels, heads.detach())
    assert after.mir.item() > before + 0.1 and after.hdr.item() < 0.1


@pytest.mark.parametrize("kwargs,match", [({"alpha": -1.0}, "alpha must be a number >= 0"), ({"beta": float("nan")}, "beta must be a number >= 0; got nan")])
def test_bad_weights(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InterplayLoss(**kwargs)


def cma_loop(images, texts, labels):
    values = []
    for c in labels.unique():
        stacked = torch.cat([images[labels == c], texts[c][None]]).double()
        k = torch.as_tensor(reference.cosine_gram(stacked))
        values.append(reference.entropy_of(k.numpy()) / math.log(k.shape[0]))
    return sum(values) / len(values)


def test_cma_equals_a_loop_over_classes(generator):
    images = torch.randn(23, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    texts = torch.randn(7, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 0, 1, 2, 2, 4, 4, 4, 4, 4, 6] * 2)[:23]
    loss = CrossModalAlignmentLoss()(images, texts, labels)
    assert loss.item() == pytest.approx(cma_loop(images.detach(), texts.detach(), labels), abs=1e-10)
    loss.backward()
    assert torch.isfinite(images.grad).all() and texts.grad[3].abs().sum() == 0  # class 3 is absent


def test_cma_dimension_mismatch():
    with pytest.raises(ValueError, match="must share their dimension"):
        CrossModalAlignmentLoss()(torch.randn(4, 3), torch.randn(2, 5), torch.tensor([0, 1, 0, 1]))


def relu_batch(generator, n=40, d=10, c=4, dead=0.4, dtype=torch.float64):
    """ReLU features with a large shared mean, a decaying spectrum, many dead rows and unbalanced classes."""
    x = 4.0 + torch.randn(n, d, generator=generator, dtype=torch.float64) * torch.logspace(0, -2.5, d, dtype=torch.float64)
    rows = torch.rand(n, generator=generator) < dead
    rows[:2] = False
    x[rows] = -1.0  # every unit of these samples is below zero: dead rows after the ReLU
    labels = torch.minimum(torch.randint(c + 2, (n,), generator=generator), torch.tensor(c - 1))
    labels[:2] = torch.tensor([0, 1])
    heads = torch.randn(c, d, generator=generator, dtype=torch.float64)
    return torch.relu(x).to(dtype), labels, heads.to(dtype), ~rows


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("n,d", [(40, 10), (8, 12)])  # the feature Gram from d×d, or from n×n
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_dead_rows_are_dropped_samples_in_value_mean_and_gradient(generator, center, n, d, dtype):
    features, labels, heads, live = relu_batch(generator, n=n, d=d, dead=0.5, dtype=dtype)
    want = reference.sample_pairing(features[live].double(), labels[live], heads.double(), center=center)
    x = features.clone().requires_grad_()
    loss = InterplayLoss(alpha=0.6, beta=0.4, center=center)(x, labels, heads)
    assert loss.item() == pytest.approx(-0.6 * want["mir"] + 0.4 * want["hdr"], abs=1e-10 if dtype == torch.float64 else 1e-4)
    loss.backward()
    assert torch.isfinite(x.grad).all() and x.grad[~live].abs().sum() == 0 and x.grad[live].abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32])
def test_integer_labels_of_any_width_without_validation(generator, dtype):
    features, labels, heads = batch(generator)
    want = reference.sample_pairing(features.detach(), labels, heads.detach())
    loss = InterplayLoss(alpha=1.0, beta=1.0, validate_args=False)(features, labels.to(dtype), heads)
    assert loss.item() == pytest.approx(-want["mir"] + want["hdr"], abs=1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bool])
@pytest.mark.parametrize("validate", [True, False])
def test_float_and_bool_labels_are_refused_even_without_validation(generator, dtype, validate):
    features, labels, heads = batch(generator)
    with pytest.raises(TypeError, match=f"labels must be an integer tensor of class indices; got dtype {dtype}"):
        InterplayLoss(validate_args=validate)(features, (labels % 2).to(dtype), heads)


def test_the_loss_is_exact_and_refuses_a_batch_too_large_for_it(generator):
    # Agreement with the oracle to 1e-10 rules out the estimator, whose error is of order its tolerance.
    features, labels, heads = batch(generator, n=40, d=3, c=4)  # n > d²: the Kronecker path, 9 on a side
    want = reference.sample_pairing(features.detach(), labels, heads.detach())
    loss = InterplayLoss(max_exact_size=9)(features, labels, heads)
    assert loss.item() == pytest.approx(-want["mir"] + want["hdr"], abs=1e-10)
    loss.backward()
    assert torch.isfinite(features.grad).all() and features.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"a 9×9 matrix, more than max_exact_size=8.*stochastic estimator has no gradient"):
        InterplayLoss(max_exact_size=8, validate_args=False)(features, labels, heads)
