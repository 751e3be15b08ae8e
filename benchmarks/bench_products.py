"""The dense joint operator's building blocks against plain baselines, timed in one process.

Two tables, at the size of the SmolLM2 benchmark (n = 8,260 unit rows of width 576, 368 classes,
synthetic hidden-state-like rows):

- forming the n×n matrix ``(K_Z ⊙ K_W)/n``: :class:`DenseJointOperator` (row blocks from the
  diagonal on, mirrored, products by :func:`~interplay.functional.gemm.matmul_nt`) against every
  row block formed in full by ``torch.matmul``;
- products of that matrix with k columns in float32, by ``torch.matmul`` (the BLAS torch was
  built with) and by the operator (``matmul_nt``: oneDNN where torch has it), against the
  bfloat16 copy the deflation's sketch uses where bfloat16 is native (``DenseJointOperator.rough``).

Medians of ``--repeats`` runs. Run::

    python benchmarks/bench_products.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from interplay.functional.gemm import _onednn
from interplay.functional.joint_operators import (
    _CHUNK_BYTES,
    DenseJointOperator,
    _native_bfloat16,
)


def rows(n: int = 8260, d: int = 576, c: int = 368, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    z = torch.nn.functional.normalize(torch.randn(n, d, generator=g) * torch.logspace(0, -2, d) + 0.3, dim=1)
    heads = torch.nn.functional.normalize(torch.randn(c, d, generator=g), dim=1)
    return z, torch.randint(0, c, (n,), generator=g), heads @ heads.T


def full_rows(z, labels, gram):
    """The plain formation: every row block against every column."""
    n = z.shape[0]
    matrix, step = z.new_empty(n, n), max(1, _CHUNK_BYTES // (4 * n * z.element_size()))
    for start in range(0, n, step):
        block = slice(start, start + step)
        torch.mul(z[block] @ z.mT, gram[labels[block]][:, labels], out=matrix[block])
    return matrix / n


def median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    z, labels, gram = rows()
    print(f"torch threads {torch.get_num_threads()}, native bfloat16 {_native_bfloat16(z.device)}, oneDNN float32 {_onednn()}, "
          f"load average {os.getloadavg()}")
    op = DenseJointOperator(z, labels, gram)
    assert torch.allclose(op.matrix, full_rows(z, labels, gram), rtol=0, atol=1e-5 / z.shape[0])  # float32 rounding
    plain = median_seconds(lambda: full_rows(z, labels, gram), args.repeats)
    mirrored = median_seconds(lambda: DenseJointOperator(z, labels, gram), args.repeats)
    print(f"forming the {z.shape[0]}² matrix | every row block {plain:.2f} s | from the diagonal, mirrored {mirrored:.2f} s | ratio {mirrored / plain:.2f}")
    rounded = op.matrix.to(torch.bfloat16)
    for k in (16, 32, 256):
        v = torch.randn(z.shape[0], k)
        single = median_seconds(lambda v=v: op.matrix @ v, args.repeats)
        chosen = median_seconds(lambda v=v: op(v), args.repeats)
        half = median_seconds(lambda v=v: rounded @ v.to(torch.bfloat16), args.repeats)
        flops = 2 * z.shape[0] ** 2 * k / 1e9
        print(f"product with {k} columns | float32 torch.matmul {1e3 * single:.1f} ms ({flops / single:.0f} GFLOP/s) | "
              f"float32 operator {1e3 * chosen:.1f} ms ({flops / chosen:.0f} GFLOP/s, ratio {chosen / single:.2f}) | "
              f"bfloat16 {1e3 * half:.1f} ms (ratio {half / single:.2f})")


if __name__ == "__main__":
    main()
