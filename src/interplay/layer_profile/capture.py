"""One pass over the data with forward hooks: each layer's output as one vector per sample, kept
for a seeded uniform subsample of the samples when they exceed the memory budget. A Hugging Face
model's default layers are its ``hidden_states`` (``output_hidden_states=True``), read from its
output instead of hooks; a default layer whose output is the very tensor the head reads is left out
(the head's input stands for it).

Flattening (per sample): an output of shape (B, d) is kept as is, (B,) as one column; a
convolutional map (B, C, *spatial) is averaged over its positions (``pool="mean"``, global average
pooling) or flattened (``pool="flatten"``, C·H·W columns); a token sequence (B, T, d), batch first,
is averaged over its T positions, padding included (``tokens="mean"``), reduced to its first or last
token (``"first"``, ``"last"``), or split into one sample per token (``"all"``, tokens labelled
``ignore_index`` left out). A tuple or list output is read at its first item, a dict (or a Hugging
Face ``ModelOutput``) at its first value.

Memory: the kept features of all layers take ``m · Σ_l d_l`` numbers of the layers' dtype (at
least float32), with m at most ``max_samples`` and at most what ``memory_budget`` bytes hold. When
the data has more samples, m of them are kept by reservoir sampling (Vitter's algorithm R) with a
generator seeded by ``seed``: a uniform sample, the same for every layer, whose stream positions the
result reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.heads import call_model, model_logits, split_batch
from interplay.layer_profile.layers import Tap
from interplay.layer_profile.streams import LayerStreams
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["Capture", "capture", "flatten_output"]


@dataclass
class Capture:
    """The kept samples: features (m, d_l) per tap in execution order, labels (m,) or ``None``,
    and ``positions`` (m,), each sample's index in the stream of ``seen`` samples the loader gave."""

    taps: list[Tap]
    features: list[torch.Tensor]
    labels: torch.Tensor | None
    positions: torch.Tensor
    seen: int
    capacity: int
    notes: list[str] = field(default_factory=list)
    streams: LayerStreams | None = None
    """Every layer's fixed-size sums over every sample the loader gave (see :mod:`.streams`); ``None``
    when the kept samples are all of them, the sums then being of no use."""


def _first_tensor(output):
    if isinstance(output, (tuple, list)) and output:
        output = output[0]
    elif isinstance(output, Mapping) and output:
        output = next(iter(output.values()))
    return output


def flatten_output(output, name: str, batch: int, *, pool: str, tokens: str) -> torch.Tensor:
    """One row per sample (or per token with ``tokens="all"``) of a layer's output; see the module docstring.

    Example:
        >>> flatten_output(torch.ones(2, 3, 4, 4), "conv", 2, pool="mean", tokens="mean").shape
        torch.Size([2, 3])
    """
    x = _first_tensor(output)
    if not isinstance(x, torch.Tensor):
        raise InterplayTypeError(
            f"layer {name!r} returned {type(x).__name__}; a layer profile needs a tensor (or a tuple, list or dict "
            "whose first item is one). Choose another layer with layers=[...]."
        )
    if x.ndim == 0 or x.shape[0] != batch:
        raise InterplayValueError(
            f"layer {name!r} gave an output of shape {tuple(x.shape)}, whose first dimension is not the batch's "
            f"{batch} samples; a layer profile needs batch-first outputs. Choose another layer with layers=[...]."
        )
    if tokens == "all":
        if x.ndim != 3:
            raise InterplayValueError(
                f"tokens='all' needs a (B, T, d) token sequence at every layer; layer {name!r} gave shape "
                f"{tuple(x.shape)}. Use tokens='mean' or choose the token layers with layers=[...]."
            )
        return x.reshape(-1, x.shape[-1])  # (B·T, d)
    if x.ndim == 1:
        return x[:, None]
    if x.ndim == 3:
        return {"mean": lambda: x.mean(1), "first": lambda: x[:, 0], "last": lambda: x[:, -1]}[tokens]()
    if x.ndim > 3:
        return x.flatten(2).mean(2) if pool == "mean" else x.flatten(1)
    return x


