"""Time the metrics against a naive baseline measured in the same run.

The naive baseline is what a direct reading of the definitions does: the full n×n cosine Gram,
``torch.linalg.eigh`` with eigenvectors, float64. Run::

    python benchmarks/bench_metrics.py            # the README table
    python benchmarks/bench_metrics.py --quick    # smaller sizes, a few seconds
    python benchmarks/bench_metrics.py --device cuda  # both sides on the GPU
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from devices import describe, resolve, wait

from interplay import interplay_metrics, matrix_entropy


DEVICE = torch.device("cpu")


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in milliseconds, after warm-up calls, waiting for the device."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        wait(DEVICE)
        start = time.perf_counter()
        fn()
        wait(DEVICE)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def naive_entropy(k: torch.Tensor) -> torch.Tensor:
    eig, _ = torch.linalg.eigh(k / k.shape[0])
    eig = eig.clamp_min(1e-300)
    return -(eig * eig.log()).sum()


def naive_gram(x: torch.Tensor) -> torch.Tensor:
    z = x.double() / x.double().norm(dim=1, keepdim=True)
    return z @ z.T


def naive_mir_hdr(features: torch.Tensor, labels: torch.Tensor, heads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    kz, kw = naive_gram(features), naive_gram(heads[labels])
    hz, hw, hj = naive_entropy(kz), naive_entropy(kw), naive_entropy(kz * kw)
    return (hz + hw - hj) / torch.minimum(hz, hw), (hz - hw).abs() / torch.maximum(hz, hw)


def classed_data(n: int, d: int, c: int, seed: int = 0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    heads = torch.randn(c, d, generator=g, dtype=dtype)
    labels = torch.randint(0, c, (n,), generator=g)
    features = heads[labels] + torch.randn(n, d, generator=g, dtype=dtype)
    return features.to(DEVICE), labels.to(DEVICE), heads.to(DEVICE)


def bench_entropy(n: int, d: int, repeats: int) -> tuple[str, str, float, float]:
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(0)).to(DEVICE)
    naive = timed(lambda: naive_entropy(naive_gram(x)), repeats)
    ours = timed(lambda: matrix_entropy(x), repeats)
    return "matrix entropy", f"{n}×{d}", naive, ours


def bench_dataset_scale(n: int, d: int, c: int, naive_sizes: tuple[int, ...]) -> list[tuple[str, str, float, float]]:
    """Ours at full size; the naive n×n path timed at smaller n and extrapolated as n³."""
    features, labels, heads = classed_data(n, d, c)
    ours = timed(lambda: interplay_metrics(features, labels, heads), repeats=1, warmup=0)
    rows = []
    for m in naive_sizes:
        naive_m = timed(lambda: naive_mir_hdr(features[:m], labels[:m], heads), repeats=1, warmup=0)
        ours_m = timed(lambda: interplay_metrics(features[:m], labels[:m], heads), repeats=1, warmup=0)
        rows.append(("sample-pairing MIR+HDR", f"n={m}, d={d}, C={c}", naive_m, ours_m))
    largest = naive_sizes[-1]
    extrapolated = rows[-1][2] * (n / largest) ** 3
    rows.append(("sample-pairing MIR+HDR", f"n={n}, d={d}, C={c} (naive extrapolated ∝ n³)", extrapolated, ours))
    return rows


def bench_backward(n: int, d: int, c: int, repeats: int) -> list[tuple[str, str, float, float]]:
    features, labels, heads = classed_data(n, d, c, seed=1)

    def ours(dtype):
        f = features.clone().requires_grad_()
        w = heads.clone().requires_grad_()
        r = interplay_metrics(f, labels, w, dtype=dtype)
        (r.hdr - r.mir).backward()

    def naive():
        f = features.clone().requires_grad_()
        w = heads.clone().requires_grad_()
        m, h = naive_mir_hdr(f, labels, w)
        (h - m).backward()

    base = timed(naive, repeats, warmup=2)
    return [
        ("MIR+HDR forward+backward, float32", f"{n}×{d}, C={c}", base, timed(lambda: ours(None), repeats, warmup=2)),
        ("MIR+HDR forward+backward, float64", f"{n}×{d}, C={c}", base, timed(lambda: ours(torch.float64), repeats, warmup=2)),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    args = parser.parse_args(argv)
    global DEVICE
    DEVICE = resolve(args.device)
    if args.quick:
        rows = [bench_entropy(1024, 128, 3), *bench_dataset_scale(6000, 128, 10, (1024,)), *bench_backward(256, 128, 10, 5)]
    else:
        rows = [bench_entropy(4096, 512, 3), *bench_dataset_scale(60000, 512, 10, (2048, 4096)), *bench_backward(256, 128, 10, 20)]
    print(describe(DEVICE))
    print(f"| case | size | naive ms | ours ms | speed-up |\n|---|---|---:|---:|---:|")
    for case, size, naive, ours in rows:
        print(f"| {case} | {size} | {naive:,.1f} | {ours:,.1f} | {naive / ours:,.1f}× |")


if __name__ == "__main__":
    main()
