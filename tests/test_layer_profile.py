"""Layer profile: every quantity against a float64 computation on features read here without hooks."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

import reference
from interplay.layer_profile import LayerProfile, plot, profile
from interplay.layer_profile.capture import _Reservoir


def plain_cka(x, y) -> float:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    k, l = h @ x @ x.T @ h, h @ y @ y.T @ h
    return float((k * l).sum() / math.sqrt((k * k).sum() * (l * l).sum()))


def renyi(x, alpha) -> float:
    p = np.linalg.eigvalsh(reference.cosine_gram(x)) / len(x)
    p = p[p > 1e-15]
    return float(np.log((p**alpha).sum()) / (1 - alpha))


def nc1(x, labels) -> float:
    """NC1 over the classes present, Σ_B about the mean of the class means (neural_collapse's default)."""
    x, labels = np.asarray(x, dtype=np.float64), np.asarray(labels)
    classes = np.unique(labels)
    means = np.stack([x[labels == c].mean(axis=0) for c in classes])
    residual = x - means[np.searchsorted(classes, labels)]
    centred = means - means.mean(axis=0)
    within = residual.T @ residual / len(x)
    between = centred.T @ centred / len(classes)
    return float(np.trace(within @ np.linalg.pinv(between, hermitian=True)) / len(classes))


def trained_like(n, d, generator):
    z = torch.randn(n, d, generator=generator) * torch.logspace(0, -2.5, d)
    return z + 2.0 * torch.rand(d, generator=generator)


def mlp(generator):
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
    return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 3))


def batches(x, y, size):
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]


def direct_layers(model: nn.Sequential, x: torch.Tensor) -> list[np.ndarray]:
    """The outputs of the first four layers and the head's input, by calling the modules in turn."""
    outputs, h = [], x
    with torch.no_grad():
        for module in list(model)[:-1]:
            h = module(h)
            outputs.append(h.double().numpy())
    return outputs + [outputs[-1]]


def test_every_quantity_equals_a_direct_float64_computation(generator):
    model = mlp(generator)
    x = trained_like(90, 6, generator)
    y = torch.cat([torch.zeros(50), torch.ones(25), 2 * torch.ones(15)]).long()[torch.randperm(90, generator=generator)]
    result = profile(model, batches(x, y, 32), layers=["0", "1", "2", "3"], alpha=2.0)  # pre-activations too
    assert result.layers == ["0", "1", "2", "3", "4:input"]
    assert result.widths == [12, 12, 8, 8, 8]
    assert result.seen == 90 and result.samples.tolist() == list(range(90))
    feats, w = direct_layers(model, x), model[4].weight.detach().double().numpy()
    for depth, z in enumerate(feats):
        keep = np.abs(z).sum(1) > 0  # ReLU may leave a sample with no active unit
        h = reference.entropy_of(reference.cosine_gram(z[keep]))
        info = reference.sample_pairing(z[keep], y.numpy()[keep], w)
        assert result.values["entropy"][depth].item() == pytest.approx(h, abs=1e-9)
        assert result.values["effective_rank"][depth].item() == pytest.approx(math.exp(h), rel=1e-9)
        assert result.values["renyi_entropy"][depth].item() == pytest.approx(renyi(z[keep], 2.0), abs=1e-9)
        assert result.values["nc1"][depth].item() == pytest.approx(nc1(z, y.numpy()), rel=1e-7)
        assert result.values["mir"][depth].item() == pytest.approx(info["mir"], abs=1e-9)
        assert result.values["hdr"][depth].item() == pytest.approx(info["hdr"], abs=1e-9)
        assert result.counts["entropy"][depth] == keep.sum()
        for other, u in enumerate(feats):
            both = keep & (np.abs(u).sum(1) > 0)
            assert result.cka[depth, other].item() == pytest.approx(plain_cka(z, u), abs=1e-9)
            assert result.mutual_information[depth, other].item() == pytest.approx(
                reference.entropies(z[both], u[both])["mi"], abs=1e-9)
    logs = np.log([nc1(z, y.numpy()) for z in feats])
    slope, intercept = np.polyfit(np.arange(5), logs, 1)
    assert result.separation.slope == pytest.approx(slope, abs=1e-9)
    assert result.separation.intercept == pytest.approx(intercept, abs=1e-9)
    residual = logs - (intercept + slope * np.arange(5))
    assert result.separation.r2 == pytest.approx(1 - (residual**2).sum() / ((logs - logs.mean()) ** 2).sum(), abs=1e-9)