class _Reservoir:
    """A uniform sample of at most ``capacity`` rows of a stream (algorithm R), seeded."""

    def __init__(self, capacity: int, seed: int) -> None:
        self.capacity, self.seen = capacity, 0
        self.generator = torch.Generator().manual_seed(seed)
        self.chunks: list[tuple[list[torch.Tensor], torch.Tensor | None, torch.Tensor]] = []
        self.full: tuple[list[torch.Tensor], torch.Tensor | None, torch.Tensor] | None = None

    def add(self, rows: list[torch.Tensor], labels: torch.Tensor | None) -> None:
        b = rows[0].shape[0]
        positions = torch.arange(self.seen, self.seen + b)  # (b,)
        self.seen += b
        take = max(0, min(b, self.capacity - (self.seen - b)))
        if take:
            self.chunks.append(([r[:take].clone() for r in rows], None if labels is None else labels[:take], positions[:take]))
        if take == b:
            return
        if self.full is None:
            self.full = self._joined()
            self.chunks = []
        later = positions[take:]
        draws = (torch.rand(later.shape[0], generator=self.generator, dtype=torch.float64) * (later + 1)).floor().long()
        # Later samples overwrite earlier ones drawn into the same slot, as in the sequential algorithm.
        last = {slot: take + k for k, slot in enumerate(draws.tolist()) if slot < self.capacity}
        if not last:
            return
        slots, source = torch.tensor(list(last)), torch.tensor(list(last.values()))
        kept, kept_labels, kept_positions = self.full
        for buffer, r in zip(kept, rows):
            buffer[slots.to(buffer.device)] = r[source.to(r.device)]
        if kept_labels is not None:
            kept_labels[slots.to(kept_labels.device)] = labels[source.to(labels.device)]
        kept_positions[slots] = positions[source]

    def _joined(self):
        rows = [torch.cat(parts) for parts in zip(*(c[0] for c in self.chunks))]
        labels = None if self.chunks[0][1] is None else torch.cat([c[1] for c in self.chunks])
        return rows, labels, torch.cat([c[2] for c in self.chunks])

    def result(self):
        """Rows, labels and stream positions, ordered by position."""
        rows, labels, positions = self.full if self.full is not None else self._joined()
        order = torch.argsort(positions)
        return [r[order.to(r.device)] for r in rows], None if labels is None else labels[order.to(labels.device)], positions[order]


def _split(batch, batch_fn):
    """``(inputs, labels)``; labels are ``None`` for a bare tensor, a 1-tuple or ``(inputs, None)``."""
    if batch_fn is not None:
        batch = batch_fn(batch)
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise InterplayTypeError(f"batch_fn must return (inputs, labels) or (inputs, None); got {type(batch).__name__}.")
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, (tuple, list)) and (len(batch) == 1 or (len(batch) == 2 and batch[1] is None)):
        return batch[0], None
    return split_batch(batch)


def _batch_size(inputs, labels) -> int:
    if labels is not None:
        return labels.shape[0]
    first = next((v for v in inputs.values() if isinstance(v, torch.Tensor)), None) if isinstance(inputs, Mapping) else inputs
    if not isinstance(first, torch.Tensor) or first.ndim == 0:
        raise InterplayTypeError(
            f"could not tell the batch size of inputs of type {type(inputs).__name__}; yield (inputs, labels) batches."
        )
    return first.shape[0]


class _Hooks:
    """Forward hooks that record what each tap reads, and the order in which the taps run."""

    def __init__(self, taps: list[Tap]) -> None:
        self.taps = taps
        self.calls: dict[str, list] = {tap.name: [] for tap in taps}
        self.order: list[str] = []
        self.handles = [tap.module.register_forward_hook(self._hook(tap)) for tap in taps]

    def _hook(self, tap: Tap):
        def hook(_module, inputs, output):
            self.calls[tap.name].append((inputs[0] if inputs else None, output) if tap.read == "input" else (output, None))
            self.order.append(tap.name)

        return hook

    def clear(self) -> None:
        for calls in self.calls.values():
            calls.clear()
        self.order.clear()

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _settle_taps(hooks: _Hooks, notes: list[str], *, hidden: bool) -> list[Tap]:
    """The taps that ran once in the first batch, in the order they finished; others are errors if chosen.
    With ``hidden`` (a model read at its hidden states) no hooked tap may remain."""
    kept = []
    for tap in hooks.taps:
        runs = len(hooks.calls[tap.name])
        if runs == 1:
            kept.append(tap)
            continue
        why = "did not run" if runs == 0 else f"ran {runs} times"
        if tap.chosen:
            raise InterplayValueError(
                f"layer {tap.name!r} {why} in one forward pass; a layer profile reads layers that run once per batch. "
                "Choose other layers with layers=[...]" + (" or pass head=False." if tap.read == "input" else ".")
            )
        notes.append(f"layer {tap.name!r} left out: it {why} in one forward pass.")
    head = next((tap for tap in kept if tap.read == "input"), None)
    if head is not None:
        read = hooks.calls[head.name][0][0]
        for tap in [t for t in kept if not t.chosen and t.read == "output" and hooks.calls[t.name][0][0] is read]:
            kept.remove(tap)
            notes.append(f"layer {tap.name!r} left out: its output is the head's input, profiled as {head.name!r}.")
    if not kept and not hidden:
        raise InterplayValueError("none of the layers ran once in a forward pass; choose layers with layers=[...].")
    return sorted(kept, key=lambda tap: hooks.order.index(tap.name))


