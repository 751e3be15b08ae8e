"""``x @ wᵀ`` by the fastest float32 matrix product torch offers on the CPU.

torch multiplies float32 matrices on the CPU with its BLAS (MKL in the official builds). Where
that BLAS does not use the processor's widest vector units (MKL on AMD processors), oneDNN,
which torch also ships for its bfloat16 and inference kernels, takes the same float32 products
in about half the time (``benchmarks/bench_products.py``). :func:`matmul_nt` uses it where torch
has it and it agrees with ``torch.matmul`` on a probe product; everywhere else (other dtypes,
GPUs, builds without oneDNN) it is ``x @ w.mT``.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["matmul_nt"]


def matmul_nt(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``x @ wᵀ`` (m, n) for x (m, k) and w (n, k), in their dtype.

    Example:
        >>> matmul_nt(torch.ones(2, 3), torch.eye(4, 3))
        tensor([[1., 1., 1., 0.],
                [1., 1., 1., 0.]])
    """
    if x.dtype == w.dtype == torch.float32 and x.device.type == w.device.type == "cpu" and _onednn():
        return torch.ops.mkldnn._linear_pointwise(x.contiguous(), w.contiguous(), None, "none", [], "")
    return x @ w.mT


@functools.cache
def _onednn() -> bool:
    """Whether torch's oneDNN float32 linear runs here and agrees with ``torch.matmul``."""
    if not torch.backends.mkldnn.is_available():
        return False
    g = torch.Generator().manual_seed(0)
    x, w = torch.randn(16, 64, generator=g), torch.randn(48, 64, generator=g)
    try:
        product = torch.ops.mkldnn._linear_pointwise(x, w, None, "none", [], "")
    except (AttributeError, RuntimeError):  # an older torch without the op, or a build without its kernel
        return False
    return product.shape == (16, 48) and torch.allclose(product, x @ w.mT, rtol=1e-5, atol=1e-5)
