"""Metrics of any PyTorch classifier, read at the input of its final layer by a forward hook."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from interplay.functional.closed_form import mean_cosine, reference_at_cosine
from interplay.functional.collapse import NeuralCollapseResult
from interplay.functional.collapse import collapse_options as collapse_options_of
from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.functional.interplay import InterplayResult
from interplay.heads import HeadCalls, call_model, find_head, head_weight, model_logits, split_batch, tap_features
from interplay.metrics import InformationInterplay, NeuralCollapse
from interplay.metrics.information import MEMORY_BUDGET
from interplay.processes import all_sum
from interplay.validation import InterplayValueError, check_center

__all__ = ["probe", "find_head", "ProbeResult", "tap_features"]


@dataclass
class ProbeResult:
    """Loss, accuracy, information metrics and neural collapse of a model on some data.

    ``class_means`` (C, d) are the data's class means (NaN for a class it lacks), e.g. for NC4 on
    a test set; ``mean`` (d,) is its mean representation; both count every sample, dead ones
    included, as neural collapse does. ``live_mean`` (d,) leaves out the all-zero (dead)
    representations, as the information metrics do: it is their centre with ``center=True``,
    and the one to pass as ``center=`` to centre another split alike. ``estimate`` says how the
    information metrics were computed from all samples: ``"exact"``, ``"stochastic"`` (with
    standard errors in ``information``), or ``"undefined"``. ``warnings`` says why any metric is
    NaN (only with ``undefined="nan"``).
    """

    loss: float
    accuracy: float
    n: int
    information: InterplayResult
    collapse: NeuralCollapseResult
    class_means: torch.Tensor
    mean: torch.Tensor
    estimate: str
    warnings: list[str] = field(default_factory=list)
    live_mean: torch.Tensor | None = None

    def as_row(self) -> dict[str, float | int | str | None]:
        """A flat dict for one CSV row: loss, accuracy, the information metrics and NC1–NC4; for the
        uncentred sample pairing also ``rho``, the mean cosine of the class means, and ``mir_rho``,
        ``hdr_rho``, the collapse values for it (:func:`~interplay.functional.closed_form.nc_reference`)."""
        info = self.information.as_dict()
        row = {"loss": self.loss, "accuracy": self.accuracy, "n": self.n, "n_information": self.information.n, "estimate": self.estimate}
        row |= {k: info[k] for k in ("h_z", "h_w", "h_joint", "mi", "mir", "hdr", "path")}
        # An exact value has no sampling error; an undefined one has no error to state.
        error = {"exact": 0.0, "stochastic": None, "undefined": float("nan")}[self.estimate]
        row |= {f"se_{k}": info[f"se_{k}"] if error is None else error for k in ("h_joint", "mi", "mir", "hdr")}
        row |= {k: v for k, v in self.collapse.as_dict().items() if k.startswith("nc")}
        if self.information.pairing == "sample" and not self.information.center:
            # Uncentred features reach the collapse values of their class means' cosine ρ, not the ETF's.
            rho = mean_cosine(self.class_means)
            shared = reference_at_cosine(rho, self.information.num_classes)
            row |= {"rho": rho} | {f"{k}_rho": float(getattr(shared, k)) if shared else math.nan for k in ("mir", "hdr")}
        return row


def _means(metric: NeuralCollapse) -> tuple[torch.Tensor, torch.Tensor]:
    """Class means (C, d), NaN for a class without samples, and mean (d,) of the data seen by
    ``metric`` on all processes."""
    with metric.sync_context():
        return metric.sums / metric.counts[:, None].to(metric.sums.dtype), metric.sums.sum(0) / metric.counts.sum()


def _live_mean(metric: NeuralCollapse, live_rows: int) -> torch.Tensor:
    """Mean (d,) of the representations that are not all-zero, on all processes.

    The information metrics leave dead rows out, so their centre must too; those rows add
    nothing to the sums, only to the count.
    """
    with metric.sync_context():
        total = metric.sums.sum(0)  # (d,)
    count = all_sum(torch.tensor(float(live_rows), dtype=torch.float64, device=total.device))
    return total / count.clamp_min(1)


class _Reader:
    """Runs the model batch by batch and reads the head's input and output with a forward hook."""

    def __init__(self, model, head, loader, device, *, batch_fn, per_token, ignore_index, automatic):
        self.model, self.loader, self.device, self.batch_fn = model, loader, device, batch_fn
        self.calls = HeadCalls(head, per_token=per_token, ignore_index=ignore_index, automatic=automatic)

    def __iter__(self):
        """Yield (features (m, d), head outputs (m, C), model logits (m, C), labels (m,)) per batch."""
        calls: list[tuple[torch.Tensor, torch.Tensor]] = []
        handle = self.calls.head.register_forward_hook(lambda _m, inputs, output: calls.append((inputs[0], output)))
        try:
            with torch.no_grad():
                for batch in self.loader:
                    inputs, labels = split_batch(batch, self.batch_fn)
                    calls.clear()
                    logits = model_logits(call_model(self.model, inputs, self.device))
                    yield self.calls.rows(calls, logits, labels.to(self.device))
        finally:
            handle.remove()