def _hidden_states(output) -> tuple | list:
    hidden = output.get("hidden_states") if isinstance(output, Mapping) else getattr(output, "hidden_states", None)
    return hidden if isinstance(hidden, (tuple, list)) else ()


def _hidden_taps(model: nn.Module, output) -> list[Tap]:
    """One tap per entry of the ``hidden_states`` a Hugging Face model returned."""
    hidden = _hidden_states(output)
    if not hidden:
        raise InterplayValueError(
            f"the model ({type(model).__name__}) returned no hidden_states with output_hidden_states=True; "
            "name the layers to read with layers=[...]."
        )
    return [Tap(f"hidden_states.{k}", model, read="hidden_states", chosen=False, index=k) for k in range(len(hidden))]


def _check_head_output(tap: Tap, call, output) -> None:
    # A guessed head stands only if its output is the model's logits, as in interplay.probe.
    try:
        logits = model_logits(output)
    except InterplayTypeError:
        logits = None
    head_out = call[1]
    if isinstance(head_out, torch.Tensor) and isinstance(logits, torch.Tensor) and head_out.shape == logits.shape \
            and torch.equal(head_out.to(logits.dtype), logits):
        return
    raise InterplayValueError(
        f"could not tell which layer produces the model's logits: the guessed head ({type(tap.module).__name__}, "
        "model.head or the last nn.Linear) does not produce the model's output. Pass head=<the final layer or its "
        "name>, or head=False to profile without a head."
    )


def capture(
    model: nn.Module,
    loader: Iterable,
    taps: list[Tap],
    *,
    device: torch.device | None,
    batch_fn: Callable | None,
    pool: str,
    tokens: str,
    ignore_index: int,
    max_samples: int | None,
    memory_budget: int,
    seed: int,
    check_head: bool,
    need_labels: bool,
    head_weight: torch.Tensor | None = None,
    max_exact_size: int = MAX_EXACT_SIZE,
    hidden_states: bool = False,
) -> Capture:
    """Run the model over ``loader`` (no grad) with hooks on ``taps``, and with ``hidden_states``
    read its ``hidden_states`` before them; see the module docstring."""
    hooks, notes, reservoir, labelled, streams = _Hooks(taps), [], None, None, None
    forward = partial(model, output_hidden_states=True) if hidden_states else model
    try:
        with torch.no_grad():
            for index, batch in enumerate(loader):
                inputs, labels = _split(batch, batch_fn)
                batch_size = _batch_size(inputs, labels)
                hooks.clear()
                output = call_model(forward, inputs, device)
                if labelled is None:
                    labelled = labels is not None
                    taps = (_hidden_taps(model, output) if hidden_states else []) + _settle_taps(hooks, notes, hidden=hidden_states)
                    if check_head:
                        head = next(tap for tap in taps if tap.read == "input")
                        _check_head_output(head, hooks.calls[head.name][0], output)
                if labels is None and need_labels:
                    raise InterplayValueError(
                        f"batch {index} has no labels, but NC1, MIR and HDR need them: yield (inputs, labels) batches "
                        "(integer classes), or leave those quantities out with quantities=[...]."
                    )
                if (labels is not None) != labelled:
                    raise InterplayValueError(
                        f"batch {index} {'has no' if labels is None else 'has'} labels, unlike the first batch; "
                        "every batch must be (inputs, labels), or every batch inputs alone."
                    )
                rows = [_stored(flatten_output(read, tap.name, batch_size, pool=pool, tokens=tokens))
                        for tap, read in zip(taps, _reads(hooks, taps, output, index))]
                rows, labels = _select_tokens(rows, labels, batch_size, tokens, ignore_index)
                if reservoir is None:
                    reservoir = _Reservoir(_capacity(rows, taps, max_samples, memory_budget), seed)
                if not rows[0].shape[0]:
                    continue
                if streams is None and reservoir.seen + rows[0].shape[0] > reservoir.capacity:
                    # Only now are there samples beyond the kept ones: the sums start with the batches kept
                    # so far, in their order, so they equal sums taken batch by batch from the start.
                    streams = LayerStreams([r.shape[1] for r in rows], share=memory_budget // (2 * len(rows)),
                                           head_weight=head_weight, labelled=labels is not None, max_exact_size=max_exact_size)
                    for kept, kept_labels, _ in reservoir.chunks:
                        streams.add(kept, kept_labels)
                reservoir.add(rows, labels)
                if streams is not None:
                    streams.add(rows, labels)
    finally:
        hooks.remove()
    if reservoir is None or reservoir.seen == 0:
        raise InterplayValueError(
            "the loader yielded no samples; a layer profile needs at least one batch of inputs (with tokens='all', "
            "at least one token whose label is not ignore_index)."
        )
    features, labels, positions = reservoir.result()
    if reservoir.seen > reservoir.capacity:
        notes.append(
            f"kept {reservoir.capacity} of {reservoir.seen} samples, a uniform subsample (reservoir sampling, seed={seed}); "
            "their stream positions are in LayerProfile.samples."
        )
    return Capture(taps, features, labels, positions, reservoir.seen, reservoir.capacity, notes, streams)


