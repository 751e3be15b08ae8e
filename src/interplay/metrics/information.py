"""Streaming matrix information between representations and heads, at data-set scale."""

from __future__ import annotations

import torch
from torchmetrics.utilities import dim_zero_cat

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.functional.interplay import (
    InterplayResult,
    InterplayStatistics,
    check_center,
    class_moments,
    interplay_compute,
    interplay_update,
)
from interplay.functional.joint_path import check_method
from interplay.metrics.heads import HeadsMetric
from interplay.functional.gram import center_rows, normalize_rows
from interplay.validation import (
    InterplayValueError,
    check_features,
    check_head_weight,
    check_labels,
    check_max_exact_size,
    check_num_classes,
    check_pairing,
    check_seed,
    check_tolerance,
)

__all__ = ["InformationInterplay"]

MEMORY_BUDGET = 2**30
STORAGES = ("auto", "moments", "features")


class InformationInterplay(HeadsMetric):
    """Matrix entropies, mutual information, MIR and HDR over a whole data set, batch by batch.

    The states are per-class counts (C,) and feature sums (C, d), and for sample pairing either
    the per-class second moments of the normalised features (C, d, d), float64, i.e. ``8·C·d²``
    bytes whatever n (21 MB for C = 10, d = 512; 210 MB for C = 100, d = 512), or, where those
    exceed ``memory_budget`` (33 GB for C = 1,000, d = 2,048), the features themselves: ``8·n·d``
    bytes (0.8 GB for n = 50,000, d = 2,048), checked against the budget at every update. Either
    feeds the exact computation and the stochastic estimator; nothing is subsampled.
    ``compute()`` equals :func:`interplay.interplay_metrics` on the concatenated batches, and the
    states sum (or concatenate) across processes. See :mod:`interplay.functional.interplay` for
    the exact block construction.

    Args:
        num_classes: number of classes C (rows of the head matrix).
        dim: feature dimension d.
        pairing: ``"sample"`` or ``"class"`` (see :func:`interplay.interplay_metrics`).
        center: for class pairing, ``True`` centres the class means by the global mean. For sample
            pairing the mean must be known before the pass: pass it as a (d,) tensor.
        max_exact_size: largest matrix side to diagonalise in ``compute()``.
        method: ``"exact"``, ``"stochastic"`` or ``"auto"`` (exact when it fits ``max_exact_size``),
            as in :func:`interplay.interplay_metrics`; ``tolerance`` and ``seed`` are the
            estimator's.
        storage: ``"moments"``, ``"features"`` or ``"auto"`` (moments when they fit
            ``memory_budget``); sample pairing only.
        memory_budget: bytes the sample-pairing states may take.
        skip_zero_rows: leave out samples whose representation is exactly zero (a dead ReLU
            layer), which cannot be normalised, instead of raising; ``skipped`` counts them.
        validate_args: check every batch (shapes, finiteness, label range); the finiteness
            check synchronises a GPU.
        head_dim: width of the heads when it differs from ``dim``, e.g. an intermediate layer's
            representations against the classifier's heads (the states hold only the features'
            moments and the head Gram enters at ``compute()``); default: ``dim``.

    Example:
        >>> from interplay import simplex_etf, nc_reference
        >>> heads = simplex_etf(5)
        >>> metric = InformationInterplay(5, 5)
        >>> for start in (0, 10):
        ...     labels = torch.arange(start, start + 10) % 5
        ...     metric.update(heads[labels], labels, heads)
        >>> bool(torch.isclose(metric.compute().mir, nc_reference(5).mir))
        True
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False

    def __init__(
        self,
        num_classes: int,
        dim: int,
        *,
        pairing: str = "sample",
        center: bool | torch.Tensor = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        method: str = "auto",
        tolerance: float = 0.005,
        seed: int = 0,
        storage: str = "auto",
        memory_budget: int = MEMORY_BUDGET,
        skip_zero_rows: bool = False,
        validate_args: bool = True,
        head_dim: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes)
        self.dim = check_num_classes(dim, "dim", minimum=1)
        self.head_dim = self.dim if head_dim is None else check_num_classes(head_dim, "head_dim", minimum=1)
        self.pairing = check_pairing(pairing)
        self.center = check_center(center, self.dim)
        if self.pairing == "sample" and self.center is True:
            raise InterplayValueError(
                "center=True with pairing='sample' needs the mean of all features before the first batch; "
                "pass center=<(dim,) tensor of the mean> (e.g. from a first pass), or use center=False."
            )
        self.max_exact_size = check_max_exact_size(max_exact_size)
        self.method, self.tolerance = check_method(method), check_tolerance(tolerance)
        self.seed = check_seed(seed)
        self.memory_budget = check_num_classes(memory_budget, "memory_budget", minimum=1)
        self.skip_zero_rows = skip_zero_rows
        self.validate_args = validate_args
        c, d = self.num_classes, self.dim
        self.add_state("skipped", torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("counts", torch.zeros(c, dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("sums", torch.zeros(c, d, dtype=torch.float64), dist_reduce_fx="sum")
        self.storage = self._choose_storage(storage) if self.pairing == "sample" else None
        if self.storage == "moments":
            self.add_state("second", torch.zeros(c, d, d, dtype=torch.float64), dist_reduce_fx="sum")
        if self.storage is not None:
            # The normalised rows themselves: always for storage='features'; for 'moments' only while
            # they fit the n×n exact path, which is then often the smaller eigenproblem.
            self.add_state("rows", [], dist_reduce_fx="cat")
            self.add_state("row_labels", [], dist_reduce_fx="cat")
            self.add_state("rows_dropped", torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")

    def _choose_storage(self, storage: str) -> str:
        if storage not in STORAGES:
            raise InterplayValueError(f"storage must be one of {', '.join(STORAGES)}; got {storage!r}.")
        moments = 8 * self.num_classes * self.dim**2
        if storage == "moments" and moments > self.memory_budget:
            raise InterplayValueError(
                f"the per-class second moments need {moments:,} bytes (8·C·d²) > memory_budget="
                f"{self.memory_budget:,}; use storage='features' (8·n·d bytes) or raise memory_budget."
            )
        if storage == "auto":
            return "moments" if moments <= self.memory_budget else "features"
        return storage

    def _apply(self, fn, exclude_state=()):
        # Module.to(dtype) would cast the float64 sums too; sums in float32 lose the small
        # eigenvalues of the second moments. Devices move, the dtype stays.
        this = super()._apply(fn, exclude_state)
        for name, default in this._defaults.items():
            if isinstance(default, torch.Tensor) and default.is_floating_point():
                this._defaults[name] = default.double()
                setattr(this, name, getattr(this, name).double())
            elif isinstance(default, list):
                setattr(this, name, [v.double() if v.is_floating_point() else v for v in getattr(this, name)])
        return this

    def update(self, features: torch.Tensor, labels: torch.Tensor, head_weight: torch.Tensor) -> None:
        """Add a batch: features (n, d), labels (n,), head_weight (C, d) of the final linear layer."""
        if self.validate_args:
            features = check_features(features, "features", min_samples=1, allow_zero_rows=self.skip_zero_rows)
            head_weight = check_head_weight(head_weight, self.head_dim)
            labels = check_labels(labels, features.shape[0], self.num_classes)
            if head_weight.shape[0] != self.num_classes:
                raise InterplayValueError(
                    f"head_weight must have num_classes={self.num_classes} rows; got {head_weight.shape[0]}."
                )
        self._remember_heads(head_weight)
        labels = labels.long()
        x = features.detach().double()  # (n, d)
        if self.skip_zero_rows:
            keep = (x != 0).any(dim=1)  # (n,)
            self.skipped += (~keep).sum()
            x, labels = x[keep], labels[keep]
        if self.storage is not None and self.center is not False:
            x = check_features(center_rows(x, self.center), "features after centring", min_samples=0)
        n = int(self.counts.sum()) + x.shape[0]
        if self.storage == "features":
            self._check_budget(n)
        stats = interplay_update(x, labels, self.num_classes, pairing="class", center=False)
        self.counts += stats.counts
        self.sums += stats.sums
        if self.storage is not None:
            z = normalize_rows(x)  # (n, d), normalised once for the moments and the kept rows
            if self.storage == "moments":
                self.second += class_moments(z, labels, stats.counts)
            self._keep_rows(z, labels, n)

    def _keep_rows(self, z: torch.Tensor, labels: torch.Tensor, n: int) -> None:
        fits = n <= self.max_exact_size and 8 * (n * self.dim + self.num_classes * self.dim**2) <= self.memory_budget
        if self.storage == "features" or (fits and int(self.rows_dropped) == 0):
            self.rows.append(z)
            self.row_labels.append(labels)
        elif int(self.rows_dropped) == 0:
            self.rows, self.row_labels = [], []
            self.rows_dropped += 1

    def _check_budget(self, n: int) -> None:
        if 8 * n * self.dim > self.memory_budget:
            raise InterplayValueError(
                f"InformationInterplay keeps the features (storage='features'), and {n} samples of dimension "
                f"{self.dim} need {8 * n * self.dim:,} bytes (8·n·d) > memory_budget={self.memory_budget:,}; "
                "raise memory_budget or evaluate fewer samples."
            )

    def compute(self) -> InterplayResult:
        """The result over every batch since the last ``reset()``, on all processes."""
        heads = self._heads_for_compute()
        options = {"max_exact_size": self.max_exact_size, "method": self.method, "tolerance": self.tolerance, "seed": self.seed}
        rows = None
        if self.storage is not None and int(self.rows_dropped) == 0 and len(self.rows) > 0:
            rows = (dim_zero_cat(self.rows), dim_zero_cat(self.row_labels))
        stats = InterplayStatistics(self.counts, self.sums, getattr(self, "second", None))
        return interplay_compute(stats, heads, pairing=self.pairing, center=self.center, rows=rows, **options)

    def _undefined_value(self, error: InterplayValueError, features, labels, head_weight) -> InterplayResult:
        return InterplayResult.undefined(int(labels.shape[0]), self.num_classes, self.pairing, self.center is not False)
