"""Neural collapse metrics NC1–NC4 (Papyan, Han & Donoho 2020, PNAS; Zhu et al. 2021 for the ETF distance).

With class means ``μ_c``, a global mean ``μ_G``, centred means ``M̃ = [μ_c - μ_G]_c`` (C, d),
heads ``W`` (C, d) and N samples:

- NC1 = tr(Σ_W Σ_B⁺) / C, with ``Σ_W = (1/N) Σ_i (z_i - μ_{y_i})(z_i - μ_{y_i})ᵀ`` and
  ``Σ_B = (1/C) M̃ᵀ M̃``: within-class variability relative to the between-class spread. Per class,
  ``nc1_per_class[c] = tr(Σ_W^c Σ_B⁺) / C`` with ``Σ_W^c`` the class's own covariance, so that
  NC1 is their mean weighted by the class frequencies ``n_c / N``.
- NC2 of the centred means (and of the heads): *equinorm*, the coefficient of variation
  std/mean of the row norms (population std); *equiangularity*, the std of the pairwise
  cosines c ≠ c'; *max-angle*, the mean of ``|cos + 1/(C-1)|``; *ETF distance*,
  ``‖ M̃M̃ᵀ/‖M̃M̃ᵀ‖_F − (I − 11ᵀ/C)/√(C−1) ‖_F``.
- NC3 = ‖ W/‖W‖_F − M̃/‖M̃‖_F ‖²_F, self-duality of heads and centred means.
- NC4 = fraction of samples whose classifier prediction ``argmax_c (Wz + b)_c`` differs from the
  nearest class centre ``argmin_c ‖z − μ_c‖`` (1 − agreement).
- CDNV, GNC2 and UNC3, which stay informative when C > d + 1: see
  :mod:`interplay.functional.collapse_geometry`.

``global_mean="classes"`` (the default) takes ``μ_G`` as the mean of the class means, as Papyan et
al.'s code and rhubarbwu/neural-collapse do: then an exact simplex ETF scores NC2 = NC3 = 0
whatever the class sizes. ``"samples"`` takes the mean of all samples, which equals it only for
balanced classes (an exact five-class ETF with 2, 4, 10, 28 and 82 samples per class would
score an ETF distance of 0.81 and NC3 = 0.28).

For minority collapse (Fang et al. 2021) the result also holds, per class used, the norms of the
centred means ``class_mean_norms``, their pairwise cosines ``class_mean_cosines`` (C, C; ``None``
above 4096 classes) and angles ``class_mean_angles()``, the within-class variances
``class_variances`` (mean of ``‖z_i − μ_c‖²``) and the head–mean cosines ``duality_cosines``.

``classes="present"`` leaves out the classes without samples and ``min_count`` those with fewer
samples, from every measure (and their samples with them); ``classes_used`` and ``samples_used``
say what remained. ``classes="all"`` (the default) requires every class to occur.

NC1 needs the between-class scatter to separate every pair of classes: when the class means span
fewer than ``min(r, C−1)`` directions, r the rank of the total scatter ``Σ_W + Σ_B`` (directions
in which no feature varies, e.g. dead units, do not count), some classes cannot be told apart and
the within-class variability relative to their separation is infinite, not 0 as a plain
pseudo-inverse would say. Ranks are counted with a tolerance relative to the total scatter,
``10·d·eps·tr(Σ_W + Σ_B)``; a rank-deficient ``Σ_B`` (coinciding class means, constant or all-zero
features) is refused with an error, and the same tolerance sets the pseudo-inverse's cut-off.

All of NC1–NC4, CDNV and UNC3 reach 0 at collapse. Everything but NC4 comes from per-class moments
(:mod:`interplay.functional.collapse_moments`); NC4 needs the class means before the pass (the
data's own in the one-shot function).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from interplay.functional.collapse_geometry import cdnv, hyperspherical_uniformity, nc2_statistics, uniform_duality
from interplay.functional.collapse_moments import ClassMoments, batch_moments
from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.typed import Scalars
from interplay.validation import (
    InterplayValueError,
    check_bias,
    check_features,
    check_head_weight,
    check_labels, check_scalar,
)

__all__ = [
    "NeuralCollapseResult",
    "CollapseStatistics",
    "neural_collapse",
    "collapse_compute",
    "count_mismatches",
    "kept_classes",
    "check_collapse_options",
]

GLOBAL_MEANS = ("classes", "samples")
CLASS_SELECTIONS = ("all", "present")
MAX_COSINE_CLASSES = 4096  # a (C, C) float64 cosine matrix up to 128 MiB
_SCALARS = ("cdnv", "gnc2_log", "gnc2_log_mean", "gnc2_riesz", "gnc2_riesz_mean", "unc3")


@dataclass
class NeuralCollapseResult(Scalars):
    """NC1–NC4, CDNV, GNC2, UNC3 and per-class geometry (see the module docstring).

    ``nc4`` is ``None`` when no class means were available; ``nc1_per_class`` is ``None`` from the
    streaming metric (it needs each class's covariance). Per-class tensors have one row per class
    used, in the order of ``classes`` (their indices).

    Example:
        >>> from interplay import simplex_etf
        >>> heads = simplex_etf(3)
        >>> labels = torch.tensor([0, 1, 2, 0, 1, 2])
        >>> result = neural_collapse(heads[labels], labels, heads)
        >>> round(float(result.nc1), 9), result.classes.tolist()
        (0.0, [0, 1, 2])
    """

    nc1: torch.Tensor
    nc2_equinorm: torch.Tensor
    nc2_equiangularity: torch.Tensor
    nc2_max_angle: torch.Tensor
    nc2_etf_distance: torch.Tensor
    nc2_heads_equinorm: torch.Tensor
    nc2_heads_equiangularity: torch.Tensor
    nc2_heads_etf_distance: torch.Tensor
    nc3: torch.Tensor
    nc4: torch.Tensor | None
    n: int
    num_classes: int
    cdnv: torch.Tensor | None = None
    gnc2_log: torch.Tensor | None = None
    gnc2_log_mean: torch.Tensor | None = None
    gnc2_riesz: torch.Tensor | None = None
    gnc2_riesz_mean: torch.Tensor | None = None
    unc3: torch.Tensor | None = None
    classes_used: int | None = None
    samples_used: int | None = None
    classes: torch.Tensor | None = None
    nc1_per_class: torch.Tensor | None = None
    class_mean_norms: torch.Tensor | None = None
    class_mean_cosines: torch.Tensor | None = None
    class_variances: torch.Tensor | None = None
    duality_cosines: torch.Tensor | None = None

    def class_mean_angles(self) -> torch.Tensor | None:
        """Pairwise angles in degrees between the centred class means (C, C), or ``None``."""
        if self.class_mean_cosines is None:
            return None
        return torch.rad2deg(torch.arccos(self.class_mean_cosines.clamp(-1.0, 1.0)))

    @classmethod
    def undefined(cls, n: int, num_classes: int) -> NeuralCollapseResult:
        """A result whose every metric is NaN, for a record that could not be computed.

        Example:
            >>> NeuralCollapseResult.undefined(10, 3).nc1
            tensor(nan, dtype=torch.float64)
        """
        nan = torch.tensor(float("nan"), dtype=torch.float64)
        return cls(*([nan] * 10), n, num_classes, **dict.fromkeys(_SCALARS, nan))


class CollapseStatistics(NamedTuple):
    """Per-class moments of the whole data (C rows) and per-class NC4 mismatch counts (C,)."""

    moments: ClassMoments
    mismatches: torch.Tensor


def collapse_options(options: dict | None) -> dict:
    """Check a dict of :func:`neural_collapse`'s ``global_mean``, ``classes`` and ``min_count``
    (any subset), as probe and the trainer callbacks take them; ``None`` is ``{}``.

    Example:
        >>> collapse_options({"classes": "present", "min_count": 5})
        {'classes': 'present', 'min_count': 5}
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InterplayValueError(f"collapse_options must be a dict or None; got {type(options).__name__}.")
    unknown = sorted(set(options) - {"global_mean", "classes", "min_count"})
    if unknown:
        raise InterplayValueError(
            f"collapse_options takes global_mean, classes and min_count; got {', '.join(map(repr, unknown))}."
        )
    check_collapse_options(**({"global_mean": "classes", "classes": "all", "min_count": 1} | options))
    return dict(options)


def check_collapse_options(global_mean: str, classes: str, min_count: int) -> None:
    """Refuse an unknown ``global_mean`` or ``classes`` and a ``min_count`` below 1."""
    if global_mean not in GLOBAL_MEANS:
        raise InterplayValueError(
            f"global_mean must be 'classes' or 'samples'; got {global_mean!r}. "
            "'classes' (the mean of the class means) makes a simplex ETF score 0 with unbalanced classes."
        )
    if classes not in CLASS_SELECTIONS:
        raise InterplayValueError(
            f"classes must be 'all' or 'present'; got {classes!r}. "
            "Use 'present' to leave out the classes without samples (e.g. tokens that do not occur)."
        )
    check_scalar(min_count, "min_count", minimum=1)


def kept_classes(counts: torch.Tensor, classes: str, min_count: int) -> torch.Tensor:
    """Indices (k,) of the classes that enter the measures; errors name the classes left out."""
    if classes == "all":
        empty = torch.nonzero(counts == 0).flatten().tolist()
        if empty:
            raise InterplayValueError(
                f"labels must contain every class for the neural collapse metrics; classes {empty[:10]} have none. "
                "Evaluate on data that covers all classes, or pass classes='present' to measure the classes that occur."
            )
    kept = torch.nonzero(counts >= min_count).flatten()  # (k,)
    if kept.numel() < 2:
        raise InterplayValueError(
            f"the neural collapse metrics need at least 2 classes with min_count={min_count} samples or more; "
            f"got {kept.numel()} of {counts.numel()}. Evaluate on more data or lower min_count."
        )
    return kept


def class_means_of(counts: torch.Tensor, sums: torch.Tensor) -> torch.Tensor:
    """Per-class means; an empty class is an error, never a silent zero mean."""
    kept_classes(counts, "all", 1)
    return sums / counts[:, None].to(sums.dtype)  # (C, d)


def _between_pinv(within: torch.Tensor, between: torch.Tensor, c: int) -> torch.Tensor:
    """Pseudo-inverse of ``Σ_B``; refuses a between-class scatter too degenerate to define NC1."""
    d = between.shape[0]
    total = within + between  # (d, d)
    tol = 10 * d * torch.finfo(between.dtype).eps * float(torch.trace(total).clamp_min(0))
    varying = int((torch.linalg.eigvalsh(total) > tol).sum()) if tol > 0 else 0
    rank = int((torch.linalg.eigvalsh(between) > tol).sum()) if tol > 0 else 0
    wanted = min(varying, c - 1)
    if rank < wanted or varying == 0:
        raise InterplayValueError(
            f"NC1 is undefined for these features: their class means span {rank} of the {wanted} directions "
            f"in which they could differ ({varying} direction(s) in which the features vary, {c} classes; "
            "ranks at relative tolerance 10·d·eps of the total scatter), so some classes cannot be told apart. "
            "This happens with a dead layer, constant features or coinciding class means; "
            "check the representation before measuring collapse"
            + ("." if between.dtype == torch.float64 else ", or compute in float64 (dtype=torch.float64).")
        )
    return torch.linalg.pinv(between, hermitian=True, atol=tol, rtol=0.0)


def _scaled(rows: torch.Tensor) -> torch.Tensor:
    # NC2 and NC3 are invariant to a positive scale; dividing by the largest entry keeps norms finite.
    return rows / rows.abs().max()


def collapse_compute(
    stats: CollapseStatistics,
    head_weight: torch.Tensor,
    *,
    kept: torch.Tensor,
    with_nc4: bool,
    global_mean: str = "classes",
    unit: float = 1.0,
) -> tuple[NeuralCollapseResult, torch.Tensor]:
    """All measures over the ``kept`` classes (k,) from the statistics of the whole data, and ``Σ_B⁺``.

    ``unit`` is the length the features were divided by; norms and variances are given back in it.
    NC1 is NaN when classes left out had within-class spread the pooled scatter cannot shed.
    """
    (counts, sums, within, deviations), mismatches = stats
    k = kept.numel()
    n_kept = counts[kept].to(sums.dtype)  # (k,)
    n_used = int(n_kept.sum())
    means = sums[kept] / n_kept[:, None]  # (k, d)
    mu_g = means.mean(0) if global_mean == "classes" else sums[kept].sum(0) / n_used  # (d,)
    centred = means - mu_g  # (k, d)
    sigma_b = centred.mT @ centred / k  # (d, d)
    left_out = torch.ones_like(counts, dtype=torch.bool).index_fill(0, kept, False)
    pinv = _between_pinv(within / n_used, sigma_b, k)
    nc1 = torch.trace(within @ pinv) / (n_used * k)
    if bool((deviations[left_out] > 0).any()):
        nc1 = torch.full_like(nc1, float("nan"))
    w = _scaled(head_weight[kept].to(means.dtype))  # (k, d)
    m = _scaled(centred)  # (k, d)
    nc3 = torch.linalg.matrix_norm(w / torch.linalg.matrix_norm(w) - m / torch.linalg.matrix_norm(m)) ** 2
    heads_equinorm, heads_equiangularity, _, heads_etf = nc2_statistics(w)
    variances = deviations[kept] / n_kept  # (k,)
    duality, unc3 = uniform_duality(w, m)
    kernels = hyperspherical_uniformity(m)
    unit_m = normalize_rows(m)  # (k, d)
    result = NeuralCollapseResult(
        nc1, *nc2_statistics(m), heads_equinorm, heads_equiangularity, heads_etf, nc3,
        mismatches[kept].sum().to(means.dtype) / n_used if with_nc4 else None,
        int(counts.sum()), counts.numel(),
        cdnv=cdnv(means, variances), gnc2_log=kernels["log_var"], gnc2_log_mean=kernels["log_mean"],
        gnc2_riesz=kernels["riesz_var"], gnc2_riesz_mean=kernels["riesz_mean"], unc3=unc3,
        classes_used=k, samples_used=n_used, classes=kept,
        class_mean_norms=torch.linalg.vector_norm(centred, dim=1) * unit,
        class_mean_cosines=(unit_m @ unit_m.mT).fill_diagonal_(1.0) if k <= MAX_COSINE_CLASSES else None,
        class_variances=variances * unit**2, duality_cosines=duality,
    )
    return result, pinv


def _mismatched(features: torch.Tensor, class_means: torch.Tensor, logits_of) -> torch.Tensor:
    """(n,) whether each sample's predicted class differs from its nearest centre, in blocks of samples
    (``logits_of(rows)`` gives the block's logits) so that no (n, C) matrix is ever whole."""
    centres = class_means.to(features.device, features.dtype)
    step = max(1, (1 << 22) // centres.shape[0])
    blocks = [slice(i, i + step) for i in range(0, features.shape[0], step)]
    return torch.cat([torch.cdist(features[b], centres).argmin(1) != logits_of(b).argmax(1) for b in blocks])


def count_mismatches(features: torch.Tensor, logits: torch.Tensor, class_means: torch.Tensor) -> torch.Tensor:
    """Number of samples whose predicted class is not their nearest class centre (NC4)."""
    return _mismatched(features, class_means, lambda rows: logits[rows]).sum()


def neural_collapse(
    features,
    labels,
    head_weight,
    *,
    bias=None,
    dtype: torch.dtype | None = torch.float64,
    global_mean: str = "classes",
    classes: str = "all",
    min_count: int = 1,
) -> NeuralCollapseResult:
    """Neural collapse metrics NC1–NC4, CDNV, GNC2 and UNC3 of representations and the final linear layer.

    Definitions are in the module docstring (Papyan, Han & Donoho 2020; Wu & Papyan 2024). NC4 uses
    the class means of the given data and the predictions ``features @ head_weight.T + bias``,
    both over the classes used.

    Args:
        features: (n, d) representations (input of the final linear layer).
        labels: (n,) integer classes.
        head_weight: (C, d) weight of the final linear layer.
        bias: optional (C,) bias of the final linear layer.
        dtype: dtype of the computation; ``None`` keeps the input's.
        global_mean: ``"classes"`` (mean of the class means) or ``"samples"`` (mean of all samples).
        classes: ``"all"`` (every class must occur) or ``"present"`` (classes without samples left out).
        min_count: classes with fewer samples are left out of every measure, with their samples.

    Returns:
        A :class:`NeuralCollapseResult`; NC1–NC4, CDNV and UNC3 are 0 at exact collapse.

    Raises:
        ValueError: bad shapes or values, labels out of range, an empty class (with ``classes="all"``),
            fewer than 2 classes used, or class means too degenerate to define NC1 (see the module docstring).

    Example:
        >>> from interplay import simplex_etf
        >>> heads = simplex_etf(4)
        >>> labels = torch.tensor([0, 1, 2, 3, 3, 3])
        >>> result = neural_collapse(2 * heads[labels], labels, heads)
        >>> [abs(round(float(v), 6)) for v in (result.nc1, result.nc2_etf_distance, result.nc3, result.nc4)]
        [0.0, 0.0, 0.0, 0.0]
    """
    check_collapse_options(global_mean, classes, min_count)
    features = check_features(features, "features", allow_zero_rows=True)
    head_weight = check_head_weight(head_weight, features.shape[1])
    labels = check_labels(labels, features.shape[0], head_weight.shape[0], "labels")
    dt = resolve_dtype(features, dtype)
    num_classes = head_weight.shape[0]
    with full_precision(features):
        # Every measure is invariant to one positive scale of the features (NC4 through the
        # logits' argmax, with the bias scaled alike); a power of two keeps the division exact.
        scale = 2.0 ** math.frexp(float(features.detach().abs().max()))[1]
        x = features.to(dt) / scale  # (n, d)
        counts = torch.bincount(labels, minlength=num_classes)  # (C,)
        kept = kept_classes(counts, classes, min_count)  # (k,)
        chosen = torch.zeros(num_classes, dtype=torch.bool, device=labels.device).index_fill(0, kept, True)[labels]
        x, labels = x[chosen], labels[chosen]  # (n', d), (n',)
        _, moments = batch_moments(x, labels)  # rows in the order of kept
        full = ClassMoments(
            torch.zeros_like(counts).index_add(0, kept, moments.counts),
            x.new_zeros(num_classes, x.shape[1]).index_add(0, kept, moments.sums),
            moments.within,
            x.new_zeros(num_classes).index_add(0, kept, moments.deviations),
        )
        w = head_weight.to(dt)[kept]  # (k, d)
        b = None if bias is None else check_bias(bias, num_classes).to(dt)[kept] / scale  # (k,)
        means = moments.sums / moments.counts[:, None].to(dt)  # (k, d)
        mismatched = _mismatched(x, means, lambda rows: x[rows] @ w.mT + (0 if b is None else b))  # (n',)
        mismatches = torch.zeros_like(counts).index_add(0, labels, mismatched.long())  # (C,)
        result, pinv = collapse_compute(
            CollapseStatistics(full, mismatches), head_weight.to(dt), kept=kept, with_nc4=True,
            global_mean=global_mean, unit=scale,
        )
        local = torch.zeros_like(counts).index_put_((kept,), torch.arange(kept.numel(), device=kept.device))[labels]
        u = x - means[local]  # (n', d)
        per_class = x.new_zeros(kept.numel()).index_add(0, local, ((u @ pinv) * u).sum(1))  # (k,)
        result.nc1_per_class = per_class / (moments.counts.to(dt) * kept.numel())
        result.n = int(counts.sum())  # samples seen, including those of classes left out
        return result
