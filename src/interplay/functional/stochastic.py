"""Stochastic estimate of the sample-pairing joint entropy at data-set scale, with a standard error.

The exact joint entropy needs the spectrum of ``K_Z ⊙ K_W``, whose smallest exact eigenproblem
has side ``min(n, r·s)`` (r = rank of the head Gram, s = rank of the features): infeasible for
CIFAR-100 or ImageNet. The estimator never forms it. With unit rows ``ẑ_i`` and head Gram
``G = Ŵ Ŵᵀ``, ``(K_Z ⊙ K_W) v = [ẑ_iᵀ Σ_c G_{y_i c} m_c]_i`` with ``m_c = Σ_{j∈c} v_j ẑ_j``,
about ``4·n·d + 2·C²·d`` operations per vector. Where the n×n matrix fits in memory and its
product is cheaper (2·n² against that count, and one GEMM instead of per-class gathers) it is
formed once, blockwise, and applied by GEMM. ``H = -tr f(A)`` with ``f(λ) = λ log λ`` and
``A = (K_Z ⊙ K_W)/n`` splits, for any orthonormal ``Q`` (n, k) and ``P = I - Q Qᵀ``, into

``tr f(A) = tr(Qᵀ f(A) Q) + E[xᵀ f(A) x]``, ``x = P g`` with Rademacher ``g``.

``Q`` holds the top Ritz vectors of a randomised block Krylov sketch (deflation: the top
eigenvalues carry most of ``‖f(A)‖_F``, which sets the probes' variance). Its rank starts at 256
whatever the number of classes and doubles while the probes predict that it pays. The first
term is a block Gauss quadrature from ``Q``, deterministic; the second is stochastic Lanczos
quadrature (Ubaru, Chen & Saad 2017, SIAM J. Matrix Anal. Appl. 38(4)) over independent probes,
whose sample standard deviation gives the standard error; compare Hutch++ (Meyer et al. 2021,
arXiv 2010.09649 §3). Each probe's Gauss quadrature of ``λ log λ`` is a lower bound
(``f^{(2m)} > 0``) and its Gauss–Radau quadrature with a node at 0 an upper bound
(``f^{(2m+1)} < 0``, A is PSD; Golub & Meurant 2010, "Matrices, Moments and Quadrature", §6.2):
the midpoint is used, steps are added until the probes' spread and the mean half-width together
give the requested standard error (or the half-width is a third of it), and the half-width
enters the reported standard error whole, as a bound on the midpoints' mean error. The sketch
that chooses the deflated directions runs on a bfloat16 copy of the dense matrix where the
hardware multiplies bfloat16 natively: the directions need not be exact for the estimate to be
unbiased, only for it to have a small variance.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import torch

from interplay.functional.entropy import (
    entropy_from_eigenvalues,
    psd_eigenvalues,
    row_gram_eigenvalues,
    xlogx,
)
from interplay.functional.information import PairEntropies
from interplay.functional.joint_operators import (
    DenseJointOperator,
    JointOperator,
    joint_operator,
)
from interplay.validation import check_tolerance

__all__ = ["DenseJointOperator", "JointEntropyEstimate", "JointOperator", "estimate_joint_entropy", "joint_operator", "rows_of_second_moments", "stochastic_entropies"]

_PROBE_BLOCK = 16
_SKETCH_BLOCKS = 4
_DEFLATION_RANK = 256
_CHECK = 4  # Lanczos steps between checks of the quadrature's bracket


def _orthonormal(x: torch.Tensor, basis: torch.Tensor | None) -> torch.Tensor:
    """Orthonormal columns spanning ``x`` minus its part in ``basis`` (twice, for rounding).

    Cholesky QR (GEMMs, several times faster than Householder on tall blocks): the block's Gram
    in its own precision, factored in float64, and Householder where the block is too
    ill-conditioned for its precision (the Gram squares the condition number; a Krylov block that
    ran out of directions, e.g. near collapse).
    """
    # Cholesky QR is accurate while cond(x) stays below about 1 / sqrt(eps): 3e-4 in float32.
    floor = 1e-6 if x.dtype == torch.float64 else 1e-3
    for _ in range(2):
        if basis is not None:
            x = x - basis @ (basis.mT @ x)
        factor, info = torch.linalg.cholesky_ex((x.mT @ x).double())
        diagonal = factor.diagonal()
        if int(info) == 0 and float(diagonal.min()) > floor * float(diagonal.max()):
            x = torch.linalg.solve_triangular(factor.mT.to(x.dtype), x, upper=True, left=False)
        else:
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
    """Top-``rank`` Ritz vectors Q (n, rank) of a sketch, ``tr(Qᵀ f(A) Q)`` by block Gauss quadrature,
    and a bound on the quadrature's error.

    Blocks are added to the quadrature until one changes it by less than ``tolerance``.
    """
    # Random numbers come from a CPU generator, so a seed gives the same estimate on every device.
    sketch = torch.randn(op.n, rank + 8, generator=generator, dtype=torch.float64).to(op.device, op.dtype)
    # The sketch only chooses Q: any Q leaves the estimate unbiased (the quadrature and the probes
    # use exact products), so it may run on a rounded, faster copy of the operator.
    rough = op.rough()
    basis, projected = deque(_block_krylov(rough, sketch, _SKETCH_BLOCKS), maxlen=1)[0]  # the last block's
    _, vectors = torch.linalg.eigh(projected.to(op.precision))
    q = basis @ vectors[:, -rank:].to(basis.dtype)  # (n, rank)
    del basis, projected, rough  # the sketch's basis is freed before the quadrature's grows
    previous = None
    for basis, projected in _block_krylov(op, q, max_blocks):
        if previous is None:
            q = basis[:, :rank].clone()  # the orthonormalised Q that the quadrature integrates over
        theta, vectors = torch.linalg.eigh(projected)
        top = (vectors[:rank].square().sum(0) * xlogx(theta)).sum()  # Ritz values weighted by their mass on Q
        if previous is not None and abs(float(top - previous)) <= tolerance:
            break
        previous = top
    # The last block's change bounds what more blocks would add; rounding sets a floor under it.
    return q, top, max(abs(float(top - previous)), op.n * torch.finfo(op.dtype).eps * abs(float(top)))


def _lanczos(op, x: torch.Tensor, max_steps: int, done) -> tuple[torch.Tensor, torch.Tensor]:
    """Lanczos coefficients (alphas (p, m), betas (p, m)) of each column of x, run side by side,
    until ``done(alphas, betas)`` (asked every ``_CHECK`` steps) or ``max_steps``.

    ``betas[:, -1]`` is the coupling to the next, unused Lanczos vector (for Gauss–Radau).
    """
    norm = torch.linalg.vector_norm(x, dim=0)
    v, previous, beta = x / norm, torch.zeros_like(x), x.new_zeros(x.shape[1])
    alphas, betas = [], []
    for step in range(max_steps):
        w = op(v) - beta * previous
        alpha = (w * v).sum(0)
        w = w - alpha * v
        w = w - (w * v).sum(0) * v  # local reorthogonalisation: keeps alpha accurate
        beta = torch.linalg.vector_norm(w, dim=0)
        # An invariant subspace reached (beta ≈ 0) ends that column's recurrence.
        live = beta > 1e3 * torch.finfo(w.dtype).eps * alpha.abs().clamp_min(1 / op.n)
        beta = torch.where(live, beta, torch.zeros_like(beta))
        alphas.append(alpha)
        betas.append(beta)
        if (step + 1) % _CHECK == 0 and done(torch.stack(alphas, 1).double(), torch.stack(betas, 1).double()):
            break
        previous, v = v, torch.where(live, w / beta.clamp_min(torch.finfo(w.dtype).tiny), torch.zeros_like(w))
    return torch.stack(alphas, 1).double(), torch.stack(betas, 1).double()


def _gauss(alphas: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``e1ᵀ f(T) e1`` for each column's tridiagonal T (p,), with T's eigenpairs."""
    t = torch.diag_embed(alphas) + torch.diag_embed(betas, 1) + torch.diag_embed(betas, -1)  # (p, m, m)
    theta, vectors = torch.linalg.eigh(t)
    return (vectors[:, 0, :].square() * xlogx(theta)).sum(1), theta, vectors


