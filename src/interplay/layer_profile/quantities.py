"""The quantities of a layer profile, computed in float64 from the kept features of every layer.

Per layer l, on the kept samples (``Z_l`` their rows): the von Neumann matrix entropy ``H(Z_l)`` of
the cosine Gram, the effective rank ``exp H``, optionally the Rényi entropy of order α, NC1 over
the classes present as :func:`~interplay.functional.collapse.neural_collapse` defines it (the
between-class scatter about the mean of the class means), and MIR and HDR
between ``Z_l`` and the head rows of the labels ``W[y]`` (:func:`~interplay.functional.information.mir`).
All-zero rows have no direction: they are left out of the entropies, MIR, HDR and mutual information
of their layer (the counts say how many samples each value used), and kept for NC1 and CKA.
Between layers: linear CKA, and the matrix mutual information ``H(K_i) + H(K_j) − H(K_i ⊙ K_j)``
of their cosine Grams. A layer wider than the number of samples n is first replaced by n
coordinates with the same Gram (``Z = Rᵀ Qᵀ`` from a QR of ``Zᵀ``); every quantity here depends
on the features only through their Gram, so this is exact and bounds every matrix by n.

The law of data separation (He & Su 2023, PNAS, arXiv 2210.17020, §2): within-class variability
relative to between-class spread decays geometrically with depth, so ``log NC1`` is linear in the
layer index. He & Su's fuzziness ``D = tr(SS_W SS_B⁺)`` weighs classes by their size; with balanced
classes it is C·NC1, which shifts ``log NC1`` by a constant and leaves the slope unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import torch

from interplay.functional.collapse import neural_collapse
from interplay.functional.entropy import entropy_from_eigenvalues, joint_eigenvalues, psd_eigenvalues, row_gram_eigenvalues
from interplay.functional.gram import normalize_rows
from interplay.functional.information import PairEntropies
from interplay.functional.similarity import linear_cka, renyi_from_eigenvalues
from interplay.validation import InterplayValueError, check_no_zero_rows

__all__ = ["LAYER_QUANTITIES", "PAIR_QUANTITIES", "SeparationFit", "span_coordinates", "layer_quantities",
           "pair_quantities", "fit_separation"]

LAYER_QUANTITIES = ("entropy", "effective_rank", "renyi_entropy", "nc1", "mir", "hdr")
PAIR_QUANTITIES = ("cka", "mutual_information")


def span_coordinates(x: torch.Tensor) -> torch.Tensor:
    """``x`` (n, d) itself when d <= n, else (n, n) coordinates with the same Gram ``x xᵀ``.

    Example:
        >>> x = torch.randn(3, 10, dtype=torch.float64)
        >>> y = span_coordinates(x)
        >>> y.shape, torch.allclose(y @ y.T, x @ x.T)
        (torch.Size([3, 3]), True)
    """
    n, d = x.shape
    return x if d <= n else torch.linalg.qr(x.mT).R.mT  # (n, n)


class _Recorder:
    """Values and sample counts per quantity; an undefined value is NaN, with the reason in ``notes``."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def value(self, what: str, compute: Callable[[], torch.Tensor]) -> float:
        try:
            return float(compute())
        except InterplayValueError as error:
            self.notes.append(f"{what} is NaN: {error}")
            return math.nan


def _spectrum(z: torch.Tensor, name: str) -> tuple[torch.Tensor, int]:
    if z.shape[0] < 2:
        raise InterplayValueError(
            f"layer {name!r} has {z.shape[0]} sample(s) with a non-zero representation; its matrix entropy needs at least 2."
        )
    return row_gram_eigenvalues(z), z.shape[0]


def _streamed_spectrum(moment: torch.Tensor, count: int, name: str) -> tuple[torch.Tensor, int]:
    """The cosine Gram's spectrum of every sample, from their (d, d) second moment: the same non-zero eigenvalues."""
    if count < 2:
        raise InterplayValueError(
            f"layer {name!r} has {count} sample(s) with a non-zero representation; its matrix entropy needs at least 2."
        )
    return psd_eigenvalues(moment, f"the second moment of layer {name!r}"), count


