"""Information interplay between sample representations and classification heads (PAPER.md §2).

Sample pairing compares ``K_Z = Ẑ Ẑᵀ`` over the n samples with ``K_W = Ŵ_Y Ŵ_Yᵀ``, where row i
of ``W_Y`` is the head of sample i's label. Class pairing compares the C class means with the
C heads. Song et al. 2024, arXiv 2406.03999.

Data-set scale without an n×n matrix: with ``G = Ŵ Ŵᵀ = R Rᵀ`` (R is C×r, r = rank G) and the
per-class second moments ``S_c = Σ_{i∈c} ẑ_i ẑ_iᵀ`` projected on the span P (d×s) of the
features, ``K_Z ⊙ K_W`` is the Gram of ``φ_i = R_{y_i} ⊗ Pᵀẑ_i``, whose non-zero spectrum is
that of the (r·s)×(r·s) matrix ``Σ_c (R_c R_cᵀ) ⊗ (Pᵀ S_c P)``. This is the per-class block
construction with the square roots ``S_c^½`` traded for a factor of the small head Gram, and
it is exact: the streaming metric and the one-shot function share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from interplay.functional.entropy import (
    MAX_EXACT_SIZE,
    check_exact_size,
    entropy_from_eigenvalues,
    psd_eigenvalues,
    row_gram_eigenvalues,
)
from interplay.functional.gram import center_rows, full_precision, normalize_rows, resolve_dtype
from interplay.functional.information import PairEntropies, row_pair_entropies
from interplay.functional.stochastic import rows_of_second_moments, stochastic_entropies
from interplay.validation import (
    InterplayValueError,
    check_center,
    check_features,
    check_head_weight,
    check_labels,
    check_max_exact_size,
    check_no_zero_rows,
    check_pairing,
)

__all__ = ["InterplayResult", "InterplayStatistics", "interplay_metrics", "interplay_update", "interplay_compute"]


@dataclass
class InterplayResult:
    """Entropies (nats), mutual information and ratios between representations and heads.

    ``method`` names the computation of the joint entropy: exactly by ``"gram"`` (n×n Hadamard
    Gram), ``"kronecker"`` (row-wise Kronecker feature map), ``"class-blocks"`` (per-class factored
    blocks, see the module docstring) or ``"class-means"`` (C×C, class pairing); or
    ``"stochastic"`` (:mod:`interplay.functional.stochastic`), which sets the standard errors
    ``se_*`` and the ``seed`` (``None`` for exact methods; HDR needs no joint entropy: its error is 0).
    """

    h_z: torch.Tensor
    h_w: torch.Tensor
    h_joint: torch.Tensor
    mi: torch.Tensor
    mir: torch.Tensor
    hdr: torch.Tensor
    n: int
    num_classes: int
    pairing: str
    center: bool
    method: str
    se_h_joint: float | None = None
    se_mi: float | None = None
    se_mir: float | None = None
    se_hdr: float | None = None
    seed: int | None = None

    def as_dict(self) -> dict[str, float | int | str | bool]:
        """Plain Python values, for logging and CSV rows."""
        return {k: (float(v) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}

    @classmethod
    def undefined(cls, n: int, num_classes: int, pairing: str, center: bool) -> InterplayResult:
        """A result whose every quantity is NaN, for a record that could not be computed.

        Example:
            >>> InterplayResult.undefined(10, 3, "sample", False).method
            'undefined'
        """
        nan = torch.tensor(float("nan"), dtype=torch.float64)
        return cls(nan, nan, nan, nan, nan, nan, n, num_classes, pairing, center, "undefined")


class InterplayStatistics(NamedTuple):
    """Sum-reducible statistics of one or more batches.

    counts: (C,) samples per class. sums: (C, d) per-class sums of the raw features.
    second: (C, d, d) per-class sums of ``ẑ ẑᵀ`` of the normalised (optionally centred)
    features; only for sample pairing, else ``None``.
    """

    counts: torch.Tensor
    sums: torch.Tensor
    second: torch.Tensor | None


def interplay_update(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    *,
    pairing: str,
    center: bool | torch.Tensor,
    dtype: torch.dtype,
) -> InterplayStatistics:
    """Statistics of one validated batch; sums of these over batches give the data set's."""
    x = features.to(dtype)  # (n, d)
    counts = torch.bincount(labels, minlength=num_classes)  # (C,)
    sums = x.new_zeros(num_classes, x.shape[1]).index_add(0, labels, x)  # (C, d)
    if pairing == "class":
        return InterplayStatistics(counts, sums, None)
    z = normalize_rows(center_rows(x, center))  # (n, d)
    order = torch.argsort(labels)
    blocks = torch.split(z[order], counts.tolist())
    second = torch.stack([b.mT @ b for b in blocks])  # (C, d, d)
    return InterplayStatistics(counts, sums, second)


