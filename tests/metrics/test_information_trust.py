"""InformationInterplay and interplay_metrics on data shaped like trained features, against the float64 oracle."""

from __future__ import annotations

import pytest
import torch

import reference
from interplay import interplay_metrics
from interplay.metrics import InformationInterplay
from interplay.validation import ExactSizeError

FIELDS = {"h_z": "h_x", "h_w": "h_y", "h_joint": "h_joint", "mi": "mi", "mir": "mir", "hdr": "hdr"}


def trained_like(n, d, c, seed=0, dtype=torch.float32):
    """ReLU features around a large shared mean with a steeply decaying spectrum, class-dependent."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % c
    heads = torch.randn(c, d, generator=g)
    noise = torch.randn(n, d, generator=g) * torch.logspace(0, -2.5, d)
    return torch.relu(3 + 0.5 * heads[labels] + noise).to(dtype), labels, heads.to(dtype)


def assert_matches(result, oracle, tol=1e-9):
    for field, key in FIELDS.items():
        assert float(getattr(result, field)) == pytest.approx(oracle[key], abs=tol), field


def test_float32_features_give_the_float64_value():
    # The numerical-range cut in float32 once dropped most of the spectrum from the joint entropy only.
    features, labels, heads = trained_like(800, 64, 10)
    oracle = reference.sample_pairing(features.double(), labels, heads.double())
    assert_matches(interplay_metrics(features, labels, heads, dtype=None), oracle)
    metric = InformationInterplay(10, 64).to(torch.float32)
    metric.update(features, labels, heads)
    assert metric.sums.dtype == torch.float64
    assert_matches(metric.compute(), oracle)


@pytest.mark.parametrize("method", ["auto", "exact"])
def test_class_blocks_match_the_oracle_on_trained_like_features(method):
    features, labels, heads = trained_like(900, 24, 6, seed=3, dtype=torch.float64)
    features[::7, 5:] = 0  # dead units on some samples
    result = interplay_metrics(features, labels, heads, method=method, max_exact_size=200)
    assert result.path == "class-blocks"
    assert_matches(result, reference.sample_pairing(features, labels, heads))


def test_class_pairing_subtracts_the_given_mean():
    features, labels, heads = trained_like(300, 16, 5, seed=1, dtype=torch.float64)
    mean = torch.linspace(0, 2, 16, dtype=torch.float64)
    plain = reference.class_pairing(features, labels, heads)
    assert_matches(interplay_metrics(features, labels, heads, pairing="class", center=torch.zeros(16)), plain)
    shifted = reference.class_pairing(features - mean, labels, heads)
    assert_matches(interplay_metrics(features, labels, heads, pairing="class", center=mean), shifted)
    metric = InformationInterplay(5, 16, pairing="class", center=mean)
    metric.update(features, labels, heads)
    assert_matches(metric.compute(), shifted)


def test_auto_takes_the_smaller_exact_eigenproblem():
    # 300 samples: the n×n path is exact, where the per-class blocks (20·64 = 1280) do not fit.
    features, labels, heads = trained_like(300, 64, 20, seed=2, dtype=torch.float64)
    metric = InformationInterplay(20, 64, max_exact_size=500)
    for part in torch.arange(300).split(70):
        metric.update(features[part], labels[part], heads)
    result = metric.compute()
    assert result.path == "gram"
    assert_matches(result, reference.sample_pairing(features, labels, heads))


def test_gradients_never_reach_the_estimator():
    features, labels, heads = trained_like(60, 8, 3, dtype=torch.float64)
    features.requires_grad_()
    with pytest.raises(ValueError, match="method='stochastic' is not differentiable"):
        interplay_metrics(features, labels, heads, method="stochastic")
    with pytest.raises(ExactSizeError, match="the stochastic estimator is not differentiable"):
        interplay_metrics(features, labels, heads, max_exact_size=50)
    with torch.no_grad():  # without gradients the 24-sided per-class blocks are exact
        result = interplay_metrics(features, labels, heads, max_exact_size=50)
    assert result.path == "class-blocks"
    assert_matches(result, reference.sample_pairing(features.detach(), labels, heads))


def test_forward_follows_the_rules_of_update():
    features, labels, heads = trained_like(120, 8, 4, dtype=torch.float64)
    metric = InformationInterplay(4, 8)
    batch = metric(features[:60], labels[:60], heads)
    assert_matches(batch, reference.sample_pairing(features[:60], labels[:60], heads))
    with pytest.raises(ValueError, match="head_weight changed between updates"):
        metric(features[60:], labels[60:], heads + 1)
    one_class = torch.nonzero(labels[60:] == 2).flatten() + 60
    undefined = metric(features[one_class], labels[one_class], heads)
    assert undefined.path == "undefined" and torch.isnan(undefined.mir)
    rest = torch.cat([torch.arange(60), one_class])
    assert_matches(metric.compute(), reference.sample_pairing(features[rest], labels[rest], heads))


def test_state_dict_and_merge_state_carry_the_heads():
    features, labels, heads = trained_like(200, 8, 4, dtype=torch.float64)
    oracle = reference.sample_pairing(features, labels, heads)
    first = InformationInterplay(4, 8)
    first.persistent(True)
    first.update(features, labels, heads)
    fresh = InformationInterplay(4, 8)
    fresh.persistent(True)
    fresh.load_state_dict(first.state_dict())
    assert_matches(fresh.compute(), oracle)
    other, merged = InformationInterplay(4, 8), InformationInterplay(4, 8)
    other.update(features[100:], labels[100:], heads)
    half = InformationInterplay(4, 8)
    half.update(features[:100], labels[:100], heads)
    merged.merge_state(half)
    merged.merge_state(other)
    assert_matches(merged.compute(), oracle)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_exact_size": "big"}, "max_exact_size must be an int"),
        ({"max_exact_size": 10.5}, "max_exact_size must be an int"),
        ({"seed": None}, r"seed must be an int >= 0 and < 2\*\*63"),
        ({"seed": 2**70}, r"seed must be an int >= 0 and < 2\*\*63; got 1180591620717411303424"),
    ],
)
def test_metric_options_are_checked_up_front(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        InformationInterplay(3, 4, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dtype": torch.int64}, "dtype must be a floating-point torch.dtype"),
        ({"dtype": "float64"}, r"dtype must be a torch.dtype .* Use torch.float64"),
        ({"seed": None}, "seed must be an int"),
        ({"seed": 2**70}, r"seed must be an int >= 0 and < 2\*\*63"),
        ({"method": "fast"}, "method must be one of auto, exact, stochastic"),
    ],
)
def test_function_options_are_checked(kwargs, message):
    features, labels, heads = trained_like(30, 4, 3, dtype=torch.float64)
    with pytest.raises(TypeError if "dtype" in kwargs or ("seed" in kwargs and kwargs["seed"] is None) else ValueError, match=message):
        interplay_metrics(features, labels, heads, **kwargs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_heads_of_another_width_on_request(dtype):
    # An intermediate layer (n, 24) against the classifier's (C, 10) heads: only the Grams meet.
    features, labels, _ = trained_like(400, 24, 5, seed=4, dtype=dtype)
    heads = torch.randn(5, 10, generator=torch.Generator().manual_seed(5), dtype=dtype)
    with pytest.raises(ValueError, match=r"head_weight must have shape \(num_classes, 24\)"):
        interplay_metrics(features, labels, heads)
    oracle = reference.sample_pairing(features, labels, heads)
    for options in ({}, {"max_exact_size": 300}, {"pairing": "class"}):
        result = interplay_metrics(features, labels, heads, match_width=False, **options)
        want = oracle if "pairing" not in options else reference.class_pairing(features, labels, heads)
        assert_matches(result, want)
    metric = InformationInterplay(5, 24, head_dim=10, max_exact_size=300)
    for part in torch.arange(400).split(90):
        metric.update(features[part], labels[part], heads)
    result = metric.compute()
    assert result.path == "class-blocks"
    assert_matches(result, oracle)


@pytest.mark.parametrize("method", ["auto", "stochastic"])
def test_a_vocabulary_costs_only_the_classes_present(method):
    # 50,000 heads, 40 of them used: nothing of size C·d² or C² may be formed.
    g = torch.Generator().manual_seed(6)
    heads = torch.randn(50_000, 32, generator=g, dtype=torch.float64)
    tokens = torch.randint(0, 50_000, (40,), generator=g)
    labels = tokens[torch.arange(3_000) % 40]
    features = torch.relu(1 + heads[labels] + 0.5 * torch.randn(3_000, 32, generator=g, dtype=torch.float64))
    result = interplay_metrics(features, labels, heads, method=method, max_exact_size=2_000)
    present = torch.unique(labels)
    compact = interplay_metrics(features, torch.searchsorted(present, labels), heads[present], method="exact", max_exact_size=2_000)
    assert result.path == ("class-blocks" if method == "auto" else "stochastic")
    tol = 1e-9 if method == "auto" else 4 * result.se_mir
    assert float(result.mir) == pytest.approx(float(compact.mir), abs=tol)
    assert float(result.hdr) == pytest.approx(float(compact.hdr), abs=1e-9)