def test_zero_rows_are_left_out_of_entropies_and_counted(generator):
    model = nn.Sequential(nn.ReLU(), nn.Identity())
    x = trained_like(20, 5, generator) - 1.0
    x[[3, 11]] = -1.0  # no unit active after the ReLU
    result = profile(model, [(x, torch.arange(20) % 2)])
    z = torch.relu(x).double().numpy()
    keep = np.abs(z).sum(1) > 0
    assert result.counts["entropy"] == [18, 18] and result.counts["nc1"] == [20, 20]
    assert result.values["entropy"][0].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(z[keep])), abs=1e-10)
    assert result.pair_counts.tolist() == [[18, 18], [18, 18]]
    assert any("2 of 20 samples are all-zero rows" in note for note in result.notes)


def test_identity_stack_has_equal_entropy_everywhere_and_cka_one(generator):
    model = nn.Sequential(nn.Identity(), nn.Identity(), nn.Identity())
    x = trained_like(40, 7, generator)
    result = profile(model, batches(x, torch.arange(40) % 4, 16))
    assert result.layers == ["0", "1", "2"] and result.head is None
    h = reference.entropy_of(reference.cosine_gram(x))
    assert result.values["entropy"].tolist() == pytest.approx([h] * 3, abs=1e-10)
    assert result.cka.numpy() == pytest.approx(np.ones((3, 3)), abs=1e-12)
    mi = reference.entropies(x, x)["mi"]
    assert result.mutual_information.numpy() == pytest.approx(np.full((3, 3), mi), abs=1e-10)
    assert result.separation.slope == pytest.approx(0.0, abs=1e-12)
    assert "mir" not in result.values


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        return self.head(self.pool(self.body(x)).flatten(1))


def test_outputs_modes_running_statistics_and_hooks_are_unchanged(generator):
    torch.manual_seed(0)
    model = Net()
    model.body[1].eval()  # a mixed state must come back as it was
    x = torch.randn(12, 2, 6, 6, generator=generator)
    modes = {name: m.training for name, m in model.named_modules()}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    before = model(x)
    model.train()
    model.body[1].eval()
    result = profile(model, batches(x, torch.arange(12) % 3, 5))
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks for m in model.modules())
    model.eval()
    assert torch.equal(model(x), before)
    assert result.layers == ["body.2", "pool", "head:input"]  # conv and batch norm read after the ReLU
    with torch.no_grad():
        activation = model.body[:3](x)
    assert result.values["entropy"][0].item() == pytest.approx(
        reference.entropy_of(reference.cosine_gram(activation.mean((2, 3)))), abs=1e-9)


def test_hooks_and_modes_are_restored_on_error():
    model = Net().train()
    model.unused = nn.ReLU()
    data = [(torch.randn(4, 2, 6, 6), torch.arange(4) % 3)]
    with pytest.raises(ValueError, match="layer 'unused' did not run in one forward pass"):
        profile(model, data, layers=["body.0", "unused"])
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())
    result = profile(model, data)  # a default layer that does not run is left out, with a note
    assert "unused" not in result.layers and any("'unused' left out" in note for note in result.notes)


def test_a_layer_that_runs_twice_is_refused():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.act, self.head = nn.Tanh(), nn.Linear(3, 2)

        def forward(self, x):
            return self.head(self.act(self.act(x)))

    with pytest.raises(ValueError, match="layer 'act' ran 2 times in one forward pass"):
        profile(Twice(), [(torch.randn(4, 3), torch.arange(4) % 2)], layers=["act"])


