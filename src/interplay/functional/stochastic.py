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
eigenvalues carry most of ``‖f(A)‖_F``, which sets the probes' variance, and the largest
eigenvalue left sets how fast their quadratures converge). Its rank starts at 64 whatever the
number of classes and doubles while the probes predict that it pays. The first term is a block
Gauss quadrature from ``Q``, deterministic; the second is stochastic Lanczos quadrature (Ubaru,
Chen & Saad 2017, SIAM J. Matrix Anal. Appl. 38(4)) over independent probes, whose sample
standard deviation gives the standard error; compare Hutch++ (Meyer et al. 2021, arXiv
2010.09649 §3). The probes carry a control variate: ``xᵀAx``, whose mean ``tr(PAP) = tr A -
tr(QᵀAQ)`` is known exactly, times a slope fitted on the other probes (cross-fitted, so the
mean stays unbiased); on the remainder ``λ log λ`` is nearly proportional to ``λ``, and this
takes out most of the spread. Each probe's Gauss quadrature of ``λ log λ`` is a lower bound
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
from interplay.functional.information import PairEntropies, entropy_resolution
from interplay.functional.joint_operators import (
    DenseJointOperator,
    JointOperator,
    joint_operator,
)
from interplay.functional.lanczos import lanczos, quadrature_bracket
from interplay.validation import check_scalar, check_tolerance

__all__ = ["DenseJointOperator", "JointEntropyEstimate", "JointOperator", "estimate_joint_entropy", "joint_operator", "rows_of_second_moments", "stochastic_entropies"]

_PROBE_BLOCK = 8
_SKETCH_BLOCKS = 4
_DEFLATION_RANK = 64
_FLAT = 1e-4  # relative spread of xᵀAx below which it is rounding (float32 products), not a control variate


def _orthonormal(x: torch.Tensor, basis: torch.Tensor | None) -> torch.Tensor:
    """Orthonormal columns spanning ``x`` minus its part in ``basis`` (twice, for rounding).

    Cholesky QR (GEMMs, several times faster than Householder on tall blocks): the block's Gram
    in its own precision, factored in float64, and Householder where the block is too
    ill-conditioned for its precision (the Gram squares the condition number; a Krylov block that
    ran out of directions, e.g. near collapse).
    """
    # Cholesky QR is accurate while cond(x) stays below about 1 / sqrt(eps): 3e-4 in float32.
    floor = 1e-6 if x.dtype == torch.float64 else 1e-3
    for again in range(2):
        if basis is not None:
            x = _outside(x, basis) if again else _refilled(x, basis)
        factor, info = torch.linalg.cholesky_ex((x.mT @ x).double())
        diagonal = factor.diagonal()
        if int(info) == 0 and float(diagonal.min()) > floor * float(diagonal.max()):
            x = torch.linalg.solve_triangular(factor.mT.to(x.dtype), x, upper=True, left=False)
        else:
            x = torch.linalg.qr(x).Q
    return x


