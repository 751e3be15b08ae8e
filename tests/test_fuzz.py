"""Property-based fuzzing of the public functions against the float64 oracle.

Random shapes (n < d, d = 1), dtypes (float16, bfloat16, float32, float64), magnitudes from 1e-30
to 1e30, zero rows, duplicated rows and random labels. Every call must either refuse with a
ValueError/TypeError naming an argument, or return finite values equal to the oracle on the same
rows, to a tolerance set by the precision of the computation. No NaN, no wrong number.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import reference
from interplay import hdr, interplay_metrics, matrix_entropy, matrix_joint_entropy, matrix_mutual_information, mir, neural_collapse

DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
ARGUMENT = re.compile(r"\b(x|y|features|labels|head_weight|heads|class means|center|features after centring)\b")


def rare(probability: float):
    """A boolean that is True with about the given probability (False is the simplest value)."""
    return st.integers(0, 99).map(lambda k: k >= 100 * (1 - probability))


@st.composite
def batches(draw):
    """Features (n, d) and heads (C, d) in one dtype, labels (n,), and the dtype to compute in.

    Degenerate cases (zero rows, duplicated rows, zero entries, one class, n = 1) are drawn often
    enough to be refused, and rarely enough that most calls compute a value to check.
    """
    dtype = draw(st.sampled_from(DTYPES))
    n = 1 if draw(rare(0.05)) else draw(st.integers(2, 10))
    c = 1 if draw(rare(0.05)) else draw(st.integers(2, 4))
    d = draw(st.integers(1, 5))
    # Entries within a row span six decades (three in float16; some are 0); the row scale spans
    # 1e-30 to 1e30, or what the dtype can hold (float16: 1e-3 to 1e3; overflow must be refused).
    magnitude = st.floats(1e-3 if dtype == torch.float16 else 1e-6, 1, allow_nan=False, width=64)
    unit = st.tuples(rare(0.1), st.booleans(), magnitude).map(lambda t: 0.0 if t[0] else (t[2] if t[1] else -t[2]))
    decades = 3 if dtype == torch.float16 and not draw(rare(0.1)) else 30
    scale = st.integers(-decades, decades).map(lambda e: 10.0**e)
    x = draw(arrays(np.float64, (n, d), elements=unit)) * draw(scale)
    if draw(rare(0.15)):
        x[draw(st.integers(0, n - 1))] = 0.0
    if n > 1 and draw(rare(0.2)):
        x[-1] = x[0]
    labels = draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    if n > 1 and c > 1 and not draw(rare(0.1)):
        labels[:2] = (0, 1)
    heads = draw(arrays(np.float64, (c, d), elements=unit)) * draw(scale)
    compute = draw(st.sampled_from((None, torch.float64)))
    as_dtype = lambda a: torch.from_numpy(a).to(dtype)  # noqa: E731
    return as_dtype(x), torch.from_numpy(labels), as_dtype(heads), compute


def rows_at_unit_scale(t: torch.Tensor) -> np.ndarray:
    """float64 rows divided by their largest entry: the oracle's squares then cannot underflow or
    overflow, and every quantity here is invariant to the scale of a row (entropies, MIR, HDR)."""
    a = t.double().numpy()
    scale = np.abs(a).max(axis=1, keepdims=True)
    return a / np.where(scale > 0, scale, 1.0)


def entropy_tolerance(x: torch.Tensor, compute) -> float:
    """Absolute error of an n×n entropy computed in ``compute`` (half precision runs in float32)."""
    eps = torch.finfo(torch.float64 if compute == torch.float64 or x.dtype == torch.float64 else torch.float32).eps
    return 10 * x.shape[0] * eps * math.log(1 / eps)


def check_entropies(got: dict[str, float], want: dict[str, float], atol: float) -> None:
    for key in ("h_x", "h_y", "h_joint", "mi"):
        if key in got:
            assert math.isfinite(got[key]) and got[key] == pytest.approx(want[key], abs=3 * atol), key
    for key, denominator in (("mir", min(want["h_x"], want["h_y"])), ("hdr", max(want["h_x"], want["h_y"]))):
        if key in got:
            assert denominator > 0, f"{key} returned for a rank-one Gram"
            bound = 4 * atol / max(denominator - atol, atol) + 1e-9
            assert math.isfinite(got[key]) and got[key] == pytest.approx(want[key], abs=bound), key


def refuses_or(call):
    """The call's value, or None when it refused with a message that names an argument."""
    try:
        return call()
    except (ValueError, TypeError) as error:
        assert ARGUMENT.search(str(error)), f"the message names no argument: {error}"
        return None


@given(batches())
def test_pair_functions_against_the_oracle(batch):
    x, labels, heads, compute = batch
    y = heads[labels]
    atol = entropy_tolerance(x, compute)
    h = refuses_or(lambda: matrix_entropy(x, dtype=compute))
    if h is not None:
        want = reference.entropy_of(reference.cosine_gram(rows_at_unit_scale(x)))
        assert math.isfinite(float(h)) and float(h) == pytest.approx(want, abs=3 * atol)
    got = {}
    for key, fn in (("mi", matrix_mutual_information), ("mir", mir), ("hdr", hdr), ("h_joint", matrix_joint_entropy)):
        value = refuses_or(lambda: fn(x, y, dtype=compute))
        if value is not None:
            got[key] = float(value)
    if got:
        check_entropies(got, reference.entropies(rows_at_unit_scale(x), rows_at_unit_scale(y)), atol)


@given(batches(), st.sampled_from(("sample", "class")), st.booleans())
def test_interplay_metrics_against_the_oracle(batch, pairing, center):
    x, labels, heads, compute = batch
    result = refuses_or(lambda: interplay_metrics(x, labels, heads, pairing=pairing, center=center, dtype=compute))
    if result is None:
        return
    oracle = reference.sample_pairing if pairing == "sample" else reference.class_pairing
    # Centring mixes rows, so the features share one scale (the invariance is then global).
    features = x.double().numpy() / max(float(x.double().abs().max()), 1e-300)
    want = oracle(features, labels.numpy(), rows_at_unit_scale(heads), center=center)
    got = {"h_x": float(result.h_z), "h_y": float(result.h_w), "h_joint": float(result.h_joint),
           "mi": float(result.mi), "mir": float(result.mir), "hdr": float(result.hdr)}
    size = x if pairing == "sample" else heads
    check_entropies(got, want, entropy_tolerance(size, compute))


@given(batches())
def test_neural_collapse_against_the_oracle(batch):
    x, labels, heads, compute = batch
    result = refuses_or(lambda: neural_collapse(x, labels, heads, dtype=compute))
    if result is None:
        return
    # NC1–NC3 are invariant to one positive scale of the features and one of the heads.
    features = x.double().numpy() / max(float(x.double().abs().max()), 1e-300)
    want = reference.neural_collapse(features, labels.numpy(), heads.double().numpy() / float(heads.double().abs().max()))
    eps = torch.finfo(torch.float64 if compute == torch.float64 or x.dtype == torch.float64 else torch.float32).eps
    for key, value in result.as_dict().items():
        if key.startswith("nc") and key != "nc4":
            assert math.isfinite(value), key
            # NC1 divides by the between-class scatter: its rounding grows with NC1 itself.
            rel = 1e4 * eps * (1 + abs(want["nc1"]) if key == "nc1" else 1)
            assert value == pytest.approx(want[key], rel=rel, abs=1e4 * eps), key
