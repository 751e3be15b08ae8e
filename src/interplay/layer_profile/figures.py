"""Two figures of a layer profile: the per-layer quantities against depth, and the CKA and mutual
information heatmaps. Drawn on ``matplotlib.figure.Figure`` with the Agg canvas, so the caller's
pyplot backend and state are left alone."""

from __future__ import annotations

import math
from pathlib import Path

from interplay.layer_profile.result import LayerProfile

__all__ = ["plot"]


def _depth_axis(axis, result: LayerProfile) -> None:
    axis.set_xticks(range(len(result.layers)))
    axis.set_xticklabels(result.layers, rotation=60, ha="right", fontsize=7)
    axis.set_xlabel("layer (depth order)")
    axis.grid(alpha=0.3)


def _curves(axis, result: LayerProfile, quantities: dict[str, str], title: str) -> None:
    depths = range(len(result.layers))
    drawn = False
    for quantity, label in quantities.items():
        if quantity in result.values:
            axis.plot(depths, result.values[quantity].tolist(), marker="o", markersize=3, label=label)
            drawn = True
    if not drawn:
        axis.text(0.5, 0.5, "not computed", ha="center", va="center", transform=axis.transAxes, color="grey")
    else:
        axis.legend(fontsize=7)
    axis.set_title(title, fontsize=10)
    _depth_axis(axis, result)


def _nc1(axis, result: LayerProfile) -> None:
    if "nc1" not in result.values:
        _curves(axis, result, {}, "NC1")
        return
    depths = list(range(len(result.layers)))
    values = [v if v > 0 else math.nan for v in result.values["nc1"].tolist()]  # log scale: 0 and NaN not drawn
    if all(math.isnan(v) for v in values):
        _curves(axis, result, {}, "NC1 (0 or undefined at every layer)")
        return
    axis.semilogy(depths, values, marker="o", markersize=3, label="NC1")
    fit = result.separation
    if fit is not None and math.isfinite(fit.slope):
        axis.semilogy(depths, [math.exp(fit.intercept + fit.slope * d) for d in depths], "--", color="grey",
                      label=f"fit: ×{fit.ratio:.3g} per layer, R² {fit.r2:.3f}")
    axis.legend(fontsize=7)
    axis.set_title("NC1 (law of data separation)", fontsize=10)
    _depth_axis(axis, result)


def _heatmap(figure, axis, result: LayerProfile, matrix, title: str, limits) -> None:
    if matrix is None:
        axis.text(0.5, 0.5, "not computed", ha="center", va="center", transform=axis.transAxes, color="grey")
        axis.set_title(title, fontsize=10)
        return
    image = axis.imshow(matrix.numpy(), cmap="viridis", vmin=limits[0], vmax=limits[1])
    figure.colorbar(image, ax=axis, fraction=0.046)
    size = len(result.layers)
    axis.set_xticks(range(size))
    axis.set_yticks(range(size))
    axis.set_xticklabels(result.layers, rotation=60, ha="right", fontsize=7)
    axis.set_yticklabels(result.layers, fontsize=7)
    if size <= 12:
        for i in range(size):
            for j in range(size):
                value = float(matrix[i, j])
                color = "black" if image.norm(value) > 0.6 else "white"  # readable on viridis' light end
                axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color=color)
    axis.set_title(title, fontsize=10)


def plot(result: LayerProfile, folder: str | Path) -> list[Path]:
    """Write ``layer_quantities.png`` and ``layer_similarity.png`` into ``folder``; returns their paths.

    Example:
        >>> import tempfile, torch
        >>> from interplay.layer_profile import profile
        >>> result = profile(torch.nn.Sequential(torch.nn.Identity(), torch.nn.ReLU()), [(torch.eye(4), torch.arange(4) % 2)])
        >>> [path.name for path in plot(result, tempfile.mkdtemp())]
        ['layer_quantities.png', 'layer_similarity.png']
    """
    from matplotlib.figure import Figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    samples = f"{len(result.samples)} of {result.seen} samples"
    figure = Figure(figsize=(12, 8), layout="constrained")
    axes = figure.subplots(2, 2)
    entropies = {"entropy": "von Neumann"} | ({"renyi_entropy": f"Rényi α={result.alpha:g}"} if result.alpha else {})
    _curves(axes[0, 0], result, entropies, "matrix entropy of the cosine Gram (nats)")
    _curves(axes[0, 1], result, {"effective_rank": "exp(H)"}, "effective rank")
    _nc1(axes[1, 0], result)
    _curves(axes[1, 1], result, {"mir": "MIR", "hdr": "HDR"}, "MIR and HDR with the head rows W[y]")
    figure.suptitle(f"Layer profile ({samples})")
    quantities = folder / "layer_quantities.png"
    figure.savefig(quantities, dpi=120)
    figure = Figure(figsize=(13, 6), layout="constrained")
    axes = figure.subplots(1, 2)
    _heatmap(figure, axes[0], result, result.cka, "linear CKA", (0.0, 1.0))
    _heatmap(figure, axes[1], result, result.mutual_information, "matrix mutual information (nats)", (None, None))
    figure.suptitle(f"Similarity between layers ({samples})")
    similarity = folder / "layer_similarity.png"
    figure.savefig(similarity, dpi=120)
    return [quantities, similarity]
