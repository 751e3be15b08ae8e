"""Layer-by-layer profile of any network: matrix entropy, effective rank, NC1, MIR/HDR to the heads,
and CKA and matrix mutual information between layers, on the same samples, from one pass over the data.

Skean et al. 2025 (arXiv 2502.02013) for entropies by depth; He & Su 2023 (arXiv 2210.17020) for
the geometric decay of NC1 with depth; Kornblith et al. 2019 (arXiv 1905.00414) for CKA.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.functional.similarity import check_alpha
from interplay.heads import find_head, head_weight
from interplay.layer_profile.capture import capture
from interplay.layer_profile.layers import choose_layers
from interplay.layer_profile.figures import plot
from interplay.layer_profile.quantities import (
    LAYER_QUANTITIES,
    PAIR_QUANTITIES,
    SeparationFit,
    fit_separation,
    layer_quantities,
    pair_quantities,
    span_coordinates,
)
from interplay.layer_profile.result import LayerProfile
from interplay.validation import InterplayTypeError, InterplayValueError, check_labels, check_max_exact_size, check_scalar

__all__ = ["profile", "LayerProfile", "SeparationFit", "plot", "QUANTITIES", "MAX_SAMPLES", "MEMORY_BUDGET"]

QUANTITIES = LAYER_QUANTITIES + PAIR_QUANTITIES
MAX_SAMPLES = 2048
"""Default cap on the kept samples: each layer pair's mutual information diagonalises an (n, n) matrix."""
MEMORY_BUDGET = 2**30
"""Default bytes for the kept features of all layers (1 GiB)."""

_LABELLED = {"nc1", "mir", "hdr"}


def _check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InterplayValueError(f"{name} must be one of {choices}; got {value!r}.")
    return value


def _resolve_head(model: nn.Module, head) -> tuple[nn.Module | None, bool]:
    """The head and whether it was guessed (and so must be checked against the model's output)."""
    if head is False:
        return None, False
    if head is None:
        try:
            return find_head(model), True
        except InterplayValueError:
            return None, False  # no nn.Linear and no .head: a model without a classification head
    if head is True:
        raise InterplayTypeError("head must be a module, a submodule name, None (find it) or False (no head); got True.")
    return find_head(model, head), False


def _wanted(quantities, alpha, head) -> tuple[set[str], bool]:
    """The quantities to compute, and whether labels are required (asked for explicitly)."""
    if quantities is None:
        wanted = set(QUANTITIES) - ({"renyi_entropy"} if alpha is None else set()) - ({"mir", "hdr"} if head is None else set())
        return wanted, False
    items = [quantities] if isinstance(quantities, str) else list(quantities)
    unknown = [q for q in items if q not in QUANTITIES]
    if unknown or not items:
        raise InterplayValueError(f"quantities must be a non-empty list from {QUANTITIES}; got {quantities!r}.")
    wanted = set(items)
    if "renyi_entropy" in wanted and alpha is None:
        raise InterplayValueError("quantities asks for 'renyi_entropy' but alpha is None; pass alpha=<the order>, e.g. alpha=2.")
    if wanted & {"mir", "hdr"} and head is None:
        raise InterplayValueError(
            "MIR and HDR need the classification head, and none is used (head=False, or no nn.Linear or .head "
            "was found). Pass head=<the final layer or its name>, or leave 'mir' and 'hdr' out of quantities."
        )
    return wanted, bool(wanted & _LABELLED)


