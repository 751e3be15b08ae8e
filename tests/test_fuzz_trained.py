"""Fuzzing with data drawn the way trained networks produce it, against the float64 oracle.

A large shared mean, ReLU outputs, steeply decaying spectra, near-collapse, dead units and dead
samples, unbalanced classes, float32 and float64; every exact path of the joint entropy (the n×n
Gram, the Kronecker map, the per-class blocks, the class means), gradients on or off, and the
streaming metric through update and forward over any split into batches. Each call either refuses
with a ValueError/TypeError or returns the oracle's value. ``HYPOTHESIS_PROFILE=dev`` runs more cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import reference
from strategies import trained_batches
from interplay import interplay_metrics
from interplay.metrics import InformationInterplay

FIELDS = {"h_z": "h_x", "h_w": "h_y", "h_joint": "h_joint", "mi": "mi", "mir": "mir", "hdr": "hdr"}


def tolerance(n: int, condition: float = 1.0) -> float:
    """Rounding of an n×n entropy in float64, times the cancellation that centring causes."""
    return 1e3 * n * condition * torch.finfo(torch.float64).eps


def centring_condition(x: torch.Tensor, centred: torch.Tensor) -> float:
    """How much larger the rows are than what is left after subtracting the mean."""
    return max(1.0, float(x.abs().max()) / max(float(centred.abs().max()), 1e-300))


def check(result, want: dict[str, float], n: int, condition: float = 1.0) -> None:
    atol = tolerance(n, condition)
    for field in ("h_z", "h_w", "h_joint", "mi"):
        assert float(getattr(result, field)) == pytest.approx(want[FIELDS[field]], abs=atol), field
    for field, denominator in (("mir", min(want["h_x"], want["h_y"])), ("hdr", max(want["h_x"], want["h_y"]))):
        bound = 4 * atol / max(denominator - atol, atol) + 1e-9
        assert float(getattr(result, field)) == pytest.approx(want[field], abs=bound), field


def oracle(x, labels, heads, pairing, center):
    fn = reference.sample_pairing if pairing == "sample" else reference.class_pairing
    return fn(x.double().numpy(), labels.numpy(), heads.double().numpy(), center=center)


def computes_or_refuses(call):
    try:
        return call()
    except (ValueError, TypeError) as error:
        assert str(error) and "\n" not in str(error).strip(), error
        return None


@given(
    trained_batches(),
    st.sampled_from(("sample", "class")),
    st.booleans(),
    st.sampled_from(("auto", "blocks", "grad")),
    st.sampled_from((None, torch.float64)),
)
def test_interplay_metrics_on_trained_like_data(batch, pairing, center, path, dtype):
    x, labels, heads = batch
    n, d = x.shape
    options = {"pairing": pairing, "center": center, "dtype": dtype}
    if path == "blocks":  # below n: the per-class blocks or the class means, never the n×n Gram
        options |= {"method": "exact", "max_exact_size": max(2, n - 1)}
    if path == "grad":  # the differentiable row paths, in float64 (float32 gradients are the loss's)
        x = x.double().requires_grad_()
        options["dtype"] = torch.float64
    result = computes_or_refuses(lambda: interplay_metrics(x, labels, heads, **options))
    if result is None:
        return
    want = oracle(x.detach(), labels, heads, pairing, center)
    assert min(want["h_x"], want["h_y"]) > 0
    if path == "blocks" and pairing == "sample":
        assert result.path == "class-blocks"
    x64 = x.detach().double()
    condition = centring_condition(x64, x64 - x64.mean(0)) if center else 1.0
    check(result, want, n if pairing == "sample" else heads.shape[0], condition)


@given(trained_batches(), st.integers(1, 5), st.booleans(), st.sampled_from(("auto", "moments", "features")), st.booleans())
def test_streaming_metric_on_trained_like_data(batch, parts, use_forward, storage, shifted):
    x, labels, heads = batch
    n, d = x.shape
    center = x.double().mean(0) * 0.5 if shifted else False
    metric = InformationInterplay(heads.shape[0], d, center=center, storage=storage, skip_zero_rows=True).to(x.dtype)
    cuts = np.linspace(0, n, parts + 1).astype(int)
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b > a:
            step = metric if use_forward else metric.update
            if computes_or_refuses(lambda: step(x[a:b], labels[a:b], heads) or True) is None:
                return
    result = computes_or_refuses(metric.compute)
    if result is None:
        return
    live = (x != 0).any(1)
    features = x.double()[live] - (center if shifted else 0)
    want = reference.entropies(features.numpy(), heads.double().numpy()[labels[live].numpy()])
    assert result.n == int(live.sum()) and math.isfinite(float(result.mir))
    check(result, want, result.n, centring_condition(x.double()[live], features) if shifted else 1.0)
