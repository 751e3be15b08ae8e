"""Stochastic estimate of the sample-pairing joint entropy at data-set scale, with a standard error.

The exact joint entropy needs the spectrum of ``K_Z ⊙ K_W``, whose smallest exact eigenproblem
has side ``min(n, r·s)`` (r = rank of the head Gram, s = rank of the features): infeasible for
CIFAR-100 or ImageNet. The estimator never forms it. With unit rows ``ẑ_i`` and head Gram
``G = Ŵ Ŵᵀ``, ``(K_Z ⊙ K_W) v = [ẑ_iᵀ Σ_c G_{y_i c} m_c]_i`` with ``m_c = Σ_{j∈c} v_j ẑ_j``,
about ``4·n·d + 2·C²·d`` operations per vector. ``H = -tr f(A)`` with ``f(λ) = λ log λ`` and
``A = (K_Z ⊙ K_W)/n`` splits, for any orthonormal ``Q`` (n, k) and ``P = I - Q Qᵀ``, into

``tr f(A) = tr(Qᵀ f(A) Q) + E[xᵀ f(A) x]``, ``x = P g`` with Rademacher ``g``.

``Q`` holds the top Ritz vectors of a randomised block Krylov sketch (deflation: near collapse
the top C eigenvalues carry most of ``‖f(A)‖_F``, which sets the probes' variance). The first
term is a block Gauss quadrature from ``Q``, deterministic; the second is stochastic Lanczos
quadrature (Ubaru, Chen & Saad 2017, SIAM J. Matrix Anal. Appl. 38(4)) over independent probes,
whose sample standard deviation gives the standard error; compare Hutch++ (Meyer et al. 2021,
arXiv 2010.09649 §3). Gauss quadrature of ``λ log λ`` is exact in the limit and increases with
the number of steps (``f^{(2m)} > 0``); steps are added until the last doubling moved the
estimate by less than a tenth of the requested standard error.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import torch

from interplay.functional.entropy import entropy_from_eigenvalues, psd_eigenvalues, row_gram_eigenvalues, xlogx
from interplay.functional.information import PairEntropies
from interplay.validation import check_tolerance

__all__ = ["JointOperator", "JointEntropyEstimate", "estimate_joint_entropy", "rows_of_second_moments", "stochastic_entropies"]

_CHUNK_BYTES = 2**28
_PROBE_BLOCK = 16
_SKETCH_BLOCKS = 4


class JointOperator:
    """The map ``v ↦ (K_Z ⊙ K_W) v / n`` without any n×n matrix.

    Samples are grouped by class, and classes whose sizes share a power of two share one
    zero-padded batched product, so padding at most doubles the stored features.

    Args:
        z: (n, d) unit rows (normalised, optionally centred representations).
        labels: (n,) class of each row.
        head_gram: (C, C) Gram of the unit heads.
        total: the divisor n of the Gram (default: the number of rows). Rows ``B_cᵀ`` with
            ``B_c B_cᵀ = S_c`` per class give the non-zero spectrum of the samples' joint Gram.
        chunk_bytes: largest intermediate per-class moment ``(C, d, k)`` of one product; the
            probe columns are processed in chunks that fit it.

    Example:
        >>> z = torch.eye(3, dtype=torch.float64)
        >>> op = JointOperator(z, torch.tensor([0, 1, 1]), torch.eye(2, dtype=torch.float64))
        >>> op(torch.ones(3, 1, dtype=torch.float64)).flatten() * 3  # K_Z ⊙ K_W = I
        tensor([1., 1., 1.], dtype=torch.float64)
    """

    def __init__(
        self, z: torch.Tensor, labels: torch.Tensor, head_gram: torch.Tensor, *, total: int | None = None, chunk_bytes: int = _CHUNK_BYTES
    ) -> None:
        n, d = z.shape
        device = z.device
        labels = labels.to(device)
        counts = torch.bincount(labels, minlength=head_gram.shape[0])  # (C,)
        present = torch.nonzero(counts).flatten()
        slot = torch.full_like(counts, -1)
        slot[present] = torch.arange(present.numel(), device=device)
        self.n, self.dim, self.dtype, self.device, self.total = n, d, z.dtype, device, total or n
        self.gram = head_gram.to(device)[present][:, present]  # (C', C')
        order = torch.argsort(labels, stable=True)
        starts = torch.cumsum(counts, 0) - counts  # (C,)
        rank = torch.arange(n, device=device) - starts[labels[order]]  # position of each sample within its class
        padded = torch.cat([z, z.new_zeros(1, d)])  # row n is the zero padding row
        self.buckets = []
        size_class = torch.ceil(torch.log2(counts[present].double())).long()  # (C',)
        for level in torch.unique(size_class).tolist():
            classes = present[size_class == level]  # (g,)
            width = int(counts[classes].max())
            index = torch.full((classes.numel(), width), n, dtype=torch.long, device=device)  # (g, m)
            local = torch.full_like(counts, -1)
            local[classes] = torch.arange(classes.numel(), device=device)
            mine = local[labels[order]] >= 0
            index[local[labels[order]][mine], rank[mine]] = order[mine]
            self.buckets.append((slot[classes], index, padded[index]))  # (g,), (g, m), (g, m, d)
        self.chunk = max(1, chunk_bytes // (self.gram.shape[0] * d * z.element_size()))

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """``A v`` for a block of vectors v (n, k)."""
        return torch.cat([self._apply(part) for part in torch.split(v, self.chunk, dim=1)], dim=1)

    def _apply(self, v: torch.Tensor) -> torch.Tensor:
        k = v.shape[1]
        c, d = self.gram.shape[0], self.dim
        padded = torch.cat([v, v.new_zeros(1, k)])  # (n+1, k)
        # Moments are kept as (k, d) per class, so that both batched products read the stored
        # features row-major: in float64 that layout runs the products about 1.7× faster.
        moments = v.new_zeros(c, k, d)  # m_cᵀ = Σ_{j∈c} v_j ẑ_jᵀ
        for slots, index, z in self.buckets:
            moments[slots] = padded[index].mT @ z  # (g, k, d)
        mixed = (self.gram @ moments.reshape(c, k * d)).reshape(c, k, d)  # Σ_c' G_{c c'} m_c'ᵀ
        out = v.new_empty(self.n + 1, k)
        for slots, index, z in self.buckets:
            out[index] = (mixed[slots] @ z.mT).mT  # (g, m, k); padding lands in row n
        return out[: self.n] / self.total


def _orthonormal(x: torch.Tensor, basis: torch.Tensor | None) -> torch.Tensor:
    """Orthonormal columns spanning ``x`` minus its part in ``basis`` (twice, for rounding)."""
    for _ in range(2):
        if basis is not None:
            x = x - basis @ (basis.mT @ x)
        x = torch.linalg.qr(x).Q
    return x


def _block_krylov(op, start: torch.Tensor, blocks: int):
    """Yield, block by block, an orthonormal basis (n, j·k) of the block Krylov space of ``start``
    and the projection ``basisᵀ A basis`` (j·k, j·k), for at most ``blocks`` blocks (fewer where
    the space would outgrow n).

    The basis is allocated once and the projection grows by one block column per step, so the
    memory is the basis plus one block's image.
    """
    k = start.shape[1]
    blocks = max(1, min(blocks, op.n // k))
    basis = start.new_empty(op.n, blocks * k)
    projected = start.new_zeros(blocks * k, blocks * k)
    block = _orthonormal(start, None)
    for j in range(blocks):
        low, high = j * k, (j + 1) * k
        basis[:, low:high] = block
        image = op(block)  # (n, k)
        column = basis[:, :high].mT @ image  # (high, k): block column j of the projection
        projected[:high, low:high] = column
        projected[low:high, :low] = column[:low].mT  # A is symmetric
        square = projected[:high, :high]
        yield basis[:, :high], (square + square.mT) / 2
        if j + 1 < blocks:
            block = _orthonormal(image, basis[:, :high])


def _deflation(op, rank: int, max_blocks: int, tolerance: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``rank`` Ritz vectors Q (n, rank) of a sketch, and ``tr(Qᵀ f(A) Q)`` by block Gauss quadrature.

    Blocks are added to the quadrature until one changes it by less than ``tolerance``.
    """
    # Random numbers come from a CPU generator, so a seed gives the same estimate on every device.
    sketch = torch.randn(op.n, rank + 8, generator=generator, dtype=torch.float64).to(op.device, op.dtype)
    basis, projected = deque(_block_krylov(op, sketch, _SKETCH_BLOCKS), maxlen=1)[0]  # the last block's
    _, vectors = torch.linalg.eigh(projected)
    q = basis @ vectors[:, -rank:]  # (n, rank)
    del basis, projected  # the sketch's basis is freed before the quadrature's grows
    previous = None
    for _, projected in _block_krylov(op, q, max_blocks):
        theta, vectors = torch.linalg.eigh(projected)
        top = (vectors[:rank].square().sum(0) * xlogx(theta)).sum()  # Ritz values weighted by their mass on Q
        if previous is not None and abs(float(top - previous)) <= tolerance:
            break
        previous = top
    return q, top


