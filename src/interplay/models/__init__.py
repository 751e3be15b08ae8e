"""Hand-written classifiers; each exposes ``features(x)`` and its final ``nn.Linear`` as ``head``."""

from __future__ import annotations

from torch import nn

from interplay.models.cnn import SmallCNN
from interplay.models.mlp import MLP
from interplay.models.resnet import ResNet18
from interplay.validation import InterplayValueError

__all__ = ["MLP", "SmallCNN", "ResNet18", "MODELS", "build_model"]

MODELS = {"mlp": MLP, "cnn": SmallCNN, "resnet18": ResNet18}


def build_model(name: str, in_shape: tuple[int, ...], num_classes: int, *, width: int | None = None) -> nn.Module:
    """A registered model for inputs of shape ``in_shape`` (C, H, W); ``width=None`` keeps its default.

    Example:
        >>> build_model("mlp", (1, 8, 8), 10, width=32).head
        Linear(in_features=32, out_features=10, bias=True)
    """
    if name not in MODELS:
        raise InterplayValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}.")
    kwargs = {} if width is None else {"width": width}
    return MODELS[name](in_shape, num_classes, **kwargs)
