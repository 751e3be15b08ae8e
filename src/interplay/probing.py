"""Metrics of any PyTorch classifier, read at the input of its final linear layer by a forward hook."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from interplay.functional.collapse import NeuralCollapseResult, class_means_of
from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.functional.interplay import InterplayResult, interplay_metrics
from interplay.metrics import InformationInterplay, NeuralCollapse
from interplay.training.distributed import all_gather, all_sum
from interplay.validation import InterplayValueError

__all__ = ["probe", "find_head", "ProbeResult", "tap_features"]


@dataclass
class ProbeResult:
    """Loss, accuracy, information metrics and neural collapse of a model on some data.

    ``class_means`` (C, d) are the data's class means, e.g. for NC4 on a test set;
    ``mean`` (d,) is its mean representation. ``estimate`` says how the information metrics
    were computed: ``"exact"`` (all samples, streamed or, with ``information_samples`` >= n, one-shot)
    or ``"subsample:<m>"`` (the first m samples).
    """

    loss: float
    accuracy: float
    n: int
    information: InterplayResult
    collapse: NeuralCollapseResult
    class_means: torch.Tensor
    mean: torch.Tensor
    estimate: str

    def as_row(self) -> dict[str, float | int | str | None]:
        """A flat dict for one CSV row: loss, accuracy, the information metrics and NC1–NC4."""
        info = self.information.as_dict()
        row = {"loss": self.loss, "accuracy": self.accuracy, "n": self.n, "n_information": self.information.n, "estimate": self.estimate}
        row |= {k: info[k] for k in ("h_z", "h_w", "h_joint", "mi", "mir", "hdr", "method")}
        row |= {k: v for k, v in self.collapse.as_dict().items() if k.startswith("nc")}
        return row


def find_head(model: nn.Module, head: nn.Linear | str | None = None) -> nn.Linear:
    """The classifier's final linear layer: ``head`` itself, the submodule it names, ``model.head``,
    or else the last ``nn.Linear`` registered in the model.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> find_head(model) is model[2]
        True
    """
    if isinstance(head, nn.Linear):
        return head
    if isinstance(head, str):
        found = dict(model.named_modules()).get(head)
        if not isinstance(found, nn.Linear):
            raise InterplayValueError(f"head={head!r} must name an nn.Linear submodule of the model; got {type(found).__name__}.")
        return found
    if isinstance(getattr(model, "head", None), nn.Linear):
        return model.head
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InterplayValueError(
            "could not find the model's classification head: it has no nn.Linear layer. "
            "Pass head=<the final nn.Linear module or its name>."
        )
    return linears[-1]


def _means(metric: NeuralCollapse) -> tuple[torch.Tensor, torch.Tensor]:
    """Class means (C, d) and mean (d,) of the data seen by ``metric`` on all processes."""
    with metric.sync_context():
        return class_means_of(metric.counts, metric.sums), metric.sums.sum(0) / metric.counts.sum()


@contextmanager
def tap_features(head: nn.Linear, *, detach: bool = True):
    """Record the input of ``head`` at each forward call, without changing the model.

    With ``detach=False`` the recorded tensors stay in the autograd graph, for loss terms.
    """
    seen: list[torch.Tensor] = []

    def hook(_module, inputs, _output):
        seen.append(inputs[0].detach().flatten(1) if detach else inputs[0].flatten(1))

    handle = head.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def _forward(model, head, loader, device):
    """Yield (features, logits, labels) batch by batch, in evaluation mode and without gradients."""
    with torch.no_grad(), tap_features(head) as seen:
        for inputs, labels in loader:
            logits = model(inputs.to(device))
            yield seen.pop().float(), logits.float(), labels.to(device)


def probe(
    model: nn.Module,
    loader: Iterable,
    head: nn.Linear | str | None = None,
    *,
    pairing: str = "sample",
    center: bool = False,
    class_means: torch.Tensor | None = None,
    max_exact_size: int = MAX_EXACT_SIZE,
    information_samples: int | None = None,
    cache_bytes: int = 2**28,
) -> ProbeResult:
    """Loss, accuracy, MIR, HDR, entropies and NC1–NC4 of a classifier on the data of ``loader``.

    The representation is the input of the final linear layer (``head``, see :func:`find_head`),
    read with a forward hook; the model is put in eval mode and restored afterwards. The metrics
    are streamed (fixed memory). NC4 compares predictions with the nearest of ``class_means``
    (pass a training set's); without them it uses the data's own means, from a first pass whose
    representations and logits are kept in memory up to ``cache_bytes`` (else the model runs twice).
    ``center=True`` with sample pairing also needs the mean first, from that same first pass.

    Args:
        model: a classifier whose forward returns logits.
        loader: re-iterable ``(inputs, labels)`` batches, e.g. a DataLoader (iterated twice when
            ``class_means`` is not given).
        head: the final nn.Linear or its name; found automatically when ``None``.
        pairing, center, max_exact_size: as in :func:`interplay.interplay_metrics`.
        class_means: (C, d) centres for NC4.
        information_samples: compute the information metrics on the first this many samples
            only (a one-shot exact value on a subsample); ``None`` uses all of them.
        cache_bytes: memory allowed for keeping the first pass instead of running a second one.

    Example:
        >>> torch.manual_seed(0) and None
        >>> model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
        >>> data = [(torch.randn(30, 5), torch.arange(30) % 3) for _ in range(2)]
        >>> result = probe(model, data)
        >>> result.n, result.information.method, result.collapse.nc4 is not None
        (60, 'class-blocks', True)
    """
    head = find_head(model, head)
    device = head.weight.device
    num_classes, dim = head.weight.shape
    weight = head.weight.detach().double()
    bias = None if head.bias is None else head.bias.detach().double()
    was_training = model.training
    model.eval()
    try:
        mean, batches = None, None
        if class_means is None or (center and pairing == "sample"):
            first = NeuralCollapse(num_classes, dim).to(device)
            batches, size = [], 0
            for batch in _forward(model, head, loader, device):
                first.update(batch[0], batch[2], weight)
                size += sum(t.numel() * t.element_size() for t in batch)
                if batches is not None:
                    batches.append(batch)
                    batches = None if size > cache_bytes else batches
            own_means, mean = _means(first)
            class_means = own_means if class_means is None else class_means
        center_arg = mean if (center and pairing == "sample") else center
        info = InformationInterplay(
            num_classes, dim, pairing=pairing, center=center_arg, max_exact_size=max_exact_size, skip_zero_rows=True
        )
        collapse = NeuralCollapse(num_classes, dim, class_means=class_means.double())
        info, collapse = info.to(device), collapse.to(device)
        kept: list[tuple[torch.Tensor, torch.Tensor]] = []
        loss_sum, correct, len_seen = 0.0, 0, 0
        for features, logits, labels in batches if batches is not None else _forward(model, head, loader, device):
            len_seen += labels.shape[0]
            collapse.update(features, labels, weight, bias)
            if information_samples is None:
                info.update(features, labels, weight)
            elif sum(len(k[1]) for k in kept) < information_samples:
                kept.append((features, labels))
            loss_sum += float(torch.nn.functional.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
    finally:
        model.train(was_training)
    loss_sum, correct, n = all_sum(torch.tensor([loss_sum, correct, len_seen], dtype=torch.float64)).tolist()
    if information_samples is None:
        information, estimate = info.compute(), "exact"
    else:
        features = torch.cat(all_gather(torch.cat([k[0] for k in kept])))[:information_samples]
        labels = torch.cat(all_gather(torch.cat([k[1] for k in kept])))[:information_samples]
        keep = (features != 0).any(dim=1)  # (m,) dead representations cannot be normalised
        features, labels = features[keep], labels[keep]
        information = interplay_metrics(features, labels, weight, pairing=pairing, center=center_arg, max_exact_size=max_exact_size)
        estimate = "exact" if labels.shape[0] + int((~keep).sum()) == n else f"subsample:{features.shape[0]}"
    means, mean = _means(collapse)
    return ProbeResult(loss_sum / n, correct / n, int(n), information, collapse.compute(), means, mean, estimate)
