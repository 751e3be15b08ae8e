"""Linear CKA and Rényi matrix entropies against plain float64 implementations written here."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given

import reference
from strategies import paired_features
from interplay.functional.entropy import matrix_entropy
from interplay.functional.similarity import effective_rank, linear_cka, renyi_entropy


def plain_cka(x, y, unbiased=False) -> float:
    """CKA from the n×n Grams: HSIC = tr(K H L H) / (n-1)², or Song et al.'s HSIC₁."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    k, l = x @ x.T, y @ y.T
    n = k.shape[0]
    if unbiased:
        def hsic(a, b):
            a, b = a - np.diag(np.diag(a)), b - np.diag(np.diag(b))
            one = np.ones(n)
            return (np.trace(a @ b) + (one @ a @ one) * (one @ b @ one) / ((n - 1) * (n - 2))
                    - 2 / (n - 2) * (one @ a @ b @ one)) / (n * (n - 3))
    else:
        h = np.eye(n) - np.ones((n, n)) / n

        def hsic(a, b):
            return np.trace(a @ h @ b @ h) / (n - 1) ** 2
    return hsic(k, l) / math.sqrt(hsic(k, k) * hsic(l, l))


def trained_like(n, d, generator):
    """Features as networks produce them: a large shared mean, ReLU, a steeply decaying spectrum."""
    z = torch.randn(n, d, generator=generator, dtype=torch.float64) * torch.logspace(0, -2.5, d, dtype=torch.float64)
    return torch.relu(z + 3.0 * torch.rand(d, generator=generator, dtype=torch.float64))


# n > d1 + d2 takes the (d1, d2) cross product; n small takes the (n, n) Grams.
SHAPES = [(200, 5, 7), (9, 40, 30), (12, 3, 50), (64, 64, 64)]


@pytest.mark.parametrize("n, d1, d2", SHAPES)
@pytest.mark.parametrize("unbiased", [False, True])
def test_cka_matches_plain_gram_formula(n, d1, d2, unbiased, generator):
    x = trained_like(n, d1, generator)
    y = x[:, : min(d1, d2)] @ torch.randn(min(d1, d2), d2, generator=generator, dtype=torch.float64)
    y = y + 0.3 * torch.randn(n, d2, generator=generator, dtype=torch.float64)
    assert linear_cka(x, y, unbiased=unbiased).item() == pytest.approx(plain_cka(x, y, unbiased), abs=1e-10)


def test_unbiased_hsic_is_the_u_statistic_over_distinct_quadruples(generator):
    # The closed form against the definition: the mean over ordered distinct (i, j, q, r) of
    # k_ij l_ij + k_ij l_qr - 2 k_ij l_iq (Song et al. 2012, Theorem 2).
    n = 7
    x = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(n, 2, generator=generator, dtype=torch.float64) + x[:, :2]

    def u_statistic(a, b):
        k, l = a @ a.T, b @ b.T
        terms = [k[i, j] * l[i, j] + k[i, j] * l[q, r] - 2 * k[i, j] * l[i, q]
                 for i, j, q, r in itertools.permutations(range(n), 4)]
        return float(np.mean(terms))

    expected = u_statistic(x.numpy(), y.numpy()) / math.sqrt(u_statistic(x.numpy(), x.numpy()) * u_statistic(y.numpy(), y.numpy()))
    assert linear_cka(x, y, unbiased=True).item() == pytest.approx(expected, abs=1e-12)


@given(paired_features(max_n=10, max_d=5))
def test_cka_lies_in_unit_interval_and_matches_plain_formula(pair):
    x, y = pair
    spread = [float(np.square(a - a.mean(axis=0)).sum() / np.square(a).sum()) for a in (x, y)]
    assume(min(spread) > 1e-6)
    value = linear_cka(torch.as_tensor(x), torch.as_tensor(y)).item()
    assert -1e-12 <= value <= 1 + 1e-12
    assert value == pytest.approx(plain_cka(x, y), abs=1e-8)


