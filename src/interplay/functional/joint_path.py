"""Which computation of the sample-pairing joint entropy runs: the one estimator policy.

Every entry point (:func:`interplay.interplay_metrics`, :class:`interplay.InformationInterplay`,
:func:`interplay.probe`, the trainer callbacks and ``interplay train``) asks :func:`choose_joint_path`.
The exact paths diagonalise one matrix: the n×n Hadamard Gram (``"gram"``, needs the samples) or
the (r·s)×(r·s) per-class block matrix (``"class-blocks"``, needs only the per-class second
moments; r = rank of the head Gram, s = rank of the features). Their cost is dominated by the
eigen-solve, cubic in the side, so the smaller side wins. ``"stochastic"`` (stochastic Lanczos
quadrature with a standard error) runs when no exact side fits ``max_exact_size``, when asked
for, or, under ``"auto"``, when the exact eigen-solve is predicted to cost more than
``EXACT_PREMIUM`` (2) times the estimate at the requested tolerance: exactness is worth a
premium, not any price. The prediction is measured (``benchmarks/bench_joint_path.py``): an
exact eigen-solve of side s costs at least ``s³ / (1,000·n²)`` times the estimate on n samples at
the default tolerance 0.005 (on language-model hidden states and on features shaped like them;
the bound errs towards exact), and a tighter tolerance needs ``(0.005 / tol)²`` times the
probes. With the samples at hand (side n) the exact path is thus kept up to n ≈ 2,000.
"""

from __future__ import annotations

from interplay.validation import ExactSizeError, InterplayValueError

__all__ = ["METHODS", "check_method", "choose_joint_path"]

METHODS = ("auto", "exact", "stochastic")
EXACT_PREMIUM = 2.0  # how many times the estimate's cost the exact path may take under "auto"
ESTIMATE_PER_SQUARE = 1000.0  # measured: an exact eigen-solve of side s costs at least s³ / (1,000·n²) estimates on n samples
_DEFAULT_TOLERANCE = 0.005


def check_method(method) -> str:
    """Check ``method``: one of ``"auto"``, ``"exact"``, ``"stochastic"``.

    Example:
        >>> check_method("auto")
        'auto'
    """
    if method not in METHODS:
        raise InterplayValueError(
            f"method must be one of {', '.join(METHODS)}; got {method!r}. "
            "'auto' is exact where the eigenproblem fits max_exact_size and costs at most twice the estimate, and estimates otherwise."
        )
    return method


def choose_joint_path(
    *,
    method: str,
    max_exact_size: int,
    gram_side: int | None,
    blocks_side: int | None,
    what: str = "joint entropy",
    samples: int | None = None,
    tolerance: float = _DEFAULT_TOLERANCE,
) -> str:
    """The path for the joint entropy: ``"gram"``, ``"class-blocks"`` or ``"stochastic"``.

    Args:
        method: ``"auto"``, ``"exact"`` or ``"stochastic"``.
        max_exact_size: largest matrix side an exact path may diagonalise.
        gram_side: n when the samples are at hand, else ``None``.
        blocks_side: r·s when the per-class second moments are at hand (or can be formed), else ``None``.
        what: the quantity, for the error message.
        samples: n, the estimator's side, where it could run instead; ``None`` keeps every exact
            path that fits.
        tolerance: the standard error of MIR the estimator would be asked for.

    Raises:
        ExactSizeError: ``method="exact"`` and no exact side fits.

    Example:
        >>> choose_joint_path(method="auto", max_exact_size=8192, gram_side=2000, blocks_side=51200)
        'gram'
        >>> choose_joint_path(method="auto", max_exact_size=8192, gram_side=50000, blocks_side=76800)
        'stochastic'
        >>> choose_joint_path(method="auto", max_exact_size=8192, gram_side=8192, blocks_side=None, samples=8192)
        'stochastic'
    """
    if method == "stochastic":
        return "stochastic"
    sides = {name: side for name, side in (("gram", gram_side), ("class-blocks", blocks_side)) if side is not None}
    fitting = {name: side for name, side in sides.items() if side <= max_exact_size}
    if fitting:
        best = min(fitting, key=fitting.get)
        if method == "auto" and samples is not None and _exact_over_estimate(fitting[best], samples, tolerance) > EXACT_PREMIUM:
            return "stochastic"
        return best
    if method == "exact":
        smallest = min(sides.values())
        raise ExactSizeError(
            f"the exact {what} needs the eigenvalues of a {smallest}×{smallest} matrix, more than "
            f"max_exact_size={max_exact_size}. Use method='auto' (exact where it fits and is cheap enough, else "
            "estimated with a standard error), or raise max_exact_size."
        )
    return "stochastic"


def _exact_over_estimate(side: int, samples: int, tolerance: float) -> float:
    """Predicted cost of the exact eigen-solve of ``side`` over that of the estimate on ``samples``."""
    probes = max(1.0, (_DEFAULT_TOLERANCE / tolerance) ** 2)
    return side**3 / (ESTIMATE_PER_SQUARE * samples**2 * probes)
