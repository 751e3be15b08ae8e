"""Cost of the InterplayLoss terms per training step, against the step without them, in one run.

    python benchmarks/bench_losses.py

A small CNN on 28×28 inputs at batch 256: forward and backward of the cross-entropy alone (the
baseline) and with ``InterplayLoss`` added, median over repeats.
"""

from __future__ import annotations

import statistics
import time

import torch

from interplay.losses import InterplayLoss
from interplay.models import SmallCNN
from interplay.probing import tap_features


def step_time(model, images, labels, extra, repeats=20) -> float:
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        with tap_features(model.head, detach=False) as seen:
            loss = torch.nn.functional.cross_entropy(model(images), labels)
        if extra is not None:
            loss = loss + extra(seen.pop(), labels, model.head.weight)
        model.zero_grad()
        loss.backward()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    model = SmallCNN((1, 28, 28), 10)
    images, labels = torch.randn(256, 1, 28, 28), torch.randint(0, 10, (256,))
    base = step_time(model, images, labels, None)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu; SmallCNN, batch 256, 128-d features, 10 classes")
    print("| step | ms | ratio to CE alone |\n|---|---:|---:|")
    print(f"| cross-entropy alone | {base:.1f} | 1.00 |")
    for label, loss in (("+ InterplayLoss, float32", InterplayLoss(dtype=torch.float32)), ("+ InterplayLoss, float64", InterplayLoss(dtype=torch.float64))):
        ours = step_time(model, images, labels, loss)
        print(f"| {label} | {ours:.1f} | {ours / base:.2f} |")


if __name__ == "__main__":
    main()
