"""Matrix entropy and joint entropy against the float64 n×n oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reference
from interplay import ExactSizeError, gram_entropy, matrix_entropy, matrix_joint_entropy

SHAPES = [(7, 3), (40, 5), (5, 40), (64, 64), (33, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_matrix_entropy_matches_oracle(shape, generator):
    x = torch.randn(*shape, generator=generator)
    expected = reference.entropy_of(reference.cosine_gram(x))
    assert matrix_entropy(x).item() == pytest.approx(expected, abs=1e-10)


def test_matrix_entropy_rank_deficient_and_more_dims_than_samples(generator):
    # 30 samples in a 3-dimensional subspace of a 50-dimensional space.
    x = torch.randn(30, 3, generator=generator, dtype=torch.float64) @ torch.randn(3, 50, generator=generator, dtype=torch.float64)
    h = matrix_entropy(x).item()
    assert h == pytest.approx(reference.entropy_of(reference.cosine_gram(x)), abs=1e-10)
    assert h <= math.log(3) + 1e-12


def test_matrix_entropy_normalize_divides_by_log_n(generator):
    x = torch.randn(20, 4, generator=generator)
    assert matrix_entropy(x, normalize=True).item() == pytest.approx(matrix_entropy(x).item() / math.log(20))


def test_matrix_entropy_known_values():
    assert matrix_entropy(torch.eye(5)).item() == pytest.approx(math.log(5))
    assert matrix_entropy(torch.ones(6, 3)).item() == pytest.approx(0.0, abs=1e-12)


def test_matrix_entropy_accepts_numpy_and_keeps_input_dtype_on_request():
    x = np.random.default_rng(0).normal(size=(10, 4))
    assert matrix_entropy(x).item() == pytest.approx(reference.entropy_of(reference.cosine_gram(x)))
    assert matrix_entropy(torch.as_tensor(x, dtype=torch.float32), dtype=None).dtype == torch.float32


def test_gram_entropy_matches_oracle_and_matrix_entropy(generator):
    x = torch.randn(25, 6, generator=generator, dtype=torch.float64)
    k = torch.as_tensor(reference.cosine_gram(x))
    assert gram_entropy(k).item() == pytest.approx(reference.entropy_of(k.numpy()), abs=1e-10)
    assert gram_entropy(k).item() == pytest.approx(matrix_entropy(x).item(), abs=1e-10)


def test_gram_entropy_rejects_indefinite_matrix():
    k = torch.tensor([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="positive semi-definite"):
        gram_entropy(k)


@pytest.mark.parametrize("n,d1,d2", [(10, 4, 3), (50, 3, 2), (6, 8, 8), (200, 4, 4)])
def test_joint_entropy_matches_oracle_on_both_paths(n, d1, d2, generator):
    # n > d1*d2 takes the Kronecker path, n <= d1*d2 the Hadamard Gram.
    x = torch.randn(n, d1, generator=generator, dtype=torch.float64)
    y = torch.randn(n, d2, generator=generator, dtype=torch.float64)
    expected = reference.entropy_of(reference.cosine_gram(x) * reference.cosine_gram(y))
    assert matrix_joint_entropy(x, y).item() == pytest.approx(expected, abs=1e-10)


def test_joint_entropy_is_hadamard_not_gram_of_elementwise_products(generator):
    # A public helper takes the Gram of z_i * w_i; that is a different matrix (PAPER.md §1).
    x = torch.randn(30, 5, generator=generator, dtype=torch.float64)
    y = torch.randn(30, 5, generator=generator, dtype=torch.float64)
    hadamard = reference.entropy_of(reference.cosine_gram(x) * reference.cosine_gram(y))
    elementwise = reference.entropy_of(reference.cosine_gram(reference.unit_rows(x) * reference.unit_rows(y)))
    ours = matrix_joint_entropy(x, y).item()
    assert ours == pytest.approx(hadamard, abs=1e-10)
    assert abs(ours - elementwise) > 0.1


def test_joint_entropy_raises_when_every_exact_path_is_too_large(generator):
    x = torch.randn(100, 10, generator=generator)
    with pytest.raises(ExactSizeError, match="max_exact_size=50"):
        matrix_joint_entropy(x, x, max_exact_size=50)


def test_entropy_gradient_is_finite_for_rank_deficient_input():
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], requires_grad=True)
    matrix_entropy(x, dtype=None).backward()
    assert torch.isfinite(x.grad).all()
