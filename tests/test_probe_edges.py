"""probe() on a researcher's own model and loader: explicit heads, modes, batch forms, tokens, edges."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import reference
from interplay import interplay_metrics, neural_collapse
from interplay.probing import probe


class CosineHead(nn.Module):
    """A cosine classifier: scaled cosines between features and class weights; not an nn.Linear."""

    def __init__(self, dim: int, classes: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim))

    def forward(self, x):
        return 10 * nn.functional.normalize(x, dim=1) @ nn.functional.normalize(self.weight, dim=1).T


class CosineNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 6), nn.Tanh())
        self.classifier = CosineHead(6, 4)
        self.aux = nn.Linear(6, 4)  # registered last, never called: the wrong layer to guess

    def forward(self, x):
        return self.classifier(self.body(x))


def data(generator, n=80, d=3, classes=4):
    x = torch.randn(n, d, generator=generator)
    return x, torch.arange(n) % classes


def test_explicit_non_linear_head_is_used(generator):
    torch.manual_seed(0)
    model = CosineNet()
    x, y = data(generator)
    result = probe(model, [(x, y)], head=model.classifier)
    with torch.no_grad():
        features = model.body(x)
    expected = interplay_metrics(features, y, model.classifier.weight)
    assert result.information.mir.item() == pytest.approx(expected.mir.item(), abs=1e-9)
    assert result.information.hdr.item() == pytest.approx(expected.hdr.item(), abs=1e-9)
    assert probe(model, [(x, y)], head="classifier").information.mir.item() == pytest.approx(expected.mir.item(), abs=1e-9)


def test_automatic_choice_refuses_a_layer_that_is_not_the_output(generator):
    model = CosineNet()
    x, y = data(generator)
    with pytest.raises(ValueError, match="could not tell which layer produces the model's logits"):
        probe(model, [(x, y)])


def test_a_head_without_a_class_weight_is_refused():
    model = CosineNet()
    with pytest.raises(ValueError, match="body.*has no weight tensor"):
        probe(model, [], head="body")
    with pytest.raises(ValueError, match="names no submodule"):
        probe(model, [], head="nothing")


def test_every_submodule_gets_its_own_mode_back(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 4))
    model.train()
    model[1].eval()  # a frozen batch-norm inside a model in training mode
    x, y = data(generator)
    probe(model, [(x, y)])
    assert [m.training for m in model] == [True, False, True, True, True]
    assert model.training


def test_batch_forms_index_triples_dicts_and_int32_labels(generator):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    x, y = data(generator)
    plain = probe(model, [(x, y)]).information.mir.item()
    triple = probe(model, [(x, y.int(), torch.arange(len(y)))]).information.mir.item()
    dicts = [{"image": x, "label": y.to(torch.int32)}]
    keyed = probe(model, dicts, batch_fn=lambda b: (b["image"], b["label"])).information.mir.item()
    assert triple == pytest.approx(plain, abs=1e-12) and keyed == pytest.approx(plain, abs=1e-12)
    with pytest.raises(TypeError, match="the loader yields dicts .* pass batch_fn="):
        probe(model, dicts)
    with pytest.raises(TypeError, match="labels must be integer class indices"):
        probe(model, [(x, y.float())])


class DictInputModel(nn.Module):
    """Takes keyword inputs and returns an object with ``.logits``, like Hugging Face models."""

    def __init__(self) -> None:
        super().__init__()
        self.body, self.head = nn.Linear(3, 6), nn.Linear(6, 4)

    def forward(self, pixel_values):
        return type("Output", (), {"logits": self.head(torch.tanh(self.body(pixel_values)))})()


def test_keyword_inputs_and_output_objects(generator):
    model = DictInputModel()
    x, y = data(generator)
    result = probe(model, [{"inputs": {"pixel_values": x}, "labels": y}], batch_fn=lambda b: (b["inputs"], b["labels"]))
    with torch.no_grad():
        features = torch.tanh(model.body(x))
    assert result.information.mir.item() == pytest.approx(interplay_metrics(features, y, model.head.weight).mir.item(), abs=1e-9)


class TokenModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed, self.head = nn.Embedding(20, 6), nn.Linear(6, 3)

    def forward(self, tokens):
        return self.head(torch.tanh(self.embed(tokens)))  # (B, T, C)


def test_per_token_heads(generator):
    torch.manual_seed(0)
    model = TokenModel()
    tokens = torch.randint(20, (5, 7), generator=generator)
    labels = torch.randint(3, (5, 7), generator=generator)
    labels[0, :3] = -100
    with pytest.raises(ValueError, match="per_token=True"):
        probe(model, [(tokens, labels)])
    result = probe(model, [(tokens, labels)], per_token=True)
    with torch.no_grad():
        features = torch.tanh(model.embed(tokens)).reshape(-1, 6)
    keep = labels.reshape(-1) != -100
    expected = interplay_metrics(features[keep], labels.reshape(-1)[keep], model.head.weight)
    assert result.n == int(keep.sum())
    assert result.information.mir.item() == pytest.approx(expected.mir.item(), abs=1e-9)


def test_one_by_one_convolution_head(generator):
    torch.manual_seed(0)
    body = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    model = nn.Sequential(body, nn.Conv2d(6, 4, 1), nn.Flatten())
    images = torch.randn(40, 1, 8, 8, generator=generator)
    labels = torch.arange(40) % 4
    result = probe(model, [(images, labels)], head=model[1])
    with torch.no_grad():
        features = body(images).flatten(1)
    weight = model[1].weight.flatten(1)
    assert result.information.mir.item() == pytest.approx(interplay_metrics(features, labels, weight).mir.item(), abs=1e-9)
    expected = neural_collapse(features, labels, weight, bias=model[1].bias)
    assert result.collapse.nc4.item() == pytest.approx(expected.nc4.item(), abs=1e-12)
    wide = nn.Sequential(nn.Conv2d(1, 6, 3), nn.Conv2d(6, 4, 1))
    with pytest.raises(ValueError, match=r"the head's input has shape \(40, 6, 6, 6\)"):
        probe(wide, [(images, labels)], head=wide[1])


def test_empty_loader_and_bad_options(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    x, y = data(generator)
    with pytest.raises(ValueError, match="the loader yielded no samples"):
        probe(model, [])
    with pytest.raises(ValueError, match="method must be one of auto, exact, stochastic"):
        probe(model, [(x, y)], method="subsample")
    for bad in (0, -1e-3, float("nan"), True):
        with pytest.raises((ValueError, TypeError), match="tolerance must be a number > 0"):
            probe(model, [(x, y)], tolerance=bad)
    with pytest.raises(ValueError, match="undefined must be 'raise' or 'nan'"):
        probe(model, [(x, y)], undefined="skip")


def test_undefined_metrics_raise_or_become_nan(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(1.0)  # every sample has the same representation: a rank-one Gram
    x, y = data(generator)
    with pytest.raises(ValueError, match="undefined"):
        probe(model, [(x, y)])
    result = probe(model, [(x, y)], undefined="nan")
    assert torch.isnan(result.information.mir) and torch.isnan(result.collapse.nc1)
    assert result.estimate == "undefined" and len(result.warnings) == 2
    assert result.accuracy == pytest.approx(float((model(x).argmax(1) == y).float().mean()))


class TwoInputModel(nn.Module):
    """forward(x1, x2), like a two-view or image-and-metadata classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.left, self.right, self.head = nn.Linear(3, 6), nn.Linear(2, 6), nn.Linear(6, 4)

    def forward(self, x1, x2, *, scale=1.0):
        return self.head(torch.relu(self.left(x1) + scale * self.right(x2)))


