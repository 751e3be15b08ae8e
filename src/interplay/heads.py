"""Where a classifier's representation and heads are: the final layer, its weight, its input.

The representation is the input of the final layer and the heads are the rows of its (C, d)
weight (arXiv 2406.03999). The layer is found by name or rule, read with a forward hook, and checked
against the model's output, so the metrics can never come silently from another layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager

import torch
from torch import nn

from interplay.functional.gram import resolve_dtype
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["find_head", "head_weight", "tap_features", "model_logits", "split_batch", "call_model", "HeadCalls"]


def head_weight(head: nn.Module, name: str = "head") -> torch.Tensor:
    """The (C, d) weight of a head: a 2-D ``weight``, or a 1×1 convolution's (C, d, 1, 1) squeezed.

    Example:
        >>> head_weight(nn.Conv2d(8, 3, kernel_size=1)).shape
        torch.Size([3, 8])
    """
    weight = getattr(head, "weight", None)
    if not isinstance(weight, torch.Tensor):
        raise InterplayValueError(
            f"{name} ({type(head).__name__}) has no weight tensor; probe needs the final layer whose "
            "(num_classes, dim) weight holds the heads: an nn.Linear, a 1×1 convolution, or any module "
            "with a 2-D weight (e.g. a cosine classifier)."
        )
    if weight.ndim > 2 and all(size == 1 for size in weight.shape[2:]):
        weight = weight.flatten(1)
    if weight.ndim != 2 or weight.shape[0] < 2:
        raise InterplayValueError(
            f"{name} ({type(head).__name__}) has a weight of shape {tuple(weight.shape)}; probe needs one row "
            "per class, shape (num_classes >= 2, dim), or a 1×1 convolution's (num_classes, dim, 1, 1)."
        )
    return weight


def find_head(model: nn.Module, head: nn.Module | str | None = None) -> nn.Module:
    """The classifier's final layer: ``head`` itself, the submodule it names, ``model.head``, or
    else the last ``nn.Linear`` registered in the model.

    An explicit ``head`` may be any module with a (C, d) weight (see :func:`head_weight`). The
    automatic choice is only a guess: :func:`interplay.probe` checks on the first batch that the
    guessed layer produces the model's output and otherwise asks for ``head=``.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> find_head(model) is model[2]
        True
    """
    if isinstance(head, nn.Module):
        head_weight(head, "head")
        return head
    if isinstance(head, str):
        found = dict(model.named_modules()).get(head)
        if found is None:
            raise InterplayValueError(
                f"head={head!r} names no submodule of the model; pass one of the names in "
                "model.named_modules() or the module itself."
            )
        head_weight(found, f"head={head!r}")
        return found
    if head is not None:
        raise InterplayTypeError(f"head must be an nn.Module, a submodule name or None; got {type(head).__name__}.")
    own = getattr(model, "head", None)
    if isinstance(own, nn.Module) and isinstance(getattr(own, "weight", None), torch.Tensor):
        head_weight(own, "model.head")
        return own
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InterplayValueError(
            "could not find the model's classification head: it has no nn.Linear layer and no .head. "
            "Pass head=<the final layer or its name>."
        )
    return linears[-1]


@contextmanager
def tap_features(head: nn.Module, *, detach: bool = True):
    """Record the input of ``head`` at each forward call as (B, d), without changing the model.

    With ``detach=False`` the recorded tensors stay in the autograd graph, for loss terms. An
    input that is not one d-vector per sample (e.g. per-token (B, T, d)) is refused, since
    flattening it would mix positions into one vector.

    Example:
        >>> head = nn.Linear(4, 2)
        >>> with tap_features(head) as seen:
        ...     _ = head(torch.ones(3, 4))
        >>> seen[0].shape
        torch.Size([3, 4])
    """
    dim = head_weight(head).shape[1]
    seen: list[torch.Tensor] = []

    def hook(_module, inputs, _output):
        x = inputs[0].flatten(1)
        if x.shape[1] != dim:
            raise InterplayValueError(
                f"the head's input has shape {tuple(inputs[0].shape)}, not one {dim}-vector per sample; "
                "for per-token heads use interplay.probe(..., per_token=True)."
            )
        seen.append(x.detach() if detach else x)

    handle = head.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def model_logits(output) -> torch.Tensor:
    """The logits in a model's output: a tensor, an object with ``.logits``, or a dict with "logits"."""
    if isinstance(output, torch.Tensor):
        return output
    logits = output.get("logits") if isinstance(output, Mapping) else getattr(output, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    raise InterplayTypeError(
        f"the model returned {type(output).__name__}; probe needs the logits as a tensor, an object with "
        "a .logits tensor, or a dict with a 'logits' entry."
    )


def split_batch(batch, batch_fn=None) -> tuple[object, torch.Tensor]:
    """``(inputs, labels)`` of one loader batch: ``batch_fn(batch)``, or the first two items of a
    tuple or list (so ``(x, y, index)`` works); dict batches need ``batch_fn``. ``inputs`` may be
    a tensor, a tuple or list of positional inputs, or a dict of keyword inputs.

    Example:
        >>> split_batch((torch.zeros(2, 3), torch.tensor([0, 1], dtype=torch.int32), [7, 8]))[1]
        tensor([0, 1])
    """
    if batch_fn is not None:
        out = batch_fn(batch)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise InterplayTypeError(f"batch_fn must return (inputs, labels); got {type(out).__name__}.")
    elif isinstance(batch, Mapping):
        raise InterplayTypeError(
            f"the loader yields dicts (keys {sorted(batch)[:6]}); pass batch_fn=lambda b: (inputs, labels), "
            "e.g. batch_fn=lambda b: (b['pixel_values'], b['labels']). A dict of inputs is passed as model(**inputs)."
        )
    elif isinstance(batch, (tuple, list)) and len(batch) >= 2:
        out = batch[0], batch[1]
    else:
        raise InterplayTypeError(
            f"each loader batch must be (inputs, labels, ...) or be mapped to it by batch_fn; got {type(batch).__name__}."
        )
    inputs, labels = out
    labels = torch.as_tensor(labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise InterplayTypeError(
            f"labels must be integer class indices; got dtype {labels.dtype}. Map them in batch_fn "
            "(e.g. argmax over one-hot labels)."
        )
    return inputs, labels.long()


def call_model(model: nn.Module, inputs, device: torch.device | str | None = None):
    """Run ``model`` on a batch's inputs: a tensor, a tuple or list (``model(*inputs)``) or a dict
    (``model(**inputs)``), with the tensors in it moved to ``device`` (``None``: left where they are).

    Example:
        >>> call_model(lambda a, b: a + b, (torch.ones(2), torch.ones(2))).tolist()
        [2.0, 2.0]
    """
    def moved(value):
        return value.to(device) if device is not None and isinstance(value, torch.Tensor) else value

    if isinstance(inputs, Mapping):
        return model(**{k: moved(v) for k, v in inputs.items()})
    if isinstance(inputs, (tuple, list)):
        return model(*[moved(v) for v in inputs])
    return model(moved(inputs))


class HeadCalls:
    """Turns the head calls of one forward pass into representations, with the checks every reader shares.

    A guessed head (``automatic=True``) stands only if its output is the model's logits (checked on
    the first pass); the head must run once per pass; a (B, T, d) input with ``per_token=True``
    becomes one sample per token whose label is not ``ignore_index``; a (B, d, 1, 1) input (a 1×1
    convolution on pooled maps) one sample per image. Half precision is read as float32, a float64
    model's representations keep their precision.

    Example:
        >>> head = nn.Linear(4, 3)
        >>> x = torch.randn(5, 4)
        >>> reader = HeadCalls(head, automatic=True)
        >>> features, out, logits, labels = reader.rows([(x, head(x))], head(x), torch.arange(5) % 3)
        >>> tuple(features.shape), labels.tolist()
        ((5, 4), [0, 1, 2, 0, 1])
    """

    def __init__(self, head: nn.Module, *, per_token: bool = False, ignore_index: int = -100, automatic: bool = False) -> None:
        self.head, self.per_token, self.ignore_index, self.automatic = head, per_token, ignore_index, automatic
        self.dim = head_weight(head).shape[1]
        self.checked = False

    def rows(self, calls, logits: torch.Tensor, labels: torch.Tensor):
        """(features (m, d), head outputs (m, C), logits (m, C), labels (m,)) of one pass."""
        if len(calls) != 1 and self.automatic:
            raise self.cannot_tell(f"ran {len(calls)} times in one forward pass")
        if len(calls) != 1:
            raise InterplayValueError(
                f"the head ({type(self.head).__name__}) ran {len(calls)} times in one forward pass; the "
                "metrics need a head that runs once per batch. Pass head=<the final layer>."
            )
        x, out = calls[0]
        if not self.checked:
            self._check_output(out, logits)
        d = self.dim
        if x.ndim == 4 and x.shape[1] == d and x.shape[2:].numel() == 1:
            x, out, logits = x.flatten(1), out.flatten(1), logits.flatten(1)
        if x.ndim == 3 and x.shape[-1] == d and self.per_token:
            if labels.shape != x.shape[:2]:
                raise InterplayValueError(
                    f"per_token=True needs one label per token, shape {tuple(x.shape[:2])}; got {tuple(labels.shape)}."
                )
            keep = labels.reshape(-1) != self.ignore_index  # (B·T,)
            x, out, logits = x.reshape(-1, d)[keep], out.reshape(-1, out.shape[-1])[keep], logits.reshape(-1, logits.shape[-1])[keep]
            labels = labels.reshape(-1)[keep]
        if x.ndim != 2 or x.shape[1] != d:
            hint = " It looks per-token: pass per_token=True with (B, T) labels." if x.ndim == 3 and x.shape[-1] == d else ""
            raise InterplayValueError(
                f"the head's input has shape {tuple(x.shape)}; the metrics expect one {d}-vector per sample, (B, {d}), "
                f"or per-token (B, T, {d}) with per_token=True, or (B, {d}, 1, 1) for a 1×1 convolution.{hint}"
            )
        if labels.shape != (x.shape[0],):
            raise InterplayValueError(f"labels must have one entry per sample ({x.shape[0]}); got shape {tuple(labels.shape)}.")
        return tuple(t.to(resolve_dtype(t, None)) for t in (x, out, logits)) + (labels,)

    def _check_output(self, out, logits) -> None:
        # The automatic choice is a guess; it stands only if that layer's output is the model's.
        self.checked = True
        if not self.automatic or out is logits:
            return
        if isinstance(out, torch.Tensor) and out.shape == logits.shape and torch.equal(out.to(logits.dtype), logits):
            return
        raise self.cannot_tell("does not produce the model's output")

    def cannot_tell(self, why: str) -> InterplayValueError:
        """The error for a guessed head that cannot be confirmed."""
        return InterplayValueError(
            f"could not tell which layer produces the model's logits: the guessed head ({type(self.head).__name__}, "
            f"model.head or the last nn.Linear) {why}. Pass head=<the final layer or its name>."
        )
