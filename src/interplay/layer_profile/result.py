"""The result of a layer profile: per-layer values, layer × layer matrices, the separation fit, and
which samples every number used."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from interplay.layer_profile.quantities import SeparationFit

__all__ = ["LayerProfile", "COLUMNS"]

COLUMNS = ("layer", "depth", "quantity", "value", "n", "other_layer", "other_depth")


@dataclass
class LayerProfile:
    """Quantities of each layer of a model on the same samples (entropies in nats).

    ``layers`` are in the order they run (depth 0 first), with their flattened ``widths``.
    ``values[q]`` is a (L,) float64 tensor per per-layer quantity (``"entropy"``,
    ``"effective_rank"``, ``"renyi_entropy"`` of order ``alpha``, ``"nc1"``, ``"mir"``, ``"hdr"``)
    and ``counts[q]`` the samples each value used; ``cka`` and ``mutual_information`` are
    (L, L) (or ``None`` when not asked for), ``pair_counts`` the samples each MI entry used.
    ``samples`` (m,) are the stream positions of the kept samples among the ``seen`` the loader
    gave (all of them when m == seen; with ``tokens="all"`` the samples are the tokens not labelled
    ``ignore_index``). A NaN value has its reason in ``notes``. The separation fit runs over the
    layers as profiled: a head input equal to the last block's output counts as one more layer.

    Example:
        >>> from torch import nn
        >>> from interplay.layer_profile import profile
        >>> result = profile(nn.Sequential(nn.Identity(), nn.Identity()), [(torch.eye(4), torch.tensor([0, 0, 1, 1]))])
        >>> result.layers, result.counts["entropy"], result.seen
        (['0', '1'], [4, 4], 4)
    """

    layers: list[str]
    widths: list[int]
    values: dict[str, torch.Tensor]
    counts: dict[str, list[int]]
    cka: torch.Tensor | None
    mutual_information: torch.Tensor | None
    pair_counts: torch.Tensor
    separation: SeparationFit | None
    samples: torch.Tensor
    seen: int
    alpha: float | None = None
    head: str | None = None
    notes: list[str] = field(default_factory=list)

    def _name(self, quantity: str) -> str:
        return f"renyi_entropy_{self.alpha:g}" if quantity == "renyi_entropy" else quantity

    def table(self) -> list[dict[str, object]]:
        """Tidy rows ``layer, depth, quantity, value, n`` (``n``: samples used), with ``other_layer``
        and ``other_depth`` for the layer × layer quantities; the separation fit's rows have no layer.

        Example:
            >>> result = LayerProfile(["a"], [2], {"entropy": torch.tensor([0.5])}, {"entropy": [8]}, None, None,
            ...                       torch.zeros(1, 1), None, torch.arange(8), 8)
            >>> result.table()[0]
            {'layer': 'a', 'depth': 0, 'quantity': 'entropy', 'value': 0.5, 'n': 8, 'other_layer': None, 'other_depth': None}
        """
        rows = []
        for quantity, values in self.values.items():
            for depth, (layer, value) in enumerate(zip(self.layers, values.tolist())):
                rows.append(dict(zip(COLUMNS, (layer, depth, self._name(quantity), value, self.counts[quantity][depth], None, None))))
        size = len(self.layers)
        for quantity, matrix in (("cka", self.cka), ("mutual_information", self.mutual_information)):
            if matrix is None:
                continue
            for i in range(size):
                for j in range(size):
                    n = len(self.samples) if quantity == "cka" else int(self.pair_counts[i, j])
                    rows.append(dict(zip(COLUMNS, (self.layers[i], i, quantity, float(matrix[i, j]), n, self.layers[j], j))))
        if self.separation is not None:
            fit = self.separation
            for quantity, value in (("slope", fit.slope), ("intercept", fit.intercept), ("r2", fit.r2),
                                    ("ratio", fit.ratio if math.isfinite(fit.slope) else math.nan)):
                rows.append(dict(zip(COLUMNS, (None, None, f"separation_{quantity}", value, len(self.samples), None, None))))
        return rows

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`table` to ``path`` (missing entries empty); returns the path."""
        path = Path(path)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in self.table())
        return path
