"""A base for metrics whose compute needs the heads of the final linear layer."""

from __future__ import annotations

import torch
from torchmetrics import Metric

from interplay.validation import InterplayValueError

__all__ = ["HeadsMetric"]


class HeadsMetric(Metric):
    """Keeps the head matrix seen by ``update``; heads that change between updates are an error.

    The heads are not a metric state: they are the same on every process (one model), and
    statistics accumulated under different heads could not be combined into one number.
    """

    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._heads: torch.Tensor | None = None

    def _remember_heads(self, head_weight: torch.Tensor) -> None:
        heads = head_weight.detach()
        if self._heads is None:
            self._heads = heads.clone()
        elif self._heads.shape != heads.shape or not torch.equal(self._heads, heads.to(self._heads.device)):
            raise InterplayValueError(
                "head_weight changed between updates; the statistics of one evaluation must share "
                "one set of heads. Call reset() after each optimiser step, or evaluate with a frozen model."
            )

    def _heads_for_compute(self) -> torch.Tensor:
        if self._heads is None:
            raise InterplayValueError(
                f"{type(self).__name__}.compute() was called before any update(); "
                "call update(features, labels, head_weight) on at least one batch."
            )
        return self._heads

    def reset(self) -> None:
        super().reset()
        self._heads = None