def profile(
    model: nn.Module,
    loader: Iterable,
    *,
    layers: Sequence[str | nn.Module] | str | None = None,
    head: nn.Module | str | bool | None = None,
    pool: str = "mean",
    tokens: str = "mean",
    quantities: Sequence[str] | None = None,
    alpha: float | None = None,
    max_samples: int | None = MAX_SAMPLES,
    memory_budget: int = MEMORY_BUDGET,
    seed: int = 0,
    batch_fn: Callable | None = None,
    ignore_index: int = -100,
    max_exact_size: int = MAX_EXACT_SIZE,
) -> LayerProfile:
    """Profile every layer of ``model`` on the data of ``loader``, in one pass with forward hooks
    (for a Hugging Face model's default layers, from the ``hidden_states`` it returns).

    The model runs in eval mode without gradients; hooks only read, so its outputs are unchanged,
    and every submodule gets back its own mode and the hooks are removed afterwards, also on error.
    Each layer's output is flattened to one row per sample (see :mod:`interplay.layer_profile.capture`:
    conv maps averaged over positions, token sequences over tokens, by default). Layers are ordered
    by when they run (depth 0 first). Quantities (see :mod:`interplay.layer_profile.quantities`) are
    computed in float64 on the same kept samples for every layer.

    Memory: the kept features take ``m · Σ_l d_l`` numbers (d_l the flattened widths, float32 for
    float32 models), at most ``memory_budget`` bytes; the computation adds float64 copies of at most
    ``m · min(m, d_l)`` numbers per layer and (m, m) matrices. ``m`` is the number of samples when it
    fits both ``max_samples`` and the budget; otherwise a seeded uniform subsample of that size
    (reservoir sampling), stated in ``notes`` with the positions in ``samples``. Time: each layer
    pair's mutual information diagonalises an (m, m) matrix (or a smaller Kronecker one). Beyond the
    kept samples, the per-layer quantities are still over every sample wherever the layer's fixed-size
    sums fit half the budget shared among the layers (:mod:`interplay.layer_profile.streams`: 8·d_l²
    bytes for the entropies, 8·(C·d_l + d_l²) for NC1, 8·C·d_l² for MIR and HDR); ``counts`` says how
    many samples each value used, and MIR/HDR beyond the exact size are estimated as everywhere.

    Args:
        model: any ``nn.Module`` whose layers output batch-first tensors.
        loader: re-iterable batches ``(inputs, labels, ...)``, or inputs alone (then no NC1, MIR, HDR);
            or anything ``batch_fn`` maps to ``(inputs, labels)`` or ``(inputs, None)``. A dict of
            inputs is passed as ``model(**inputs)``.
        layers: module names, glob patterns (``"blocks.*"``) or modules; ``None`` for the model's
            blocks, each read after its nonlinearity, or a Hugging Face model's ``hidden_states``
            (the rule in :mod:`interplay.layer_profile.layers`). The head's input is added
            whenever a head is used.
        head: the final layer or its name; ``None`` guesses it as :func:`interplay.probe` does (checked
            against the model's output) and goes without when the model has no ``nn.Linear`` and no
            ``.head``; ``False`` for none.
        pool: ``"mean"`` or ``"flatten"`` for (B, C, H, W) maps.
        tokens: ``"mean"``, ``"first"``, ``"last"`` or ``"all"`` (each token a sample) for (B, T, d).
        quantities: names from :data:`QUANTITIES`; ``None`` for all that the data allow (NC1, MIR and
            HDR need labels, MIR and HDR a head, the Rényi entropy ``alpha``).
        alpha: order of an extra Rényi entropy per layer.
        max_samples: cap on the kept samples (``None``: only the memory budget caps them).
        memory_budget: bytes for the kept features.
        seed: seed of the subsample.
        batch_fn: maps a batch to ``(inputs, labels)`` or ``(inputs, None)``, e.g. for dict batches.
        ignore_index: the label of tokens left out with ``tokens="all"``.
        max_exact_size: largest matrix side diagonalised.

    Raises:
        ValueError/TypeError: unknown layer names (with close names), a pattern matching no module, a
            chosen layer that does not run once per forward pass, an empty loader, labels missing for
            NC1/MIR/HDR when asked for, or options out of range.

    Example:
        >>> model = nn.Sequential(nn.Identity(), nn.Identity())
        >>> data = [(torch.eye(4), torch.tensor([0, 0, 1, 1]))]
        >>> result = profile(model, data)
        >>> result.layers, [round(h, 4) for h in result.values["entropy"].tolist()]  # four orthogonal rows: log 4
        (['0', '1'], [1.3863, 1.3863])
        >>> round(result.cka[0, 1].item(), 12)
        1.0
    """
    pool = _check_choice(pool, "pool", ("mean", "flatten"))
    tokens = _check_choice(tokens, "tokens", ("mean", "first", "last", "all"))
    max_samples = check_scalar(max_samples, "max_samples", minimum=2, optional=True)
    memory_budget = check_scalar(memory_budget, "memory_budget", minimum=1)
    seed = check_scalar(seed, "seed", minimum=0)
    max_exact_size = check_max_exact_size(max_exact_size)
    alpha = None if alpha is None else check_alpha(alpha)
    head, guessed = _resolve_head(model, head)
    weight = None if head is None else head_weight(head).detach()  # (C, d)
    wanted, need_labels = _wanted(quantities, alpha, head)
    hidden = layers is None and _hugging_face(model)
    taps = choose_layers(model, layers, head, blocks=not hidden)
    parameter = next(model.parameters(), None)
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        captured = capture(
            model, loader, taps, device=None if parameter is None else parameter.device, batch_fn=batch_fn, pool=pool,
            tokens=tokens, ignore_index=ignore_index, max_samples=max_samples, memory_budget=memory_budget, seed=seed,
            check_head=guessed, need_labels=need_labels, head_weight=weight, max_exact_size=max_exact_size,
            hidden_states=hidden,
        )
    finally:
        for module, mode in modes.items():
            module.training = mode
    notes, labels = captured.notes, captured.labels
    if labels is None and wanted & _LABELLED:
        notes.append("the batches have no labels: NC1, MIR and HDR are not computed.")
        wanted -= _LABELLED
    if labels is not None and weight is not None:
        labels = check_labels(labels, labels.shape[0], weight.shape[0], "labels")
    labels = None if labels is None else labels.to(captured.features[0].device)
    names = [tap.name for tap in captured.taps]
    widths = [x.shape[1] for x in captured.features]
    features = captured.features
    for i, x in enumerate(features):
        features[i] = span_coordinates(x.double())  # (m, min(m, d_i)); frees the stored copy
    streams = captured.streams if captured.seen > captured.capacity else None
    if streams is not None:
        notes.append(
            f"the per-layer quantities are over all {captured.seen} samples wherever the layer's sums fit the budget "
            "(counts says how many samples each value used); CKA and MI between layers over the kept subsample."
        )
    values, counts = layer_quantities(names, features, labels, weight, wanted=wanted, alpha=alpha,
                                      max_exact_size=max_exact_size, notes=notes, streams=streams)
    matrices, pair_counts = pair_quantities(names, features, wanted=wanted, max_exact_size=max_exact_size, notes=notes)
    result = LayerProfile(
        names, widths, {q: torch.tensor(v, dtype=torch.float64) for q, v in values.items()}, counts,
        matrices.get("cka"), matrices.get("mutual_information"), pair_counts,
        fit_separation(names, values["nc1"]) if "nc1" in values else None,
        captured.positions, captured.seen, alpha, _head_name(captured), notes,
    )
    undefined = sum(math.isnan(v) for vs in values.values() for v in vs) + sum(int(m.isnan().sum()) for m in matrices.values())
    if undefined:
        warnings.warn(f"{undefined} values of the layer profile are NaN (undefined); LayerProfile.notes says why.", RuntimeWarning, stacklevel=2)
    return result


def _hugging_face(model: nn.Module) -> bool:
    transformers = sys.modules.get("transformers")  # a Hugging Face model has imported it already
    return transformers is not None and isinstance(model, transformers.PreTrainedModel)


def _head_name(captured) -> str | None:
    return next((tap.name.removesuffix(":input") for tap in captured.taps if tap.read == "input"), None)
