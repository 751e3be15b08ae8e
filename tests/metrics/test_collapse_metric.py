"""NeuralCollapse: batches = one-shot = per-sample definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from interplay import neural_collapse
from interplay.metrics import NeuralCollapse


def test_batches_equal_one_shot_including_nc4(generator):
    n, d, c = 240, 7, 4
    features = torch.randn(n, d, generator=generator, dtype=torch.float64)
    labels = torch.arange(n) % c
    heads = torch.randn(c, d, generator=generator, dtype=torch.float64)
    bias = torch.randn(c, generator=generator, dtype=torch.float64)
    means = torch.stack([features[labels == k].mean(0) for k in range(c)])
    metric = NeuralCollapse(c, d, class_means=means)
    for part in torch.arange(n).split(37):
        metric.update(features[part], labels[part], heads, bias)
    streamed = metric.compute().as_dict()
    one_shot = neural_collapse(features, labels, heads, bias=bias).as_dict()
    expected = reference.neural_collapse(features, labels, heads, bias)
    for key, value in expected.items():
        assert streamed[key] == pytest.approx(one_shot[key], rel=1e-9, abs=1e-9), key
        assert streamed[key] == pytest.approx(value, rel=1e-8, abs=1e-10), key


def test_nc4_is_none_without_class_means(generator):
    metric = NeuralCollapse(3, 2)
    metric.update(torch.randn(9, 2, generator=generator), torch.arange(9) % 3, torch.randn(3, 2, generator=generator))
    assert metric.compute().nc4 is None


def test_class_means_shape_is_checked():
    with pytest.raises(ValueError, match=r"class_means must have shape \(3, 2\)"):
        NeuralCollapse(3, 2, class_means=torch.ones(3, 4))


def _near_collapse(generator, n=600, c=5, d=6):
    """Class means ~1e2 with a within-class spread of 1e-7, unbalanced classes."""
    centres = 100.0 + 30.0 * torch.randn(c, d, generator=generator, dtype=torch.float64)
    labels = torch.repeat_interleave(torch.arange(c), torch.tensor([10, 40, 90, 160, n - 300]))
    labels = labels[torch.randperm(n, generator=generator)]
    features = centres[labels] + 1e-7 * torch.randn(n, d, generator=generator, dtype=torch.float64)
    return features, labels, torch.randn(c, d, generator=generator, dtype=torch.float64)


def _exact_nc1(z: np.ndarray, y: np.ndarray, c: int) -> float:
    mu = np.stack([z[y == k].mean(0) for k in range(c)])
    dev = z - mu[y]
    m = mu - mu.mean(0)
    return float(np.trace(dev.T @ dev / len(z) @ np.linalg.pinv(m.T @ m / c, hermitian=True)) / c)


def test_streamed_nc1_near_collapse_keeps_its_relative_precision(generator):
    features, labels, heads = _near_collapse(generator)
    metric = NeuralCollapse(5, 6)
    for part in torch.arange(len(labels)).split(37):
        metric.update(features[part], labels[part], heads)
    expected = _exact_nc1(features.numpy(), labels.numpy(), 5)
    assert float(metric.compute().nc1) == pytest.approx(expected, rel=1e-6, abs=0)


def test_states_of_processes_merge_exactly(generator):
    """The reduction across processes (and merge_state) combines per-process moments exactly."""
    features, labels, heads = _near_collapse(generator)
    shards = [NeuralCollapse(5, 6) for _ in range(3)]
    for rank, metric in enumerate(shards):
        part = torch.arange(len(labels))[rank::3]
        for chunk in part.split(50):
            metric.update(features[chunk], labels[chunk], heads)
    expected = _exact_nc1(features.numpy(), labels.numpy(), 5)
    reduce = shards[0]._reductions["moments"]
    merged = NeuralCollapse(5, 6)
    merged.update(features[:1], labels[:1], heads)
    merged.moments = reduce(torch.stack([m.moments for m in shards]))
    assert float(merged.compute().nc1) == pytest.approx(expected, rel=1e-6, abs=0)
    shards[0].merge_state(shards[1])
    shards[0].merge_state(shards[2])
    assert float(shards[0].compute().nc1) == pytest.approx(expected, rel=1e-6, abs=0)
    assert torch.equal(shards[0].counts, torch.bincount(labels, minlength=5))


def test_unbalanced_etf_streams_to_zero():
    from interplay import simplex_etf

    heads = simplex_etf(4, 6).double()
    labels = torch.repeat_interleave(torch.arange(4), torch.tensor([1, 5, 30, 200]))
    metric = NeuralCollapse(4, 6)
    metric.update(heads[labels] * 2 + 7.0, labels, heads)
    result = metric.compute()
    for key in ("nc2_equinorm", "nc2_equiangularity", "nc2_etf_distance", "nc3"):
        assert float(getattr(result, key)) == pytest.approx(0.0, abs=1e-9), key


def test_processes_with_disjoint_or_no_classes_merge_exactly(generator):
    features, labels, heads = _near_collapse(generator)
    low = labels < 2
    shards = [NeuralCollapse(5, 6) for _ in range(3)]  # the last process sees no sample at all
    shards[0].update(features[low], labels[low], heads)
    shards[1].update(features[~low], labels[~low], heads)
    merged = NeuralCollapse(5, 6)
    merged.update(features[:1], labels[:1], heads)
    merged.moments = merged._reductions["moments"](torch.stack([m.moments for m in shards]))
    expected = _exact_nc1(features.numpy(), labels.numpy(), 5)
    assert float(merged.compute().nc1) == pytest.approx(expected, rel=1e-6, abs=0)