def probe(
    model: nn.Module,
    loader: Iterable,
    head: nn.Module | str | None = None,
    *,
    pairing: str = "sample",
    center: bool | torch.Tensor = False,
    class_means: torch.Tensor | None = None,
    max_exact_size: int = MAX_EXACT_SIZE,
    method: str = "auto",
    tolerance: float = 0.005,
    seed: int = 0,
    storage: str = "auto",
    memory_budget: int = MEMORY_BUDGET,
    cache_bytes: int = 2**28,
    batch_fn: Callable | None = None,
    per_token: bool = False,
    ignore_index: int = -100,
    undefined: str = "raise",
    collapse_options: dict | None = None,
) -> ProbeResult:
    """Loss, accuracy, MIR, HDR, entropies and NC1–NC4 of a classifier on the data of ``loader``.

    The representation is the input of the final layer (``head``, see :func:`find_head`), read
    with a forward hook; the heads are the rows of its (C, d) weight. An explicit ``head`` may be
    any module with such a weight (an nn.Linear, a cosine classifier, a 1×1 convolution on pooled
    maps). Without it, ``model.head`` or the last nn.Linear is tried, and refused unless its output
    is the model's output. Every submodule is put in eval mode and given back its own mode
    afterwards. Accuracy and loss come from the model's logits (a tensor, ``.logits`` or
    ``["logits"]``), NC4 from the head's own output. The metrics are streamed (fixed memory).
    NC4 compares predictions with the nearest of ``class_means`` (pass a training set's); without
    them it uses the data's own means, from a first pass whose representations and logits are kept
    in memory up to ``cache_bytes`` (else the model runs twice). ``center=True`` with sample
    pairing also needs the mean first, from that same first pass. The information metrics leave
    out samples whose representation is all zero (a dead ReLU layer), which have no direction,
    and centre by the mean of the others (``information.n`` counts them); neural collapse
    measures every sample.

    Args:
        model: a classifier.
        loader: re-iterable batches ``(inputs, labels, ...)`` (extra items, e.g. indices, are
            ignored), or anything ``batch_fn`` maps to ``(inputs, labels)``; integer labels of any
            width. ``inputs`` is one tensor (``model(inputs)``), a tuple or list of the model's
            positional inputs (``model(*inputs)``) or a dict of its keyword inputs
            (``model(**inputs)``); tensors in it are moved to the head's device. Iterated twice
            when ``class_means`` is not given.
        head: the final layer or its name; found automatically when ``None``.
        pairing, max_exact_size: as in :func:`interplay.interplay_metrics`.
        center: ``True`` subtracts the data's own mean (of its live samples) before normalising, a
            (d,) tensor subtracts that mean (e.g. a training split's ``live_mean``), ``False`` nothing.
        class_means: (C, d) centres for NC4; with a NaN row (a class absent from the data that
            gave them) NC4 is ``None``.
        method, tolerance, seed: as in :func:`interplay.interplay_metrics`; with the default
            ``"auto"`` the information metric chooses by the library's one rule
            (:func:`~interplay.functional.joint_path.choose_joint_path`): exact where an exact
            path fits ``max_exact_size``, else the estimate of the joint entropy from all
            samples, with standard errors in the result.
        storage, memory_budget: what the information metric keeps and the bytes it may take (see
            :class:`~interplay.metrics.InformationInterplay`); ``"features"`` suits a split with
            fewer samples than the block eigenproblem's side.
        cache_bytes: memory allowed for keeping the first pass instead of running a second one.
        batch_fn: maps a batch to ``(inputs, labels)``, e.g. ``lambda b: (b["pixel_values"],
            b["labels"])`` for dict batches, or ``lambda b: ((b[0], b[1]), b[2])`` for a model
            ``forward(x1, x2)``.
        per_token: the head runs on (B, T, d) token representations with (B, T) labels: each token
            is a sample, tokens labelled ``ignore_index`` are left out.
        undefined: ``"raise"`` (default) refuses data whose metrics are undefined (a rank-one Gram,
            coinciding class means); ``"nan"`` puts NaN in those metrics and says why in
            ``ProbeResult.warnings``, for recorders that must go on.
        collapse_options: ``global_mean``, ``classes`` and ``min_count`` of the neural collapse
            measures, as in :func:`interplay.neural_collapse` (e.g. ``{"classes": "present",
            "min_count": 5}`` for a vocabulary).

    Raises:
        ValueError/TypeError: a head that cannot be found or is not the model's output, batches or
            features of an unexpected form, an empty loader, or undefined metrics (with "raise").

    Example:
        >>> torch.manual_seed(0) and None
        >>> model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
        >>> data = [(torch.randn(30, 5), torch.arange(30) % 3) for _ in range(2)]
        >>> result = probe(model, data)
        >>> result.n, result.information.path, result.collapse.nc4 is not None
        (60, 'class-blocks', True)
    """
    _check_undefined(undefined)
    collapse_kwargs = collapse_options_of(collapse_options)
    automatic = head is None
    head = find_head(model, head)
    weight = head_weight(head).detach().double()  # (C, d)
    device = weight.device
    num_classes, dim = weight.shape
    center = check_center(center, dim)
    own_mean = center is True and pairing == "sample"  # needed before the pass that uses it
    reader = _Reader(model, head, loader, device, batch_fn=batch_fn, per_token=per_token, ignore_index=ignore_index,
                     automatic=automatic)
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        mean, batches = None, None
        if class_means is None or own_mean:
            first = NeuralCollapse(num_classes, dim).to(device)
            batches, size, live_rows = [], 0, 0
            for batch in reader:
                first.update(batch[0], batch[3], weight)
                live_rows += int((batch[0] != 0).any(dim=1).sum())
                size += sum(t.numel() * t.element_size() for t in batch)
                if batches is not None:
                    batches.append(batch)
                    batches = None if size > cache_bytes else batches
            _check_seen(first.counts)
            class_means = _means(first)[0] if class_means is None else class_means
            mean = _live_mean(first, live_rows)
        center_arg = mean if own_mean else center
        info = InformationInterplay(
            num_classes, dim, pairing=pairing, center=center_arg, max_exact_size=max_exact_size, method=method,
            tolerance=tolerance, seed=seed, storage=storage, memory_budget=memory_budget, skip_zero_rows=True,
        )
        # A class absent from the data that gave the means has no centre: then there is no NC4.
        centres = class_means.double() if bool(torch.isfinite(class_means).all()) else None
        collapse = NeuralCollapse(num_classes, dim, class_means=centres, **collapse_kwargs)
        info, collapse = info.to(device), collapse.to(device)
        loss_sum, correct, len_seen, live_seen, refused = 0.0, 0, 0, 0, []
        for features, outputs, logits, labels in batches if batches is not None else reader:
            len_seen += labels.shape[0]
            live_seen += int((features != 0).any(dim=1).sum())
            collapse.update(features, labels, weight, logits=outputs)
            if not refused:  # e.g. a sample at the mean, which has no direction once centred
                _or_undefined(partial(info.update, features, labels, weight), undefined, refused, None)
            loss_sum += float(torch.nn.functional.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
    finally:
        for module, mode in modes.items():
            module.training = mode
    totals = torch.tensor([loss_sum, correct, len_seen, live_seen], dtype=torch.float64, device=device)
    loss_sum, correct, n, live = all_sum(totals).tolist()
    _check_seen(torch.tensor([n]))
    warnings: list[str] = []

    def information_now() -> tuple[InterplayResult, str]:
        if int(all_sum(torch.tensor(len(refused), device=device))):
            raise InterplayValueError(refused[0] if refused else "the information metric refused a batch of another process.")
        _check_live(info)
        result = info.compute()
        return result, "stochastic" if result.path == "stochastic" else "exact"

    unknown = InterplayResult.undefined(int(live), num_classes, pairing, center is not False)
    information, estimate = _or_undefined(information_now, undefined, warnings, (unknown, "undefined"))
    nc = _or_undefined(collapse.compute, undefined, warnings, NeuralCollapseResult.undefined(int(n), num_classes))
    means, mean = _means(collapse)
    live_mean = _live_mean(collapse, live_seen)
    return ProbeResult(loss_sum / n, correct / n, int(n), information, nc, means, mean, estimate, warnings, live_mean)


def _check_undefined(undefined) -> None:
    if undefined not in ("raise", "nan"):
        raise InterplayValueError(f"undefined must be 'raise' or 'nan'; got {undefined!r}.")


def _check_seen(counts: torch.Tensor) -> None:
    if int(counts.sum()) == 0:
        raise InterplayValueError(
            "the loader yielded no samples; probe needs at least one batch of (inputs, labels) "
            "(with per_token=True, at least one token whose label is not ignore_index)."
        )


def _check_live(info: InformationInterplay) -> None:
    """Refuse, naming the cause, data whose live samples are too few classes once dead rows are left out."""
    with info.sync_context():
        skipped, live, classes = int(info.skipped), int(info.counts.sum()), int((info.counts > 0).sum())
    if skipped and classes < 2:
        raise InterplayValueError(
            f"MIR/HDR are undefined: {skipped} of {skipped + live} samples have an all-zero representation (dead units), which "
            f"has no direction and is left out, and the rest hold {classes} class(es); they need two. "
            "Check the layer before the head for dead ReLUs."
        )


def _or_undefined(compute, undefined: str, warnings: list[str], fallback):
    """``compute()``, or with ``undefined="nan"`` the NaN fallback and the reason in ``warnings``."""
    try:
        return compute()
    except InterplayValueError as error:
        if undefined == "raise":
            raise
        warnings.append(str(error))
        return fallback
