"""CDNV, GNC2 and UNC3 against direct pairwise computations, at many classes and in blocks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interplay import neural_collapse, simplex_etf
from interplay.functional import collapse_geometry


def _many_classes(generator, c=1200, d=12):
    """C ≫ d + 1: unbalanced classes of 2 to 7 samples around spread-out ReLU'd means."""
    sizes = 2 + torch.arange(c) % 6
    labels = torch.repeat_interleave(torch.arange(c), sizes)
    centres = torch.randn(c, d, generator=generator, dtype=torch.float64) * torch.logspace(0, -1, d, dtype=torch.float64)
    noise = 0.05 * torch.randn(len(labels), d, generator=generator, dtype=torch.float64)
    features = torch.relu(centres[labels] + noise + 0.3) + 4.0
    heads = centres + 0.2 * torch.randn(c, d, generator=generator, dtype=torch.float64)
    return features, labels, heads


def _pairs(values_of_row, c):
    """Every value over the pairs i < j, one row i at a time against the rows j > i."""
    return np.concatenate([values_of_row(i, slice(i + 1, None)) for i in range(c - 1)])


def _direct(features, labels, heads):
    z, y, w = features.numpy(), labels.numpy(), heads.numpy()
    c, d = w.shape
    mu = np.stack([z[y == k].mean(0) for k in range(c)])
    var = np.array([np.square(z[y == k] - mu[k]).sum(1).mean() for k in range(c)])
    cdnv = _pairs(lambda i, j: (var[i] + var[j]) / (2 * np.square(mu[i] - mu[j]).sum(1)), c).mean()
    centred = mu - mu.mean(0)
    m = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    dist = _pairs(lambda i, j: np.linalg.norm(m[i] - m[j], axis=1), c)
    log, riesz = -np.log(dist), dist ** -(d - 2.0)
    cos = (w * centred).sum(1) / np.linalg.norm(w, axis=1) / np.linalg.norm(centred, axis=1)
    return {
        "cdnv": cdnv, "gnc2_log": log.var(), "gnc2_log_mean": log.mean(), "gnc2_riesz": riesz.var(),
        "gnc2_riesz_mean": riesz.mean(), "unc3": cos.var(ddof=1),
    }, cos


def test_measures_for_many_classes_match_direct_pairs(generator, monkeypatch):
    monkeypatch.setattr(collapse_geometry, "PAIR_BLOCK", 60_000)  # 50 rows a block: 24 blocks
    features, labels, heads = _many_classes(generator)
    result = neural_collapse(features, labels, heads)
    expected, cos = _direct(features, labels, heads)
    for key, value in expected.items():
        assert float(getattr(result, key)) == pytest.approx(value, rel=1e-8), key
    np.testing.assert_allclose(result.duality_cosines.numpy(), cos, rtol=1e-10)


def test_blocks_do_not_change_the_nc2_statistics(generator, monkeypatch):
    features, labels, heads = _many_classes(generator, c=300, d=8)
    whole = neural_collapse(features, labels, heads).as_dict()
    monkeypatch.setattr(collapse_geometry, "PAIR_BLOCK", 1000)
    blocked = neural_collapse(features, labels, heads).as_dict()
    for key, value in whole.items():
        assert blocked[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


@pytest.mark.parametrize("c", [3, 10])
def test_values_at_a_simplex_etf(c):
    heads = simplex_etf(c, c + 2).double()
    labels = torch.repeat_interleave(torch.arange(c), torch.arange(c) + 2)
    result = neural_collapse(5.0 * heads[labels] + 1.0, labels, heads)
    for key in ("cdnv", "gnc2_log", "gnc2_riesz", "unc3"):
        assert float(getattr(result, key)) == pytest.approx(0.0, abs=1e-9), key
    distance = math.sqrt(2 * c / (c - 1))  # between unit vertices of a simplex ETF
    assert float(result.gnc2_log_mean) == pytest.approx(-math.log(distance), rel=1e-12)
    assert float(result.gnc2_riesz_mean) == pytest.approx(distance ** -c, rel=1e-12)


def test_coinciding_means_give_an_infinite_cdnv():
    means = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert math.isinf(float(collapse_geometry.cdnv(means, torch.ones(3, dtype=torch.float64))))


def test_unc3_is_the_sample_variance_of_head_mean_cosines():
    """Wu & Papyan's uniform duality: Bessel-corrected variance over classes of cos(w_c, μ_c − μ_G),
    μ_G the mean of the class means; cosines set by hand, so the value is known without the code."""
    angles = np.array([0.1, 0.4, 0.7, 1.0, 1.3])  # head c at this angle to its centred mean, turned towards e_5
    c = len(angles)
    means = np.eye(c + 1)[:c] * 3.0  # their centred versions are orthogonal to e_5
    centred = means - means.mean(0)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    heads = np.cos(angles)[:, None] * unit + np.sin(angles)[:, None] * np.eye(c + 1)[c]
    labels = torch.arange(c).repeat(3)
    result = neural_collapse(torch.from_numpy(means)[labels], labels, torch.from_numpy(heads))
    expected = np.var(np.cos(angles), ddof=1)
    assert float(result.unc3) == pytest.approx(expected, rel=1e-12)
    assert float(result.unc3) != pytest.approx(np.std(np.cos(angles)) / np.mean(np.cos(angles)), rel=1e-3)
