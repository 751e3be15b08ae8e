"""Neural collapse metrics against textbook per-sample definitions, and at exact collapse."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from interplay import neural_collapse, simplex_etf


@pytest.mark.parametrize("n,d,c", [(60, 5, 3), (200, 16, 10), (40, 50, 4)])
def test_matches_oracle(n, d, c, generator):
    features = torch.randn(n, d, generator=generator, dtype=torch.float64) + 0.5
    labels = (torch.arange(n) % c)[torch.randperm(n, generator=generator)]
    heads = torch.randn(c, d, generator=generator, dtype=torch.float64)
    bias = torch.randn(c, generator=generator, dtype=torch.float64)
    ours = neural_collapse(features, labels, heads, bias=bias).as_dict()
    expected = reference.neural_collapse(features, labels, heads, bias)
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, rel=1e-8, abs=1e-10), key
    assert (ours["n"], ours["num_classes"]) == (n, c)


@pytest.mark.parametrize("c", [3, 5, 10])
def test_exact_collapse_gives_zero(c, generator):
    heads = simplex_etf(c, c + 3) * 2.0
    labels = torch.arange(5 * c) % c
    result = neural_collapse(heads[labels] * 1.7 + 0.0, labels, heads)
    for key, value in result.as_dict().items():
        if key.startswith("nc"):
            assert value == pytest.approx(0.0, abs=1e-9), key


def test_nc1_grows_with_within_class_noise(generator):
    heads = simplex_etf(4, 6)
    labels = torch.arange(400) % 4
    noise = torch.randn(400, 6, generator=generator, dtype=torch.float64)
    small = neural_collapse(heads[labels] + 0.01 * noise, labels, heads).nc1.item()
    large = neural_collapse(heads[labels] + 0.5 * noise, labels, heads).nc1.item()
    assert 0 < small < large


def test_empty_class_is_an_error(generator):
    features = torch.randn(10, 3, generator=generator)
    labels = torch.tensor([0, 1] * 5)
    with pytest.raises(ValueError, match=r"classes \[2\] have none"):
        neural_collapse(features, labels, torch.randn(3, 3, generator=generator))


def _unbalanced_etf(c: int, d: int):
    """An exact simplex ETF (shifted by a large shared mean) whose classes hold 1, 3, 9, ... samples."""
    heads = simplex_etf(c, d).double()
    labels = torch.repeat_interleave(torch.arange(c), 3 ** torch.arange(c) % 200 + 1)
    return heads[labels] * 3.0 + 50.0, labels, heads


def test_unbalanced_etf_scores_zero_with_the_class_means_mean():
    features, labels, heads = _unbalanced_etf(5, 8)
    result = neural_collapse(features, labels, heads)
    for key in ("nc2_equinorm", "nc2_equiangularity", "nc2_max_angle", "nc2_etf_distance", "nc3"):
        assert float(getattr(result, key)) == pytest.approx(0.0, abs=1e-9), key


def test_samples_mean_centring_is_offered():
    features, labels, heads = _unbalanced_etf(5, 8)
    result = neural_collapse(features, labels, heads, global_mean="samples")
    z = features.numpy()
    m = np.stack([z[labels.numpy() == k].mean(0) for k in range(5)]) - z.mean(0)
    g = m @ m.T
    etf = (np.eye(5) - 1 / 5) / np.sqrt(4)
    assert float(result.nc2_etf_distance) == pytest.approx(np.linalg.norm(g / np.linalg.norm(g) - etf), rel=1e-9)
    assert float(result.nc2_etf_distance) > 0.1


def test_unknown_global_mean_is_an_error():
    features, labels, heads = _unbalanced_etf(3, 4)
    with pytest.raises(ValueError, match="global_mean must be 'classes' or 'samples'"):
        neural_collapse(features, labels, heads, global_mean="weighted")


def _exact_nc1(z: np.ndarray, labels: np.ndarray, c: int) -> float:
    """NC1 with every sample centred by its class mean before any product (float64)."""
    mu = np.stack([z[labels == k].mean(0) for k in range(c)])
    dev = z - mu[labels]
    sigma_w = dev.T @ dev / len(z)
    m = mu - mu.mean(0)
    return float(np.trace(sigma_w @ np.linalg.pinv(m.T @ m / c, hermitian=True)) / c)


def test_nc1_near_collapse_keeps_its_relative_precision(generator):
    c, d = 4, 6
    heads = simplex_etf(c, d).double()
    labels = torch.arange(400) % c
    features = 100.0 + 100.0 * heads[labels] + 1e-7 * torch.randn(400, d, generator=generator, dtype=torch.float64)
    expected = _exact_nc1(features.numpy(), labels.numpy(), c)
    assert float(neural_collapse(features, labels, heads).nc1) == pytest.approx(expected, rel=1e-6, abs=0)


def test_class_geometry_against_direct_computation(generator):
    c, d = 5, 7
    labels = torch.repeat_interleave(torch.arange(c), torch.tensor([3, 40, 7, 12, 90]))
    features = torch.relu(torch.randn(len(labels), d, generator=generator, dtype=torch.float64) * 2 + labels[:, None])
    heads = torch.randn(c, d, generator=generator, dtype=torch.float64)
    result = neural_collapse(features, labels, heads)
    z, y = features.numpy(), labels.numpy()
    mu = np.stack([z[y == k].mean(0) for k in range(c)])
    m = mu - mu.mean(0)
    pinv = np.linalg.pinv(m.T @ m / c, hermitian=True)
    per_class = [np.trace(np.cov(z[y == k].T, bias=True) @ pinv) / c for k in range(c)]
    cos = np.array([[m[a] @ m[b] / np.linalg.norm(m[a]) / np.linalg.norm(m[b]) for b in range(c)] for a in range(c)])
    np.testing.assert_allclose(result.nc1_per_class.numpy(), per_class, rtol=1e-9)
    np.testing.assert_allclose(result.class_mean_norms.numpy(), np.linalg.norm(m, axis=1), rtol=1e-9)
    np.testing.assert_allclose(result.class_mean_cosines.numpy(), cos, rtol=1e-9, atol=1e-12)
    angles = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    np.testing.assert_allclose(result.class_mean_angles().numpy(), angles, atol=1e-5)
    weights = np.bincount(y) / len(y)
    assert float(result.nc1) == pytest.approx(float(weights @ per_class), rel=1e-9)
