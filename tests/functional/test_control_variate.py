"""The probes' control variate xᵀAx: exact mean, cross-fitted slope, unbiased, and what it saves."""

from __future__ import annotations

import numpy as np
import torch

import reference
from interplay.functional.gram import normalize_rows
from interplay.functional.joint_operators import DenseJointOperator, JointOperator
from interplay.functional.lanczos import lanczos, quadrature_bracket
from interplay.functional.stochastic import (
    _PROBE_BLOCK,
    _controlled,
    _deflation,
    _Known,
    _probe_values,
    _Probed,
    _probes,
    rows_of_second_moments,
)
from test_stochastic_products import _Matrix, lm_like


def test_a_value_linear_in_the_variate_is_controlled_to_its_mean():
    g = torch.Generator().manual_seed(0)
    linear = torch.rand(4 * _PROBE_BLOCK, generator=g, dtype=torch.float64)
    values = 3.0 + 2.0 * (linear - 0.4)
    probed = _Probed(values, torch.zeros_like(values), linear)
    assert torch.allclose(_controlled(probed, _Known(0.0, 0.4)), torch.full_like(values, 3.0), atol=1e-12)


def test_each_block_is_controlled_by_a_slope_fitted_on_the_others():
    g = torch.Generator().manual_seed(1)
    linear = torch.rand(3 * _PROBE_BLOCK, generator=g, dtype=torch.float64)
    values = torch.randn(3 * _PROBE_BLOCK, generator=g, dtype=torch.float64) + 5 * linear
    known = _Known(0.0, 0.5)
    before = _controlled(_Probed(values, torch.zeros_like(values), linear), known)
    changed = values.clone()
    changed[:_PROBE_BLOCK] += torch.randn(_PROBE_BLOCK, generator=g, dtype=torch.float64)
    after = _controlled(_Probed(changed, torch.zeros_like(values), linear), known)
    first = slice(0, _PROBE_BLOCK)
    # The first block's own values do not enter its slope: its correction is unchanged ...
    assert torch.allclose(after[first] - changed[first], before[first] - values[first], atol=1e-12)
    # ... while they do enter the others' slopes.
    assert not torch.allclose(after[_PROBE_BLOCK:] - changed[_PROBE_BLOCK:], before[_PROBE_BLOCK:] - values[_PROBE_BLOCK:])


def test_fewer_than_two_blocks_are_left_as_they_are():
    values = torch.arange(_PROBE_BLOCK, dtype=torch.float64)
    probed = _Probed(values, torch.zeros_like(values), values.flip(0))
    assert torch.equal(_controlled(probed, _Known(0.0, 1.0)), values)


def test_operator_traces_are_the_traces_of_the_joint_gram():
    features, labels, heads = lm_like(n=400, d=12, c=30)
    z, w = reference.unit_rows(features), reference.unit_rows(heads)
    gram = torch.from_numpy(w @ w.T)
    dense = DenseJointOperator(torch.from_numpy(z), labels, gram)
    moments = JointOperator(torch.from_numpy(z), labels, gram)
    expected = np.trace((z @ z.T) * (w @ w.T)[labels][:, labels] / 400)  # 1 for unit rows and heads
    assert abs(dense.trace - expected) < 1e-12 and abs(moments.trace - expected) < 1e-12
    # Rows standing in for the per-class second moments of unnormalised rows: same trace.
    x = torch.from_numpy(z) * torch.linspace(0.5, 2, 400, dtype=torch.float64)[:, None]
    second = torch.zeros(30, 12, 12, dtype=torch.float64).index_add_(0, labels, x[:, :, None] * x[:, None, :])
    rows, row_labels = rows_of_second_moments(second)
    expected = float((x.square().sum(1) * gram.diagonal()[labels]).sum()) / 400
    assert abs(JointOperator(rows, row_labels, gram, total=400).trace - expected) < 1e-12


def test_controlled_probes_stay_unbiased_after_deflation():
    """On a PSD matrix with a known spectrum, deflated by its exact top eigenvectors, the mean of
    the controlled quadratic forms must match ``tr f(PAP)``; a wrong mean for the variate (tr A
    instead of tr PAP) would shift it by the slope times tr(QᵀAQ), far outside the tolerance."""
    g = torch.Generator().manual_seed(2)
    n, k = 300, 10
    basis = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64)).Q
    eig = torch.logspace(-1, -9, n, dtype=torch.float64)
    eig /= eig.sum()
    a = basis @ torch.diag(eig) @ basis.T
    q = basis[:, :k]
    op = _Matrix(a)
    x = _probes(q, op, g, 64 * _PROBE_BLOCK)
    alphas, betas = lanczos(op, x, 60, lambda *_: False)
    low, high = quadrature_bracket(alphas, betas)
    scale = x.square().sum(0)
    probed = _Probed(scale * (low + high) / 2, scale * (high - low) / 2, scale * alphas[:, 0])
    rest = eig[k:]
    known = _Known(0.0, float(rest.sum()))
    controlled = _controlled(probed, known)
    exact = float((rest * rest.log()).sum())
    se = float(controlled.std()) / controlled.numel() ** 0.5 + float(probed.widths.mean())
    assert abs(float(controlled.mean()) - exact) <= 4 * se
    assert float(controlled.std()) <= float(probed.values.std()) / 3  # it did take out the spread
    wrong = _controlled(probed, _Known(0.0, float(eig.sum())))
    assert abs(float(wrong.mean()) - exact) > 20 * se


def test_control_variate_takes_out_most_of_the_spread_on_lm_like_rows():
    features, labels, heads = lm_like(n=1500)
    z, w = normalize_rows(features), normalize_rows(heads)
    op = DenseJointOperator(z, labels, w @ w.T)
    g = torch.Generator().manual_seed(0)
    q, _, error, inside = _deflation(op, 64, 8, 1e-4, g)
    empty = torch.zeros(0, dtype=torch.float64)
    probed, _ = _probe_values(op, _probes(q, op, g, 4 * _PROBE_BLOCK), 1e-4, 24, _Probed(empty, empty, empty), _Known(error, 0.0))
    controlled = _controlled(probed, _Known(error, op.trace - inside))
    assert float(controlled.std()) <= float(probed.values.std()) / 3


def test_a_variate_flat_to_rounding_is_not_used():
    """Nothing left after the deflation: xᵀAx equals tr(PAP) up to rounding, and a slope fitted to
    that rounding would move the mean by the rounding of tr(PAP) times an arbitrary slope."""
    g = torch.Generator().manual_seed(3)
    values = torch.randn(4 * _PROBE_BLOCK, generator=g, dtype=torch.float64)
    linear = 0.25 + 1e-12 * values  # correlated with the values, but only at the rounding level
    probed = _Probed(values, torch.zeros_like(values), linear)
    assert torch.equal(_controlled(probed, _Known(0.0, 0.25 + 1e-9)), values)
