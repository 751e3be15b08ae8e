"""Information interplay between sample representations and classification heads (arXiv 2406.03999).

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

from interplay.functional.entropy import MAX_EXACT_SIZE, entropy_from_eigenvalues, psd_eigenvalues
from interplay.functional.gram import center_rows, full_precision, normalize_rows, resolve_dtype
from interplay.functional.information import PairEntropies, row_pair_entropies
from interplay.functional.joint_path import check_method, choose_joint_path
from interplay.functional.stochastic import rows_of_second_moments, stochastic_entropies
from interplay.typed import Scalars
from interplay.validation import (
    ExactSizeError,
    InterplayValueError,
    check_center,
    check_dtype,
    check_features,
    check_head_weight,
    check_labels,
    check_max_exact_size,
    check_no_zero_rows,
    check_pairing,
    check_seed,
    check_tolerance,
)

__all__ = ["InterplayResult", "InterplayStatistics", "interplay_metrics", "interplay_update", "interplay_compute", "class_moments"]


@dataclass
class InterplayResult(Scalars):
    """Entropies (nats), mutual information and ratios between representations and heads.

    ``path`` names the computation of the joint entropy (what ``method="auto"`` chose): exactly by ``"gram"`` (n×n Hadamard
    Gram), ``"kronecker"`` (row-wise Kronecker feature map), ``"class-blocks"`` (per-class factored
    blocks, see the module docstring) or ``"class-means"`` (C×C, class pairing); or
    ``"stochastic"`` (:mod:`interplay.functional.stochastic`), which sets the standard errors
    ``se_*`` and the ``seed`` (``None`` for exact methods; HDR needs no joint entropy: its error is 0).

    Example:
        >>> result = interplay_metrics(torch.eye(4), torch.tensor([0, 1, 0, 1]), torch.eye(2, 4))
        >>> result.path, result.n, result.se_mir is None
        ('gram', 4, True)
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
    path: str
    se_h_joint: float | None = None
    se_mi: float | None = None
    se_mir: float | None = None
    se_hdr: float | None = None
    seed: int | None = None

    @classmethod
    def undefined(cls, n: int, num_classes: int, pairing: str, center: bool) -> InterplayResult:
        """A result whose every quantity is NaN, for a record that could not be computed.

        Example:
            >>> InterplayResult.undefined(10, 3, "sample", False).path
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
    dtype: torch.dtype = torch.float64,
) -> InterplayStatistics:
    """Statistics of one validated batch; sums of these over batches give the data set's.

    The sums are formed in ``dtype`` (float64 unless a gradient must flow through them): a float32
    sum over many samples cannot resolve the small eigenvalues of the second moments.
    """
    x = features.to(dtype)  # (n, d)
    counts = torch.bincount(labels, minlength=num_classes)  # (C,)
    sums = x.new_zeros(num_classes, x.shape[1]).index_add(0, labels, x)  # (C, d)
    if pairing == "class":
        return InterplayStatistics(counts, sums, None)
    return InterplayStatistics(counts, sums, class_moments(normalize_rows(center_rows(x, center)), labels, counts))


def class_moments(z: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Per-class second moments ``Σ_{i∈c} z_i z_iᵀ`` (C, d, d) of rows ``z`` (n, d), ``counts`` (C,) their class sizes."""
    order = torch.argsort(labels)
    blocks = torch.split(z[order], counts.tolist())
    return torch.stack([b.mT @ b for b in blocks])  # (C, d, d)


