"""Hypothesis strategies for feature matrices and labelled batches."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

_values = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


def _nonzero_rows(a: np.ndarray) -> np.ndarray:
    # Rows of (near) zero norm cannot be normalised; nudge them onto the first axis.
    small = np.linalg.norm(a, axis=1) < 1e-3
    a[small, 0] = 1.0
    return a


@st.composite
def paired_features(draw, max_n: int = 12, max_d: int = 6):
    """Two row-paired (n, d1), (n, d2) float64 arrays without zero rows."""
    n = draw(st.integers(2, max_n))
    d1, d2 = draw(st.integers(1, max_d)), draw(st.integers(1, max_d))
    x = draw(arrays(np.float64, (n, d1), elements=_values))
    y = draw(arrays(np.float64, (n, d2), elements=_values))
    return _nonzero_rows(x), _nonzero_rows(y)


@st.composite
def labelled_batch(draw, max_n: int = 24, max_d: int = 6, max_classes: int = 5):
    """Features (n, d), labels with at least two distinct classes, and heads (C, d)."""
    c = draw(st.integers(2, max_classes))
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    labels[0], labels[1] = 0, 1
    features = _nonzero_rows(draw(arrays(np.float64, (n, d), elements=_values)))
    heads = _nonzero_rows(draw(arrays(np.float64, (c, d), elements=_values)))
    return features, labels, heads


@st.composite
def trained_batches(draw, n: tuple[int, int] = (4, 48), d: tuple[int, int] = (1, 16), c: tuple[int, int] = (2, 7)):
    """Features (n, d), labels (n,) with at least two classes, heads (C, d), all in one dtype;
    n, d and C drawn from the ranges given."""
    n, d, c = draw(st.integers(*n)), draw(st.integers(*d)), draw(st.integers(*c))
    seed = draw(st.integers(0, 2**31 - 1))
    g = np.random.default_rng(seed)
    weights = g.dirichlet(np.full(c, draw(st.sampled_from([0.3, 1.0, 10.0]))))  # unbalanced classes
    labels = g.choice(c, size=n, p=weights)
    labels[:2] = (0, 1)
    heads = g.standard_normal((c, d))
    spread = 10.0 ** -draw(st.floats(0, 4))  # steeply decaying spectrum
    noise = g.standard_normal((n, d)) * np.logspace(0, np.log10(spread), d) * 10.0 ** draw(st.integers(-7, 0))
    shared = 10.0 ** draw(st.integers(0, 3)) * np.abs(g.standard_normal(d))  # large shared mean
    x = shared + draw(st.floats(0, 2)) * heads[labels] + noise
    if draw(st.booleans()):
        x = np.maximum(x, 0)  # ReLU
    dead = g.random(d) < draw(st.sampled_from([0.0, 0.3]))
    x[:, dead] = 0  # dead units
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(dtype)  # noqa: E731
    return as_tensor(x), torch.from_numpy(labels), as_tensor(heads)
