"""Bad input gets a ValueError (or TypeError) naming the argument and what is expected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay import (
    InterplayTypeError,
    InterplayValueError,
    interplay_metrics,
    matrix_entropy,
    mir,
    nc_reference,
    neural_collapse,
)
from interplay.metrics import InformationInterplay

X = torch.randn(8, 3)
Y = torch.arange(8) % 2
W = torch.randn(2, 3)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: matrix_entropy(torch.randn(5)), r"x must be a 2-D tensor of shape \(n_samples, dim\); got shape \(5,\).*unsqueeze"),
        (lambda: matrix_entropy(torch.randn(2, 3, 4)), r"x must be a 2-D tensor .*flatten"),
        (lambda: matrix_entropy(torch.randn(1, 3)), r"x must have at least 2 rows"),
        (lambda: matrix_entropy(torch.tensor([[1.0, float("nan")], [1.0, 2.0]])), r"x must contain only finite values; got 1 NaN"),
        (lambda: matrix_entropy(torch.tensor([[1.0, float("inf")], [1.0, 2.0]])), r"finite values"),
        (lambda: matrix_entropy(torch.tensor([[0.0, 0.0], [1.0, 2.0]])), r"all-zero rows .* at indices \[0\]"),
        (lambda: mir(torch.randn(4, 2), torch.randn(5, 2)), r"same number of rows .* got 4 and 5"),
        (lambda: interplay_metrics(X, Y + 1, W), r"labels contain 2 but num_classes=2; labels must lie in \[0, 1\]"),
        (lambda: interplay_metrics(X, Y - 1, W), r"labels contain -1"),
        (lambda: interplay_metrics(X, Y[:5], W), r"labels must be a 1-D tensor with one entry per sample \(8\)"),
        (lambda: interplay_metrics(X, torch.zeros(8, dtype=torch.long), W), r"at least two classes; got only class \[0\]"),
        (lambda: interplay_metrics(X, Y, torch.randn(2, 4)), r"head_weight must have shape \(num_classes, 3\)"),
        (lambda: interplay_metrics(X, Y, torch.randn(1, 3)), r"head_weight must have one row per class and at least 2"),
        (lambda: interplay_metrics(X, torch.arange(8) % 3, W), r"labels contain 2 but num_classes=2"),
        (lambda: interplay_metrics(X, Y, W, pairing="pairs"), r"pairing must be one of \('sample', 'class'\)"),
        (lambda: interplay_metrics(X, Y, W, center=torch.zeros(4)), r"center must have shape \(3,\), one entry per feature"),
        (lambda: neural_collapse(X, Y, W, bias=torch.zeros(3)), r"bias must have shape \(2,\)"),
        (lambda: nc_reference(2), r"num_classes must be an int >= 3"),
        (lambda: InformationInterplay(3, 4, center=True), r"center=True with pairing='sample' needs the mean"),
    ],
)
def test_value_errors(call, match):
    with pytest.raises(InterplayValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: matrix_entropy([[1.0, 2.0], [3.0, 4.0]]), r"x must be a torch.Tensor or numpy.ndarray; got list"),
        (lambda: matrix_entropy(torch.ones(3, 2, dtype=torch.long)), r"x must be a floating-point tensor"),
        (lambda: interplay_metrics(X, Y.float(), W), r"labels must be an integer tensor"),
        (lambda: nc_reference(3.0), r"num_classes must be an int"),
    ],
)
def test_type_errors(call, match):
    with pytest.raises(InterplayTypeError, match=match):
        call()


def test_errors_are_builtin_subclasses():
    assert issubclass(InterplayValueError, ValueError) and issubclass(InterplayTypeError, TypeError)


def test_numpy_inputs_are_validated_too():
    with pytest.raises(ValueError, match="finite"):
        matrix_entropy(np.array([[np.nan, 1.0], [1.0, 1.0]]))


@pytest.mark.parametrize("dtype", [torch.int64, "float64"])
@pytest.mark.parametrize("name", ["matrix_entropy", "mir", "neural_collapse", "gram_entropy", "interplay_metrics", "loss"])
def test_a_dtype_that_is_not_a_floating_torch_dtype_is_named(name, dtype):
    from interplay import gram_entropy, interplay_metrics, matrix_entropy, mir, neural_collapse
    from interplay.losses import InterplayLoss

    x, y, w = torch.randn(20, 4), torch.arange(20) % 3, torch.randn(3, 4)
    calls = {
        "matrix_entropy": lambda: matrix_entropy(x, dtype=dtype),
        "mir": lambda: mir(x, w[y], dtype=dtype),
        "neural_collapse": lambda: neural_collapse(x, y, w, dtype=dtype),
        "gram_entropy": lambda: gram_entropy(x @ x.T, dtype=dtype),
        "interplay_metrics": lambda: interplay_metrics(x, y, w, dtype=dtype),
        "loss": lambda: InterplayLoss(1, 1, dtype=dtype)(x, y, w),
    }
    message = "dtype must be a floating-point torch.dtype" if dtype is torch.int64 else r"dtype must be a torch.dtype .* Use torch.float64"
    with pytest.raises(TypeError, match=message):
        calls[name]()
