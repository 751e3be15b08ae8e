"""A base for metrics whose compute needs the heads of the final linear layer."""

from __future__ import annotations

import torch
from torchmetrics import Metric

from interplay.validation import InterplayValueError

__all__ = ["HeadsMetric"]

_HEADS_KEY = "heads"


class HeadsMetric(Metric):
    """Keeps the head matrix seen by ``update``; heads that change between updates are an error.

    The heads are not a summed state: they are the same on every process (one model), and
    statistics accumulated under different heads could not be combined into one number. They
    travel with the states all the same: ``state_dict`` holds them where the states are persistent,
    ``load_state_dict`` and ``merge_state`` restore them, so a fresh metric can compute.
    ``forward`` follows the rules of ``update`` (changed heads are refused) and returns the
    batch's own value, an undefined one where the batch alone has none (one class, one sample).
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

    def forward(self, *args, **kwargs):
        """Add the batch to the state, as ``update`` does, and return the batch's own value.

        torchmetrics' own forward resets the state to compute the batch value, which would forget
        the heads (so changed heads would pass) and lose the state when the batch alone is undefined.
        """
        self.update(*args, **kwargs)
        # Copies of the list states: torchmetrics' reset empties lists in place.
        saved = {name: list(state) if isinstance(state, list) else state for name, state in self.metric_state.items()}
        count, to_sync = self._update_count, self._to_sync
        try:
            Metric.reset(self)  # the states only: the heads stay, and equal this batch's
            self._to_sync = self.dist_sync_on_step
            self.update(*args, **kwargs)
            value = self.compute()
        except InterplayValueError as error:
            value = self._undefined_value(error, *args, **kwargs)
        finally:
            for name, state in saved.items():
                setattr(self, name, state)
            self._update_count, self._to_sync, self._computed = count, to_sync, None
        self._forward_cache = value
        return value

    def _undefined_value(self, error: InterplayValueError, *args, **kwargs):
        """The value of a batch that has none on its own; by default the error is raised."""
        raise error

    def merge_state(self, incoming_state) -> None:
        """Merge another metric's states (and adopt its heads when this one has none yet)."""
        if isinstance(incoming_state, HeadsMetric) and incoming_state._heads is not None:
            self._remember_heads(incoming_state._heads)
        super().merge_state(incoming_state)

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        if self._heads is not None and any(self._persistent.values()):
            destination[prefix + _HEADS_KEY] = self._heads

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        heads = state_dict.pop(prefix + _HEADS_KEY, None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if heads is not None:
            self._heads = heads.detach().clone()
