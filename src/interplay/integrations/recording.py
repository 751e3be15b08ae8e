"""One evaluation's metrics, streamed batch by batch from the representations a trainer computes.

The trainer callbacks feed :class:`EvaluationRecorder` with the input of the classification
head and the batch's labels, and log the flat values of :meth:`EvaluationRecorder.compute`. The
metric states are the fixed-size sums of :class:`interplay.metrics.InformationInterplay` and
:class:`interplay.metrics.NeuralCollapse`, so they all-reduce across processes. A measurement
never stops the training it observes: a value that cannot be computed (a class missing from the
evaluation set, one class only, an eigenproblem over ``max_exact_size``, zero entropy, non-finite
representations) is NaN, and :class:`UndefinedWarnings` says why, once per reason.
"""

from __future__ import annotations

import math
import re
import warnings

import torch
from torch import nn

from interplay.functional.closed_form import entropy_at_collapse, mir_at_collapse
from interplay.functional.collapse import NeuralCollapseResult, class_means_of, count_mismatches
from interplay.functional.collapse import collapse_options as collapse_options_of
from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.functional.interplay import InterplayResult
from interplay.heads import HeadCalls, find_head, head_weight, model_logits
from interplay.metrics import InformationInterplay, NeuralCollapse
from interplay.processes import all_sum
from interplay.validation import InterplayTypeError, InterplayValueError, check_max_exact_size, check_pairing

__all__ = ["EvaluationRecorder", "HeadReader", "UndefinedWarnings", "check_options", "flat_values", "labels_of"]

_INFORMATION_KEYS = ("h_z", "h_w", "h_joint", "mi", "mir", "hdr")
_ERROR_KEYS = ("h_joint", "mi", "mir", "hdr")
# What a failed computation can raise without being a bug of the caller: undefined or too large
# metrics, an eigen-solver that does not converge, a device out of memory.
_UNDEFINED_ERRORS = (InterplayValueError, torch.linalg.LinAlgError, torch.OutOfMemoryError)


def check_options(
    pairing: str = "sample",
    center: bool = False,
    *,
    max_exact_size: int = MAX_EXACT_SIZE,
    method: str = "auto",
    tolerance: float = 0.005,
    seed: int = 0,
    collapse_options: dict | None = None,
) -> dict:
    """The recorder's options, checked when a callback is built rather than in the first evaluation.

    Example:
        >>> check_options("class", True)["method"]
        'auto'
    """
    pairing = check_pairing(pairing)
    if center and pairing == "sample":
        raise InterplayValueError(
            "center=True with pairing='sample' needs the mean of all representations before the pass, "
            "which a callback does not have; use pairing='class' with center=True, or center=False."
        )
    options = {"pairing": pairing, "center": center, "max_exact_size": check_max_exact_size(max_exact_size),
               "method": method, "tolerance": tolerance, "seed": seed}
    InformationInterplay(2, 1, **options)  # refuses a method, tolerance or seed it does not take
    return options | {"collapse_options": collapse_options_of(collapse_options)}


def labels_of(batch) -> torch.Tensor:
    """The labels of a batch: the second item of a ``(inputs, labels)`` pair, or the ``labels``,
    ``label`` or ``y`` entry of a dict.

    Example:
        >>> labels_of((torch.zeros(2, 3), torch.tensor([1, 0])))
        tensor([1, 0])
        >>> labels_of({"input_ids": torch.zeros(2, 4), "labels": torch.tensor([2, 2])})
        tensor([2, 2])
    """
    if isinstance(batch, (tuple, list)) and len(batch) >= 2 and isinstance(batch[1], torch.Tensor):
        return batch[1]
    if isinstance(batch, dict):
        for key in ("labels", "label", "y"):
            if isinstance(batch.get(key), torch.Tensor):
                return batch[key]
    raise InterplayValueError(
        f"cannot find the labels in a batch of type {type(batch).__name__}; expected (inputs, labels) or a dict "
        "with 'labels'. Pass labels=<a function from a batch to its (n,) label tensor>."
    )


def flat_values(values: dict[str, torch.Tensor | float | None], prefix: str, suffix: str = "") -> dict[str, float]:
    """``{prefix}/{name}{suffix}: float`` for every value that is not ``None``.

    Example:
        >>> flat_values({"mir": torch.tensor(0.5), "nc4": None}, "interplay/val")
        {'interplay/val/mir': 0.5}
    """
    return {f"{prefix}/{k}{suffix}": float(v) for k, v in values.items() if v is not None}