def test_models_of_several_inputs(generator):
    torch.manual_seed(0)
    model = TwoInputModel()
    x1, y = data(generator)
    x2 = torch.randn(len(y), 2, generator=generator)
    with torch.no_grad():
        features = torch.relu(model.left(x1) + model.right(x2))
    keep = (features != 0).any(dim=1)
    want = reference.sample_pairing(features[keep], y[keep], model.head.weight.detach())
    triples = [(x1[:40], x2[:40], y[:40]), (x1[40:], x2[40:], y[40:])]
    for loader, batch_fn in (
        (triples, lambda b: ((b[0], b[1]), b[2])),
        (triples, lambda b: ([b[0], b[1]], b[2])),
        (triples, lambda b: ({"x1": b[0], "x2": b[1]}, b[2])),
        ([((x1, x2), y)], None),
    ):
        result = probe(model, loader, batch_fn=batch_fn)
        assert result.n == len(y) and result.information.mir.item() == pytest.approx(want["mir"], abs=1e-6)


@pytest.mark.parametrize("center", [False, True])
def test_a_dead_layer_is_named_as_the_cause(generator, center):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every unit is dead for every input
    x, y = data(generator)
    with pytest.raises(ValueError, match="80 of 80 samples have an all-zero representation"):
        probe(model, [(x, y)], center=center)
    result = probe(model, [(x, y)], center=center, undefined="nan")
    assert torch.isnan(result.information.mir) and "dead units" in result.warnings[0]
    assert result.as_row()["n_information"] == 0 and result.n == 80  # the information metrics measured no sample



def test_a_live_sample_at_the_live_mean_makes_the_centred_metrics_undefined_without_stopping():
    # The live rows' mean is (11, 11), which the third sample sits on; the dead rows do not move it.
    x = torch.tensor([[12.0, 10.0], [10.0, 12.0], [11.0, 11.0], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 0, 1])
    model = nn.Sequential(nn.Identity(), nn.Linear(2, 2)).double()
    with pytest.raises(ValueError, match="features after centring must not contain all-zero rows"):
        probe(model, [(x, y)], center=True)
    result = probe(model, [(x, y)], center=True, undefined="nan")
    assert torch.isnan(result.information.mir) and "features after centring" in result.warnings[0]
    assert result.n == 5 and result.accuracy == pytest.approx(float((model(x).argmax(1) == y).double().mean()))


def test_data_without_a_class_is_measured(generator):
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 4))
    x, y = data(generator)
    y[y == 2] = 3  # class 2 is absent, e.g. from a small test split
    result = probe(model, [(x, y)], undefined="nan")
    with torch.no_grad():
        features = torch.tanh(model[0](x))
    want = reference.sample_pairing(features, y, model[2].weight.detach())
    assert result.information.mir.item() == pytest.approx(want["mir"], abs=1e-9)
    assert torch.isnan(result.class_means[2]).all() and torch.isfinite(result.class_means[[0, 1, 3]]).all()
    assert torch.isnan(result.collapse.nc1) and any("class" in w for w in result.warnings)
    again = probe(model, [(x, y)], class_means=result.class_means, undefined="nan")  # no centre for class 2: no NC4
    assert again.information.mir.item() == pytest.approx(want["mir"], abs=1e-9)
