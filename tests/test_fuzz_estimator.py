"""The stochastic estimator fuzzed with trained-network-like data against the float64 oracle.

Large shared means, ReLU, steeply decaying spectra, near-collapse, dead units, unbalanced classes,
float32 and float64, up to a few hundred samples (the oracle diagonalises the n×n Gram). The
estimate must either refuse in one line or lie within four of its own standard errors of the
oracle, with HDR and the marginal entropies exact. ``HYPOTHESIS_PROFILE=dev`` runs more cases.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import reference
from strategies import trained_batches
from interplay import interplay_metrics


@pytest.mark.slow
@given(trained_batches(n=(40, 400), d=(2, 24), c=(2, 40)), st.integers(0, 2**16), st.sampled_from((0.005, 0.02)))
def test_estimate_lies_within_four_standard_errors_of_the_oracle(batch, seed, tolerance):
    x, labels, heads = batch
    try:
        result = interplay_metrics(x, labels, heads, method="stochastic", tolerance=tolerance, seed=seed)
    except (ValueError, TypeError) as error:
        assert str(error) and "\n" not in str(error).strip(), error
        return
    want = reference.sample_pairing(x.double().numpy(), labels.numpy(), heads.double().numpy())
    n, eps = x.shape[0], torch.finfo(torch.float64).eps
    rounding = 1e3 * n * eps
    # Both sides diagonalise in float64: each eigenvalue moves by up to about n·eps, and an
    # eigenvalue at that level weighs |1 + log λ| ≤ 1 + |log(n·eps)| in the entropy.
    spectrum_rounding = n * n * eps * (1 + abs(math.log(n * eps)))
    assert result.path == "stochastic" and 0 <= result.se_h_joint < float("inf")
    assert abs(float(result.h_joint) - want["h_joint"]) <= 4 * result.se_h_joint + spectrum_rounding
    for field, key in (("h_z", "h_x"), ("h_w", "h_y")):
        assert float(getattr(result, field)) == pytest.approx(want[key], abs=rounding), field
    assert float(result.hdr) == pytest.approx(want["hdr"], abs=4 * rounding / max(want["h_x"], want["h_y"]) + 1e-9)
