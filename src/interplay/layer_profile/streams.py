"""Fixed-size sums of every layer over every sample, beside the kept subsample.

Per layer l of width d_l, where it fits its share of the memory budget: the (d_l, d_l) second
moment of the normalised non-zero rows (8·d_l² bytes; the entropies), and with labels and a head of
C rows, the streaming :class:`~interplay.metrics.NeuralCollapse` over the classes present
(8·(C·d_l + d_l²) bytes; NC1) and :class:`~interplay.metrics.InformationInterplay` against the
head's rows (8·C·d_l² bytes of per-class moments; MIR and HDR, exact where the eigenproblem fits,
else estimated with a standard error). A layer whose sums do not fit keeps only the subsample.
The profile starts these sums only when the loader gives more samples than it keeps (until then the
kept samples are all of them), from the batches kept so far, in order, then batch by batch.
"""

from __future__ import annotations

import torch

from interplay.functional.gram import normalize_rows
from interplay.metrics import InformationInterplay, NeuralCollapse

__all__ = ["LayerStreams"]


class LayerStreams:
    """The sums of each layer (``None`` where they do not fit ``share`` bytes), updated batch by batch.

    Example:
        >>> streams = LayerStreams([3], share=10**6, head_weight=torch.eye(2, 4), labelled=True, max_exact_size=64)
        >>> streams.add([torch.ones(4, 3)], torch.tensor([0, 1, 0, 1]))
        >>> streams.moments[0][1], streams.collapse[0] is not None, streams.information[0] is not None
        (4, True, True)
    """

    def __init__(self, widths: list[int], *, share: int, head_weight: torch.Tensor | None, labelled: bool,
                 max_exact_size: int) -> None:
        self.weight = None if head_weight is None else head_weight.detach().double().cpu()  # (C, d_h)
        classes = None if self.weight is None or not labelled else self.weight.shape[0]
        self.moments: list[list | None] = [[torch.zeros(d, d, dtype=torch.float64), 0] if 8 * d * d <= share else None
                                          for d in widths]
        self.collapse = [NeuralCollapse(classes, d, classes="present") if classes and 8 * (classes * d + d * d) <= share
                         else None for d in widths]
        self.information = [
            InformationInterplay(classes, d, head_dim=self.weight.shape[1], skip_zero_rows=True, storage="moments",
                                 memory_budget=share, max_exact_size=max_exact_size)
            if classes and 8 * classes * d * d <= share else None
            for d in widths
        ]
        self._ones = [None if c is None else torch.ones(classes, d, dtype=torch.float64) for c, d in zip(self.collapse, widths)]

    def add(self, rows: list[torch.Tensor], labels: torch.Tensor | None) -> None:
        """Add one batch: each layer's rows (n, d_l) and the labels (n,) or ``None``."""
        for index, r in enumerate(rows):
            x = r.detach().double().cpu()  # (n, d_l)
            moment = self.moments[index]
            if moment is not None:
                z = normalize_rows(x[(x != 0).any(1)])  # (m, d_l): a dead row has no direction
                moment[0] += z.mT @ z
                moment[1] += z.shape[0]
            if labels is None:
                continue
            y = labels.cpu()
            if self.collapse[index] is not None:
                self.collapse[index].update(x, y, self._ones[index])  # NC1 does not involve the head
            if self.information[index] is not None:
                self.information[index].update(x, y, self.weight)