class HeadReader:
    """Turns the head calls of one evaluation step into representations (m, d) and labels (m,).

    The callbacks record each call's input and output with forward hooks; this applies the
    checks of :func:`interplay.probe` to them: a guessed head (``head=None``) stands only if its
    output is the model's logits, the head runs once per step, and a per-token head's (B, T, d)
    input becomes one sample per token whose label is not ``ignore_index``.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> reader = HeadReader(model, None)
        >>> x = torch.randn(5, 4)
        >>> calls = [(model[1](model[0](x)), model(x))]
        >>> features, labels = reader.rows(calls, calls[0][1], torch.arange(5) % 3)
        >>> tuple(features.shape), reader.head is model[2]
        ((5, 8), True)
    """

    def __init__(self, model: nn.Module, head: nn.Module | str | None, *, per_token: bool = False,
                 ignore_index: int = -100) -> None:
        self.head = find_head(model, head)
        self._calls = HeadCalls(self.head, per_token=per_token, ignore_index=ignore_index, automatic=head is None)

    def rows(self, calls: list[tuple[torch.Tensor, object]], output, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``calls``: (input, output) of each head call in the step; ``output``: the model's output
        in that step, or ``None`` where the step did not call the model itself."""
        if not calls:
            raise InterplayValueError(
                "the classification head did not run during this evaluation step; pass head=<the module whose "
                "input is the representation> to InterplayCallback."
            )
        logits = calls[0][1]
        if self._calls.automatic and not self._calls.checked and output is not None:
            try:
                logits = model_logits(output)
            except InterplayTypeError:
                why = f"cannot be compared with the model's output ({type(output).__name__})"
                raise self._calls.cannot_tell(why) from None
        features, _, _, labels = self._calls.rows(calls, logits, labels.to(calls[0][0].device))
        return features, labels


class UndefinedWarnings:
    """Warn that some logged values are NaN, once per reason however many epochs it recurs.

    Example:
        >>> import warnings
        >>> warn = UndefinedWarnings()
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     for epoch in range(3):
        ...         warn("interplay/val", [f"classes [{epoch}] have none."])
        >>> len(caught)
        1
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, where: str, reasons: list[str]) -> None:
        for reason in reasons:
            # Counts and sizes in a message change from epoch to epoch; the reason does not.
            key = re.sub(r"\d+", "#", reason)
            if key not in self.seen:
                self.seen.add(key)
                warnings.warn(f"{where}: logged NaN where the metrics cannot be computed: {reason}", stacklevel=3)


