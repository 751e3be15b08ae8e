"""The stochastic joint-entropy estimator against exact values: operator, accuracy, coverage, API."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reference
from interplay import interplay_metrics, nc_reference, simplex_etf
from interplay.functional.gram import normalize_rows
from interplay.functional.interplay import interplay_compute, interplay_update
from interplay.functional.stochastic import JointOperator, estimate_joint_entropy, rows_of_second_moments


def make_case(n, d, c, kind, balanced, seed=0):
    """Features around the class heads: ``random`` (no structure), ``mid`` or ``collapse`` (tight)."""
    g = torch.Generator().manual_seed(seed)
    heads = torch.randn(c, d, generator=g, dtype=torch.float64)
    if balanced:
        labels = torch.arange(n) % c
    else:  # class frequencies from 1 to 10, every class present
        weights = torch.linspace(1, 10, c)
        labels = torch.cat([torch.arange(c), torch.multinomial(weights / weights.sum(), n - c, replacement=True, generator=g)])
    noise = torch.randn(n, d, generator=g, dtype=torch.float64)
    spread = {"random": None, "mid": 0.5, "collapse": 0.05}[kind]
    features = noise if spread is None else normalize_rows(heads)[labels] + spread / math.sqrt(d) * noise
    return features, labels, heads


def test_operator_is_the_hadamard_gram_over_n():
    features, labels, heads = make_case(90, 5, 7, "mid", balanced=False)  # class sizes in several power-of-two buckets
    z, w = reference.unit_rows(features), reference.unit_rows(heads)
    expected = (z @ z.T) * (w @ w.T)[labels][:, labels] / 90
    op = JointOperator(torch.from_numpy(z), labels, torch.from_numpy(w @ w.T), chunk_bytes=1)  # one column per chunk
    assert np.allclose(op(torch.eye(90, dtype=torch.float64)).numpy(), expected, atol=1e-14)


def test_rows_of_second_moments_keep_the_joint_spectrum():
    features, labels, heads = make_case(60, 4, 3, "mid", balanced=False)
    stats = interplay_update(features, labels, 3, pairing="sample", center=False, dtype=torch.float64)
    rows, row_labels = rows_of_second_moments(stats.second)
    assert rows.shape[0] <= 3 * 4
    w = normalize_rows(heads)
    dense = JointOperator(rows, row_labels, w @ w.T, total=60)(torch.eye(rows.shape[0], dtype=torch.float64))
    z = reference.unit_rows(features)
    full = np.linalg.eigvalsh((z @ z.T) * (w @ w.T).numpy()[labels][:, labels] / 60)[-rows.shape[0] :]
    assert np.allclose(np.sort(torch.linalg.eigvalsh(dense).numpy()), full, atol=1e-12)


# (n, d, C, kind, balanced): class counts 10, 100 and 1000; widths; near collapse to random.
# The larger ones take tens of seconds on a loaded 2-core CPU: marked slow.
SLOW = pytest.mark.slow
CASES = [
    (600, 16, 10, "collapse", False),
    (600, 24, 10, "mid", False),
    (800, 16, 100, "mid", False),
    pytest.param((1200, 64, 10, "random", True), marks=SLOW),
    pytest.param((1500, 32, 100, "mid", False), marks=SLOW),
    pytest.param((1500, 64, 100, "random", True), marks=SLOW),
    pytest.param((1500, 16, 100, "collapse", True), marks=SLOW),
    pytest.param((2000, 32, 1000, "mid", True), marks=SLOW),
]


@pytest.mark.parametrize("case", CASES)
def test_estimate_lies_within_three_standard_errors_of_exact(case):
    features, labels, heads = make_case(*case)
    exact = interplay_metrics(features, labels, heads, method="exact", max_exact_size=4096)
    estimate = interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.01, seed=1)
    assert estimate.path == "stochastic" and estimate.seed == 1
    assert estimate.se_mir <= 0.01 or estimate.se_mir == pytest.approx(0.01, rel=0.5)  # max_probes may stop first
    for key in ("h_joint", "mi", "mir"):
        error = abs(float(getattr(estimate, key)) - float(getattr(exact, key)))
        assert error <= 3 * getattr(estimate, f"se_{key}") + 1e-9, key
    for key in ("h_z", "h_w", "hdr"):  # exact in both
        assert float(getattr(estimate, key)) == pytest.approx(float(getattr(exact, key)), abs=1e-9)
    assert estimate.se_hdr == 0.0


def test_oracle_agrees_at_one_case():
    features, labels, heads = make_case(500, 12, 20, "mid", balanced=False)
    expected = reference.sample_pairing(features, labels, heads)
    estimate = interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.02)
    assert abs(float(estimate.mir) - expected["mir"]) <= 3 * estimate.se_mir


@SLOW
@pytest.mark.parametrize("size", [(300, 8, 6), (900, 24, 12)])
def test_standard_error_does_not_understate_the_error(size):
    """Over seeds, errors in standard-error units must look like a unit normal (not wider)."""
    features, labels, heads = make_case(*size, "mid", balanced=False)
    exact = float(interplay_metrics(features, labels, heads, method="exact").h_joint)
    z, w = normalize_rows(features), normalize_rows(heads)
    scores = []
    for seed in range(24):
        est = estimate_joint_entropy(z, labels, w @ w.T, standard_error=0.02, seed=seed)
        scores.append((est.h_joint - exact) / est.standard_error)
    scores = np.array(scores)
    assert np.mean(np.abs(scores) <= 2) >= 0.8  # nominal 95 %
    assert np.mean(scores**2) <= 2.0  # nominal 1
    assert abs(np.mean(scores)) <= 3 / math.sqrt(len(scores)) + 0.5  # no bias beyond half an SE


def test_same_seed_same_result_and_seeds_differ():
    # rank(K_Z ⊙ K_W) ≤ 16·10 = 160: more than the deflation takes, so the probes (and the seed) matter
    features, labels, heads = make_case(300, 16, 10, "mid", balanced=True)
    first, again, other = (interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.02, seed=s) for s in (3, 3, 4))
    assert first.as_dict() == again.as_dict()
    assert float(first.h_joint) != float(other.h_joint)


def test_collapse_is_exact_through_deflation():
    heads = simplex_etf(10).double()
    labels = torch.arange(200) % 10
    result = interplay_metrics(5 * heads[labels], labels, heads, method="stochastic")
    assert float(result.mir) == pytest.approx(float(nc_reference(10).mir), abs=1e-6)
    assert result.se_mir <= 1e-6


def test_streaming_statistics_give_the_estimate():
    features, labels, heads = make_case(600, 12, 20, "mid", balanced=False)
    stats = interplay_update(features, labels, 20, pairing="sample", center=False, dtype=torch.float64)
    streamed = interplay_compute(stats, heads, pairing="sample", center=False, method="stochastic", tolerance=0.02)
    exact = interplay_metrics(features, labels, heads)
    assert streamed.path == "stochastic"
    assert abs(float(streamed.mir) - float(exact.mir)) <= 3 * streamed.se_mir


def test_auto_picks_exact_when_it_fits_and_the_estimator_otherwise():
    features, labels, heads = make_case(300, 8, 10, "mid", balanced=True)
    assert interplay_metrics(features, labels, heads, method="auto").path != "stochastic"
    assert interplay_metrics(features, labels, heads, method="auto", max_exact_size=50, tolerance=0.05).path == "stochastic"


def test_bad_method_and_tolerance_are_named():
    features, labels, heads = make_case(100, 4, 3, "mid", balanced=True)
    with pytest.raises(ValueError, match="method must be one of auto, exact, stochastic"):
        interplay_metrics(features, labels, heads, method="sampled")
    with pytest.raises(ValueError, match="tolerance must be a number > 0"):
        interplay_metrics(features, labels, heads, method="stochastic", tolerance=0)


@pytest.mark.parametrize("side", ["features", "head_weight"])
def test_a_rank_one_side_refuses_mir_as_the_exact_paths_do(side):
    """Rows along one direction (a rank-one Gram): MIR is 0/0. The estimator must refuse it with
    the exact paths' message (it divided by a requested standard error of 0 before)."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(60) % 3
    heads = torch.randn(3, 4, generator=g, dtype=torch.float64)
    features = torch.randn(60, 4, generator=g, dtype=torch.float64)
    if side == "features":
        features = torch.rand(60, 1, generator=g, dtype=torch.float64) * torch.tensor([[1.0, -2.0, 0.5, 3.0]], dtype=torch.float64)
    else:
        heads = torch.tensor([[1.0], [-1.0], [2.0]], dtype=torch.float64) * heads[:1]
    messages = []
    for method in ("exact", "stochastic"):
        with pytest.raises(ValueError, match=f"MIR is undefined: the matrix entropy of {side} is 0") as caught:
            interplay_metrics(features, labels, heads, method=method)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_estimator_refuses_a_standard_error_of_zero():
    with pytest.raises(ValueError, match="standard_error must be a number > 0"):
        estimate_joint_entropy(torch.eye(8, dtype=torch.float64), torch.arange(8) % 2, torch.eye(2, dtype=torch.float64), standard_error=0.0)


def test_an_exhausted_krylov_space_keeps_the_quadrature_exact():
    """Nearly parallel rows and two classes: K_Z ⊙ K_W has rank 2 to rounding, so the deflation's
    second Krylov block is rounding noise. Normalised as it was, it kept components along the
    first block, and the joint entropy came out at -0.42 nats for 0.094, with a standard error of 4e-14."""
    g = torch.Generator().manual_seed(0)
    n = 381
    labels = torch.arange(n) % 2
    heads = torch.tensor([[0.36, -1.2], [-0.01, 0.66]], dtype=torch.float64)
    features = torch.rand(n, 1, generator=g, dtype=torch.float64) + 1.0
    features = features * torch.tensor([[1.0, 0.0]], dtype=torch.float64) + 1e-6 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    expected = reference.sample_pairing(features, labels, heads)
    assert 1e-11 < expected["h_x"] < 1e-8  # a Gram of rank one up to a tiny spread, above rounding
    result = interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.005, seed=0)
    assert abs(float(result.h_joint) - expected["h_joint"]) <= 4 * result.se_h_joint + 1e-10
