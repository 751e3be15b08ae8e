"""Fuzzing probe() and InterplayLoss with the features trained networks produce, against the float64 oracle.

Drawn: a large shared mean, ReLU with dead units (columns) and dead samples (rows), steeply
decaying spectra, unbalanced classes, near collapse (tiny within-class spread), heads aligned
with the class means or not, bfloat16, float32 or float64, labels of several integer widths.
Every value must equal the oracle's on the live rows (dead rows have no direction and are left
out, also from the centring mean) to the rounding of the computation, or be NaN/0 only where the
oracle itself is undefined.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import reference
from interplay.losses import InterplayLoss
from interplay.probing import probe


@st.composite
def trained_features(draw):
    """Features (n, d), labels (n,) and heads (C, d) as float64 arrays, and the dtype to hold them in."""
    n, d, c = draw(st.integers(6, 40)), draw(st.integers(2, 9)), draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**20)))
    weights = np.exp(-draw(st.sampled_from([0.0, 0.5, 2.0])) * np.arange(c))  # unbalanced classes
    labels = rng.choice(c, size=n, p=weights / weights.sum())
    labels[:2] = (0, 1)
    spectrum = np.logspace(0, -draw(st.sampled_from([0.0, 1.5, 3.0])), d)
    centres = rng.standard_normal((c, d))
    spread = draw(st.sampled_from([1.0, 0.1, 1e-3, 1e-6]))  # small: near collapse
    x = (centres[labels] + spread * rng.standard_normal((n, d))) * spectrum + draw(st.sampled_from([0.0, 1.0, 30.0]))
    if draw(st.booleans()):
        x = np.maximum(x, 0.0)
    x[:, : draw(st.integers(0, d - 1))] = 0.0  # dead units
    x[rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.5]))] = 0.0  # dead samples
    heads = centres * spectrum if draw(st.booleans()) else rng.standard_normal((c, d))
    heads = heads + 1e-3 * rng.standard_normal((c, d))
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.bfloat16]))
    # The oracle reads exactly the values the code under test receives.
    x, heads = (torch.from_numpy(a).to(dtype).double().numpy() for a in (x, heads))
    return x, labels, heads, dtype


def oracle(x, labels, heads, *, pairing, center, drop_at_mean=False):
    """The oracle on the live rows, or None where the values are undefined.

    ``center`` is a bool or a given (d,) mean. A live sample at the mean has no direction once
    centred: the metrics are then undefined, while the loss drops it (``drop_at_mean``), the mean
    staying that of all live rows.
    """
    live = np.abs(x).sum(1) > 0
    z, y = x[live], labels[live]
    if isinstance(center, np.ndarray):
        z, center = z - center, False
        if pairing == "sample" and np.any(np.abs(z).sum(1) == 0):
            return None
    if center and pairing == "sample" and len(z):
        z = z - z.mean(0)
        at_mean = np.abs(z).sum(1) == 0
        if at_mean.any() and not drop_at_mean:
            return None
        z, y = z[~at_mean], y[~at_mean]
    classes = np.unique(y)
    if len(classes) < 2 or (pairing == "class" and len(classes) < heads.shape[0]):
        return None
    if pairing == "class":
        return reference.class_pairing(z, y, heads, center=center)
    want = reference.sample_pairing(z, y, heads)
    return want if math.isfinite(want["mir"]) else None


def entropy_tolerance(n: int, dtype: torch.dtype) -> float:
    eps = torch.finfo(dtype).eps
    return 30 * n * eps * math.log(1 / eps)


def ratio_tolerance(want, atol: float) -> tuple[float, float]:
    """Bounds on MIR and HDR errors from an entropy error ``atol`` (ratios amplify it near rank one)."""
    smaller, larger = min(want["h_x"], want["h_y"]), max(want["h_x"], want["h_y"])
    return 4 * atol / max(smaller - atol, atol), 4 * atol / max(larger - atol, atol)


@settings(max_examples=150)
@given(
    trained_features(), st.sampled_from(["sample", "class"]), st.sampled_from([False, True, "given"]),
    st.sampled_from([64, 7]), st.booleans(),
)
def test_probe_against_the_oracle(batch, pairing, center, size, cached):
    x, labels, heads, dtype = batch
    n, d = x.shape
    if center == "given":  # another split's mean: near this one's, not equal to it
        center = x.mean(0) * 1.01 + 0.01
    model = nn.Sequential(nn.Identity(), nn.Linear(d, heads.shape[0])).to(dtype)
    with torch.no_grad():
        model[1].weight.copy_(torch.from_numpy(heads))
    features, y = torch.from_numpy(x).to(dtype), torch.from_numpy(labels)
    loader = [(features[i : i + size], y[i : i + size]) for i in range(0, n, size)]
    given = torch.from_numpy(center) if isinstance(center, np.ndarray) else center
    result = probe(model, loader, pairing=pairing, center=given, cache_bytes=2**28 if cached else 0, undefined="nan")
    want = oracle(x, labels, heads, pairing=pairing, center=center)
    assert result.n == n and result.information.n == int((np.abs(x).sum(1) > 0).sum())
    got = result.information
    if want is None or min(want["h_x"], want["h_y"]) < 1e-9:
        assert want is not None or result.estimate == "undefined", "a value where the oracle has none"
        return
    assert result.estimate == "exact", result.warnings
    size_n = n if pairing == "sample" else heads.shape[0]
    atol = entropy_tolerance(size_n, torch.float64)
    for key, value in (("h_x", got.h_z), ("h_y", got.h_w), ("h_joint", got.h_joint), ("mi", got.mi)):
        assert float(value) == pytest.approx(want[key], abs=atol), key
    mir_tol, hdr_tol = ratio_tolerance(want, atol)
    assert float(got.mir) == pytest.approx(want["mir"], abs=mir_tol)
    assert float(got.hdr) == pytest.approx(want["hdr"], abs=hdr_tol)


@settings(max_examples=250)
@given(
    trained_features(), st.booleans(), st.booleans(), st.sampled_from([None, torch.float64]),
    st.sampled_from([torch.int64, torch.int32, torch.uint8]), st.booleans(),
)
def test_interplay_loss_against_the_oracle(batch, center, use_ratios, compute, label_dtype, validate):
    x, labels, heads, dtype = batch
    n = x.shape[0]
    features = torch.from_numpy(x).to(dtype).requires_grad_()
    loss_fn = InterplayLoss(alpha=0.7, beta=0.3, center=center, use_ratios=use_ratios, dtype=compute, validate_args=validate)
    loss = loss_fn(features, torch.from_numpy(labels).to(label_dtype), torch.from_numpy(heads).to(dtype))
    loss.backward()
    value = loss.item()
    assert math.isfinite(value) and torch.isfinite(features.grad).all()
    dead = torch.from_numpy(np.abs(x).sum(1) == 0)
    assert features.grad[dead].abs().sum() == 0  # a dead sample is a dropped sample
    want = oracle(x, labels, heads, pairing="sample", center=center, drop_at_mean=True)
    exact = compute or (torch.float64 if dtype == torch.float64 else torch.float32)  # half runs in float32
    atol = entropy_tolerance(n, exact)
    resolution = max(1e3, 50 * n) * torch.finfo(exact).eps
    if want is None or min(want["h_x"], want["h_y"]) <= 2 * resolution + atol:
        # Undefined (or indistinguishable from it in this precision): 0, or the value where it resolves.
        assert value == 0.0 or want is not None
        if value == 0.0:
            return
    if use_ratios:
        mir_tol, hdr_tol = ratio_tolerance(want, atol)
        expected, tol = -0.7 * want["mir"] + 0.3 * want["hdr"], 0.7 * mir_tol + 0.3 * hdr_tol
    else:
        expected, tol = -0.7 * want["mi"] + 0.3 * abs(want["h_x"] - want["h_y"]), 3 * atol
    assert value == pytest.approx(expected, abs=tol)