@pytest.mark.parametrize("unbiased", [False, True])
def test_cka_invariances(unbiased, generator):
    x = trained_like(50, 8, generator)
    y = torch.relu(x @ torch.randn(8, 12, generator=generator, dtype=torch.float64))
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=generator, dtype=torch.float64))
    value = linear_cka(x, y, unbiased=unbiased).item()
    assert linear_cka(x, y @ q, unbiased=unbiased).item() == pytest.approx(value, abs=1e-12)
    assert linear_cka(1e-20 * x, 1e20 * y, unbiased=unbiased).item() == pytest.approx(value, abs=1e-12)
    assert linear_cka(x + 5.0, y - 2.0, unbiased=unbiased).item() == pytest.approx(value, abs=1e-10)
    assert linear_cka(y, x, unbiased=unbiased).item() == pytest.approx(value, abs=1e-12)
    assert linear_cka(x, x, unbiased=unbiased).item() == pytest.approx(1.0, abs=1e-12)


def test_cka_with_dead_units_and_zero_rows_matches_plain(generator):
    x = trained_like(30, 10, generator)
    x[:, 3] = 0.0  # a dead unit
    x[4] = 0.0  # a sample no unit responds to
    y = torch.relu(torch.randn(30, 6, generator=generator, dtype=torch.float64))
    assert linear_cka(x, y).item() == pytest.approx(plain_cka(x, y), abs=1e-10)


def test_cka_float32_input_is_computed_in_float64(generator):
    x, y = trained_like(40, 6, generator), trained_like(40, 4, generator)
    value = linear_cka(x.float(), y.float())
    assert value.dtype == torch.float64
    assert value.item() == pytest.approx(plain_cka(x.float().double(), y.float().double()), abs=1e-10)


def test_cka_errors():
    x = torch.randn(6, 3)
    with pytest.raises(ValueError, match="x is the same for all 6 samples"):
        linear_cka(torch.ones(6, 2) * 7.0, x)
    with pytest.raises(ValueError, match="same number of rows"):
        linear_cka(x, torch.randn(5, 3))
    with pytest.raises(ValueError, match="at least 4 rows"):
        linear_cka(x[:3], x[:3], unbiased=True)
    with pytest.raises(TypeError, match="unbiased must be a bool"):
        linear_cka(x, x, unbiased="yes")


def direct_renyi(x, alpha) -> float:
    p = np.linalg.eigvalsh(reference.cosine_gram(x)) / len(x)
    p = p[p > 1e-15]
    if math.isinf(alpha):
        return float(-np.log(p.max()))
    return float(np.log((p**alpha).sum()) / (1 - alpha))


@pytest.mark.parametrize("alpha", [0.5, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("shape", [(30, 8), (6, 40)])
def test_renyi_entropy_matches_direct_eigen_computation(alpha, shape, generator):
    x = trained_like(*shape, generator)
    assert renyi_entropy(x, alpha).item() == pytest.approx(direct_renyi(x, alpha), abs=1e-10)
    assert renyi_entropy(x, alpha, normalize=True).item() == pytest.approx(direct_renyi(x, alpha) / math.log(shape[0]), abs=1e-10)


def test_renyi_order_one_and_its_limit_are_the_von_neumann_entropy(generator):
    x = trained_like(40, 10, generator)
    h = matrix_entropy(x).item()
    assert renyi_entropy(x, 1.0).item() == pytest.approx(h, abs=1e-12)
    assert renyi_entropy(x, 1 + 1e-7).item() == pytest.approx(h, abs=1e-6)
    assert renyi_entropy(x, 1 - 1e-7).item() == pytest.approx(h, abs=1e-6)
    orders = [renyi_entropy(x, a).item() for a in (0.5, 1.0, 2.0, float("inf"))]
    assert orders == sorted(orders, reverse=True)


def test_effective_rank_is_exp_entropy_and_counts_orthogonal_directions(generator):
    x = trained_like(25, 5, generator)
    assert effective_rank(x).item() == pytest.approx(math.exp(matrix_entropy(x).item()), rel=1e-12)
    assert effective_rank(x, alpha=2.0).item() == pytest.approx(math.exp(direct_renyi(x, 2.0)), rel=1e-10)
    blocks = torch.eye(3, dtype=torch.float64).repeat_interleave(4, dim=0)  # 3 directions, 4 samples each
    assert effective_rank(blocks, alpha=2.0).item() == pytest.approx(3.0, abs=1e-12)


def test_renyi_errors():
    with pytest.raises(ValueError, match="alpha must be a number > 0"):
        renyi_entropy(torch.eye(3), 0.0)
    with pytest.raises(TypeError, match="alpha must be a number > 0"):
        renyi_entropy(torch.eye(3), True)
    with pytest.raises(ValueError, match="all-zero rows"):
        renyi_entropy(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), 2.0)