def _present_classes(counts: torch.Tensor) -> torch.Tensor:
    present = torch.nonzero(counts).flatten()
    if present.numel() < 2:
        raise InterplayValueError(
            f"labels must contain at least two classes; got only class {present.tolist()}. "
            "With one class the head Gram is all ones and MIR/HDR are undefined; use a batch "
            "with samples of several classes."
        )
    return present


def _numerical_range(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eigenvalues of a PSD matrix, an orthonormal basis of its numerical range and the kept eigenvalues.

    Directions below the rounding level of the eigen-solve carry no mass; dropping them shrinks
    the joint eigenproblem (to rank C-1 at collapse) without changing the entropy.
    """
    eig, vec = torch.linalg.eigh(matrix)
    eig = eig.clamp_min(0)
    keep = eig > eig.max() * matrix.shape[0] * torch.finfo(eig.dtype).eps * 10
    return eig, vec[:, keep], eig[keep]


def interplay_compute(
    stats: InterplayStatistics,
    head_weight: torch.Tensor,
    *,
    pairing: str,
    center: bool,
    max_exact_size: int = MAX_EXACT_SIZE,
    method: str = "exact",
    tolerance: float = 0.005,
    seed: int = 0,
) -> InterplayResult:
    """Entropies, MI, MIR and HDR from the statistics of the whole data (no eigenvectors of n×n).

    ``method``, ``tolerance`` and ``seed`` as in :func:`interplay_metrics`; ``"auto"`` is exact
    when the (r·s)-sided block eigenproblem fits ``max_exact_size``.
    """
    counts, sums, second = stats
    num_classes = counts.shape[0]
    present = _present_classes(counts)
    n = int(counts.sum())
    heads = normalize_rows(head_weight.to(sums.dtype))  # (C, d)
    if pairing == "class":
        empty = torch.nonzero(counts == 0).flatten().tolist()
        if empty:
            raise InterplayValueError(
                f"labels must contain every class for pairing='class'; classes {empty[:10]} have none. "
                "Evaluate on data that covers all classes, or use pairing='sample'."
            )
        means = sums / counts[:, None]  # (C, d)
        if center:
            means = means - sums.sum(0) / n
        check_features(means, "class means")
        entropies, _ = row_pair_entropies(normalize_rows(means), heads, max_exact_size, names=("class means", "heads"))
        return _result(entropies, n, num_classes, pairing, center, "class-means")

    head_gram = heads[present] @ heads[present].mT  # (C', C')
    root = counts[present].to(head_gram.dtype).sqrt()
    h_w = entropy_from_eigenvalues(psd_eigenvalues(root[:, None] * head_gram * root, "head Gram"), n)
    lam, projection, _ = _numerical_range(second.sum(0))  # (d,), (d, s)
    _, basis, kept = _numerical_range(head_gram)
    factor = basis * kept.sqrt()  # (C', r): factor @ factor.T == head_gram
    s, r = projection.shape[1], factor.shape[1]
    if method == "stochastic" or (method == "auto" and r * s > max_exact_size):
        rows, row_labels = rows_of_second_moments(second)
        return _estimated(rows, row_labels, heads, counts, num_classes, pairing, center, tolerance, seed)
    check_exact_size(
        r * s,
        max_exact_size,
        "sample-pairing joint entropy",
        "Use pairing='class', evaluate on a seeded subsample, or raise max_exact_size.",
    )
    projected = projection.mT @ second[present] @ projection  # (C', s, s)
    blocks = torch.einsum("ck,cl,cij->kilj", factor, factor, projected).reshape(r * s, r * s)
    entropies = PairEntropies(
        entropy_from_eigenvalues(lam, n),
        h_w,
        entropy_from_eigenvalues(psd_eigenvalues(blocks, "the joint Gram matrix"), n),
        n,
        ("features", "head_weight"),
    )
    return _result(entropies, n, num_classes, pairing, center, "class-blocks")


def _estimated(rows, labels, heads, counts, num_classes, pairing, center, tolerance, seed) -> InterplayResult:
    entropies, estimate = stochastic_entropies(rows, labels, heads, counts, tolerance=tolerance, seed=seed)
    result = _result(entropies, int(counts.sum()), num_classes, pairing, center, "stochastic")
    result.se_h_joint = result.se_mi = estimate.standard_error
    result.se_mir = estimate.standard_error / float(torch.minimum(entropies.h_x, entropies.h_y))
    result.se_hdr, result.seed = 0.0, seed
    return result


def _result(e: PairEntropies, n: int, num_classes: int, pairing: str, center: bool, method: str) -> InterplayResult:
    return InterplayResult(e.h_x, e.h_y, e.h_joint, e.mi, e.mir, e.hdr, n, num_classes, pairing, center, method)


def interplay_metrics(
    features,
    labels,
    head_weight,
    *,
    pairing: str = "sample",
    center: bool | torch.Tensor = False,
    dtype: torch.dtype | None = torch.float64,
    max_exact_size: int = MAX_EXACT_SIZE,
    method: str = "exact",
    tolerance: float = 0.005,
    seed: int = 0,
) -> InterplayResult:
    """Matrix entropies, mutual information, MIR and HDR between representations and heads.

    Args:
        features: (n, d) representations (input of the final linear layer).
        labels: (n,) integer class of each sample (ground truth or pseudo-labels).
        head_weight: (C, d) weight of the final linear layer; row c is the head of class c.
        pairing: ``"sample"`` (n×n Grams of representations and each sample's head) or
            ``"class"`` (C×C Grams of class means and heads).
        center: subtract the mean representation before normalising (``True``), subtract a
            given (d,) mean (a tensor, e.g. the training set's), or not (``False``).
        dtype: dtype of the computation; ``None`` keeps the input's.
        max_exact_size: largest matrix side to diagonalise.
        method: for sample pairing, ``"exact"``; ``"stochastic"`` (the joint entropy by stochastic
            Lanczos quadrature with a standard error, :mod:`interplay.functional.stochastic`;
            not differentiable); or ``"auto"``: exact when ``min(n, d·min(C, d)) <=
            max_exact_size``, else the estimator. Class pairing is always exact (C×C).
        tolerance: requested standard error of MIR for the estimator.
        seed: seed of the estimator; equal seeds give equal results.

    Returns:
        An :class:`InterplayResult` with h_z, h_w, h_joint, mi, mir, hdr, n, num_classes and
        the method used (with standard errors and the seed for the estimator). With autograd
        enabled on the inputs, an exact result is differentiable.

    Raises:
        ValueError: mismatched shapes, non-finite values, zero rows, labels out of range or of a
            single class; ``ExactSizeError`` when every exact path is too large.

    Example:
        >>> from interplay import simplex_etf, nc_reference
        >>> heads = simplex_etf(4)
        >>> labels = torch.arange(8) % 4
        >>> result = interplay_metrics(3 * heads[labels], labels, heads)
        >>> bool(torch.isclose(result.mir, nc_reference(4).mir)), round(float(result.hdr), 6)
        (True, 0.0)
    """
    features = check_features(features, "features", allow_zero_rows=True)
    center = check_center(center, features.shape[1])
    if pairing == "sample" and center is False:
        # A zero row has no direction; class means and centred rows are checked where they are formed.
        check_no_zero_rows(features, "features")
    head_weight = check_head_weight(head_weight, features.shape[1])
    labels = check_labels(labels, features.shape[0], head_weight.shape[0], "labels")
    pairing = check_pairing(pairing)
    max_exact_size = check_max_exact_size(max_exact_size)
    dt = resolve_dtype(features, dtype)
    n, d = features.shape
    num_classes = head_weight.shape[0]
    differentiable = torch.is_grad_enabled() and (features.requires_grad or head_weight.requires_grad)
    counts = torch.bincount(labels, minlength=num_classes)  # (C,)
    present = _present_classes(counts)
    method = check_method(method)
    exact = method == "exact" or (method == "auto" and min(n, d * min(present.numel(), d)) <= max_exact_size)
    centred = center is not False
    with full_precision(features):
        if pairing == "class":
            stats = interplay_update(features, labels, num_classes, pairing=pairing, center=False, dtype=dt)
            return interplay_compute(stats, head_weight, pairing=pairing, center=centred, max_exact_size=max_exact_size)
        x = features.to(dt)  # (n, d)
        if centred:
            # A sample equal to the mean has no direction; refuse it rather than divide by zero.
            x = check_features(center_rows(x, center), "features after centring")
        if not exact:
            heads = normalize_rows(head_weight.detach().to(dt))  # (C, d)
            return _estimated(normalize_rows(x.detach()), labels, heads, counts, num_classes, pairing, centred, tolerance, seed)
        if not differentiable and n > d * present.numel():
            stats = interplay_update(x, labels, num_classes, pairing=pairing, center=False, dtype=dt)
            return interplay_compute(stats, head_weight, pairing=pairing, center=centred, max_exact_size=max_exact_size)
        heads = normalize_rows(head_weight.to(dt))  # (C, d)
        entropies, used = row_pair_entropies(normalize_rows(x), heads[labels], max_exact_size, names=("features", "head_weight"))
    return _result(entropies, n, num_classes, pairing, centred, used)


METHODS = ("auto", "exact", "stochastic")


def check_method(method) -> str:
    """Check ``method``: one of ``"auto"``, ``"exact"``, ``"stochastic"``."""
    if method not in METHODS:
        raise InterplayValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    return method
