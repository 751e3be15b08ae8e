"""One-off comparison of the language-model collapse measures with rhubarbwu/neural-collapse.

Not a benchmark: the formulas of that library's ``variability_cdnv`` (``dist_exp=1``, the
CDNV of Galanti et al.) and ``kernel_stats`` with ``log_kernel`` and ``riesz_kernel`` are written
here in plain numpy as their source defines them (mean over the unordered pairs of the upper
triangle; variance about that mean; means centred by ``m_G`` and normalised; Riesz exponent d − 2),
and uniform duality as Wu & Papyan's analysis code (rhubarbwu/linguistic-collapse) takes it from
that library's ``similarities(W, M, m_G, cos=True)``: the cosines between the heads and the
centred means, then their ``torch.var`` (Bessel-corrected). They are compared with
``interplay.functional.collapse_geometry`` on the same seeded class means, variances and heads. That library is not on the package index; nothing of it is imported.

    .venv/bin/python benchmarks/compare_rhubarbwu.py [--classes 2000] [--dim 24] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from interplay.functional.collapse_geometry import (
    cdnv,
    hyperspherical_uniformity,
    uniform_duality,
)


def their_cdnv(means: np.ndarray, variances: np.ndarray) -> float:
    i, j = np.triu_indices(len(means), k=1)
    distance_sq = ((means[i] - means[j]) ** 2).sum(1)
    return float(np.mean((variances[i] + variances[j]) / 2 / distance_sq))


def their_kernel_stats(means: np.ndarray, global_mean: np.ndarray, kernel: str) -> tuple[float, float]:
    unit = means - global_mean
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    i, j = np.triu_indices(len(unit), k=1)
    distance = np.linalg.norm(unit[i] - unit[j], axis=1)
    s = unit.shape[1] - 2
    values = np.log(distance ** -1.0) if kernel == "log" else np.copysign(1.0, s) * distance ** (-s)
    mean = values.mean()
    return float(mean), float(((values - mean) ** 2).mean())


def their_uniform_duality(heads: np.ndarray, means: np.ndarray, global_mean: np.ndarray) -> float:
    centred = means - global_mean
    cos = (heads * centred).sum(1) / np.linalg.norm(heads, axis=1) / np.linalg.norm(centred, axis=1)
    return float(cos.var(ddof=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    means = rng.standard_normal((args.classes, args.dim)) + 0.5  # a shared offset, as trained means have
    variances = rng.gamma(2.0, 0.5, args.classes)
    global_mean = means.mean(0)  # the mean of the class means
    rows = [("CDNV", their_cdnv(means, variances), float(cdnv(torch.from_numpy(means), torch.from_numpy(variances))))]
    ours = hyperspherical_uniformity(torch.from_numpy(means - global_mean))
    for kernel in ("log", "riesz"):
        mean, var = their_kernel_stats(means, global_mean, kernel)
        rows += [(f"GNC2 {kernel} kernel, mean", mean, float(ours[f"{kernel}_mean"])),
                 (f"GNC2 {kernel} kernel, variance", var, float(ours[f"{kernel}_var"]))]
    heads = means - global_mean + rng.standard_normal((args.classes, args.dim))  # heads near their centred means
    _, unc3 = uniform_duality(torch.from_numpy(heads), torch.from_numpy(means - global_mean))
    rows.append(("UNC3 (variance of cosines)", their_uniform_duality(heads, means, global_mean), float(unc3)))
    print(f"C = {args.classes}, d = {args.dim}, seed = {args.seed}")
    print(f"{'measure':<28}{'their formula':>24}{'interplay':>24}{'relative difference':>22}")
    for name, theirs, value in rows:
        print(f"{name:<28}{theirs:>24.15e}{value:>24.15e}{abs(value - theirs) / abs(theirs):>22.1e}")


if __name__ == "__main__":
    main()