def _bracket(alphas: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss (lower) and Gauss–Radau with a node at 0 (upper) quadratures of ``e1ᵀ f(A) e1`` (p,) each.

    The Radau rule extends T by the next beta and ``α = β_m² [T⁻¹]_{mm}``, which puts a node at 0.
    Where T is numerically singular a Ritz value already sits at 0 and the Gauss rule is kept.
    """
    gauss, theta, vectors = _gauss(alphas, betas[:, :-1])
    regular = theta[:, 0] > theta[:, -1].abs() * alphas.shape[1] * 1e-12
    inverse = (vectors[:, -1, :].square() / torch.where(regular[:, None], theta, torch.ones_like(theta))).sum(1)
    extra = torch.where(regular, betas[:, -1].square() * inverse, torch.zeros_like(inverse))
    radau, _, _ = _gauss(torch.cat([alphas, extra[:, None]], 1), betas)
    return gauss, torch.where(regular, torch.maximum(radau, gauss), gauss)


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
    max_steps: int = 256,
    max_blocks: int = 8,
    memory_bytes: int = 2**30,
) -> JointEntropyEstimate:
    """Stochastic Lanczos estimate of the joint entropy of unit rows paired with their class heads.

    Choices, all adaptive: the product is the cheaper of the class-moment and the dense one
    (:func:`joint_operator`); the deflation rank starts at 256 (at most n/4) and doubles while the
    first probe block predicts that the probes would cost more than the larger deflation and the
    doubling at least halved the probe variance; each probe block takes Lanczos steps, four at a
    time, until the standard error with its Gauss / Gauss–Radau brackets' mean half-width
    reaches ``standard_error`` (or the half-width a third of it); probes are drawn in blocks of 16
    (two at first, then as many as the spread so far predicts are missing, in one Lanczos run, so
    that products are GEMMs) until the standard error of their mean, with the brackets' mean
    half-width counted whole, reaches ``standard_error`` or ``max_probes``.

    Args:
        z: (n, d) unit rows; labels: (n,) classes; head_gram: (C, C) Gram of the unit heads.
        standard_error: requested standard error of the joint entropy, in nats.
        seed: seed of the sketch and the probes; equal seeds give equal estimates.
        total: see :class:`JointOperator`.
        max_probes: largest number of probe vectors.
        max_steps: largest number of Lanczos steps per probe.
        max_blocks: most block Krylov steps of the deflated quadrature (blocks are added
            until one changes it by less than a tenth of ``standard_error``).
        memory_bytes: bound on the deflation basis (``n·max_blocks·rank`` numbers), on the
            dense product's n×n matrix and on the per-class moments of one product.

    Returns:
        A :class:`JointEntropyEstimate`.

    Example:
        >>> z = torch.eye(64, dtype=torch.float64)  # orthogonal rows: K_Z ⊙ K_W = I, H = log 64
        >>> labels = torch.arange(64) % 4
        >>> est = estimate_joint_entropy(z, labels, torch.eye(4, dtype=torch.float64), standard_error=0.01)
        >>> abs(est.h_joint - math.log(64)) < 3 * est.standard_error + 1e-9
        True
    """
    op = joint_operator(z, labels, head_gram, total=total, memory_bytes=memory_bytes, standard_error=standard_error)
    n = op.n
    generator = torch.Generator().manual_seed(seed)
    largest = min(n // 4, memory_bytes // (z.element_size() * n * max_blocks))
    rank = min(_DEFLATION_RANK, largest)
    first = _deflate(op, rank, max_blocks, standard_error, max_steps, generator)
    while 2 * rank <= largest:
        # Probes still needed, in products, against a deflation of twice the rank (about 2·7 products per direction).
        if (first.spread / standard_error) ** 2 * first.steps <= 4 * (_SKETCH_BLOCKS + 3) * rank:
            break
        wider = _deflate(op, 2 * rank, max_blocks, standard_error, max_steps, generator)
        halved = wider.spread**2 <= first.spread**2 / 2
        if wider.spread < first.spread:
            first, rank = wider, 2 * rank
        if not halved:
            break
    q, top, error, values, widths, steps, _ = first
    samples, bounds, most = [values], [widths], steps
    while True:
        all_values, all_widths = torch.cat(samples), torch.cat(bounds)
        p, se = all_values.numel(), _standard_error(all_values, all_widths, error)
        if p >= max_probes or _reached(all_values, all_widths, error, standard_error):
            break
        # Draw at once the probes the spread so far predicts are missing (whole blocks of 16).
        missing = (float(all_values.var()) / standard_error**2 - p) / _PROBE_BLOCK
        count = min(max(1, math.ceil(missing)) * _PROBE_BLOCK, max_probes - p)
        earlier = (all_values, all_widths, error)
        values, widths, steps = _probe_values(op, _probes(q, op, generator, count), standard_error, max_steps, earlier)
        samples.append(values)
        bounds.append(widths)
        most = max(most, steps)
    return JointEntropyEstimate(-float(top + all_values.mean()), se, p, most, rank, seed)


def _probes(q: torch.Tensor | None, op, generator: torch.Generator, count: int = 2 * _PROBE_BLOCK) -> torch.Tensor:
    g = (torch.randint(0, 2, (op.n, count), generator=generator) * 2 - 1).to(op.device, op.dtype)  # (n, p) Rademacher
    return g if q is None else g - q @ (q.mT @ g)


def _standard_error(values: torch.Tensor, widths: torch.Tensor, error: float) -> float:
    """Standard error of the probes' mean: their spread, their brackets' mean half-width (a bound on
    the midpoints' mean error, counted whole: the truth does not sit at the midpoint on average, it
    lies nearer the Gauss end) and the deflated quadrature's error."""
    return math.sqrt(float(values.var()) / values.numel() + float(widths.mean()) ** 2 + error**2)


def _reached(values: torch.Tensor, widths: torch.Tensor, error: float, standard_error: float) -> bool:
    """Whether these probes (at least two blocks) give the requested standard error."""
    return values.numel() >= 2 * _PROBE_BLOCK and _standard_error(values, widths, error) <= standard_error


def _probe_values(op, x: torch.Tensor, standard_error: float, max_steps: int, earlier) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Midpoints (p,) and half-widths (p,) of each probe's ``xᵀ f(A) x`` bracket, and the steps taken.

    Steps stop once the mean half-width is a third of ``standard_error``, or earlier once these
    probes, with the ``earlier`` ones (values, widths, deflation error), already give the standard
    error asked for: the brackets narrow only slowly (the derivative of λ log λ is unbounded at 0),
    so where the probes' spread leaves room, spending it on the brackets saves most steps.
    """
    scale = torch.linalg.vector_norm(x, dim=0).double().square()
    before, before_widths, error = earlier

    def narrow(alphas: torch.Tensor, betas: torch.Tensor) -> bool:
        low, high = _bracket(alphas, betas)
        widths = scale * (high - low) / 2
        if float(widths.mean()) <= standard_error / 3:
            return True
        return _reached(torch.cat([before, scale * (low + high) / 2]), torch.cat([before_widths, widths]), error, standard_error)

    alphas, betas = _lanczos(op, x, max_steps, narrow)
    low, high = _bracket(alphas, betas)
    return scale * (low + high) / 2, scale * (high - low) / 2, alphas.shape[1]


class _Deflated(NamedTuple):
    q: torch.Tensor | None  # (n, rank) deflated directions
    top: torch.Tensor  # tr(Qᵀ f(A) Q)
    error: float  # bound on its quadrature's error
    values: torch.Tensor  # (32,) first two probe blocks' xᵀ f(A) x (midpoints)
    widths: torch.Tensor  # (32,) their half-widths
    steps: int
    spread: float  # their standard deviation


def _deflate(op, rank, max_blocks, standard_error, max_steps, generator) -> _Deflated:
    """Deflate ``rank`` directions, then run the first probe block."""
    if rank > 0:
        q, top, error = _deflation(op, rank, max_blocks, standard_error / 10, generator)
    else:
        q, top, error = None, torch.zeros((), dtype=torch.float64, device=op.device), 0.0
    empty = torch.zeros(0, dtype=torch.float64, device=op.device)
    values, widths, steps = _probe_values(op, _probes(q, op, generator), standard_error, max_steps, (empty, empty, error))
    return _Deflated(q, top, error, values, widths, steps, float(values.std()))


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