def _nc1(x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    classes, inverse = torch.unique(labels, return_inverse=True)
    if classes.numel() < 2:
        raise InterplayValueError(f"NC1 needs samples of at least 2 classes; the kept samples are all of class {int(classes[0])}.")
    # NC1 does not involve the head: rows of ones fill neural_collapse's head argument.
    return neural_collapse(x, inverse, torch.ones(classes.numel(), x.shape[1], dtype=x.dtype, device=x.device)).nc1


def layer_quantities(
    names: list[str],
    features: list[torch.Tensor],
    labels: torch.Tensor | None,
    head_weight: torch.Tensor | None,
    *,
    wanted: set[str],
    alpha: float | None,
    max_exact_size: int,
    notes: list[str],
    streams=None,
) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Per-layer values (quantity -> one float per layer) and the samples each used.

    ``streams``: every layer's sums over all samples (:class:`~interplay.layer_profile.streams.LayerStreams`),
    or ``None``; where a layer has them, its values come from every sample, not only the kept ones.
    """
    record = _Recorder(notes)
    values: dict[str, list[float]] = {q: [] for q in LAYER_QUANTITIES if q in wanted}
    counts: dict[str, list[int]] = {q: [] for q in values}
    head_rows = _HeadRows(head_weight, labels) if wanted & {"mir", "hdr"} else None
    for index, (name, x) in enumerate(zip(names, features)):
        nonzero = (x != 0).any(1)  # (n,)
        z = normalize_rows(x[nonzero])  # (m, d)
        m, n = z.shape[0], x.shape[0]
        if m < n:
            notes.append(f"layer {name!r}: {n - m} of {n} samples are all-zero rows, left out of its entropies, MIR, HDR and MI.")
        spectrum, total, own = None, m, None
        if wanted & {"entropy", "effective_rank", "renyi_entropy"}:
            stream = None if streams is None else streams.moments[index]
            try:
                spectrum, total = _spectrum(z, name) if stream is None else _streamed_spectrum(*stream, name)
                own = spectrum if stream is None else None
            except InterplayValueError as error:
                notes.append(f"the entropies of layer {name!r} are NaN: {error}")
        entropy = math.nan if spectrum is None else float(entropy_from_eigenvalues(spectrum, total))
        found = {"entropy": (entropy, total), "effective_rank": (math.exp(entropy), total)}
        if "renyi_entropy" in wanted:
            renyi = math.nan if spectrum is None else float(renyi_from_eigenvalues(spectrum, total, alpha))
            found["renyi_entropy"] = (renyi, total)
        if "nc1" in wanted:
            collapse = None if streams is None else streams.collapse[index]
            if collapse is None:
                found["nc1"] = (record.value(f"NC1 of layer {name!r}", lambda: _nc1(x, labels)), n)
            else:
                found["nc1"] = (record.value(f"NC1 of layer {name!r}", lambda: collapse.compute().nc1), int(collapse.counts.sum()))
        if wanted & {"mir", "hdr"}:
            information = None if streams is None else streams.information[index]
            if information is None:
                pair = cache(partial(head_rows.pair, z, own, nonzero, name, max_exact_size))
                total = m
            else:
                pair, total = cache(information.compute), int(information.counts.sum())
            for ratio in ("mir", "hdr"):
                found[ratio] = (record.value(f"{ratio.upper()} of layer {name!r}", lambda r=ratio: getattr(pair(), r)), total)
        for q in values:
            values[q].append(found[q][0])
            counts[q].append(found[q][1])
    return values, counts


class _HeadRows:
    """The normalised head rows of the labels ``W[y]`` and their entropy, shared by the layers that keep
    the same samples (each layer leaves out its all-zero rows): computed once, not once per layer.

    The k unit head rows of the classes present are replaced by k coordinates with the same Gram
    (:func:`span_coordinates`), which leaves the Gram of ``W[y]``, and so every entropy, unchanged,
    while the joint Gram's Kronecker side ``d_l · k`` is then smaller than m for narrow layers.
    """

    def __init__(self, head_weight: torch.Tensor, labels: torch.Tensor) -> None:
        self.weight, self.labels = head_weight, labels
        self.kept: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # the mask, W[y] and H(W[y])

    def _rows(self, z: torch.Tensor, nonzero: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kept is None or not torch.equal(self.kept[0], nonzero):
            labels = self.labels[nonzero.to(self.labels.device)].to(z.device)
            present, inverse = torch.unique(labels, return_inverse=True)
            rows = check_no_zero_rows(self.weight.to(z)[present], "the head rows of the labels W[y]")  # (k, d_head)
            wy = span_coordinates(normalize_rows(rows))[inverse]  # (m, min(k, d_head))
            self.kept = nonzero, wy, entropy_from_eigenvalues(row_gram_eigenvalues(wy), wy.shape[0])
        return self.kept[1], self.kept[2]

    def pair(self, z: torch.Tensor, spectrum: torch.Tensor | None, nonzero: torch.Tensor, name: str,
             max_exact_size: int) -> PairEntropies:
        """The entropies of ``Z_l``, ``W[y]`` and their Hadamard product; ``spectrum``: that of ``Z_l``, if known."""
        wy, h_wy = self._rows(z, nonzero)
        joint, _ = joint_eigenvalues(z, wy, max_exact_size)
        spectrum = row_gram_eigenvalues(z) if spectrum is None else spectrum
        m = z.shape[0]
        return PairEntropies(entropy_from_eigenvalues(spectrum, m), h_wy, entropy_from_eigenvalues(joint, m), m,
                             (f"layer {name!r}", "W[y]"))


def pair_quantities(
    names: list[str], features: list[torch.Tensor], *, wanted: set[str], max_exact_size: int, notes: list[str]
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Layer × layer matrices (quantity -> (L, L) float64) and the samples each MI entry used (L, L)."""
    record = _Recorder(notes)
    size = len(features)
    matrices = {q: torch.full((size, size), math.nan, dtype=torch.float64) for q in PAIR_QUANTITIES if q in wanted}
    counts = torch.zeros(size, size, dtype=torch.int64)
    nonzero = [(x != 0).any(1) for x in features]  # (n,) each
    entropies: dict[int, float] = {}  # over each layer's own non-zero rows, shared by its pairs

    def entropy(i: int, rows: torch.Tensor) -> float:
        own = torch.equal(rows, nonzero[i])
        if own and i in entropies:
            return entropies[i]
        value = float(entropy_from_eigenvalues(*_spectrum(normalize_rows(features[i][rows]), names[i])))
        if own:
            entropies[i] = value
        return value

    def mutual_information(i: int, j: int, rows: torch.Tensor) -> float:
        zi, zj = normalize_rows(features[i][rows]), normalize_rows(features[j][rows])  # (m, d_i), (m, d_j)
        joint, _ = joint_eigenvalues(zi, zj, max_exact_size)
        return entropy(i, rows) + entropy(j, rows) - float(entropy_from_eigenvalues(joint, zi.shape[0]))

    for i in range(size):
        for j in range(i, size):
            both = f"layers {names[i]!r} and {names[j]!r}"
            if "cka" in matrices:
                matrices["cka"][i, j] = record.value(f"CKA of {both}", lambda: linear_cka(features[i], features[j]))
            common = nonzero[i] & nonzero[j]  # (n,)
            counts[i, j] = int(common.sum())
            if "mutual_information" in matrices:
                matrices["mutual_information"][i, j] = record.value(
                    f"the mutual information of {both}", lambda: mutual_information(i, j, common)
                )
    for matrix in (*matrices.values(), counts):
        matrix.copy_(torch.triu(matrix) + torch.triu(matrix, 1).mT)
    return matrices, counts


@dataclass(frozen=True)
class SeparationFit:
    """Least-squares line ``log NC1 = intercept + slope · depth`` over ``layers`` (those with a
    finite, positive NC1); ``ratio = exp(slope)`` is the factor by which NC1 shrinks per layer.
    ``r2`` is NaN when every point has the same NC1, and every field is NaN with fewer than 2 layers.

    Example:
        >>> fit = SeparationFit(slope=-0.5, intercept=0.0, r2=1.0, layers=("a", "b"))
        >>> round(fit.ratio, 4)
        0.6065
    """

    slope: float
    intercept: float
    r2: float
    layers: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return math.exp(self.slope)


def fit_separation(names: list[str], nc1: list[float]) -> SeparationFit:
    """The law of data separation's line through ``log NC1`` against the layer index (see the module docstring).

    Example:
        >>> fit = fit_separation(["a", "b", "c"], [1.0, 0.5, 0.25])
        >>> round(fit.ratio, 12), round(fit.r2, 12)
        (0.5, 1.0)
    """
    points = [(depth, math.log(v), name) for depth, (name, v) in enumerate(zip(names, nc1)) if math.isfinite(v) and v > 0]
    if len(points) < 2:
        return SeparationFit(math.nan, math.nan, math.nan, tuple(p[2] for p in points))
    x = torch.tensor([p[0] for p in points], dtype=torch.float64)
    y = torch.tensor([p[1] for p in points], dtype=torch.float64)
    dx, dy = x - x.mean(), y - y.mean()
    slope = float((dx * dy).sum() / dx.square().sum())
    intercept = float(y.mean()) - slope * float(x.mean())
    total = float(dy.square().sum())
    residual = float((dy - slope * dx).square().sum())
    r2 = 1 - residual / total if total > 0 else math.nan
    return SeparationFit(slope, intercept, r2, tuple(p[2] for p in points))
