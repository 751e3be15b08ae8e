"""Neural collapse metrics against textbook per-sample definitions, and at exact collapse."""

from __future__ import annotations

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
