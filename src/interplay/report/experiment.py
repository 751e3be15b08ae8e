"""Tables, figures and an HTML page of an experiment, built from its records alone."""

from __future__ import annotations

import html
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from interplay.report.html import format_number
from interplay.report.labels import symbol, title
from interplay.report.page import document
from interplay.report.plots import FONT, save_figure, split_colors

import matplotlib.pyplot as plt  # noqa: E402  (after interplay.report.plots chose the Agg backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = ["mean_std", "band_figure", "draw_floor", "save_panels", "write_page", "summary_table"]

PALETTE = plt.get_cmap("tab10").colors
REFERENCE_COLUMNS = {"mir": "mir_nc", "h_z": "h_nc", "h_w": "h_nc"}


_UNIT_INTERVAL = {"accuracy", "acc", "mir", "hdr", "nc4"}


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1; 0 for one value), the results page's convention.

    Example:
        >>> mean_std([1.0, 2.0, 3.0])
        (2.0, 1.0)
    """
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _grouped(rows, x, column, group):
    """{group value: {x: [values over seeds]}}."""
    out: dict[Any, dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get(column) is not None:
            out[r.get(group) if group else ""][r[x]].append(r[column])
    return out


def _shared_reference(axis, rows, x, column, group, value, color, *, first: bool) -> None:
    """Dotted: the collapse value of ``column`` for the measured cosine ρ of the uncentred class
    means (``{column}_rho``, mean over seeds), where the rows hold it."""
    series = _grouped(rows, x, f"{column}_rho", group).get(value)
    if series:
        xs = sorted(series)
        axis.plot(xs, [statistics.fmean(series[v]) for v in xs], ":", color=color, linewidth=1.4,
                  label="at collapse for the means' cosine ρ" if first else None)


def band_figure(rows, x: str, columns: list[str], path: str | Path, *, group: str | None = None,
                style_by: str | None = "split", xlabel: str | None = None, log_columns: tuple[str, ...] = ("nc1", "loss")) -> Path:
    """One panel per column: mean ± sample std over seeds against ``x`` (the title says over how
    many runs), one line per ``group`` and ``style_by`` value (train dashed and light, test solid
    and dark, one hue per group); collapse values drawn and labelled where they exist. Bands stay
    inside the quantity's range (every column here is non-negative; accuracy, MIR and HDR are at most 1)."""
    ncols = min(3, len(columns))
    nrows = -(-len(columns) // ncols)
    styles = sorted({r.get(style_by) for r in rows}, key=str) if style_by else [None]
    with plt.rc_context(FONT):
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.9 * nrows), squeeze=False)
        for axis, column in zip(axes.flat, columns):
            runs = 0
            upper_bound = 1.0 if column.split("_")[0] in _UNIT_INTERVAL else math.inf
            for s_index, style in enumerate(styles):
                subset = [r for r in rows if style_by is None or r.get(style_by) == style]
                for g_index, (g, series) in enumerate(sorted(_grouped(subset, x, column, group).items(), key=lambda kv: str(kv[0]))):
                    xs = sorted(series)
                    stats = [mean_std(series[v]) for v in xs]
                    runs = max([runs, *(len(series[v]) for v in xs)])
                    mean = [m for m, _ in stats]
                    label = ", ".join(str(p) for p in (f"{group}={g}" if group else "", style or "") if p)
                    line = "-" if style in (None, "test") else "--"
                    if group:
                        color = split_colors(g_index, several=True).get(style, PALETTE[g_index % len(PALETTE)])
                    else:
                        color = split_colors(0, several=False).get(style, PALETTE[s_index % len(PALETTE)])
                    axis.plot(xs, mean, line, color=color, label=label or None, marker="o", markersize=2.5)
                    axis.fill_between(xs, [max(m - s, 0.0) for m, s in stats], [min(m + s, upper_bound) for m, s in stats],
                                      color=color, alpha=0.15)
                    if style in (None, "train"):
                        _shared_reference(axis, subset, x, column, group, g, color, first=g_index == 0)
            draw_floor(axis, rows, x, column)
            ref = REFERENCE_COLUMNS.get(column)
            value = next((r[ref] for r in rows if ref and r.get(ref) is not None), None)
            if value is not None:
                axis.axhline(value, color="black", linestyle=":", linewidth=1.4, label=f"at collapse = {value:.4g}")
            if "hdr" in column.split("_"):
                axis.axhline(0.0, color="black", linestyle=":", linewidth=1.4, label="0 at collapse")
            # Undefined records (None or NaN) leave no point, so they do not decide the scale.
            if column in log_columns and all(r.get(column) is None or not r[column] <= 0 for r in rows):
                axis.set_yscale("log")
            spread = f"± sample std, {runs} runs" if runs > 1 else "one run"
            axis.set_title(f"{title(column)}  ({spread})")
            axis.set_xlabel(xlabel or x.replace("_", " "))
            if x in ("epoch", "step"):
                axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        save_panels(fig, axes, len(columns), path, legend_size=9)
    return Path(path)