def _reads(hooks: _Hooks, taps: list[Tap], output, index: int) -> list:
    """What each tap read in this batch: a hidden state of the output, or its one hook call, as in the first batch."""
    reads = []
    for tap in taps:
        if tap.read == "hidden_states":
            reads.append(_hidden_states(output)[tap.index])
            continue
        runs = len(hooks.calls[tap.name])
        if runs != 1:
            raise InterplayValueError(
                f"layer {tap.name!r} ran {runs} times in batch {index} but once in the first; "
                "a layer profile reads layers that run once per batch."
            )
        reads.append(hooks.calls[tap.name][0][0])
    return reads


def _stored(rows: torch.Tensor) -> torch.Tensor:
    """Rows detached, in at least float32 (half precision cannot resolve the spectra anyway)."""
    rows = rows.detach()
    return rows.float() if rows.dtype in (torch.float16, torch.bfloat16) or not rows.is_floating_point() else rows


def _select_tokens(rows, labels, batch_size, tokens, ignore_index):
    """Labels for every row; with ``tokens="all"``, per-token labels, tokens labelled ``ignore_index`` left out."""
    if tokens != "all":
        if labels is not None and labels.shape != (batch_size,):
            raise InterplayValueError(
                f"labels must have one entry per sample, shape ({batch_size},); got {tuple(labels.shape)}. "
                "For one label per token pass tokens='all'."
            )
        return rows, labels
    per_sample = rows[0].shape[0] // batch_size
    if any(r.shape[0] != rows[0].shape[0] for r in rows):
        raise InterplayValueError("tokens='all' needs the same number of tokens T at every layer; the layers' sequences differ.")
    if labels is None:
        return rows, None
    if labels.shape == (batch_size,):
        labels = labels.repeat_interleave(per_sample)
    elif labels.shape == (batch_size, per_sample):
        labels = labels.reshape(-1)
    else:
        raise InterplayValueError(
            f"with tokens='all', labels must be (B,) or (B, T) = ({batch_size}, {per_sample}); got {tuple(labels.shape)}."
        )
    keep = labels != ignore_index  # (B·T,)
    return [r[keep.to(r.device)] for r in rows], labels[keep]


def _capacity(rows: list[torch.Tensor], taps: list[Tap], max_samples: int | None, memory_budget: int) -> int:
    per_sample = sum(r.shape[1] * r.element_size() for r in rows)
    fits = memory_budget // per_sample
    if fits < 2:
        widths = ", ".join(f"{t.name}: {r.shape[1]}" for t, r in zip(taps, rows))
        raise InterplayValueError(
            f"memory_budget={memory_budget} bytes holds the features of {fits} sample(s); one sample takes "
            f"{per_sample} bytes over the layers' widths ({widths}). Raise memory_budget, choose fewer layers, "
            "or pool convolutional maps (pool='mean')."
        )
    return fits if max_samples is None else min(fits, max_samples)
