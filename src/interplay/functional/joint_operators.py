"""Products with the sample-pairing joint Gram ``(K_Z ⊙ K_W)/n`` for the stochastic estimator.

Two ways, chosen by :func:`joint_operator`: per-class moments (no n×n matrix; about
``4·n·d + 2·C'²·d`` operations per vector) or the n×n matrix formed once (``2·n²`` per vector,
one GEMM). Each also offers ``rough()``, the operator the deflation's sketch may use: a bfloat16
copy of the dense matrix where the hardware multiplies bfloat16 natively, else the operator itself.
"""

from __future__ import annotations

import copy

import torch

from interplay.functional.gemm import matmul_nt

__all__ = ["DenseJointOperator", "JointOperator", "joint_operator"]

_CHUNK_BYTES = 2**28
_SINGLE_ABOVE = 1e-3  # nats: requested standard errors from which dense products run in float32
_SINGLE_FROM = 2048  # samples from which they do: below, float64 products cost little, and float32 rounding shows
_ROUGH_FROM = 4096  # samples from which the deflation's sketch may run in bfloat16
_FORM_ROWS = 512  # row blocks of the dense matrix: small enough that little more than its upper triangle is formed


class JointOperator:
    """The map ``v ↦ (K_Z ⊙ K_W) v / n`` without any n×n matrix.

    ``trace`` is ``tr((K_Z ⊙ K_W)/n)``. Samples are grouped by class, and classes whose sizes
    share a power of two share one zero-padded batched product, so padding at most doubles the
    stored features.

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
        self.precision = z.dtype  # of the products
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
        norms = torch.linalg.vector_norm(z, dim=1).double()  # (n,): no float64 copy of the features
        self.trace = float((norms.square() * head_gram.diagonal().double().to(device)[labels]).sum()) / self.total

    def rough(self) -> JointOperator:
        """The operator for choosing directions: this one (it has no cheaper form)."""
        return self

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


class DenseJointOperator:
    """``v ↦ (K_Z ⊙ K_W) v / n`` by one GEMM with the n×n matrix, formed once in row blocks.

    Arguments as :class:`JointOperator`; the matrix (n² numbers) is held in ``precision``
    (default: ``z``'s dtype), and each product is taken in it and returned in ``z``'s dtype.
    ``trace`` is the trace of that matrix.

    Example:
        >>> z = torch.eye(3, dtype=torch.float64)
        >>> op = DenseJointOperator(z, torch.tensor([0, 1, 1]), torch.eye(2, dtype=torch.float64))
        >>> op(torch.ones(3, 1, dtype=torch.float64)).flatten() * 3
        tensor([1., 1., 1.], dtype=torch.float64)
    """

    def __init__(self, z: torch.Tensor, labels: torch.Tensor, head_gram: torch.Tensor, *, total: int | None = None,
                 precision: torch.dtype | None = None) -> None:
        n = z.shape[0]
        self.n, self.dim, self.dtype, self.device, self.total = n, z.shape[1], z.dtype, z.device, total or n
        self.precision = precision or z.dtype
        z = z.to(self.precision)
        labels, gram = labels.to(z.device), head_gram.to(z.device, z.dtype)
        self.matrix = z.new_empty(n, n)
        rows = max(1, min(_FORM_ROWS, _CHUNK_BYTES // (4 * n * z.element_size())))
        # The matrix is symmetric: each row block is formed from its diagonal on (two (rows, n)
        # temporaries at a time), then mirrored, which takes about 30 % less time than every column.
        for start in range(0, n, rows):
            block = slice(start, start + rows)
            torch.mul(matmul_nt(z[block], z[start:]), gram[labels[block]][:, labels[start:]], out=self.matrix[block, start:])
        for start in range(0, n, rows):
            self.matrix[start + rows :, start : start + rows] = self.matrix[start : start + rows, start + rows :].mT
        self.matrix /= self.total
        self.trace = float(self.matrix.diagonal().sum(dtype=torch.float64))

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        if self.matrix.dtype == torch.float32:  # A is symmetric, so A v = (vᵀ A)ᵀ: the fastest float32 product's form
            return matmul_nt(v.mT.to(torch.float32), self.matrix).mT.to(v.dtype, memory_format=torch.contiguous_format)
        return (self.matrix @ v.to(self.matrix.dtype)).to(v.dtype)

    def rough(self) -> DenseJointOperator:
        """An operator for choosing directions only: this one with its matrix in bfloat16 (relative
        rounding about 4e-3) where the hardware multiplies bfloat16 natively (four to six times
        faster than float32 on such CPUs) and n is large enough for the saving to count, else this
        one. Below that the exact directions are kept: they deflate an exactly low-rank matrix
        (e.g. at collapse) without a remainder."""
        if self.n < _ROUGH_FROM or not _native_bfloat16(self.device):
            return self
        rounded = copy.copy(self)
        rounded.matrix, rounded.precision = self.matrix.to(torch.bfloat16), torch.bfloat16
        return rounded


def _native_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 products run natively (CPUs with AVX512-BF16 or AMX, CUDA with bfloat16)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check is not None and check() for check in checks)


def joint_operator(z: torch.Tensor, labels: torch.Tensor, head_gram: torch.Tensor, *, total: int | None = None,
                   memory_bytes: int = 2**30, standard_error: float = 0.0) -> JointOperator | DenseJointOperator:
    """The cheaper of the two products, by flops weighted by their measured speed.

    Per vector the class-moment product costs ``4·n·d + 2·C'²·d`` operations in gathers, small
    batched products and one GEMM; the dense one ``2·n²`` in one GEMM. On SmolLM2's hidden states
    (n = 8,260, d = 576, C' = 368, 2 threads) the first ran at a third of the second's speed per
    operation, hence the factor 3. The dense matrix must also fit ``memory_bytes``. Its products
    are taken in float32 (three times faster there) where the requested ``standard_error`` is at
    least ``1e-3`` nats, far above their rounding (see docs/linguistic-collapse.md, "Cost"), and
    n is at least 2,048: on a few hundred rank-deficient samples float32 rounding moved the
    entropy by about 1e-6 nats while the estimate's own standard error was 1e-7.
    """
    n, d = z.shape
    classes = int(torch.unique(labels).numel())
    single = torch.float32 if standard_error >= _SINGLE_ABOVE and n >= _SINGLE_FROM else z.dtype
    size = torch.finfo(single).bits // 8
    if n * n * size <= memory_bytes and 2 * n * n <= 3 * (4 * n * d + 2 * classes**2 * d):
        return DenseJointOperator(z, labels, head_gram, total=total, precision=single)
    return JointOperator(z, labels, head_gram, total=total, chunk_bytes=memory_bytes // 4)
