"""Figures of the terminal phase of training: readings of MIR/HDR with both collapse lines, MIR/HDR
against NC1 over the calibration curves, and the calibration curves alone."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from interplay.report.experiment import draw_floor, mean_std
from interplay.report.plots import save_figure

import matplotlib.pyplot as plt  # noqa: E402  (after interplay.report.plots chose the Agg backend)

__all__ = ["reading_figure", "versus_nc1_figure", "calibration_figure"]

READINGS = {"": "uncentred sample pairing", "_centred": "centred sample pairing", "_class": "class pairing (centred means)"}
CURVE_STYLES = {"isotropic": "-", "rank 10": "--"}


def _colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _band(axis, rows, column, color, line, label):
    series = defaultdict(list)
    for r in rows:
        series[r["epoch"]].append(r[column])
    xs = sorted(series)
    stats = [mean_std(series[x]) for x in xs]
    axis.plot(xs, [m for m, _ in stats], line, color=color, marker="o", markersize=2, label=label)
    axis.fill_between(xs, [m - s for m, s in stats], [m + s for m, s in stats], color=color, alpha=0.15)


def reading_figure(rows: list[dict], path: str | Path) -> Path:
    """MIR and HDR (rows) in each reading (columns) against epoch, mean ± std over seeds per objective;
    train dashed, test solid; black dotted: centred collapse values; coloured dotted: the values
    for the measured mean cosine ρ of the uncentred class means (training split); grey dash-dot: the
    untrained networks' value (epoch 0, true labels), the random-feature floor."""
    objectives = sorted({r["objective"] for r in rows})
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), squeeze=False)
    for col, (suffix, title) in enumerate(READINGS.items()):
        for row_index, metric in enumerate(("mir", "hdr")):
            axis = axes[row_index, col]
            for i, objective in enumerate(objectives):
                color = _colors()[i % 10]
                for split, line in (("train", "--"), ("test", "-")):
                    subset = [r for r in rows if r["objective"] == objective and r["split"] == split]
                    _band(axis, subset, metric + suffix, color, line, f"{objective} {split}")
                if suffix == "":
                    train = [r for r in rows if r["objective"] == objective and r["split"] == "train"]
                    _band(axis, train, f"{metric}_rho", color, ":", f"{objective}: value at ρ")
            draw_floor(axis, [r for r in rows if r["labels"] == "true"], "epoch", metric + suffix)
            reference = rows[0]["mir_nc"] if metric == "mir" else 0.0
            axis.axhline(reference, color="black", linestyle=":", linewidth=1.2, label="centred collapse")
            axis.set_title(f"{metric.upper()}, {title}", fontsize=10)
            axis.set_xlabel("epoch")
            axis.grid(alpha=0.3)
    return _save(fig, axes, path)


def _curves(axis, curves, column, colours: dict[str, str]):
    """Calibration curves: grey for ETF class means, an objective's own (light) colour for the cosine its runs reached."""
    groups = defaultdict(list)
    for c in curves:
        groups[(c.get("objective") or "", c["num_classes"], c["geometry"], c["noise"])].append(c)
    for (objective, classes, geometry, noise), points in sorted(groups.items()):
        points = sorted(points, key=lambda p: p["nc1"])
        xs = [max(p["nc1"], 1e-6) for p in points]
        axis.plot(xs, [p[column] for p in points], CURVE_STYLES.get(noise, "-."), color=colours.get(objective, "0.3"),
                  alpha=0.55 if objective else 1.0, linewidth=1.5,
                  label=f"{objective + ': ' if objective else ''}C={classes} {geometry}, {noise}", zorder=1)


def versus_nc1_figure(rows: list[dict], curves: list[dict], path: str | Path) -> Path:
    """MIR and HDR against NC1 (log axis), every run and epoch, in each reading, over the calibration
    curves (grey: ETF class means; in an objective's colour, faint: means of the cosine its runs reached,
    for the uncentred reading)."""
    objectives = sorted({r["objective"] for r in rows})
    colours = {objective: _colors()[i % 10] for i, objective in enumerate(objectives)}
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), squeeze=False)
    for col, (suffix, title) in enumerate(READINGS.items()):
        for row_index, metric in enumerate(("mir", "hdr")):
            axis = axes[row_index, col]
            # The calibration measures the sample pairing; its centred column is the centred reading.
            curve_column = metric + ("" if suffix == "" else "_centred")
            shown = curves if suffix == "" else [c for c in curves if c["geometry"] == "etf"]
            _curves(axis, shown, curve_column, colours)
            for i, objective in enumerate(objectives):
                for split, marker in (("train", "o"), ("test", "^")):
                    subset = [r for r in rows if r["objective"] == objective and r["split"] == split and r["nc1"] > 0]
                    axis.scatter([r["nc1"] for r in subset], [r[metric + suffix] for r in subset], s=10, marker=marker,
                                 color=_colors()[i % 10], alpha=0.7, label=f"{objective} {split}", zorder=2)
            axis.axhline(rows[0]["mir_nc"] if metric == "mir" else 0.0, color="black", linestyle=":", linewidth=1.2)
            axis.set_xscale("log")
            axis.set_xlabel("NC1")
            axis.set_title(f"{metric.upper()}, {title}", fontsize=10)
            axis.grid(alpha=0.3)
    return _save(fig, axes, path)


def calibration_figure(curves: list[dict], path: str | Path, points: list[dict] | None = None, *, centred: bool = True) -> Path:
    """MIR and HDR against NC1 of calibration curves (one colour per class count and geometry,
    solid isotropic, dashed low-rank noise), in the centred or the uncentred sample pairing;
    ``points`` (dicts with ``label``, ``nc1``, ``mir``, ``hdr``) are drawn on top as crosses."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), squeeze=False)
    suffix = "_centred" if centred else ""
    groups = defaultdict(list)
    for c in curves:
        groups[(c["num_classes"], c["geometry"], c["noise"])].append(c)
    colours = {key: _colors()[j % 10] for j, key in enumerate(sorted({k[:2] for k in groups}))}
    for axis, metric in zip(axes.flat, ("mir", "hdr")):
        for (classes, geometry, noise), group in sorted(groups.items()):
            group = sorted(group, key=lambda p: p["nc1"])
            axis.plot([max(p["nc1"], 1e-6) for p in group], [p[metric + suffix] for p in group],
                      CURVE_STYLES.get(noise, "-."), color=colours[(classes, geometry)], marker=".",
                      label=f"C={classes} {geometry}, {noise}")
        for i, p in enumerate(points or []):
            axis.scatter([p["nc1"]], [p[metric]], marker="xP^sv"[i % 5], s=40, color=plt.cm.tab20(i % 20), label=p["label"], zorder=3)
        axis.set_xscale("log")
        axis.set_xlabel("NC1")
        reading = "centred" if centred else "uncentred"
        axis.set_title(f"{metric.upper()} of collapse class means plus noise ({reading} sample pairing)", fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=6)
    return save_figure(fig, path)


def _save(fig, axes, path) -> Path:
    """Legend on the first panel, then write and close the figure."""
    axes[0, 0].legend(fontsize=6)
    return save_figure(fig, path)