def _lanczos(op, x: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lanczos coefficients (alphas (p, m), betas (p, m-1)) of each column of x, run side by side."""
    norm = torch.linalg.vector_norm(x, dim=0)
    v, previous, beta = x / norm, torch.zeros_like(x), x.new_zeros(x.shape[1])
    alphas, betas = [], []
    for step in range(steps):
        w = op(v) - beta * previous
        alpha = (w * v).sum(0)
        w = w - alpha * v
        w = w - (w * v).sum(0) * v  # local reorthogonalisation: keeps alpha accurate
        alphas.append(alpha)
        if step == steps - 1:
            break
        beta = torch.linalg.vector_norm(w, dim=0)
        # An invariant subspace reached (beta ≈ 0) ends that column's recurrence.
        live = beta > 1e3 * torch.finfo(w.dtype).eps * alpha.abs().clamp_min(1 / op.n)
        beta = torch.where(live, beta, torch.zeros_like(beta))
        previous, v = v, torch.where(live, w / beta.clamp_min(torch.finfo(w.dtype).tiny), torch.zeros_like(w))
        betas.append(beta)
    return torch.stack(alphas, 1).double(), torch.stack(betas, 1).double() if betas else x.new_zeros(x.shape[1], 0)


def _quadrature(alphas: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """``e1ᵀ f(T) e1`` for each column's tridiagonal T (p,)."""
    t = torch.diag_embed(alphas) + torch.diag_embed(betas, 1) + torch.diag_embed(betas, -1)  # (p, m, m)
    theta, vectors = torch.linalg.eigh(t)
    return (vectors[:, 0, :].square() * xlogx(theta)).sum(1)


@dataclass(frozen=True)
class JointEntropyEstimate:
    """The estimate of ``H(K_Z ⊙ K_W)`` (nats), its standard error, and how it was made."""

    h_joint: float
    standard_error: float
    probes: int
    steps: int
    deflation: int
    seed: int


def estimate_joint_entropy(
    z: torch.Tensor,
    labels: torch.Tensor,
    head_gram: torch.Tensor,
    *,
    standard_error: float,
    seed: int = 0,
    total: int | None = None,
    max_probes: int = 1024,
    steps: int = 24,
    max_steps: int = 192,
    max_blocks: int = 8,
    memory_bytes: int = 2**30,
) -> JointEntropyEstimate:
    """Stochastic Lanczos estimate of the joint entropy of unit rows paired with their class heads.

    Choices, all adaptive: the deflation rank starts at the number of present classes plus 8
    (near collapse the top C eigenvalues hold most of ``‖f(A)‖_F``) and doubles while the first
    probe block predicts that the probes would cost more than the larger deflation and the
    doubling at least halved the probe variance; Lanczos steps double until the quadrature of
    the first block moved by less than a tenth of ``standard_error``; probes are drawn in blocks
    of 16 (at least two blocks) until the standard error of their mean reaches
    ``standard_error`` or ``max_probes``.

    Args:
        z: (n, d) unit rows; labels: (n,) classes; head_gram: (C, C) Gram of the unit heads.
        standard_error: requested standard error of the joint entropy, in nats.
        seed: seed of the sketch and the probes; equal seeds give equal estimates.
        total: see :class:`JointOperator`.
        max_probes: largest number of probe vectors.
        steps, max_steps: first and largest number of Lanczos steps per probe.
        max_blocks: most block Krylov steps of the deflated quadrature (blocks are added
            until one changes it by less than a tenth of ``standard_error``).
        memory_bytes: bound on the deflation basis (``n·max_blocks·rank`` numbers) and on the
            per-class moments of one product (see :class:`JointOperator`).

    Returns:
        A :class:`JointEntropyEstimate`.

    Example:
        >>> z = torch.eye(64, dtype=torch.float64)  # orthogonal rows: K_Z ⊙ K_W = I, H = log 64
        >>> labels = torch.arange(64) % 4
        >>> est = estimate_joint_entropy(z, labels, torch.eye(4, dtype=torch.float64), standard_error=0.01)
        >>> abs(est.h_joint - math.log(64)) < 3 * est.standard_error + 1e-9
        True
    """
    op = JointOperator(z, labels, head_gram, total=total, chunk_bytes=memory_bytes // 4)
    n = op.n
    generator = torch.Generator().manual_seed(seed)
    largest = min(n // 4, memory_bytes // (z.element_size() * n * max_blocks))
    rank = min(op.gram.shape[0] + 8, largest)
    first = _deflate(op, rank, max_blocks, steps, standard_error, max_steps, generator)
    while 2 * rank <= largest:
        # Probes still needed, in products, against a deflation of twice the rank (about 2·7 products per direction).
        if (first.spread / standard_error) ** 2 * first.steps <= 4 * (_SKETCH_BLOCKS + 3) * rank:
            break
        wider = _deflate(op, 2 * rank, max_blocks, steps, standard_error, max_steps, generator)
        halved = wider.spread**2 <= first.spread**2 / 2
        if wider.spread < first.spread:
            first, rank = wider, 2 * rank
        if not halved:
            break
    q, top, values, steps, _ = first
    samples = [values]
    while True:
        all_values = torch.cat(samples)
        p = all_values.numel()
        se = float(all_values.std() / math.sqrt(p))
        if p >= max_probes or (p >= 2 * _PROBE_BLOCK and se <= standard_error):
            break
        x = _probes(q, op, generator)
        alphas, betas = _lanczos(op, x, steps)
        samples.append(torch.linalg.vector_norm(x, dim=0).double().square() * _quadrature(alphas, betas))
    return JointEntropyEstimate(-float(top + all_values.mean()), se, p, steps, rank, seed)


def _probes(q: torch.Tensor | None, op: JointOperator, generator: torch.Generator) -> torch.Tensor:
    g = (torch.randint(0, 2, (op.n, _PROBE_BLOCK), generator=generator) * 2 - 1).to(op.device, op.dtype)  # (n, p) Rademacher
    return g if q is None else g - q @ (q.mT @ g)


class _Deflated(NamedTuple):
    q: torch.Tensor | None  # (n, rank) deflated directions
    top: torch.Tensor  # tr(Qᵀ f(A) Q)
    values: torch.Tensor  # (16,) first probe block's xᵀ f(A) x
    steps: int
    spread: float  # their standard deviation


def _deflate(op, rank, max_blocks, steps, standard_error, max_steps, generator) -> _Deflated:
    """Deflate ``rank`` directions, then run the first probe block with enough Lanczos steps."""
    q, top = _deflation(op, rank, max_blocks, standard_error / 10, generator) if rank > 0 else (None, torch.zeros((), dtype=torch.float64, device=op.device))
    x = _probes(q, op, generator)
    scale = torch.linalg.vector_norm(x, dim=0).double().square()
    while True:
        alphas, betas = _lanczos(op, x, steps)
        values = scale * _quadrature(alphas, betas)
        half = scale * _quadrature(alphas[:, : steps // 2], betas[:, : steps // 2 - 1])
        if float((values - half).mean().abs()) <= standard_error / 10 or steps >= max_steps:
            return _Deflated(q, top, values, steps, float(values.std()))
        steps = min(2 * steps, max_steps)


def rows_of_second_moments(second: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows (m, d) and their classes (m,) whose per-class second moments are ``second`` (C, d, d).

    ``B_c = V_c Λ_c^½`` from the eigendecomposition of each ``S_c``, keeping the directions above
    rounding; ``m ≤ n``. The joint Gram of these rows has the samples' non-zero spectrum.
    """
    eig, vec = torch.linalg.eigh(second)  # (C, d), (C, d, d)
    keep = eig > eig.amax(1, keepdim=True).clamp_min(0) * second.shape[1] * torch.finfo(eig.dtype).eps * 10  # (C, d)
    rows = (vec * eig.clamp_min(0).sqrt()[:, None, :]).mT  # (C, d, d): row j of class c is √λ_j v_jᵀ
    labels = torch.arange(second.shape[0], device=second.device).repeat_interleave(keep.sum(1))
    return rows[keep], labels


def stochastic_entropies(
    rows: torch.Tensor,
    labels: torch.Tensor,
    heads: torch.Tensor,
    counts: torch.Tensor,
    *,
    tolerance: float,
    seed: int,
) -> tuple[PairEntropies, JointEntropyEstimate]:
    """``H(K_Z)`` and ``H(K_W)`` exactly (d×d and C×C), ``H(K_Z ⊙ K_W)`` by the estimator.

    The standard error of MIR is that of the joint entropy over ``min(H(K_Z), H(K_W))``, so the
    joint entropy is estimated to ``tolerance · min(H(K_Z), H(K_W))``; HDR is exact.

    Args:
        rows: (m, d) the normalised samples, or rows from :func:`rows_of_second_moments`.
        labels: (m,) class of each row. heads: (C, d) unit heads. counts: (C,) samples per class.
        tolerance: requested standard error of MIR.
        seed: seed of the estimator.
    """
    tolerance = check_tolerance(tolerance)
    n = int(counts.sum())
    present = torch.nonzero(counts).flatten()
    head_gram = heads @ heads.mT  # (C, C)
    root = counts[present].to(heads.dtype).sqrt()
    h_w = entropy_from_eigenvalues(psd_eigenvalues(root[:, None] * head_gram[present][:, present] * root, "head Gram"), n)
    h_z = entropy_from_eigenvalues(row_gram_eigenvalues(rows), n)
    estimate = estimate_joint_entropy(
        rows, labels, head_gram, standard_error=tolerance * float(torch.minimum(h_z, h_w)), seed=seed, total=n
    )
    return PairEntropies(h_z, h_w, h_z.new_tensor(estimate.h_joint)), estimate