FLOOR_COLUMNS = {"mir", "hdr", "h_z", "h_w", "mi"}


def draw_floor(axis, rows: list[dict], x: str, column: str) -> float | None:
    """The random-feature floor of an information column: its mean over the untrained networks
    (the records at ``x`` = 0), drawn as a grey dash-dot line; ``None`` where no record is at 0.

    Example:
        >>> fig, axis = plt.subplots()
        >>> draw_floor(axis, [{"epoch": 0, "mir": 0.25}, {"epoch": 0, "mir": 0.35}, {"epoch": 5, "mir": 0.9}], "epoch", "mir")
        0.3
        >>> plt.close(fig)
    """
    if column.removesuffix("_centred").removesuffix("_class") not in FLOOR_COLUMNS:
        return None
    untrained = [r[column] for r in rows if r.get(x) == 0 and r.get(column) is not None and not math.isnan(r[column])]
    if not untrained:
        return None
    floor = statistics.fmean(untrained)
    axis.axhline(floor, color="0.5", linestyle="-.", linewidth=1.2, label=f"untrained network (floor) = {floor:.3g}")
    return floor


def save_panels(fig, axes, used: int, path, *, legend_size: int) -> None:
    """Grid and legend on the first ``used`` panels, the rest hidden; save ``fig`` to ``path`` and close it."""
    for axis in list(axes.flat)[:used]:
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=legend_size)
    for axis in list(axes.flat)[used:]:
        axis.set_visible(False)
    save_figure(fig, path, dpi=100)


def summary_table(rows, keys: list[str], columns: list[str]) -> tuple[list[str], list[list[str]]]:
    """Mean ± std over seeds of ``columns`` for each combination of ``keys``."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[tuple(r.get(k) for k in keys)].append(r)
    body = []
    for key in sorted(groups, key=lambda k: tuple((0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for v in k)):
        cells = [str(v) for v in key]
        for c in columns:
            values = [r[c] for r in groups[key] if r.get(c) is not None]
            cells.append("" if not values else " ± ".join(format_number(v) for v in mean_std(values)))
        cells.append(str(len(groups[key])))
        body.append(cells)
    return [*keys, *(symbol(c) for c in columns), "runs"], body


def _words(stem: str) -> str:
    return html.escape(stem.replace("_", " "))


def write_page(run_dir: str | Path, title: str, paragraphs: list[str], tables: list[tuple[str, list[str], list[list[str]]]],
               figures: list[Path]) -> Path:
    """``report.html`` in ``run_dir``: text, tables (caption, header, rows), figures and the config."""
    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text()) if (run_dir / "config.json").is_file() else {}
    parts = [f"<h1>{html.escape(title)}</h1>", *(f"<p>{html.escape(p)}</p>" for p in paragraphs)]
    for caption, header, body in tables:
        parts.append(f"<h2>{html.escape(caption)}</h2><table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body]
        parts.append("</table>")
    parts += [f'<figure><img src="{p.name}" alt="{_words(p.stem)}"><figcaption>Figure {i}: {_words(p.stem)}.</figcaption></figure>'
              for i, p in enumerate(figures, 1)]
    parts.append(f"<h2>Configuration</h2><pre>{html.escape(json.dumps(config, indent=1))}</pre>")
    path = run_dir / "report.html"
    path.write_text(document(title, parts))
    return path
