"""The recorder behind the callbacks equals the one-shot functions on the concatenated batches."""

from __future__ import annotations

import math

import pytest
import reference
import torch
from torch import nn

from interplay import interplay_metrics, neural_collapse
from interplay.integrations.recording import EvaluationRecorder, check_options, flat_values
from interplay.validation import InterplayValueError

N, D, C = 150, 6, 4


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(3)
    features = torch.randn(N, D, generator=g) + 2 * torch.randn(C, D, generator=g)[torch.arange(N) % C]
    head = nn.Linear(D, C)
    return features, torch.arange(N) % C, head


@pytest.mark.parametrize("pairing, center", [("sample", False), ("class", False), ("class", True)])
def test_batches_equal_the_one_shot_functions(data, pairing, center):
    features, labels, head = data
    recorder = EvaluationRecorder(head, pairing=pairing, center=center)
    for part in torch.arange(N).split(37):
        recorder.update(features[part], labels[part])
    values = recorder.compute()
    info = interplay_metrics(features, labels, head.weight.detach(), pairing=pairing, center=center)
    collapse = neural_collapse(features, labels, head.weight.detach(), bias=head.bias.detach())
    for key in ("h_z", "h_w", "h_joint", "mi", "mir", "hdr"):
        assert values[key] == pytest.approx(float(getattr(info, key)), abs=1e-9), key
    for key in ("nc1", "nc2_etf_distance", "nc3", "nc4"):
        assert values[key] == pytest.approx(float(getattr(collapse, key)), abs=1e-9), key
    assert values["n"] == N


def test_given_centres_are_used_for_nc4(data):
    features, labels, head = data
    centres = torch.randn(C, D, generator=torch.Generator().manual_seed(4))  # not the data's own means
    recorder = EvaluationRecorder(head, class_means=centres)
    recorder.update(features, labels)
    predictions = (features @ head.weight.detach().T + head.bias.detach()).argmax(1)
    nearest = torch.cdist(features, centres).argmin(1)
    assert recorder.compute()["nc4"] == pytest.approx(float((predictions != nearest).double().mean()), abs=1e-12)


def test_errors_name_the_fix(data):
    features, labels, head = data
    with pytest.raises(InterplayValueError, match="the head saw 3 representations but the batch has 4 labels"):
        EvaluationRecorder(head).update(features[:3], labels[:4])
    with pytest.raises(InterplayValueError, match="use pairing='class' with center=True"):
        check_options("sample", True)
    assert flat_values({"mir": 0.25, "nc4": None}, "p") == {"p/mir": 0.25}


def test_a_batch_the_metrics_refuse_makes_the_record_nan_with_the_reason(data):
    features, labels, head = data
    recorder = EvaluationRecorder(head)
    recorder.update(features[:50], labels[:50])
    broken = features[50:100].clone()
    broken[3, 2] = float("inf")  # a diverging network
    recorder.update(broken, labels[50:100])
    recorder.update(features[100:], labels[100:])
    values = recorder.compute()
    assert math.isnan(values["mir"]) and math.isnan(values["nc1"]) and math.isnan(values["nc4"])
    assert math.isnan(values["se_mir"]) and math.isnan(values["stochastic"])
    assert len(recorder.reasons) == 1 and "finite" in recorder.reasons[0]


def test_the_estimate_beyond_max_exact_size_carries_its_standard_errors(data):
    features, labels, head = data
    weight = head.weight.detach()
    exact = reference.sample_pairing(features.numpy(), labels.numpy(), weight.numpy())
    recorder = EvaluationRecorder(head, max_exact_size=8)  # the class blocks are 24×24 here
    recorder.update(features, labels)
    values = recorder.compute()
    assert values["stochastic"] == 1.0 and recorder.reasons == []
    assert 0 < values["se_mir"] < 0.05 and values["se_hdr"] == 0.0
    assert abs(values["mir"] - exact["mir"]) < 4 * values["se_mir"]
    assert values["hdr"] == pytest.approx(exact["hdr"], abs=1e-9)


@pytest.mark.slow
def bert_sized(n: int, d: int = 768, c: int = 12):
    g = torch.Generator().manual_seed(7)
    labels = torch.arange(n) % c
    shared = 4 + torch.randn(d, generator=g)  # the large mean every class shares
    features = torch.relu(shared + 2 * torch.randn(c, d, generator=g)[labels]
                          + torch.randn(n, d, generator=g) * torch.logspace(0, -2.5, d))
    return features, labels, nn.Linear(d, c)


def test_a_bert_base_sized_evaluation_is_exact_on_its_samples():
    # Width 768 and 12 classes: the class blocks are 9,216 wide, over the default 8,192, but the
    # 2,000 samples' own Gram fits, so the record is exact rather than refused or estimated.
    features, labels, head = bert_sized(2000)
    recorder = EvaluationRecorder(head)
    recorder.update(features, labels)
    values = recorder.compute()
    exact = reference.sample_pairing(features.numpy(), labels.numpy(), head.weight.detach().numpy())
    assert values["stochastic"] == 0.0 and recorder.reasons == []
    assert values["mir"] == pytest.approx(exact["mir"], abs=1e-9)
    assert values["hdr"] == pytest.approx(exact["hdr"], abs=1e-9)


@pytest.mark.slow
def test_a_bert_base_sized_evaluation_beyond_every_exact_path_is_estimated_not_refused():
    # 10,000 samples: neither their Gram nor the 9,216-wide class blocks fit 8,192. The estimate's
    # accuracy against exact values is tested with the estimator; here: estimated, never refused.
    features, labels, head = bert_sized(10_000)
    recorder = EvaluationRecorder(head)
    for part in torch.arange(10_000).split(2_500):
        recorder.update(features[part], labels[part])
    values = recorder.compute()
    assert values["stochastic"] == 1.0 and recorder.reasons == []
    assert 0 < values["se_mir"] <= 0.005 * 1.5 and 0 < values["mir"] < 1
