"""The trainer callbacks' recorder on trained-like data, in any split into batches, against the float64 oracle.

A record is either the oracle's value or NaN with a reason; it never raises (a measurement must
not stop the training it observes).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import reference
from strategies import trained_batches
from interplay.integrations.recording import EvaluationRecorder


def head_of(heads: torch.Tensor) -> nn.Linear:
    head = nn.Linear(heads.shape[1], heads.shape[0], bias=False, dtype=heads.dtype)
    head.weight.data.copy_(heads)
    return head


@given(trained_batches(), st.integers(1, 4), st.booleans())
def test_recorder_equals_the_oracle_or_says_why(batch, parts, drop_a_class):
    x, labels, heads = batch
    if drop_a_class and heads.shape[0] > 2:
        keep = labels != heads.shape[0] - 1
        x, labels = x[keep], labels[keep]
    recorder = EvaluationRecorder(head_of(heads), max_exact_size=32)
    for part in np.array_split(np.arange(x.shape[0]), parts):
        if len(part):
            recorder.update(x[part], labels[part])
    values = recorder.compute()
    live = (x != 0).any(1)
    z, y = x.double()[live], labels[live]
    if len(torch.unique(y)) < 2:
        assert math.isnan(values["mir"]) and recorder.reasons
        return
    want = reference.sample_pairing(z, y, heads.double())
    if math.isnan(values["mir"]):
        assert recorder.reasons  # e.g. a rank-one Gram: undefined, and said so
        return
    # Exact where the eigenproblem fits 32, else estimated with its standard error.
    slack = 4 * values["se_mir"] + 1e-8 / max(min(want["h_x"], want["h_y"]), 1e-12)
    assert values["mir"] == pytest.approx(want["mir"], abs=slack)
    assert values["hdr"] == pytest.approx(want["hdr"], abs=1e-8 / max(want["h_x"], want["h_y"]))
    if len(torch.unique(y)) < heads.shape[0]:  # NC needs every class: NaN, and said so
        assert math.isnan(values["nc1"]) and recorder.reasons
    elif math.isfinite(values["nc1"]):
        # Neural collapse keeps the dead (all-zero) samples: a point without a direction still has a distance.
        nc1 = reference.neural_collapse(x.double(), labels, heads.double())["nc1"]
        assert values["nc1"] == pytest.approx(nc1, rel=1e-6, abs=1e-12)
