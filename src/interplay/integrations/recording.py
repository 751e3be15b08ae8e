"""One evaluation's metrics, streamed batch by batch from the representations a trainer computes.

The trainer callbacks feed :class:`EvaluationRecorder` with the input of the classification
head (read by :func:`interplay.probing.tap_features`) and the batch's labels, and log the flat
values of :meth:`EvaluationRecorder.compute`. The metric states are the fixed-size sums of
:class:`interplay.metrics.InformationInterplay` and :class:`interplay.metrics.NeuralCollapse`,
so they all-reduce across processes.
"""

from __future__ import annotations

import torch
from torch import nn

from interplay.functional.closed_form import entropy_at_collapse, mir_at_collapse
from interplay.functional.collapse import class_means_of, count_mismatches
from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.metrics import InformationInterplay, NeuralCollapse
from interplay.training.distributed import all_sum
from interplay.validation import InterplayValueError, check_pairing

__all__ = ["EvaluationRecorder", "check_options", "flat_values", "labels_of"]

_INFORMATION_KEYS = ("h_z", "h_w", "h_joint", "mi", "mir", "hdr")


def check_options(pairing: str, center: bool) -> str:
    """Refuse, when a callback is built, the options that a single pass cannot honour."""
    pairing = check_pairing(pairing)
    if center and pairing == "sample":
        raise InterplayValueError(
            "center=True with pairing='sample' needs the mean of all representations before the pass, "
            "which a callback does not have; use pairing='class' with center=True, or center=False."
        )
    return pairing


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


def flat_values(values: dict[str, torch.Tensor | float | None], prefix: str) -> dict[str, float]:
    """``{prefix}/{name}: float`` for every value that is not ``None``.

    Example:
        >>> flat_values({"mir": torch.tensor(0.5), "nc4": None}, "interplay/val")
        {'interplay/val/mir': 0.5}
    """
    return {f"{prefix}/{k}": float(v) for k, v in values.items() if v is not None}


class EvaluationRecorder:
    """MIR, HDR, H(Z), H(W), MI and NC1–NC4 of one evaluation, from batches of representations.

    NC4 compares the head's predictions with the nearest class centre. With ``class_means``
    (e.g. a training subset's) it streams; without them the centres are the evaluated data's own,
    known only after the pass, so this process keeps its representations until :meth:`compute`
    (``4·n·d`` bytes for float32 input).

    Args:
        head: the classification head, whose ``weight`` (C, d) and ``bias`` are read once.
        pairing, center, max_exact_size: as in :func:`interplay.interplay_metrics`.
        class_means: optional (C, d) centres for NC4.

    Example:
        >>> from interplay import simplex_etf
        >>> head = nn.Linear(3, 3, bias=False)
        >>> _ = head.weight.data.copy_(simplex_etf(3))
        >>> recorder = EvaluationRecorder(head)
        >>> labels = torch.tensor([0, 1, 2, 0, 1, 2])
        >>> recorder.update(simplex_etf(3)[labels], labels)
        >>> values = recorder.compute()
        >>> round(values["hdr"], 6), round(values["nc4"], 6), round(values["mir_nc"], 4)
        (0.0, 0.0, 0.5)
    """

    def __init__(
        self,
        head: nn.Module,
        *,
        pairing: str = "sample",
        center: bool = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        class_means: torch.Tensor | None = None,
    ) -> None:
        self.weight = head.weight.detach().double()  # (C, d)
        bias = getattr(head, "bias", None)
        self.bias = None if bias is None else bias.detach().double()  # (C,)
        num_classes, dim = self.weight.shape
        self.information = InformationInterplay(
            num_classes, dim, pairing=pairing, center=center, max_exact_size=max_exact_size, skip_zero_rows=True
        ).to(self.weight.device)
        means = None if class_means is None else class_means.double()
        self.collapse = NeuralCollapse(num_classes, dim, class_means=means).to(self.weight.device)
        self.kept: list[torch.Tensor] | None = [] if class_means is None else None

    def update(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Add a batch: representations (n, d) and labels (n,)."""
        features = features.detach().flatten(1)  # (n, d)
        labels = labels.to(features.device)
        if features.shape[0] != labels.shape[0]:
            raise InterplayValueError(
                f"the head saw {features.shape[0]} representations but the batch has {labels.shape[0]} labels; "
                "the model must run its head once per batch, on the batch's samples."
            )
        self.information.update(features, labels, self.weight)
        self.collapse.update(features, labels, self.weight, self.bias)
        if self.kept is not None:
            self.kept.append(features)

    def class_means(self) -> torch.Tensor:
        """Class means (C, d) of the data seen on all processes, e.g. as NC4 centres for another split."""
        with self.collapse.sync_context():
            return class_means_of(self.collapse.counts, self.collapse.sums)

    def compute(self) -> dict[str, float | None]:
        """Information metrics, NC1–NC4, the sample count and the values at collapse (C ≥ 3)."""
        info = self.information.compute().as_dict()
        values = {k: info[k] for k in _INFORMATION_KEYS}
        collapse = self.collapse.compute().as_dict()
        values |= {k: v for k, v in collapse.items() if k.startswith("nc")}
        values["n"] = collapse["n"]
        if self.kept is not None:
            values["nc4"] = self._own_centre_nc4(collapse["n"])
        num_classes = self.weight.shape[0]
        if num_classes >= 3:
            values |= {"mir_nc": float(mir_at_collapse(num_classes)), "h_nc": float(entropy_at_collapse(num_classes))}
        return values

    def _own_centre_nc4(self, n: int) -> float:
        means = self.class_means()  # (C, d), the same on every process
        mismatches = torch.zeros((), dtype=torch.float64, device=self.weight.device)
        for features in self.kept:
            x = features.double()  # (n, d)
            logits = x @ self.weight.mT if self.bias is None else x @ self.weight.mT + self.bias  # (n, C)
            mismatches += count_mismatches(x, logits, means)
        return float(all_sum(mismatches)) / n
