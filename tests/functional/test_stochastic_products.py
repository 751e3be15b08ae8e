"""The estimator's products and quadrature bounds, and its accuracy on language-model-like data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from interplay import interplay_metrics
from interplay.functional.gram import normalize_rows
from interplay.functional.joint_operators import DenseJointOperator, JointOperator, joint_operator
from interplay.functional.lanczos import lanczos, quadrature_bracket
from interplay.functional.stochastic import estimate_joint_entropy


def lm_like(n=1500, d=48, c=200, seed=0):
    """Hidden-state-like rows: Zipf class sizes (every class present), a large shared mean, heads
    sharing a direction and noise with a steeply decaying spectrum."""
    g = np.random.default_rng(seed)
    p = 1 / np.arange(1, c + 1)
    labels = np.concatenate([np.arange(c), g.choice(c, size=n - c, p=p / p.sum())])
    heads = g.standard_normal((c, d)) + 2.0
    noise = g.standard_normal((n, d)) * np.logspace(0, -3, d)
    features = 5 * np.abs(g.standard_normal(d)) + heads[labels] + noise
    return torch.from_numpy(features), torch.from_numpy(labels), torch.from_numpy(heads)


def test_dense_operator_is_the_hadamard_gram_over_n():
    features, labels, heads = lm_like(n=300, d=6, c=20)
    z, w = reference.unit_rows(features), reference.unit_rows(heads)
    expected = (z @ z.T) * (w @ w.T)[labels][:, labels] / 300
    eye = torch.eye(300, dtype=torch.float64)
    dense = DenseJointOperator(torch.from_numpy(z), labels, torch.from_numpy(w @ w.T))
    assert np.allclose(dense(eye).numpy(), expected, rtol=0, atol=1e-15)
    single = DenseJointOperator(torch.from_numpy(z), labels, torch.from_numpy(w @ w.T), precision=torch.float32)
    product = single(eye)
    assert product.dtype == torch.float64 and single.matrix.dtype == torch.float32
    assert np.allclose(product.numpy(), expected, rtol=0, atol=1e-6 / 300)
    assert not np.allclose(product.numpy(), expected, rtol=0, atol=1e-12 / 300)  # it did run in float32


def test_the_product_is_chosen_by_cost_and_float32_only_for_loose_errors():
    features, labels, heads = lm_like(n=2500)
    z, w = normalize_rows(features), normalize_rows(heads)
    loose = joint_operator(z, labels, w @ w.T, standard_error=0.01)
    assert isinstance(loose, DenseJointOperator) and loose.matrix.dtype == torch.float32
    assert joint_operator(z, labels, w @ w.T, standard_error=1e-6).matrix.dtype == torch.float64
    few = joint_operator(z[:1500], labels[:1500], w @ w.T, standard_error=0.01)  # below 2,048 samples: float64
    assert isinstance(few, DenseJointOperator) and few.matrix.dtype == torch.float64
    few = labels % 3  # 3 classes: the class moments cost 4·n·d + 2·9·d per vector, far below 2·n²
    assert isinstance(joint_operator(z, few, w[:3] @ w[:3].T, standard_error=0.01), JointOperator)
    assert isinstance(joint_operator(z, labels, w @ w.T, standard_error=0.01, memory_bytes=2**20), JointOperator)


class _Matrix:
    """An explicit PSD matrix as an operator (products, n, device, dtype)."""

    def __init__(self, a):
        self.a, self.n, self.device, self.dtype = a, a.shape[0], a.device, a.dtype

    def __call__(self, v):
        return self.a @ v


def test_gauss_and_radau_bracket_each_quadratic_form_and_narrow():
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(200, 200, generator=g, dtype=torch.float64)).Q
    eig = torch.logspace(0, -9, 200, dtype=torch.float64) / 5  # PSD, down to near 0 like a joint Gram
    a = basis @ torch.diag(eig) @ basis.T
    x = torch.randn(200, 3, generator=g, dtype=torch.float64)
    coefficients = basis.T @ x
    exact = (coefficients.square() * (eig * eig.log())[:, None]).sum(0)  # xᵀ f(A) x, f = λ log λ
    widths = []
    for steps in (4, 8, 16):
        alphas, betas = lanczos(_Matrix(a), x, steps, lambda *_: False)
        low, high = (bound * x.square().sum(0) for bound in quadrature_bracket(alphas, betas))
        assert bool((low <= exact + 1e-12).all()) and bool((exact <= high + 1e-12).all()), steps
        widths.append(float((high - low).max()))
    assert widths[2] < widths[1] < widths[0]


def test_lm_like_estimate_lies_within_three_standard_errors_of_the_oracle(monkeypatch):
    """Seeded: dense float32 products (forced from 100 samples), deflation and Gauss–Radau midpoints
    against the float64 oracle."""
    from interplay.functional import joint_operators

    monkeypatch.setattr(joint_operators, "_SINGLE_FROM", 100)
    features, labels, heads = lm_like()
    expected = reference.sample_pairing(features, labels, heads)
    result = interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.01, seed=0)
    assert result.path == "stochastic" and result.se_mir <= 0.01
    assert abs(float(result.mir) - expected["mir"]) <= 3 * result.se_mir
    assert abs(float(result.h_joint) - expected["h_joint"]) <= 3 * result.se_h_joint
    assert float(result.hdr) == pytest.approx(expected["hdr"], abs=1e-9)


def test_deflation_rank_does_not_grow_with_the_classes():
    ranks = []
    for c in (10, 300):
        features, labels, heads = lm_like(n=1200, d=16, c=c)
        z, w = normalize_rows(features), normalize_rows(heads)
        ranks.append(estimate_joint_entropy(z, labels, w @ w.T, standard_error=0.05, seed=0).deflation)
    assert ranks[0] == ranks[1] == 64


def test_dense_matrix_formed_by_row_blocks_and_mirrored_is_the_full_one(monkeypatch):
    from interplay.functional import joint_operators

    monkeypatch.setattr(joint_operators, "_CHUNK_BYTES", 4 * 300 * 8 * 7)  # blocks of 7 rows: 43 blocks, the last short
    features, labels, heads = lm_like(n=300, d=6, c=20)
    z, w = reference.unit_rows(features), reference.unit_rows(heads)
    expected = (z @ z.T) * (w @ w.T)[labels][:, labels] / 300
    dense = DenseJointOperator(torch.from_numpy(z), labels, torch.from_numpy(w @ w.T))
    assert np.allclose(dense.matrix.numpy(), expected, rtol=0, atol=1e-15)


def test_rough_copy_only_where_bfloat16_is_native_and_n_is_large(monkeypatch):
    from interplay.functional import joint_operators

    features, labels, heads = lm_like(n=300, d=6, c=20)
    z, w = normalize_rows(features), normalize_rows(heads)
    dense = DenseJointOperator(z, labels, w @ w.T, precision=torch.float32)
    assert dense.rough() is dense  # n below the threshold
    monkeypatch.setattr(joint_operators, "_ROUGH_FROM", 100)
    monkeypatch.setattr(joint_operators, "_native_bfloat16", lambda device: False)
    assert dense.rough() is dense
    monkeypatch.setattr(joint_operators, "_native_bfloat16", lambda device: True)
    rough = dense.rough()
    assert rough.matrix.dtype == torch.bfloat16 and rough.n == 300
    v = torch.randn(300, 4, dtype=torch.float64)
    exact, rounded = dense(v), rough(v)
    assert rounded.dtype == torch.float64
    assert torch.allclose(rounded, exact, rtol=0, atol=2e-2 * float(exact.abs().max()))  # bfloat16 rounding
    assert not torch.equal(rounded, exact)


@pytest.mark.slow
def test_estimate_with_a_rounded_sketch_stays_within_three_standard_errors(monkeypatch):
    """At n = 4,300 the sketch runs in bfloat16 (forced here, whatever the hardware); the estimate
    must stay within three of its standard errors of the float64 oracle."""
    from interplay.functional import joint_operators

    monkeypatch.setattr(joint_operators, "_native_bfloat16", lambda device: True)
    features, labels, heads = lm_like(n=4300, d=40, c=300, seed=1)
    expected = reference.sample_pairing(features, labels, heads)
    result = interplay_metrics(features, labels, heads, method="stochastic", seed=2)
    assert result.path == "stochastic" and result.se_mir <= 0.005
    assert abs(float(result.h_joint) - expected["h_joint"]) <= 3 * result.se_h_joint


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", ["trained", "near collapse"])
def test_rounded_sketch_on_trained_features_in_each_dtype(monkeypatch, dtype, kind):
    """ReLU features with a large shared mean, a steeply decaying spectrum and dead units, or nearly
    collapsed ones, with the bfloat16 sketch and float32 products forced from 100 samples: within
    three standard errors of the float64 oracle in either precision of the features."""
    from interplay.functional import joint_operators

    monkeypatch.setattr(joint_operators, "_ROUGH_FROM", 100)
    monkeypatch.setattr(joint_operators, "_SINGLE_FROM", 100)
    monkeypatch.setattr(joint_operators, "_native_bfloat16", lambda device: True)
    features, labels, heads = lm_like(n=1200, d=40, c=150, seed=3)
    if kind == "near collapse":
        features = 5 * heads[labels] + 1e-3 * (features - features.mean(0))
    features = torch.relu(features - features.mean(0) / 2)
    features[:, -6:] = 0  # dead units
    z, w = normalize_rows(features), normalize_rows(heads)
    op = joint_operator(z, labels, w @ w.T, standard_error=0.01)
    assert op.matrix.dtype == torch.float32 and op.rough().matrix.dtype == torch.bfloat16  # dense, float32, rounded sketch
    expected = reference.sample_pairing(features, labels, heads)
    result = interplay_metrics(features.to(dtype), labels, heads.to(dtype), method="stochastic", seed=1)
    assert result.path == "stochastic" and result.se_mir <= 0.005
    assert abs(float(result.h_joint) - expected["h_joint"]) <= 3 * result.se_h_joint + 1e-9
    assert float(result.hdr) == pytest.approx(expected["hdr"], abs=1e-6)
