"""Which computation of the sample-pairing joint entropy runs: the one estimator policy.

Every entry point (:func:`interplay.interplay_metrics`, :class:`interplay.InformationInterplay`,
:func:`interplay.probe`, the trainer callbacks and ``interplay train``) asks :func:`choose_joint_path`.
The exact paths diagonalise one matrix: the n×n Hadamard Gram (``"gram"``, needs the samples) or
the (r·s)×(r·s) per-class block matrix (``"class-blocks"``, needs only the per-class second
moments; r = rank of the head Gram, s = rank of the features). Their cost is dominated by the
eigen-solve, cubic in the side, so the smaller side wins. ``"stochastic"`` (stochastic Lanczos
quadrature with a standard error) runs only when no exact side fits ``max_exact_size``, or when
asked for.
"""

from __future__ import annotations

from interplay.validation import ExactSizeError, InterplayValueError

__all__ = ["METHODS", "check_method", "choose_joint_path"]

METHODS = ("auto", "exact", "stochastic")


def check_method(method) -> str:
    """Check ``method``: one of ``"auto"``, ``"exact"``, ``"stochastic"``.

    Example:
        >>> check_method("auto")
        'auto'
    """
    if method not in METHODS:
        raise InterplayValueError(
            f"method must be one of {', '.join(METHODS)}; got {method!r}. "
            "'auto' is exact where the eigenproblem fits max_exact_size and estimates otherwise."
        )
    return method


def choose_joint_path(
    *, method: str, max_exact_size: int, gram_side: int | None, blocks_side: int | None, what: str = "joint entropy"
) -> str:
    """The path for the joint entropy: ``"gram"``, ``"class-blocks"`` or ``"stochastic"``.

    Args:
        method: ``"auto"``, ``"exact"`` or ``"stochastic"``.
        max_exact_size: largest matrix side an exact path may diagonalise.
        gram_side: n when the samples are at hand, else ``None``.
        blocks_side: r·s when the per-class second moments are at hand (or can be formed), else ``None``.
        what: the quantity, for the error message.

    Raises:
        ExactSizeError: ``method="exact"`` and no exact side fits.

    Example:
        >>> choose_joint_path(method="auto", max_exact_size=8192, gram_side=2000, blocks_side=51200)
        'gram'
        >>> choose_joint_path(method="auto", max_exact_size=8192, gram_side=50000, blocks_side=76800)
        'stochastic'
    """
    if method == "stochastic":
        return "stochastic"
    sides = {name: side for name, side in (("gram", gram_side), ("class-blocks", blocks_side)) if side is not None}
    fitting = {name: side for name, side in sides.items() if side <= max_exact_size}
    if fitting:
        return min(fitting, key=fitting.get)
    if method == "exact":
        smallest = min(sides.values())
        raise ExactSizeError(
            f"the exact {what} needs the eigenvalues of a {smallest}×{smallest} matrix, more than "
            f"max_exact_size={max_exact_size}. Use method='auto' (exact where it fits, else estimated "
            "with a standard error), or raise max_exact_size."
        )
    return "stochastic"
