"""One full-batch training step of the grokking transformer, against the full-sequence model, in one run.

    python benchmarks/bench_grokking.py

The papers' setting: ``(a + b) mod 113``, 30 % of the pairs (3,831) in one batch, AdamW. The
baseline runs the one-layer transformer on all three positions ``a, b, =`` with causal attention,
as written in Nanda et al.'s code, and reads the logits at the last position; ``OneLayerTransformer``
computes only that position, with keys and values gathered from per-(position, token) tables. Both
use the same weights; median over repeats.
"""

from __future__ import annotations

import statistics
import time

import torch

from interplay.data.modular import modular_addition
from interplay.models.transformer import OneLayerTransformer


def full_sequence_logits(model: OneLayerTransformer, pairs: torch.Tensor) -> torch.Tensor:
    """Every position through attention and MLP; the logits at ``=``."""
    tokens = torch.cat([pairs, torch.full((len(pairs), 1), model.p)], dim=1)
    stream = model.embed(tokens) + model.position
    heads = model.heads
    q, k, v = (torch.stack(layer(stream).chunk(heads, dim=-1), dim=1) for layer in (model.query, model.key, model.value))
    causal = torch.ones(3, 3, dtype=torch.bool).triu(1)
    weights = torch.einsum("nhqe,nhke->nhqk", q, k).div(q.shape[-1] ** 0.5).masked_fill(causal, float("-inf")).softmax(-1)
    stream = stream + model.out(torch.cat(torch.einsum("nhqk,nhke->nhqe", weights, v).unbind(1), dim=-1))
    stream = stream + model.mlp(stream)
    return model.head(stream)[:, -1]


def step_time(model, forward, pairs, labels, repeats=20) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3, betas=(0.9, 0.98), weight_decay=1.0)
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(forward(pairs), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    pairs, labels = modular_addition(113, 0.3, 0)["train"]
    model = OneLayerTransformer(113)
    with torch.no_grad():
        gap = (model(pairs) - full_sequence_logits(model, pairs)).abs().max().item()
    base = step_time(model, lambda x: full_sequence_logits(model, x), pairs, labels)
    ours = step_time(model, model, pairs, labels)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu; batch {len(pairs)}, d_model 128, 4 heads, MLP 512")
    print(f"largest logit difference between the two: {gap:.1e}")
    print("| training step | ms | speed-up |\n|---|---:|---:|")
    print(f"| full sequence, causal attention (baseline) | {base:.1f} | 1.00 |")
    print(f"| OneLayerTransformer (output position, token tables) | {ours:.1f} | {base / ours:.2f} |")


if __name__ == "__main__":
    main()
