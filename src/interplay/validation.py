"""Input checks shared by every public function, and the wording of their messages.

Every message names the argument and what it must be, says what was received, and
where possible how to fix it. The error classes subclass the builtins so that users
can catch ``ValueError``/``TypeError`` while the CLI catches exactly ours.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

__all__ = [
    "InterplayValueError",
    "InterplayTypeError",
    "ExactSizeError",
    "as_tensor",
    "check_features",
    "check_paired",
    "check_labels",
    "check_head_weight",
    "check_bias",
    "check_gram",
    "check_num_classes",
    "check_pairing",
    "check_psd_eigenvalues",
    "check_max_exact_size",
    "check_center",
    "check_no_zero_rows",
    "check_seed",
    "check_tolerance",
    "check_dtype",
    "check_scalar",
]

PAIRINGS = ("sample", "class")


class InterplayValueError(ValueError):
    """An argument has the right type but a wrong shape or value.

    Example:
        >>> try:
        ...     check_pairing("pairs")
        ... except InterplayValueError as error:
        ...     print(error)
        pairing must be one of ('sample', 'class'); got 'pairs'.
    """


class InterplayTypeError(TypeError):
    """An argument has the wrong type.

    Example:
        >>> isinstance(InterplayTypeError("x"), TypeError)
        True
    """


class ExactSizeError(InterplayValueError):
    """Every exact way to compute a quantity needs a matrix larger than allowed.

    Example:
        >>> isinstance(ExactSizeError("too large"), ValueError)
        True
    """


def as_tensor(value: Any, name: str) -> torch.Tensor:
    """Return ``value`` as a tensor; numpy arrays are wrapped without copying."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise InterplayTypeError(
        f"{name} must be a torch.Tensor or numpy.ndarray; got {type(value).__name__}. "
        f"Convert it with torch.as_tensor({name})."
    )


def _check_finite(x: torch.Tensor, name: str) -> None:
    if not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise InterplayValueError(
            f"{name} must contain only finite values; got {bad} NaN or Inf entries. "
            "Check the model output for divergence before computing metrics."
        )


def check_features(
    x: Any, name: str = "features", *, min_samples: int = 2, allow_zero_rows: bool = False
) -> torch.Tensor:
    """Check an (n, d) real matrix with ``n >= min_samples``, finite, without zero rows (unless allowed).

    Example:
        >>> check_features(torch.ones(3, 2)).shape
        torch.Size([3, 2])
    """
    x = as_tensor(x, name)
    if not (x.is_floating_point()):
        raise InterplayTypeError(
            f"{name} must be a floating-point tensor; got dtype {x.dtype}. Use {name}.float()."
        )
    if x.ndim != 2:
        hint = f" For one sample use {name}.unsqueeze(0)." if x.ndim == 1 else ""
        hint = f" Flatten it with {name}.flatten(1)." if x.ndim > 2 else hint
        raise InterplayValueError(
            f"{name} must be a 2-D tensor of shape (n_samples, dim); got shape {tuple(x.shape)}.{hint}"
        )
    if x.shape[0] < min_samples:
        raise InterplayValueError(
            f"{name} must have at least {min_samples} rows (samples); got {x.shape[0]}. "
            "Matrix entropies of fewer samples are not defined; pass a larger batch."
        )
    if x.shape[1] < 1:
        raise InterplayValueError(f"{name} must have at least one column; got shape {tuple(x.shape)}.")
    _check_finite(x, name)
    if not allow_zero_rows:
        check_no_zero_rows(x, name)
    return x


def check_no_zero_rows(x: torch.Tensor, name: str) -> torch.Tensor:
    """Refuse all-zero rows of an (n, d) matrix: they have no direction to normalise.

    Example:
        >>> check_no_zero_rows(torch.ones(2, 3), "x").shape
        torch.Size([2, 3])
    """
    zero = (x == 0).all(dim=1)
    if bool(zero.any()):
        rows = torch.nonzero(zero).flatten()[:5].tolist()
        raise InterplayValueError(
            f"{name} must not contain all-zero rows (they cannot be L2-normalised); "
            f"got zero rows at indices {rows}. Drop those samples or add a small offset."
        )
    return x


def check_paired(x: torch.Tensor, y: torch.Tensor, names: tuple[str, str] = ("x", "y")) -> None:
    """Check that two matrices have one row per sample, paired by index."""
    if x.shape[0] != y.shape[0]:
        raise InterplayValueError(
            f"{names[0]} and {names[1]} must have the same number of rows (paired samples); "
            f"got {x.shape[0]} and {y.shape[0]}."
        )