def test_a_dead_layer_gives_nan_with_reasons_and_a_warning(generator):
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Identity())
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    x = torch.randn(12, 4, generator=generator)
    with pytest.warns(RuntimeWarning, match="NaN"):
        result = profile(model, [(x, torch.arange(12) % 2)], layers=["0", "1"], head=False)
    assert math.isfinite(result.values["entropy"][0].item()) and math.isnan(result.values["entropy"][1].item())
    assert math.isnan(result.values["nc1"][1].item()) and math.isnan(result.cka[0, 1].item())
    assert any("layer '1'" in note and "entropies" in note for note in result.notes)
    assert result.separation.layers == ("0",)


def test_conv_maps_pool_or_flatten(generator):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    x = torch.randn(10, 2, 5, 5, generator=generator) + 1.0
    with torch.no_grad():
        maps = model(x)
    pooled = profile(model, [(x, torch.arange(10) % 2)], layers=["1"], head=False)
    flat = profile(model, [(x, torch.arange(10) % 2)], layers=["1"], head=False, pool="flatten")
    assert pooled.widths == [3] and flat.widths == [27]
    assert pooled.values["entropy"][0].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(maps.mean((2, 3)))), abs=1e-9)
    assert flat.values["entropy"][0].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(maps.flatten(1))), abs=1e-9)
    assert flat.values["nc1"][0].item() == pytest.approx(nc1(maps.flatten(1).double().numpy(), np.arange(10) % 2), rel=1e-7)
    # Both layers are wider (27) than the 10 samples: every quantity comes from 10 coordinates with the same Gram.
    both = profile(model, [(x, torch.arange(10) % 2)], layers=["0", "1"], head=False, pool="flatten")
    with torch.no_grad():
        conv = model[0](x).flatten(1)
    assert both.cka[0, 1].item() == pytest.approx(plain_cka(conv, maps.flatten(1)), abs=1e-9)
    assert both.mutual_information[0, 1].item() == pytest.approx(reference.entropies(conv, maps.flatten(1))["mi"], abs=1e-9)


@pytest.mark.parametrize("tokens", ["mean", "first", "last"])
def test_token_sequences_are_reduced_per_sample(tokens, generator):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh())
    x = torch.randn(9, 4, 5, generator=generator)
    with torch.no_grad():
        seq = model(x)
    expected = {"mean": seq.mean(1), "first": seq[:, 0], "last": seq[:, -1]}[tokens]
    result = profile(model, [(x, torch.arange(9) % 3)], layers=["1"], head=False, tokens=tokens)
    assert result.values["entropy"][0].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(expected)), abs=1e-9)


def test_every_token_a_sample_without_ignored_tokens(generator):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3))
    x = torch.randn(8, 4, 5, generator=generator)
    labels = torch.randint(0, 3, (8, 4), generator=generator)
    labels[0, :2] = -100
    with torch.no_grad():
        seq = model[1](model[0](x)).reshape(-1, 6)
    keep = labels.reshape(-1) != -100
    result = profile(model, batches(x, labels, 3), layers=["0", "1"], tokens="all")
    assert result.seen == 30 and result.layers == ["0", "1", "2:input"]
    info = reference.sample_pairing(seq[keep], labels.reshape(-1)[keep], model[2].weight.detach())
    assert result.values["mir"][1].item() == pytest.approx(info["mir"], abs=1e-9)


def test_subsample_is_seeded_stated_and_the_same_for_every_layer(generator):
    model = mlp(generator)
    x = trained_like(60, 6, generator)
    y = torch.arange(60) % 3
    layers = ["0", "1", "2", "3"]
    result = profile(model, batches(x, y, 16), layers=layers, max_samples=25, seed=7)
    kept = result.samples
    assert len(kept) == 25 and result.seen == 60 and torch.equal(kept, kept.unique())
    assert any("kept 25 of 60 samples" in note and "seed=7" in note for note in result.notes)
    # NC1 comes from the layers' sums over all 60 samples; the pairwise CKA from the kept 25.
    assert all(count == 60 for count in result.counts["nc1"])
    for depth, z in enumerate(direct_layers(model, x)):
        assert result.values["nc1"][depth].item() == pytest.approx(nc1(z, y.numpy()), rel=1e-7)
    feats = direct_layers(model, x[kept])
    assert result.cka[0, 1].item() == pytest.approx(plain_cka(feats[0], feats[1]), abs=1e-9)
    assert torch.equal(profile(model, batches(x, y, 16), layers=layers, max_samples=25, seed=7).samples, kept)
    assert not torch.equal(profile(model, batches(x, y, 16), layers=layers, max_samples=25, seed=8).samples, kept)


