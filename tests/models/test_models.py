"""Every model exposes its representation and its final linear layer."""

from __future__ import annotations

import pytest
import torch

from interplay.models import build_model


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