def check_scalar(value: Any, name: str, kind: type = int, *, minimum: float | None = None, above: float | None = None,
                 below: float | None = None, infinite: bool = False, optional: bool = False, why: str = "") -> Any:
    """Check one scalar argument: its kind (``int``, or ``float`` which takes ints too), its bounds,
    finiteness (``infinite`` admits +inf), or ``None`` when ``optional``; returns it as ``kind``.
    Every message reads ``NAME must be KIND BOUNDS[ (WHY)]; got VALUE.``, like scikit-learn's.

    Example:
        >>> check_scalar(3, "steps", minimum=1)
        3
        >>> check_scalar(0.0, "tolerance", float, above=0, why="the standard error of MIR")
        Traceback (most recent call last):
        ...
        interplay.validation.InterplayValueError: tolerance must be a number > 0 (the standard error of MIR); got 0.0.
    """
    if optional and value is None:
        return None
    whole = kind is int
    bounds = [f"{sign} {_bound(bound)}" for sign, bound in ((">=", minimum), (">", above), ("<", below)) if bound is not None]
    wanted = ("an int" if whole else "a number") + "".join(f" {b}" for b in bounds[:1]) + "".join(f" and {b}" for b in bounds[1:])
    wanted += " or None" if optional else ""
    wanted += f" ({why})" if why else ""
    numeric = (int, np.integer) if whole else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, numeric):
        raise InterplayTypeError(f"{name} must be {wanted}; got {value!r} of type {type(value).__name__}.")
    finite = math.isfinite(value) or (infinite and value == math.inf)
    if (not finite or (minimum is not None and value < minimum) or (above is not None and value <= above)
            or (below is not None and value >= below)):
        raise InterplayValueError(f"{name} must be {wanted}; got {value!r}.")
    return kind(value)


def _bound(value: float) -> str:
    """A bound as a person writes it: 2**63 rather than its 19 digits."""
    if isinstance(value, int) and value > 2**31 and value & (value - 1) == 0:
        return f"2**{value.bit_length() - 1}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_num_classes(num_classes: Any, name: str = "num_classes", *, minimum: int = 2) -> int:
    """Check an integer class count of at least ``minimum``."""
    why = "values at neural collapse need C >= 3; MIR is undefined for C = 2" if minimum == 3 else ""
    return check_scalar(num_classes, name, minimum=minimum, why=why)


def check_labels(labels: Any, n: int, num_classes: int, name: str = "labels") -> torch.Tensor:
    """Check a 1-D integer label vector of length ``n`` with values in ``[0, num_classes)``.

    Example:
        >>> check_labels(torch.tensor([0, 1, 1]), 3, 2).tolist()
        [0, 1, 1]
    """
    labels = as_tensor(labels, name)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise InterplayTypeError(
            f"{name} must be an integer tensor of class indices; got dtype {labels.dtype}. "
            f"Use {name}.long() (or argmax over one-hot labels)."
        )
    if labels.ndim != 1 or labels.shape[0] != n:
        raise InterplayValueError(
            f"{name} must be a 1-D tensor with one entry per sample ({n}); got shape {tuple(labels.shape)}."
        )
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_classes:
        bad = lo if lo < 0 else hi
        raise InterplayValueError(
            f"{name} contain {bad} but num_classes={num_classes}; {name} must lie in [0, {num_classes - 1}]. "
            "Check that the head matrix has one row per class."
        )
    return labels.long()


def check_head_weight(head_weight: Any, dim: int | None, name: str = "head_weight") -> torch.Tensor:
    """Check the (num_classes, dim) weight of the final linear layer, with at least two classes
    (``dim=None``: of any width)."""
    head_weight = as_tensor(head_weight, name)
    if head_weight.ndim == 2 and head_weight.shape[0] < 2:
        raise InterplayValueError(
            f"{name} must have one row per class and at least 2 classes; got shape {tuple(head_weight.shape)}."
        )
    head_weight = check_features(head_weight, name)
    if dim is not None and head_weight.shape[1] != dim:
        raise InterplayValueError(
            f"{name} must have shape (num_classes, {dim}) to match the feature dimension; "
            f"got {tuple(head_weight.shape)}. Pass the weight of the final nn.Linear (model.head.weight)."
        )
    return head_weight


def check_bias(bias: Any, num_classes: int, name: str = "bias") -> torch.Tensor:
    """Check the (num_classes,) bias of the final linear layer."""
    bias = as_tensor(bias, name)
    if bias.shape != (num_classes,):
        raise InterplayValueError(
            f"{name} must have shape ({num_classes},), one entry per class; got {tuple(bias.shape)}."
        )
    _check_finite(bias, name)
    return bias