class EvaluationRecorder:
    """MIR, HDR, H(Z), H(W), MI and NC1–NC4 of one evaluation, from batches of representations.

    NC4 compares the head's predictions with the nearest class centre. With ``class_means``
    (e.g. a training subset's) it streams; without them the centres are the evaluated data's own,
    known only after the pass, so this process keeps its representations until :meth:`compute`
    (``4·n·d`` bytes for float32 input). MIR and HDR pair the samples with the heads of the
    classes present; the NC metrics need every class.

    Args:
        head: the classification head, whose (C, d) weight and ``bias`` are read once.
        pairing, center, max_exact_size, method, tolerance, seed: as in
            :func:`interplay.interplay_metrics`.
        class_means: optional (C, d) centres for NC4.
        collapse_options: ``global_mean``, ``classes``, ``min_count`` as in :func:`interplay.neural_collapse`.

    Example:
        >>> from interplay import simplex_etf
        >>> head = nn.Linear(3, 3, bias=False)
        >>> _ = head.weight.data.copy_(simplex_etf(3))
        >>> recorder = EvaluationRecorder(head)
        >>> labels = torch.tensor([0, 1, 2, 0, 1, 2])
        >>> recorder.update(simplex_etf(3)[labels], labels)
        >>> values = recorder.compute()
        >>> round(values["hdr"], 6), round(values["nc4"], 6), round(values["mir_nc"], 4), values["stochastic"]
        (0.0, 0.0, 0.5, 0.0)
    """

    def __init__(
        self,
        head: nn.Module,
        *,
        pairing: str = "sample",
        center: bool = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        method: str = "auto",
        tolerance: float = 0.005,
        seed: int = 0,
        class_means: torch.Tensor | None = None,
        collapse_options: dict | None = None,
    ) -> None:
        self.weight = head_weight(head).detach().double()  # (C, d)
        bias = getattr(head, "bias", None)
        self.bias = None if bias is None else bias.detach().double()  # (C,)
        num_classes, dim = self.weight.shape
        self.pairing, self.center = pairing, center
        self.information = InformationInterplay(
            num_classes, dim, pairing=pairing, center=center, max_exact_size=max_exact_size, method=method,
            tolerance=tolerance, seed=seed, skip_zero_rows=True,
        ).to(self.weight.device)
        means = None if class_means is None else class_means.double()
        self.collapse = NeuralCollapse(
            num_classes, dim, class_means=means, **collapse_options_of(collapse_options)
        ).to(self.weight.device)
        self.kept: list[torch.Tensor] | None = [] if class_means is None else None
        self.failure: str | None = None
        self.reasons: list[str] = []

    def update(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Add a batch: representations (n, d) and labels (n,).

        A batch the metrics refuse (non-finite representations, a label out of range) makes this
        evaluation's record NaN, since the rest of it would silently leave those samples out.
        """
        features = features.detach().flatten(1)  # (n, d)
        labels = labels.to(features.device)
        if features.shape[0] != labels.shape[0]:
            raise InterplayValueError(
                f"the head saw {features.shape[0]} representations but the batch has {labels.shape[0]} labels; "
                "the model must run its head once per batch, on the batch's samples."
            )
        if self.failure is not None:
            return
        try:
            self.information.update(features, labels, self.weight)
            self.collapse.update(features, labels, self.weight, self.bias)
        except _UNDEFINED_ERRORS as error:
            self.failure = str(error)
            return
        if self.kept is not None:
            self.kept.append(features)

    def class_means(self) -> torch.Tensor:
        """Class means (C, d) of the data seen on all processes, e.g. as NC4 centres for another split."""
        with self.collapse.sync_context():
            return class_means_of(self.collapse.counts, self.collapse.sums)

    def compute(self) -> dict[str, float | None]:
        """Information metrics, their standard errors, NC1–NC4, the sample count and the values at
        collapse (C ≥ 3). ``stochastic`` is 1 where the joint entropy was estimated (``se_*`` are
        its standard errors), 0 where it was computed exactly (``se_*`` are 0). Values that cannot
        be computed are NaN and :attr:`reasons` says why."""
        self.reasons = []
        num_classes = self.weight.shape[0]
        with self.collapse.sync_context():
            n = int(self.collapse.counts.sum())
        # Every process must take the same path through the collective operations below.
        failed = int(all_sum(torch.tensor(self.failure is not None, device=self.weight.device, dtype=torch.int64)))
        if failed:
            self.reasons.append(self.failure or "a batch on another process could not be measured.")
            info = InterplayResult.undefined(n, num_classes, self.pairing, bool(self.center))
            collapse = NeuralCollapseResult.undefined(n, num_classes)
        else:
            undefined = InterplayResult.undefined(n, num_classes, self.pairing, bool(self.center))
            info = self._or_undefined(self.information.compute, undefined)
            collapse = self._or_undefined(self.collapse.compute, NeuralCollapseResult.undefined(n, num_classes))
        values = self._information_values(info)
        values |= {k: v for k, v in collapse.as_dict().items() if k.startswith("nc")}
        values["n"] = n
        if self.kept is not None:
            values["nc4"] = math.nan if failed else self._or_undefined(lambda: self._own_centre_nc4(n), math.nan)
        if num_classes >= 3:
            values |= {"mir_nc": float(mir_at_collapse(num_classes)), "h_nc": float(entropy_at_collapse(num_classes))}
        return values

    def _or_undefined(self, compute, fallback):
        try:
            return compute()
        except _UNDEFINED_ERRORS as error:
            self.reasons.append(str(error))
            return fallback

    @staticmethod
    def _information_values(info: InterplayResult) -> dict[str, float]:
        values = {k: float(getattr(info, k)) for k in _INFORMATION_KEYS}
        if info.path == "undefined":
            return values | {"stochastic": math.nan} | {f"se_{k}": math.nan for k in _ERROR_KEYS}
        if info.path == "stochastic":
            return values | {"stochastic": 1.0} | {f"se_{k}": float(getattr(info, f"se_{k}")) for k in _ERROR_KEYS}
        # An exact value has no sampling error.
        return values | {"stochastic": 0.0} | {f"se_{k}": 0.0 for k in _ERROR_KEYS}

    def _own_centre_nc4(self, n: int) -> float:
        means = self.class_means()  # (C, d), the same on every process
        mismatches = torch.zeros((), dtype=torch.float64, device=self.weight.device)
        for features in self.kept:
            x = features.double()  # (n, d)
            logits = x @ self.weight.mT if self.bias is None else x @ self.weight.mT + self.bias  # (n, C)
            mismatches += count_mismatches(x, logits, means)
        return float(all_sum(mismatches)) / n
