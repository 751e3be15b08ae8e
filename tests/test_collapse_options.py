"""The neural collapse options reach the measures through probe, the recorder and the callbacks."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import reference
from interplay import probe
from interplay.integrations.recording import EvaluationRecorder, check_options


def data_without_class(c: int = 5, missing: int = 4, n: int = 120, d: int = 8):
    g = torch.Generator().manual_seed(3)
    labels = torch.arange(n) % (c - 1)  # class `missing` never occurs
    labels[labels == missing] = 0
    heads = torch.randn(c, d, generator=g, dtype=torch.float64)
    features = 2 + heads[labels] + 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    return features, labels, heads


def present_oracle(features, labels, heads):
    kept = torch.unique(labels)
    remap = torch.full((heads.shape[0],), -1, dtype=torch.long)
    remap[kept] = torch.arange(len(kept))
    return reference.neural_collapse(features.numpy(), remap[labels].numpy(), heads[kept].numpy())


def test_probe_measures_the_classes_present_when_asked():
    features, labels, heads = data_without_class()
    head = nn.Linear(8, 5, bias=False, dtype=torch.float64)
    head.weight.data.copy_(heads)
    model = nn.Sequential(nn.Identity(), head)
    loader = [(features[:60], labels[:60]), (features[60:], labels[60:])]
    plain = probe(model, loader, undefined="nan")
    assert math.isnan(float(plain.collapse.nc1)) and any("classes='present'" in w for w in plain.warnings)
    present = probe(model, loader, collapse_options={"classes": "present"})
    assert float(present.collapse.nc1) == pytest.approx(present_oracle(features, labels, heads)["nc1"], rel=1e-9)


def test_recorder_takes_the_options_and_checks_them_up_front():
    features, labels, heads = data_without_class()
    head = nn.Linear(8, 5, bias=False, dtype=torch.float64)
    head.weight.data.copy_(heads)
    recorder = EvaluationRecorder(head, collapse_options={"classes": "present"})
    recorder.update(features, labels)
    values = recorder.compute()
    assert values["nc1"] == pytest.approx(present_oracle(features, labels, heads)["nc1"], rel=1e-9)
    with pytest.raises(ValueError, match="collapse_options takes global_mean, classes and min_count; got 'min_size'"):
        check_options(collapse_options={"min_size": 3})
    with pytest.raises(ValueError, match="classes must be 'all' or 'present'"):
        check_options(collapse_options={"classes": "some"})
