"""Layer profile: which layers it reads by default (activations, a Hugging Face model's hidden_states),
checked against float64 computations on features computed here without hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from interplay.layer_profile import profile
from interplay.layer_profile.capture import capture
from interplay.models.mlp import MLP


def test_default_layers_of_the_mlp_are_its_activations_and_the_fit_runs_over_them(generator):
    torch.manual_seed(1)
    model = MLP((1, 4, 4), 3, width=10, depth=3)
    x, y = torch.randn(90, 1, 4, 4, generator=generator), torch.arange(90) % 3
    result = profile(model, [(x[i:i + 40], y[i:i + 40]) for i in range(0, 90, 40)])
    # Flatten, (Linear, ReLU) × 3: the input and each ReLU; the last ReLU is the head's input, read once.
    assert result.layers == ["body.0", "body.2", "body.4", "head:input"]
    assert any("'body.6' left out: its output is the head's input" in note for note in result.notes)
    with torch.no_grad():  # the model's own float32 layers, called one by one
        activations = [model.body[:end](x).double().numpy() for end in (1, 3, 5, 7)]
    nc1 = []
    for depth, z in enumerate(activations):
        live = np.abs(z).sum(1) > 0
        assert result.values["entropy"][depth].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(z[live])), abs=1e-9)
        nc1.append(reference.neural_collapse(z, y.numpy(), np.ones((3, z.shape[1])))["nc1"])
        assert result.values["nc1"][depth].item() == pytest.approx(nc1[-1], rel=1e-7)
    slope, intercept = np.polyfit(np.arange(4), np.log(nc1), 1)
    assert result.separation.layers == tuple(result.layers)
    assert result.separation.slope == pytest.approx(slope, abs=1e-9)
    assert result.separation.intercept == pytest.approx(intercept, abs=1e-9)


def test_named_layers_keep_the_pre_activations_and_the_duplicate(generator):
    model = MLP((1, 2, 2), 2, width=5, depth=1)
    x = torch.randn(12, 1, 2, 2, generator=generator)
    result = profile(model, [(x, torch.arange(12) % 2)], layers=["body.*"])
    assert result.layers == ["body.0", "body.1", "body.2", "head:input"]
    assert result.values["entropy"][2].item() == pytest.approx(result.values["entropy"][3].item(), abs=1e-12)


def tiny_bert(generator):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                                     intermediate_size=24, max_position_embeddings=16)
    torch.manual_seed(0)
    model = transformers.BertModel(config)
    ids = torch.randint(0, 50, (30, 8), generator=generator)
    loader = [({"input_ids": ids[i:i + 10], "attention_mask": torch.ones(10, 8, dtype=torch.long)}, None)
              for i in range(0, 30, 10)]
    return model, loader


def test_hugging_face_default_layers_are_the_hidden_states_it_returns(generator):
    model, loader = tiny_bert(generator)
    model.train()  # the profile runs it in eval mode, as here below
    with torch.no_grad():
        model(**loader[0][0], output_hidden_states=True)  # transformers may add hooks of its own on a first call
    hooks = [list(m._forward_hooks) for m in model.modules()]
    result = profile(model, loader, head=False)
    assert model.training and [list(m._forward_hooks) for m in model.modules()] == hooks
    assert result.layers == [f"hidden_states.{k}" for k in range(4)] and result.head is None
    model.eval()
    with torch.no_grad():
        hidden = [model(**inputs, output_hidden_states=True).hidden_states for inputs, _ in loader]  # per batch, (B, T, d) each
    for k in range(4):
        z = torch.cat([states[k].mean(1) for states in hidden]).double().numpy()  # mean over the tokens, as stored
        assert result.values["entropy"][k].item() == pytest.approx(reference.entropy_of(reference.cosine_gram(z)), abs=1e-9)
    captured = capture(model, loader, [], device=None, batch_fn=None, pool="mean", tokens="mean", ignore_index=-100,
                       max_samples=None, memory_budget=2**20, seed=0, check_head=False, need_labels=False,
                       hidden_states=True)
    assert [tap.read for tap in captured.taps] == ["hidden_states"] * 4
    for k, rows in enumerate(captured.features):
        assert torch.equal(rows, torch.cat([states[k].mean(1) for states in hidden]))
    # Hooks on the modules that produce those hidden states read the same tensors.
    hooked = profile(model, loader, layers=["embeddings", "encoder.layer.?"], head=False)
    assert hooked.layers == ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2"]
    assert torch.equal(hooked.values["entropy"], result.values["entropy"])
