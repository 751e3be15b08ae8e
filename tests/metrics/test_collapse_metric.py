"""NeuralCollapse: batches = one-shot = per-sample definitions."""

from __future__ import annotations

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
