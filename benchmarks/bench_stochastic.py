"""The stochastic joint-entropy estimator: error against exact where exact runs, time and memory where not.

Features are synthetic: every sample is its class head plus isotropic noise (mid-way to
collapse, like a trained network's penultimate layer), balanced classes, seeded. Each case runs
in its own process so that its peak resident memory is its own. Run::

    python benchmarks/bench_stochastic.py grid        # error and time against exact (n = 4,000)
    python benchmarks/bench_stochastic.py coverage    # the grid's errors over 20 seeds, in standard errors
    python benchmarks/bench_stochastic.py cifar100    # n = 50,000, d = 512, C = 100
    python benchmarks/bench_stochastic.py imagenet    # n = 50,000, d = 2,048, C = 1,000
    python benchmarks/bench_stochastic.py pairing     # exact sample pairing against three naive eigvalsh
    python benchmarks/bench_stochastic.py cifar100 --device cuda   # any of them on the GPU
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import torch
from devices import describe, resolve, wait

from interplay import interplay_metrics

GRID = [(4000, 64, 10), (4000, 128, 10), (4000, 64, 100), (4000, 32, 1000)]
DEVICE = torch.device("cpu")


def case(n: int, d: int, c: int, seed: int = 0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    heads = torch.randn(c, d, generator=g)
    labels = torch.arange(n) % c
    features = heads[labels] / heads[labels].norm(dim=1, keepdim=True) + torch.randn(n, d, generator=g) / math.sqrt(d)
    return features.to(DEVICE, dtype), labels.to(DEVICE), heads.to(DEVICE, dtype)


def peak() -> str:
    if DEVICE.type == "cuda":
        return f"peak GPU memory {torch.cuda.max_memory_allocated(DEVICE) / 2**30:.2f} GB"
    return f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB"


def estimate(features, labels, heads, dtype, tolerance=0.005):
    wait(DEVICE)
    began = time.perf_counter()
    result = interplay_metrics(features, labels, heads, method="stochastic", tolerance=tolerance, dtype=dtype)
    wait(DEVICE)
    return result, time.perf_counter() - began


def grid() -> None:
    print("n | d | C | exact MIR | estimate ± SE | error / SE | exact s | estimate s")
    for n, d, c in GRID:
        features, labels, heads = case(n, d, c, dtype=torch.float64)
        began = time.perf_counter()
        exact = interplay_metrics(features, labels, heads, method="exact", max_exact_size=n)
        wait(DEVICE)
        exact_s = time.perf_counter() - began
        result, seconds = estimate(features, labels, heads, torch.float64)
        error = float(result.mir - exact.mir)
        print(f"{n} | {d} | {c} | {float(exact.mir):.4f} | {float(result.mir):.4f} ± {result.se_mir:.4f} | "
              f"{error / result.se_mir:+.2f} | {exact_s:.1f} | {seconds:.1f}", flush=True)


def coverage(seeds: int = 20) -> None:
    """Over seeds, (estimate - exact) / SE of MIR should look like a unit normal: mean 0, RMS 1."""
    print(f"n | d | C | mean z | RMS z | share |z| ≤ 2 | seconds per estimate   ({seeds} seeds, tolerance 0.005)")
    for n, d, c in GRID:
        features, labels, heads = case(n, d, c, dtype=torch.float64)
        exact = float(interplay_metrics(features, labels, heads, method="exact", max_exact_size=n).mir)
        began = time.perf_counter()
        scores = []
        for seed in range(seeds):
            result = interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.005, seed=seed)
            scores.append((float(result.mir) - exact) / result.se_mir)
        scores = torch.tensor(scores)
        print(f"{n} | {d} | {c} | {float(scores.mean()):+.2f} | {float(scores.square().mean().sqrt()):.2f} | "
              f"{float((scores.abs() <= 2).double().mean()):.2f} | {(time.perf_counter() - began) / seeds:.1f}", flush=True)


def large(n: int, d: int, c: int) -> None:
    features, labels, heads = case(n, d, c)
    for dtype in (torch.float32, torch.float64):
        result, seconds = estimate(features, labels, heads, dtype)
        print(f"n={n} d={d} C={c} {dtype}: MIR {float(result.mir):.4f} ± {result.se_mir:.4f}, HDR {float(result.hdr):.4f}, "
              f"h_joint {float(result.h_joint):.4f} ± {result.se_h_joint:.4f}, {seconds:.1f} s, {peak()}", flush=True)


def pairing() -> None:
    features, labels, heads = case(4096, 128, 10, dtype=torch.float64)

    def naive():
        z = features / features.norm(dim=1, keepdim=True)
        w = (heads / heads.norm(dim=1, keepdim=True))[labels]
        kz, kw = z @ z.T, w @ w.T
        return [torch.linalg.eigvalsh(k / 4096) for k in (kz, kw, kz * kw)]

    medians = []
    for name, fn in (("naive (three 4096² eigvalsh)", naive), ("interplay_metrics exact", lambda: interplay_metrics(features, labels, heads))):
        fn()
        times = []
        for _ in range(3):
            wait(DEVICE)
            began = time.perf_counter()
            fn()
            wait(DEVICE)
            times.append(time.perf_counter() - began)
        medians.append(sorted(times)[1])
        print(f"{name}: median {1e3 * medians[-1]:.0f} ms, runs {[round(1e3 * t) for t in times]}", flush=True)
    print(f"speed-up: {medians[0] / medians[1]:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("grid", "coverage", "cifar100", "imagenet", "pairing"))
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    args = parser.parse_args()
    global DEVICE
    DEVICE, which = resolve(args.device), args.which
    print(describe(DEVICE), flush=True)
    if which == "grid":
        grid()
    elif which == "coverage":
        coverage()
    elif which == "cifar100":
        large(50_000, 512, 100)
    elif which == "imagenet":
        large(50_000, 2048, 1000)
    else:
        pairing()


if __name__ == "__main__":
    main()