def check_gram(gram: Any, name: str = "gram") -> torch.Tensor:
    """Check a square, symmetric, finite matrix with a positive trace."""
    gram = as_tensor(gram, name)
    if not gram.is_floating_point():
        raise InterplayTypeError(f"{name} must be a floating-point tensor; got dtype {gram.dtype}.")
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or gram.shape[0] < 2:
        raise InterplayValueError(
            f"{name} must be a square (n, n) matrix with n >= 2; got shape {tuple(gram.shape)}. "
            "To start from features use matrix_entropy(features)."
        )
    _check_finite(gram, name)
    scale = float(gram.abs().max())
    tol = 100 * torch.finfo(gram.dtype).eps * max(scale, 1.0)
    if float((gram - gram.mT).abs().max()) > tol:
        raise InterplayValueError(
            f"{name} must be symmetric; got a maximum asymmetry of "
            f"{float((gram - gram.mT).abs().max()):.3g}. Use ({name} + {name}.T) / 2."
        )
    if float(torch.diagonal(gram).sum()) <= 0:
        raise InterplayValueError(f"{name} must have a positive trace; got {float(torch.diagonal(gram).sum()):.3g}.")
    return gram


def check_pairing(pairing: Any) -> str:
    """Check the pairing of representations with heads."""
    if pairing not in PAIRINGS:
        raise InterplayValueError(f"pairing must be one of {PAIRINGS}; got {pairing!r}.")
    return pairing


def check_psd_eigenvalues(eigenvalues: torch.Tensor, name: str, *, eps: float | None = None) -> torch.Tensor:
    """Set tiny negative eigenvalues to zero; raise on significant ones.

    The tolerance follows the usual PSD policy: rounding in an eigen-solve of an (m, m) matrix,
    and in forming it, is of order ``m * eps * max|lambda|``, with ``eps`` that of the precision
    the matrix was built in (default: the eigenvalues' dtype).
    """
    m = eigenvalues.shape[-1]
    values = eigenvalues.detach()
    largest = float(values.abs().max()) if m else 0.0
    eps = torch.finfo(eigenvalues.dtype).eps if eps is None else eps
    tol = 10 * m * eps * max(largest, 1e-30)
    smallest = float(values.min()) if m else 0.0
    if smallest < -tol:
        raise InterplayValueError(
            f"{name} must be positive semi-definite; got eigenvalue {smallest:.3g} "
            f"(tolerance {tol:.3g}). Build it as a Gram matrix X @ X.T."
        )
    if math.isnan(smallest):
        raise InterplayValueError(f"{name} produced NaN eigenvalues; check the input for overflow.")
    return eigenvalues.clamp_min(0)


def check_max_exact_size(value: Any) -> int:
    """Check the largest matrix side an exact path may diagonalise: an int >= 2.

    Example:
        >>> check_max_exact_size(4096)
        4096
    """
    return check_scalar(value, "max_exact_size", minimum=2, why="the largest matrix side to diagonalise; the default is 8192")


def check_tolerance(value: Any) -> float:
    """Check the requested standard error of MIR for the stochastic estimator: a positive number.

    Example:
        >>> check_tolerance(0.005)
        0.005
    """
    return check_scalar(value, "tolerance", float, above=0, why="the standard error of MIR")


def check_seed(value: Any, name: str = "seed") -> int:
    """Check a random seed: an int in [0, 2**63), as ``torch.Generator.manual_seed`` takes.

    Example:
        >>> check_seed(0)
        0
    """
    return check_scalar(value, name, minimum=0, below=2**63)


def check_dtype(value: Any, name: str = "dtype") -> torch.dtype | None:
    """Check a computation dtype: ``None`` or a floating-point ``torch.dtype``.

    Example:
        >>> check_dtype(torch.float32)
        torch.float32
    """
    if value is None:
        return None
    if not isinstance(value, torch.dtype):
        hint = f" Use torch.{value}." if isinstance(value, str) and isinstance(getattr(torch, value, None), torch.dtype) else ""
        raise InterplayTypeError(f"{name} must be a torch.dtype such as torch.float64, or None; got {value!r}.{hint}")
    if not value.is_floating_point:
        raise InterplayTypeError(
            f"{name} must be a floating-point torch.dtype (torch.float32 or torch.float64); got {value}."
        )
    return value


def check_center(center: Any, dim: int) -> bool | torch.Tensor:
    """Check ``center``: a bool, or a finite (dim,) mean to subtract (tensor or numpy array).

    Example:
        >>> check_center(np.zeros(2), 2)
        tensor([0., 0.], dtype=torch.float64)
    """
    if isinstance(center, (bool, np.bool_)):
        return bool(center)
    if not isinstance(center, (torch.Tensor, np.ndarray)):
        raise InterplayTypeError(
            f"center must be a bool or a ({dim},) tensor or array of the mean to subtract; "
            f"got {type(center).__name__}."
        )
    center = as_tensor(center, "center")
    if tuple(center.shape) != (dim,):
        raise InterplayValueError(
            f"center must have shape ({dim},), one entry per feature dimension; got shape {tuple(center.shape)}."
        )
    if not center.is_floating_point():
        center = center.double()
    _check_finite(center, "center")
    return center