def _among_present(labels: torch.Tensor, present: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Labels renumbered 0..C'−1 over the classes present (every label is one of them)."""
    index = torch.full((num_classes,), -1, dtype=torch.long, device=labels.device)
    index[present] = torch.arange(present.numel(), device=labels.device)
    return index[labels]


def _head_factor(heads: torch.Tensor) -> torch.Tensor:
    """A (C', r) factor of the head Gram ``heads @ heads.T`` over its numerical range.

    From the smaller of the C'×C' Gram and the d×d second moment, so a vocabulary of tens of
    thousands of heads costs a d×d eigen-solve.
    """
    if heads.shape[0] <= heads.shape[1]:
        basis, kept = _numerical_range(heads @ heads.mT)
        return basis * kept.sqrt()
    basis, _ = _numerical_range(heads.mT @ heads)  # (d, r)
    return heads @ basis


def _present_classes(counts: torch.Tensor) -> torch.Tensor:
    present = torch.nonzero(counts).flatten()
    if present.numel() < 2:
        raise InterplayValueError(
            f"labels must contain at least two classes; got only class {present.tolist()}. "
            "With one class the head Gram is all ones and MIR/HDR are undefined; use a batch "
            "with samples of several classes."
        )
    return present


def _numerical_range(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """An orthonormal basis of a PSD matrix's numerical range and the eigenvalues kept with it.

    Directions below the rounding level of the eigen-solve carry no mass; dropping them shrinks
    the joint eigenproblem (to rank C-1 at collapse). Callers compute the marginal entropies from
    the same kept eigenvalues, so the cut can never make the joint and the marginals disagree.
    """
    eig, vec = torch.linalg.eigh(matrix)
    eig = eig.clamp_min(0)
    keep = eig > eig.max() * matrix.shape[0] * torch.finfo(eig.dtype).eps * 10
    return vec[:, keep], eig[keep]


def interplay_compute(
    stats: InterplayStatistics,
    head_weight: torch.Tensor,
    *,
    pairing: str,
    center: bool | torch.Tensor,
    max_exact_size: int = MAX_EXACT_SIZE,
    method: str = "auto",
    tolerance: float = 0.005,
    seed: int = 0,
    rows: tuple[torch.Tensor, torch.Tensor] | None = None,
    estimator_dtype: torch.dtype = torch.float64,
) -> InterplayResult:
    """Entropies, MI, MIR and HDR from the statistics of the whole data (no eigenvectors of n×n).

    ``method``, ``tolerance`` and ``seed`` as in :func:`interplay_metrics`; the path follows
    :func:`interplay.functional.joint_path.choose_joint_path`. ``rows``, the normalised (centred)
    samples and their labels where they are at hand, make the n×n path and exact row probes possible.
    Exact paths run in float64; the estimator in ``estimator_dtype`` (its rounding lies far below
    its standard error, and float32 halves its time).
    """
    counts, sums, second = stats
    num_classes = counts.shape[0]
    n = int(counts.sum())
    centred = center is not False
    if pairing == "class":
        _present_classes(counts)
        empty = torch.nonzero(counts == 0).flatten().tolist()
        if empty:
            raise InterplayValueError(
                f"labels must contain every class for pairing='class'; classes {empty[:10]} have none. "
                "Evaluate on data that covers all classes, or use pairing='sample'."
            )
        means = center_rows(sums / counts[:, None], sums.sum(0) / n if center is True else center)  # (C, d)
        check_features(means, "class means")
        heads = normalize_rows(head_weight.to(sums.dtype))  # (C, d)
        entropies, _ = row_pair_entropies(normalize_rows(means), heads, max_exact_size, names=("class means", "heads"))
        return _result(entropies, n, num_classes, pairing, centred, "class-means")
    heads = normalize_rows(head_weight.detach().to(torch.float64))  # (C, d)
    estimator = (method, tolerance, seed, estimator_dtype)
    return _sample_pairing(counts, second, heads, rows, estimator, max_exact_size, centred)


def _sample_pairing(counts, second, heads, rows, estimator, max_exact_size, centred) -> InterplayResult:
    method, tolerance, seed, estimator_dtype = estimator
    present = _present_classes(counts)
    n, num_classes = int(counts.sum()), counts.shape[0]
    d = rows[0].shape[1] if second is None else second.shape[-1]  # the features' width; the heads' may differ
    options = {"method": method, "max_exact_size": max_exact_size, "samples": n, "tolerance": tolerance}
    bound = min(present.numel(), heads.shape[1]) * min(d, n)  # r·s can only be smaller
    if rows is not None and choose_joint_path(gram_side=n, blocks_side=bound, **options) == "gram":
        return _rows_exact(rows, heads, n, num_classes, max_exact_size, centred)
    if method == "stochastic":
        return _estimated(rows, second, heads, counts, present, centred, estimator)
    # Only the classes present enter: a vocabulary's absent tokens cost nothing.
    projection, kept = _numerical_range(rows[0].mT @ rows[0] if second is None else second.sum(0))  # (d, s), (s,)
    factor = _head_factor(heads[present])  # (C', r): factor @ factor.T is the head Gram
    path = choose_joint_path(
        gram_side=n if rows is not None else None, blocks_side=factor.shape[1] * projection.shape[1], **options
    )
    if path == "gram":
        return _rows_exact(rows, heads, n, num_classes, max_exact_size, centred)
    if path == "stochastic":
        return _estimated(rows, second, heads, counts, present, centred, estimator, spectrum=kept)
    r, s = factor.shape[1], projection.shape[1]
    if second is None:
        z, labels = rows
        moments = class_moments(z @ projection, _among_present(labels, present, num_classes), counts[present])  # (C', s, s)
    else:
        moments = projection.mT @ second[present] @ projection  # (C', s, s)
    weighted = factor.mT @ (counts[present].to(factor.dtype)[:, None] * factor)  # (r, r): spectrum of the weighted head Gram
    blocks = torch.einsum("ck,cl,cij->kilj", factor, factor, moments).reshape(r * s, r * s)
    entropies = PairEntropies(
        entropy_from_eigenvalues(kept, n),
        entropy_from_eigenvalues(psd_eigenvalues(weighted, "head Gram"), n),
        entropy_from_eigenvalues(psd_eigenvalues(blocks, "the joint Gram matrix"), n),
        n,
        ("features", "head_weight"),
    )
    return _result(entropies, n, num_classes, "sample", centred, "class-blocks")


def _rows_exact(rows, heads, n, num_classes, max_exact_size, centred) -> InterplayResult:
    z, labels = rows
    entropies, used = row_pair_entropies(z, heads[labels], max_exact_size, names=("features", "head_weight"))
    return _result(entropies, n, num_classes, "sample", centred, used)


def _estimated(rows, second, heads, counts, present, center, estimator, spectrum=None) -> InterplayResult:
    """The estimator over the classes present only: its head Gram is C'×C', not C×C. ``spectrum``:
    the features' Gram eigenvalues where the caller already has them."""
    _, tolerance, seed, dtype = estimator
    z, labels = rows if rows is not None else rows_of_second_moments(second[present])
    if rows is not None:
        labels = _among_present(labels, present, counts.shape[0])
    entropies, estimate = stochastic_entropies(
        z.to(dtype), labels, heads[present].to(dtype), counts[present], tolerance=tolerance, seed=seed, row_spectrum=spectrum
    )
    result = _result(entropies, int(counts.sum()), counts.shape[0], "sample", center, "stochastic")
    result.se_h_joint = result.se_mi = estimate.standard_error
    result.se_mir = estimate.standard_error / float(torch.minimum(entropies.h_x, entropies.h_y))
    result.se_hdr, result.seed = 0.0, seed
    return result


def _result(e: PairEntropies, n: int, num_classes: int, pairing: str, center: bool, path: str) -> InterplayResult:
    return InterplayResult(e.h_x, e.h_y, e.h_joint, e.mi, e.mir, e.hdr, n, num_classes, pairing, center, path)


def _differentiable(z, labels, heads, n, num_classes, method, max_exact_size, centred) -> InterplayResult:
    """The exact row paths, whose eigenvalues carry gradients; the estimator has none."""
    if method == "stochastic":
        raise InterplayValueError(
            "method='stochastic' is not differentiable, and the features or heads require grad. "
            "Compute the estimate under torch.no_grad() (or on detached tensors), or use method='auto'."
        )
    side = min(n, z.shape[1] * heads.shape[1])
    if side > max_exact_size:
        raise ExactSizeError(
            f"a differentiable joint entropy needs the eigenvalues of a {side}×{side} matrix, more than "
            f"max_exact_size={max_exact_size}, and the stochastic estimator is not differentiable. "
            "Use smaller batches, or compute under torch.no_grad() to get the estimate."
        )
    entropies, used = row_pair_entropies(z, heads[labels], max_exact_size, names=("features", "head_weight"))
    return _result(entropies, n, num_classes, "sample", centred, used)


def interplay_metrics(
    features,
    labels,
    head_weight,
    *,
    pairing: str = "sample",
    center: bool | torch.Tensor = False,
    dtype: torch.dtype | None = torch.float64,
    max_exact_size: int = MAX_EXACT_SIZE,
    method: str = "auto",
    tolerance: float = 0.005,
    seed: int = 0,
    match_width: bool = True,
) -> InterplayResult:
    """Matrix entropies, mutual information, MIR and HDR between representations and heads.

    Args:
        features: (n, d) representations (input of the final linear layer).
        labels: (n,) integer class of each sample (ground truth or pseudo-labels).
        head_weight: (C, d) weight of the final linear layer; row c is the head of class c.
        pairing: ``"sample"`` (n×n Grams of representations and each sample's head) or
            ``"class"`` (C×C Grams of class means and heads).
        center: subtract the mean representation before normalising (``True``), subtract a
            given (d,) mean (a tensor, e.g. the training set's), or not (``False``). For class
            pairing the mean is subtracted from the class means.
        dtype: dtype of a differentiable computation (inputs that require grad) and of the
            stochastic estimator; ``None`` keeps the input's. Exact values without gradients are
            computed in float64 whatever the input (centring and sums included).
        max_exact_size: largest matrix side to diagonalise.
        method: for sample pairing, ``"auto"`` (default): exact by the smallest eigenproblem that
            fits ``max_exact_size`` (n×n, or (r·s)×(r·s) from per-class moments), else the
            stochastic estimator; ``"exact"``: refuse what does not fit; ``"stochastic"``: the joint
            entropy by stochastic Lanczos quadrature with a standard error
            (:mod:`interplay.functional.stochastic`; not differentiable). Class pairing is
            always exact (C×C). See :mod:`interplay.functional.joint_path`.
        tolerance: requested standard error of MIR for the estimator.
        seed: seed of the estimator (an int in [0, 2**63)); equal seeds give equal results.
        match_width: require heads as wide as the features (the final layer's input and weight),
            which catches a transposed or wrong matrix. ``False`` accepts heads of any width, e.g.
            an intermediate layer's representations (n, d_l) against the classifier's (C, d) heads:
            both pairings need only the two Grams, never a product of features with heads.

    Returns:
        An :class:`InterplayResult` with h_z, h_w, h_joint, mi, mir, hdr, n, num_classes and
        the ``path`` that ran (with standard errors and the seed for the estimator). With autograd
        enabled on the inputs, the result is exact and differentiable.

    Raises:
        ValueError: mismatched shapes, non-finite values, zero rows, labels out of range or of a
            single class; ``ExactSizeError`` when ``method="exact"`` (or a gradient) needs a
            matrix larger than ``max_exact_size``.

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
    head_weight = check_head_weight(head_weight, features.shape[1] if match_width else None)
    labels = check_labels(labels, features.shape[0], head_weight.shape[0], "labels")
    pairing = check_pairing(pairing)
    max_exact_size = check_max_exact_size(max_exact_size)
    method, tolerance, seed, dtype = check_method(method), check_tolerance(tolerance), check_seed(seed), check_dtype(dtype)
    differentiable = torch.is_grad_enabled() and (features.requires_grad or head_weight.requires_grad)
    requested = resolve_dtype(features, dtype)
    dt = requested if differentiable else torch.float64
    n, num_classes = features.shape[0], head_weight.shape[0]
    counts = torch.bincount(labels, minlength=num_classes)  # (C,)
    _present_classes(counts)
    centred = center is not False
    with full_precision(features):
        if pairing == "class":
            stats = interplay_update(features, labels, num_classes, pairing=pairing, center=False, dtype=dt)
            return interplay_compute(stats, head_weight.to(dt), pairing=pairing, center=center, max_exact_size=max_exact_size)
        x = features.to(dt)  # (n, d)
        if centred:
            # A sample equal to the mean has no direction; refuse it rather than divide by zero.
            x = check_features(center_rows(x, center), "features after centring")
        z = normalize_rows(x)  # (n, d)
        if differentiable:
            heads = normalize_rows(head_weight.to(dt))  # (C, d)
            return _differentiable(z, labels, heads, n, num_classes, method, max_exact_size, centred)
        heads = normalize_rows(head_weight.detach().to(dt))  # (C, d)
        estimator = (method, tolerance, seed, requested)
        return _sample_pairing(counts, None, heads, (z.detach(), labels), estimator, max_exact_size, centred)


