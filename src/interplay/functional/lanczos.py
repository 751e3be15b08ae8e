"""Lanczos quadrature of ``xᵀ f(A) x`` for ``f(λ) = λ log λ``, bracketed from both sides.

Each column of a block runs its own Lanczos recurrence (side by side, so that the products are
GEMMs). Its Gauss quadrature is a lower bound (``f^{(2m)} > 0``) and its Gauss–Radau quadrature
with a node at 0 an upper bound (``f^{(2m+1)} < 0``, A is PSD; Golub & Meurant 2010, "Matrices,
Moments and Quadrature", §6.2).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from interplay.functional.entropy import xlogx

__all__ = ["CHECK", "lanczos", "quadrature_bracket"]

CHECK = 2  # Lanczos steps between checks of the quadrature's bracket


def lanczos(op: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, max_steps: int, done) -> tuple[torch.Tensor, torch.Tensor]:
    """Lanczos coefficients (alphas (p, m), betas (p, m)) of each column of x, run side by side,
    until ``done(alphas, betas)`` (asked every ``CHECK`` steps) or ``max_steps``.

    ``betas[:, -1]`` is the coupling to the next, unused Lanczos vector (for Gauss–Radau);
    ``alphas[:, 0]`` is ``xᵀ A x / ‖x‖²``.

    Example:
        >>> a = torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
        >>> alphas, betas = lanczos(lambda v: a @ v, torch.ones(3, 1, dtype=torch.float64), 3, lambda *_: False)
        >>> round(float(alphas[0, 0]), 6)  # the mean of the eigenvalues: the start has equal weights
        2.0
    """
    n = x.shape[0]
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
        live = beta > 1e3 * torch.finfo(w.dtype).eps * alpha.abs().clamp_min(1 / n)
        beta = torch.where(live, beta, torch.zeros_like(beta))
        alphas.append(alpha)
        betas.append(beta)
        if (step + 1) % CHECK == 0 and done(torch.stack(alphas, 1).double(), torch.stack(betas, 1).double()):
            break
        previous, v = v, torch.where(live, w / beta.clamp_min(torch.finfo(w.dtype).tiny), torch.zeros_like(w))
    return torch.stack(alphas, 1).double(), torch.stack(betas, 1).double()


def _gauss(alphas: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``e1ᵀ f(T) e1`` for each column's tridiagonal T (p,), with T's eigenpairs.

    A is PSD, so a negative Ritz value is rounding (of a null space, say) and is taken as 0: its
    ``λ log λ`` with the logarithm's floor would be a spurious positive term.
    """
    t = torch.diag_embed(alphas) + torch.diag_embed(betas, 1) + torch.diag_embed(betas, -1)  # (p, m, m)
    theta, vectors = torch.linalg.eigh(t)
    return (vectors[:, 0, :].square() * xlogx(theta.clamp_min(0))).sum(1), theta, vectors


def quadrature_bracket(alphas: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss (lower) and Gauss–Radau with a node at 0 (upper) quadratures of ``e1ᵀ f(A) e1`` (p,) each.

    The Radau rule extends T by the next beta and ``α = β_m² [T⁻¹]_{mm}``, which puts a node at 0.
    Where T is numerically singular a Ritz value already sits at 0 and the Gauss rule is kept.

    Example:
        >>> alphas, betas = torch.tensor([[0.5]], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64)
        >>> low, high = quadrature_bracket(alphas, betas)  # the measure ½δ₀ + ½δ₁ has f-integral 0
        >>> float(low) <= 0.0 <= float(high)
        True
    """
    gauss, theta, vectors = _gauss(alphas, betas[:, :-1])
    regular = theta[:, 0] > theta[:, -1].abs() * alphas.shape[1] * 1e-12
    inverse = (vectors[:, -1, :].square() / torch.where(regular[:, None], theta, torch.ones_like(theta))).sum(1)
    extra = torch.where(regular, betas[:, -1].square() * inverse, torch.zeros_like(inverse))
    radau, _, _ = _gauss(torch.cat([alphas, extra[:, None]], 1), betas)
    return gauss, torch.where(regular, torch.maximum(radau, gauss), gauss)