def test_reservoir_keeps_every_position_with_equal_probability():
    stream, capacity, runs = 30, 10, 1500
    hits = torch.zeros(stream)
    for seed in range(runs):
        reservoir = _Reservoir(capacity, seed)
        for start in range(0, stream, 7):
            rows = torch.arange(start, min(start + 7, stream), dtype=torch.float32)[:, None]
            reservoir.add([rows], None)
        rows, _, positions = reservoir.result()
        assert torch.equal(rows[0][:, 0].long(), positions)
        hits[positions] += 1
    # Each position is kept with probability 1/3: standard error sqrt(p(1-p)/runs) ≈ 0.012.
    assert (hits / runs - capacity / stream).abs().max() < 0.05


def test_memory_budget_caps_the_samples_or_refuses(generator):
    model = nn.Sequential(nn.Identity(), nn.Identity())
    x = trained_like(40, 4, generator)
    result = profile(model, [(x, torch.arange(40) % 2)], memory_budget=10 * 2 * 4 * 4)  # 10 samples of 2 layers × 4 floats
    assert len(result.samples) == 10
    with pytest.raises(ValueError, match="holds the features of 1 sample"):
        profile(model, [(x, torch.arange(40) % 2)], memory_budget=40)


def test_inputs_without_labels_give_the_label_free_quantities(generator):
    model = nn.Sequential(nn.Identity(), nn.Tanh())
    x = trained_like(20, 3, generator)
    result = profile(model, [x[:10], x[10:]])
    assert set(result.values) == {"entropy", "effective_rank"} and result.separation is None
    assert any("no labels" in note for note in result.notes)
    with pytest.raises(ValueError, match="batch 0 has no labels, but NC1"):
        profile(model, [x], quantities=["nc1"])


def test_errors_are_one_line_and_say_what_to_do(generator):
    model = mlp(generator)
    data = [(torch.randn(6, 6), torch.arange(6) % 3)]
    with pytest.raises(ValueError, match=r"'bdoy\.2' names no submodule.*Close names: 'body\.2'"):
        profile(Net(), [(torch.randn(4, 2, 6, 6), torch.arange(4) % 3)], layers=["bdoy.2"])
    with pytest.raises(ValueError, match="pattern 'blocks.\\*' matches no submodule"):
        profile(model, data, layers=["blocks.*"])
    with pytest.raises(ValueError, match="no samples"):
        profile(model, [])
    with pytest.raises(ValueError, match="alpha is None"):
        profile(model, data, quantities=["renyi_entropy"])
    with pytest.raises(ValueError, match="MIR and HDR need the classification head"):
        profile(model, data, head=False, quantities=["mir"])
    with pytest.raises(ValueError, match="pool must be one of"):
        profile(model, data, pool="max")
    with pytest.raises(ValueError, match="For one label per token pass tokens='all'"):
        profile(nn.Sequential(nn.Linear(5, 3)), [(torch.randn(2, 4, 5), torch.zeros(2, 4).long())])


def test_a_guessed_head_that_is_not_the_output_is_refused():
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.last = nn.Linear(4, 5), nn.Linear(5, 3)

        def forward(self, x):
            return 2 * self.last(self.body(x))

    with pytest.raises(ValueError, match="could not tell which layer produces the model's logits"):
        profile(Scaled(), [(torch.randn(6, 4), torch.arange(6) % 3)])
    assert profile(Scaled(), [(torch.randn(6, 4), torch.arange(6) % 3)], head="last").head == "last"


