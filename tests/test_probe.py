"""probe(): metrics of any classifier, read at the input of its final linear layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import reference
from interplay import interplay_metrics, nc_reference
from interplay.probing import find_head, probe


class Wrapped(nn.Module):
    """A classifier whose final layer is neither called ``head`` nor last in registration order."""

    def __init__(self) -> None:
        super().__init__()
        self.classifier = nn.Linear(6, 4)
        self.body = nn.Sequential(nn.Linear(3, 6), nn.Tanh())

    def forward(self, x):
        return self.classifier(self.body(x))


def batches(generator, n=90, size=25):
    x = torch.randn(n, 3, generator=generator)
    y = torch.arange(n) % 4
    return [(x[i : i + size], y[i : i + size]) for i in range(0, n, size)], x, y


def test_probe_equals_one_shot_on_hooked_features(generator):
    torch.manual_seed(0)
    model = Wrapped()
    loader, x, y = batches(generator, n=88)  # balanced: the mean of the class means is the samples' mean
    result = probe(model, loader, head="classifier")
    with torch.no_grad():
        features = model.body(x)
        logits = model(x)
    expected = reference.sample_pairing(features, y, model.classifier.weight.detach())
    assert result.information.mir.item() == pytest.approx(expected["mir"], abs=1e-6)
    assert result.accuracy == pytest.approx((logits.argmax(1) == y).double().mean().item())
    assert result.loss == pytest.approx(nn.functional.cross_entropy(logits, y).item(), rel=1e-5)
    nc = reference.neural_collapse(features, y, model.classifier.weight.detach(), model.classifier.bias.detach())
    assert result.collapse.nc4.item() == pytest.approx(nc["nc4"])
    assert result.collapse.nc1.item() == pytest.approx(nc["nc1"], rel=1e-5)


def test_cached_and_second_pass_agree_and_model_mode_is_restored(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4)).train()
    loader, _, _ = batches(generator)
    cached = probe(model, loader).as_row()
    twice = probe(model, loader, cache_bytes=0).as_row()
    assert cached == twice
    assert model.training


def test_stochastic_estimate_uses_every_sample(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    loader, x, y = batches(generator, n=400, size=64)
    result = probe(model, loader, method="stochastic", seed=5)
    with torch.no_grad():
        features = model[1](model[0](x))
    exact = reference.sample_pairing(features.double(), y, model[2].weight.detach().double())
    row = result.as_row()
    assert (result.estimate, result.information.n, result.information.seed) == ("stochastic", 400, 5)
    # A problem this small (at most 4·8 rows) stops at max_probes above the tolerance; the error stated holds.
    assert 0 < row["se_mir"] < 0.02 and abs(row["mir"] - exact["mir"]) <= 4 * row["se_mir"]
    assert row["hdr"] == pytest.approx(exact["hdr"], abs=1e-9)
    assert probe(model, loader).as_row()["se_mir"] == 0.0


def test_head_cannot_be_found():
    with pytest.raises(ValueError, match="no nn.Linear layer and no .head. Pass head="):
        find_head(nn.Sequential(nn.Conv2d(1, 2, 3)))
    with pytest.raises(ValueError, match="body.*has no weight tensor"):
        find_head(Wrapped(), "body")


def test_uncentred_rows_carry_the_cosine_of_the_class_means_and_its_collapse_values(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    loader, x, y = batches(generator)
    row = probe(model, loader).as_row()
    with torch.no_grad():
        features = model[1](model[0](x)).double()
    unit = [features[y == c].mean(0) / features[y == c].mean(0).norm() for c in range(4)]
    expected = sum(float(unit[a] @ unit[b]) for a in range(4) for b in range(4) if a != b) / 12
    assert row["rho"] == pytest.approx(expected, abs=1e-6)
    reference_values = nc_reference(4, cosine=expected)
    assert row["mir_rho"] == pytest.approx(float(reference_values.mir), abs=1e-5)
    assert row["hdr_rho"] == pytest.approx(float(reference_values.hdr), abs=1e-5)
    assert not {"rho", "mir_rho", "hdr_rho"} & set(probe(model, loader, center=True).as_row())


def test_centring_leaves_dead_rows_out_of_the_mean(generator):
    # ReLU features with a large shared mean, a decaying spectrum and 40 % dead rows (every unit below 0).
    n, d, c = 300, 12, 4
    x = 5 + torch.randn(n, d, generator=generator, dtype=torch.float64) * torch.logspace(0, -2.5, d, dtype=torch.float64)
    dead = torch.rand(n, generator=generator) < 0.4
    x[dead] = -1.0
    y = torch.minimum(torch.randint(c + 3, (n,), generator=generator), torch.tensor(c - 1))
    model = nn.Sequential(nn.ReLU(), nn.Linear(d, c)).double()
    loader = [(x[i : i + 64], y[i : i + 64]) for i in range(0, n, 64)]
    live, weight = ~dead, model[1].weight.detach()
    features = torch.relu(x)
    for pairing, oracle in (("sample", reference.sample_pairing), ("class", reference.class_pairing)):
        for cache_bytes in (2**28, 0):
            result = probe(model, loader, center=True, pairing=pairing, cache_bytes=cache_bytes)
            want = oracle(features[live], y[live], weight, center=True)
            assert result.information.n == int(live.sum())
            assert result.information.mir.item() == pytest.approx(want["mir"], abs=1e-9)
            assert result.information.hdr.item() == pytest.approx(want["hdr"], abs=1e-9)
    # Neural collapse measures every sample, the dead ones included.
    assert result.collapse.n == n and result.mean.tolist() == pytest.approx(features.mean(0).tolist(), abs=1e-12)


def test_a_split_centred_by_another_splits_live_mean(generator):
    d, c = 10, 4
    model = nn.Sequential(nn.ReLU(), nn.Linear(d, c)).double()
    splits = []
    for n in (200, 120):
        x = 5 + torch.randn(n, d, generator=generator, dtype=torch.float64) * torch.logspace(0, -2.5, d, dtype=torch.float64)
        x[torch.rand(n, generator=generator) < 0.3] = -1.0  # dead rows
        splits.append((x, torch.arange(n) % c))
    (train_x, train_y), (test_x, test_y) = splits
    train = probe(model, [(train_x, train_y)], center=True)
    live = torch.relu(train_x)[(train_x > 0).any(1)]
    assert train.live_mean.tolist() == pytest.approx(live.mean(0).tolist(), abs=1e-12)
    features, weight = torch.relu(test_x), model[1].weight.detach()
    keep = (features != 0).any(1)
    for pairing, oracle in (("sample", reference.sample_pairing), ("class", reference.class_pairing)):
        result = probe(model, [(test_x, test_y)], center=train.live_mean, pairing=pairing)
        want = oracle(features[keep] - train.live_mean, test_y[keep], weight)
        assert result.information.center and result.information.mir.item() == pytest.approx(want["mir"], abs=1e-9)
    with pytest.raises(ValueError, match=r"center must have shape \(10,\)"):
        probe(model, [(test_x, test_y)], center=torch.zeros(3))