def _refilled(x: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``x`` with the columns that ``basis`` already spans (to rounding) replaced by random ones.

    A Krylov block whose space is exhausted (an invariant subspace reached: a low-rank matrix,
    collapse) is rounding noise; normalised, it would keep components along ``basis`` and spoil
    the projection. A random direction orthogonal to ``basis`` leaves an invariant subspace
    invariant, so the quadrature stays exact. The random numbers are seeded by the shape, so
    equal inputs give equal bases.
    """
    rest = _outside(_outside(x, basis), basis)
    spent = torch.linalg.vector_norm(rest, dim=0) <= 1e3 * torch.finfo(x.dtype).eps * torch.linalg.vector_norm(x, dim=0)
    count = int(spent.sum())
    if count:
        generator = torch.Generator().manual_seed(x.shape[0] * 65_537 + basis.shape[1])
        fresh = torch.randn(x.shape[0], count, generator=generator, dtype=torch.float64).to(x.device, x.dtype)
        rest[:, spent] = _outside(_outside(fresh, basis), basis)
    return rest


def _outside(x: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``x`` minus its part in the span of the orthonormal ``basis``."""
    return x - basis @ (basis.mT @ x)


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


def _deflation(op, rank: int, max_blocks: int, tolerance: float, generator: torch.Generator):
    """Top-``rank`` Ritz vectors Q (n, rank) of a sketch, ``tr(Qᵀ f(A) Q)`` by block Gauss quadrature,
    a bound on the quadrature's error, and ``tr(Qᵀ A Q)``.

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
            inside = float(projected[:rank, :rank].diagonal().sum())
        theta, vectors = torch.linalg.eigh(projected)
        top = (vectors[:rank].square().sum(0) * xlogx(theta.clamp_min(0))).sum()  # Ritz values weighted by their mass on Q (A is PSD)
        if previous is not None and abs(float(top - previous)) <= tolerance:
            break
        previous = top
    # The last block's change bounds what more blocks would add; rounding sets a floor under it.
    return q, top, max(abs(float(top - previous)), op.n * torch.finfo(op.dtype).eps * abs(float(top))), inside


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
    (:func:`joint_operator`); the deflation rank starts at 64 (at most n/4) and doubles while the
    first probes predict that they would need more products than the larger deflation costs and
    the doubling at least halved them; each probe block takes Lanczos steps, two at a time, until
    the standard error with its Gauss / Gauss–Radau brackets' mean half-width reaches
    ``standard_error`` (or the half-width a third of it); probes are drawn in blocks of 8 (two at
    first, then as many as the spread so far predicts are missing, in one Lanczos run, so that
    products are GEMMs) until the standard error of their mean, with the control variate
    ``xᵀAx`` taken out and the brackets' mean half-width counted whole, reaches
    ``standard_error`` or ``max_probes``.

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
    standard_error = check_scalar(standard_error, "standard_error", float, above=0, why="the requested standard error in nats")
    op = joint_operator(z, labels, head_gram, total=total, memory_bytes=memory_bytes, standard_error=standard_error)
    n = op.n
    generator = torch.Generator().manual_seed(seed)
    largest = min(n // 4, memory_bytes // (z.element_size() * n * max_blocks))
    rank = min(_DEFLATION_RANK, largest)
    first = _deflate(op, rank, max_blocks, standard_error, max_steps, generator)
    cost = _probe_products(first, standard_error)
    while 2 * rank <= largest:
        # Products the probes still need, against those of a deflation of twice the rank (about 2·7 per direction).
        if cost <= 4 * (_SKETCH_BLOCKS + 3) * rank:
            break
        wider = _deflate(op, 2 * rank, max_blocks, standard_error, max_steps, generator)
        wider_cost = _probe_products(wider, standard_error)
        halved = 2 * wider_cost <= cost
        if wider_cost < cost:
            first, rank, cost = wider, 2 * rank, wider_cost
        if not halved:
            break
    q, top, known, probed, most = first
    while True:
        p, se = probed.values.numel(), _standard_error(probed, known)
        if p >= max_probes or _reached(probed, known, standard_error):
            break
        # Draw at once the probes the spread so far predicts are missing (whole blocks).
        missing = (float(_controlled(probed, known).var()) / standard_error**2 - p) / _PROBE_BLOCK
        count = min(max(1, math.ceil(missing)) * _PROBE_BLOCK, max_probes - p)
        more, steps = _probe_values(op, _probes(q, op, generator, count), standard_error, max_steps, probed, known)
        probed, most = probed.join(more), max(most, steps)
    return JointEntropyEstimate(-float(top + _controlled(probed, known).mean()), se, p, most, rank, seed)


def _probes(q: torch.Tensor | None, op, generator: torch.Generator, count: int = 2 * _PROBE_BLOCK) -> torch.Tensor:
    g = (torch.randint(0, 2, (op.n, count), generator=generator) * 2 - 1).to(op.device, op.dtype)  # (n, p) Rademacher
    return g if q is None else _outside(g, q)


class _Probed(NamedTuple):
    """What the probes so far gave, one entry per probe x."""

    values: torch.Tensor  # (p,) midpoints of the xᵀ f(A) x brackets
    widths: torch.Tensor  # (p,) their half-widths
    linear: torch.Tensor  # (p,) xᵀ A x, the control variate

    def join(self, other: _Probed) -> _Probed:
        return _Probed(*(torch.cat(pair) for pair in zip(self, other)))


class _Known(NamedTuple):
    """What the deflation fixed exactly."""

    error: float  # bound on the deflated quadrature's error
    trace: float  # tr(P A P) = tr A - tr(Qᵀ A Q): the control variate's mean


def _controlled(probed: _Probed, known: _Known) -> torch.Tensor:
    """The probes' values with the control variate taken out: ``v - a·(xᵀAx - tr(PAP))`` (p,).

    A probe's ``xᵀ f(A) x`` varies mostly with the mass ``xᵀAx`` it puts on the remainder, and
    the mean of that is known exactly, so a slope times its deviation removes most of the spread
    (twelvefold on SmolLM2's hidden states, see docs/linguistic-collapse.md). The slope
    of each block of probes is fitted on the other blocks only (cross-fitting): independent of
    that block's own probes, it leaves the mean unbiased. Where ``xᵀAx`` varies by less than
    float32 rounding (nothing left after the deflation), the values are left as they are: a
    slope fitted to rounding would carry the rounding of ``tr(PAP)`` into the mean.
    """
    p = probed.values.numel()
    c = probed.linear
    if p < 2 * _PROBE_BLOCK or float(c.std()) <= _FLAT * (abs(known.trace) + float(c.abs().mean())):
        return probed.values
    block = torch.arange(p, device=probed.values.device) // _PROBE_BLOCK
    controlled = probed.values.clone()
    for b in range(int(block[-1]) + 1):
        mine = block == b
        v, others = probed.values[~mine], c[~mine]
        spread = float((others - others.mean()).square().sum())
        slope = float(((others - others.mean()) * (v - v.mean())).sum()) / spread if spread > 0 else 0.0
        controlled[mine] -= slope * (c[mine] - known.trace)
    return controlled


def _standard_error(probed: _Probed, known: _Known) -> float:
    """Standard error of the probes' mean: their controlled spread, their brackets' mean half-width
    (a bound on the midpoints' mean error, counted whole: the truth does not sit at the midpoint
    on average; it lies nearer the Gauss end on language-model hidden states and at the
    Gauss–Radau end over an exact null space) and the deflated quadrature's error."""
    values = _controlled(probed, known)
    return math.sqrt(float(values.var()) / values.numel() + float(probed.widths.mean()) ** 2 + known.error**2)


def _reached(probed: _Probed, known: _Known, standard_error: float) -> bool:
    """Whether these probes (at least two blocks) give the requested standard error."""
    return probed.values.numel() >= 2 * _PROBE_BLOCK and _standard_error(probed, known) <= standard_error


def _probe_values(op, x: torch.Tensor, standard_error: float, max_steps: int, earlier: _Probed, known: _Known) -> tuple[_Probed, int]:
    """Each probe's ``xᵀ f(A) x`` bracket and ``xᵀ A x``, and the Lanczos steps taken.

    Steps stop once the mean half-width is a third of ``standard_error``, or earlier once these
    probes, with the ``earlier`` ones, already give the standard error asked for: the brackets
    narrow only slowly (the derivative of λ log λ is unbounded at 0), so where the probes' spread
    leaves room, spending it on the brackets saves most steps. Where the brackets still halve
    from one check to the next (a spectrum away from 0, or an exact null space, whose mass the
    Gauss rule resolves last: the truth then sits at the Gauss–Radau end, a bias as large as the
    half-width) and their half-width exceeds a third of the probes' own standard error, the
    steps go on: a few cheap steps remove that bias.
    """
    scale = torch.linalg.vector_norm(x, dim=0).double().square()
    last = [math.inf]  # the mean half-width at the previous check

    def probed(alphas: torch.Tensor, betas: torch.Tensor) -> _Probed:
        low, high = quadrature_bracket(alphas, betas)
        return _Probed(scale * (low + high) / 2, scale * (high - low) / 2, scale * alphas[:, 0])

    def narrow(alphas: torch.Tensor, betas: torch.Tensor) -> bool:
        mine = probed(alphas, betas)
        width, previous = float(mine.widths.mean()), last[0]
        last[0] = width
        now = earlier.join(mine)
        controlled = _controlled(now, known)
        if 2 * width < previous and 3 * width > float(controlled.std()) / math.sqrt(controlled.numel()):
            return False
        return width <= standard_error / 3 or _reached(now, known, standard_error)

    alphas, betas = lanczos(op, x, max_steps, narrow)
    return probed(alphas, betas), alphas.shape[1]


class _Deflated(NamedTuple):
    q: torch.Tensor | None  # (n, rank) deflated directions
    top: torch.Tensor  # tr(Qᵀ f(A) Q)
    known: _Known
    probed: _Probed  # the first two probe blocks
    steps: int


def _probe_products(deflated: _Deflated, standard_error: float) -> float:
    """Products with A that the probes need at this deflation: the probes the controlled spread
    of the first two blocks asks for (at least those two blocks) times the steps they took."""
    spread = float(_controlled(deflated.probed, deflated.known).var())
    return max(spread / standard_error**2, 2 * _PROBE_BLOCK) * deflated.steps


def _deflate(op, rank, max_blocks, standard_error, max_steps, generator) -> _Deflated:
    """Deflate ``rank`` directions, then run the first probe block."""
    if rank > 0:
        q, top, error, inside = _deflation(op, rank, max_blocks, standard_error / 10, generator)
    else:
        q, top, error, inside = None, torch.zeros((), dtype=torch.float64, device=op.device), 0.0, 0.0
    known = _Known(error, op.trace - inside)
    empty = torch.zeros(0, dtype=torch.float64, device=op.device)
    probed, steps = _probe_values(op, _probes(q, op, generator), standard_error, max_steps, _Probed(empty, empty, empty), known)
    return _Deflated(q, top, known, probed, steps)


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
    row_spectrum: torch.Tensor | None = None,
) -> tuple[PairEntropies, JointEntropyEstimate]:
    """``H(K_Z)`` and ``H(K_W)`` exactly (d×d and C×C), ``H(K_Z ⊙ K_W)`` by the estimator.

    The standard error of MIR is that of the joint entropy over ``min(H(K_Z), H(K_W))``, so the
    joint entropy is estimated to ``tolerance · min(H(K_Z), H(K_W))``; HDR is exact. Where one of
    the two is 0 to rounding (rows along one direction: a rank-one Gram ``s sᵀ`` with ``s = ±1``),
    ``K_Z ⊙ K_W`` is the other Gram up to signs, so the joint entropy is the other's, exactly
    (MIR is then undefined, and reading it raises as on the exact paths).

    Args:
        rows: (m, d) the normalised samples, or rows from :func:`rows_of_second_moments`.
        labels: (m,) class of each row. heads: (C, d) unit heads. counts: (C,) samples per class.
        tolerance: requested standard error of MIR.
        seed: seed of the estimator.
        row_spectrum: the eigenvalues of ``rowsᵀ rows`` where already computed.
    """
    tolerance = check_tolerance(tolerance)
    n = int(counts.sum())
    present = torch.nonzero(counts).flatten()
    head_gram = heads @ heads.mT  # (C, C)
    root = counts[present].to(heads.dtype).sqrt()
    h_w = entropy_from_eigenvalues(psd_eigenvalues(root[:, None] * head_gram[present][:, present] * root, "head Gram"), n)
    h_z = entropy_from_eigenvalues(row_gram_eigenvalues(rows) if row_spectrum is None else row_spectrum, n)
    names = ("features", "head_weight")
    smaller, larger = float(torch.minimum(h_z, h_w)), torch.maximum(h_z, h_w)
    if smaller <= entropy_resolution(n, h_z.dtype):
        return PairEntropies(h_z, h_w, larger, n, names), JointEntropyEstimate(float(larger), 0.0, 0, 0, 0, seed)
    estimate = estimate_joint_entropy(rows, labels, head_gram, standard_error=tolerance * smaller, seed=seed, total=n)
    return PairEntropies(h_z, h_w, h_z.new_tensor(estimate.h_joint), n, names), estimate
