"""Every model exposes its representation and its final linear layer."""

from __future__ import annotations

import pytest
import torch

from interplay.models import build_model
from interplay.models.transformer import OneLayerTransformer


@pytest.mark.parametrize("name,shape,width", [("mlp", (1, 8, 8), 32), ("cnn", (1, 28, 28), 4), ("cnn", (1, 8, 8), 4), ("resnet18", (3, 32, 32), 4)])
def test_forward_is_head_of_features(name, shape, width):
    model = build_model(name, shape, 7, width=width).eval()
    x = torch.randn(3, *shape)
    features = model.features(x)
    assert features.shape == (3, model.head.in_features)
    torch.testing.assert_close(model(x), model.head(features))


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'vit'; choose one of mlp, cnn, resnet18"):
        build_model("vit", (1, 8, 8), 10)


def test_building_a_model_leaves_batch_norm_statistics_untouched():
    model = build_model("cnn", (1, 28, 28), 10)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(int(m.num_batches_tracked) == 0 and float(m.running_mean.abs().sum()) == 0 for m in norms)


def _full_sequence_logits(model: OneLayerTransformer, pairs: torch.Tensor) -> torch.Tensor:
    """Every position of ``a, b, =`` computed with causal attention, read at the last one."""
    tokens = torch.cat([pairs, torch.full((len(pairs), 1), model.p)], dim=1)
    x = model.embed(tokens) + model.position  # (N, 3, d)
    n, t, d = x.shape
    h, dh = model.heads, d // model.heads

    def split(layer):
        return layer(x).view(n, t, h, dh).transpose(1, 2)

    scores = split(model.query) @ split(model.key).mT / dh**0.5
    scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
    x = x + model.out((scores.softmax(-1) @ split(model.value)).transpose(1, 2).reshape(n, t, d))
    x = x + model.mlp(x)
    return model.head(x)[:, -1]


def test_transformer_matches_the_full_sequence_model():
    torch.manual_seed(0)
    model = OneLayerTransformer(11, d_model=24, heads=3, d_mlp=40).double()
    pairs = torch.cartesian_prod(torch.arange(11), torch.arange(11))
    torch.testing.assert_close(model(pairs), _full_sequence_logits(model, pairs), rtol=1e-12, atol=1e-12)
    fast = torch.autograd.grad(model(pairs).square().sum(), model.parameters())
    slow = torch.autograd.grad(_full_sequence_logits(model, pairs).square().sum(), model.parameters())
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_transformer_initialisation_follows_nanda_et_al():
    torch.manual_seed(0)
    model = OneLayerTransformer(113)
    assert model.embed.weight.std().item() == pytest.approx(128**-0.5, rel=0.02)
    assert model.key.weight.std().item() == pytest.approx(128**-0.5, rel=0.02)
    assert model.head.weight.std().item() == pytest.approx(113**-0.5, rel=0.02)
    assert not model.mlp[0].bias.any() and not model.mlp[2].bias.any()


def test_transformer_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="d_model must be a multiple of heads; got d_model=16, heads=3"):
        OneLayerTransformer(7, d_model=16, heads=3)
