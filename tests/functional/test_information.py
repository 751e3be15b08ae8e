"""Mutual information, MIR and HDR: oracle comparisons and the invariants of PAPER.md §1."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import reference
from interplay import hdr, matrix_entropy, matrix_joint_entropy, matrix_mutual_information, mir
from strategies import paired_features

TOL = 1e-9


@pytest.mark.parametrize("n,d1,d2", [(12, 3, 5), (64, 32, 4), (8, 20, 20), (150, 6, 3)])
def test_mi_mir_hdr_match_oracle(n, d1, d2, generator):
    x = torch.randn(n, d1, generator=generator, dtype=torch.float64)
    y = torch.randn(n, d2, generator=generator, dtype=torch.float64)
    expected = reference.entropies(x, y)
    assert matrix_mutual_information(x, y).item() == pytest.approx(expected["mi"], abs=1e-10)
    assert mir(x, y).item() == pytest.approx(expected["mir"], abs=1e-10)
    assert hdr(x, y).item() == pytest.approx(expected["hdr"], abs=1e-10)


def test_mir_of_unrelated_random_features_is_far_from_zero(generator):
    # PAPER.md §3: about 0.7 for n=64, d=32; the floor curves must be read against.
    values = [mir(torch.randn(64, 32, generator=generator), torch.randn(64, 32, generator=generator)).item() for _ in range(5)]
    assert 0.5 < np.mean(values) < 0.9


@given(paired_features())
def test_joint_entropy_bounds(pair):
    x, y = pair
    h_x, h_y, h_joint = matrix_entropy(x).item(), matrix_entropy(y).item(), matrix_joint_entropy(x, y).item()
    assert max(h_x, h_y) - TOL <= h_joint <= h_x + h_y + TOL
    assert 0 - TOL <= matrix_mutual_information(x, y).item() <= min(h_x, h_y) + TOL


@given(paired_features())
def test_ratios_lie_in_unit_interval(pair):
    x, y = pair
    assume(min(matrix_entropy(x).item(), matrix_entropy(y).item()) > 1e-6)
    assert -TOL <= mir(x, y).item() <= 1 + TOL
    assert -TOL <= hdr(x, y).item() <= 1 + TOL


@given(paired_features(), st.integers(0, 2**16))
def test_permutation_and_row_scale_invariance(pair, seed):
    x, y = pair
    rng = np.random.default_rng(seed)
    perm = rng.permutation(x.shape[0])
    scale = rng.uniform(0.1, 10, size=(x.shape[0], 1))
    base = matrix_mutual_information(x, y).item()
    assert matrix_mutual_information(x[perm], y[perm]).item() == pytest.approx(base, abs=1e-8)
    assert matrix_mutual_information(x * scale, y).item() == pytest.approx(base, abs=1e-8)


@given(paired_features())
def test_equal_sides_give_zero_hdr(pair):
    x, _ = pair
    assume(matrix_entropy(x).item() > 1e-6)
    assert hdr(x, x).item() == pytest.approx(0.0, abs=1e-12)


def test_mir_denominator_zero_is_an_error():
    with pytest.raises(ValueError, match="MIR is undefined"):
        mir(torch.ones(4, 2), torch.randn(4, 3))