def test_patterns_and_modules_select_layers(generator):
    model = mlp(generator)
    data = [(trained_like(12, 6, generator), torch.arange(12) % 3)]
    assert profile(model, data, layers=["[02]", model[3]]).layers == ["0", "2", "3", "4:input"]


def test_table_csv_and_plots(tmp_path, generator):
    model = mlp(generator)
    result = profile(model, [(trained_like(30, 6, generator), torch.arange(30) % 3)], layers=["0", "1", "2", "3"])
    rows = result.table()
    per_layer = 5 * len(result.values)
    assert len(rows) == per_layer + 2 * 25 + 4
    assert {r["quantity"] for r in rows[per_layer:]} >= {"cka", "mutual_information", "separation_slope"}
    path = result.to_csv(tmp_path / "profile.csv")
    with path.open() as handle:
        read = list(csv.DictReader(handle))
    assert len(read) == len(rows) and float(read[0]["value"]) == pytest.approx(rows[0]["value"])
    figures = plot(result, tmp_path / "figures")
    assert [p.name for p in figures] == ["layer_quantities.png", "layer_similarity.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in figures)
    assert isinstance(result, LayerProfile)


def test_dict_inputs_tuple_outputs_and_dict_logits(generator):
    class Block(nn.Module):
        def forward(self, x):
            return torch.tanh(x), None  # as transformer blocks return (hidden, attention)

    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block, self.head = Block(), nn.Linear(3, 2)

        def forward(self, pixel_values):
            return {"logits": self.head(self.block(pixel_values)[0])}

    x = torch.randn(10, 3, generator=generator)
    loader = [{"x": x[:6], "y": torch.arange(6) % 2}, {"x": x[6:], "y": torch.arange(4) % 2}]
    result = profile(Wrapped(), loader, batch_fn=lambda b: ({"pixel_values": b["x"]}, b["y"]))
    assert result.layers == ["block", "head:input"] and result.head == "head"
    assert result.values["entropy"][0].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(torch.tanh(x))), abs=1e-9)


def test_entropies_beyond_the_kept_subsample_are_over_every_sample():
    # 200 samples, 40 kept: the entropies still cover all 200 (streamed d×d moments), checked in float64.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3))
    x, y = torch.randn(200, 6), torch.arange(200) % 3
    result = profile(model, [(x[i:i + 50], y[i:i + 50]) for i in range(0, 200, 50)], layers=["0", "1"], max_samples=40, alpha=2.0)
    with torch.no_grad():
        outputs = [model[0](x).double(), model[1](model[0](x)).double()]
    for layer, out in enumerate(outputs):
        z = out[(out != 0).any(1)]
        z = z / z.norm(dim=1, keepdim=True)
        p = torch.linalg.eigvalsh(z @ z.T).clamp_min(0) / z.shape[0]
        p = p[p > 0]
        assert result.values["entropy"][layer].item() == pytest.approx(float(-(p * p.log()).sum()), abs=1e-10)
        assert result.values["renyi_entropy"][layer].item() == pytest.approx(float(-(p.square().sum()).log()), abs=1e-10)
        assert result.counts["entropy"][layer] == z.shape[0]
    labels = y.numpy()
    for layer, out in enumerate([*outputs, outputs[1]]):
        assert result.values["nc1"][layer].item() == pytest.approx(reference.neural_collapse(out.numpy(), labels, np.ones((3, out.shape[1])))["nc1"], rel=1e-9)
        live = (out != 0).any(1)
        want = reference.sample_pairing(out[live].numpy(), labels[live.numpy()], model[2].weight.detach().double().numpy())
        assert result.values["mir"][layer].item() == pytest.approx(want["mir"], abs=1e-9)
        assert result.values["hdr"][layer].item() == pytest.approx(want["hdr"], abs=1e-9)
    assert result.counts["nc1"][0] == 200 and any("over all 200 samples" in note for note in result.notes)
