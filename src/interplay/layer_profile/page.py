"""A profile folder read back, and its HTML page: what was profiled, the per-layer table, the
separation fit, the two figures and the notes.

``profile.csv`` (:meth:`LayerProfile.to_csv`) with the ``result`` section of ``config.json``
(widths, sample positions, notes) rebuilds the :class:`LayerProfile` exactly (floats are written
with all their digits), so figures and page can be redrawn without the model.
"""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path

import torch

from interplay.layer_profile.quantities import fit_separation
from interplay.layer_profile.result import LayerProfile
from interplay.report.html import DIGITS, format_number
from interplay.report.labels import axis_label
from interplay.report.page import document
from interplay.validation import InterplayValueError

__all__ = ["result_meta", "read_profile", "write_page"]



def result_meta(result: LayerProfile) -> dict:
    """What ``profile.csv`` lacks to rebuild ``result``: widths, samples, notes, head and alpha."""
    return {"widths": result.widths, "samples": result.samples.tolist(), "seen": result.seen, "alpha": result.alpha,
            "head": result.head, "notes": result.notes}


def read_profile(folder: str | Path, meta: dict) -> LayerProfile:
    """The :class:`LayerProfile` stored in ``folder/profile.csv``, with ``meta`` from :func:`result_meta`.

    Example:
        >>> import tempfile
        >>> from interplay.layer_profile import profile
        >>> result = profile(torch.nn.Sequential(torch.nn.Identity(), torch.nn.ReLU()), [(torch.eye(4), torch.arange(4) % 2)])
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = result.to_csv(folder / "profile.csv")
        >>> read_profile(folder, result_meta(result)).table() == result.table()
        True
    """
    path = Path(folder) / "profile.csv"
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        layers = sorted({(int(r["depth"]), r["layer"]) for r in rows if r["layer"]})
        names = [name for _, name in layers]
        size = len(names)
        values: dict[str, list[float]] = {}
        counts: dict[str, list[int]] = {}
        matrices = {q: torch.full((size, size), math.nan, dtype=torch.float64) for q in ("cka", "mutual_information")
                    if any(r["quantity"] == q for r in rows)}
        pair_counts = torch.zeros(size, size, dtype=torch.int64)
        for r in rows:
            if not r["layer"]:
                continue
            quantity, depth = r["quantity"], int(r["depth"])
            if r["other_depth"]:
                matrices[quantity][depth, int(r["other_depth"])] = float(r["value"])
                if quantity == "mutual_information":
                    pair_counts[depth, int(r["other_depth"])] = int(r["n"])
                continue
            quantity = "renyi_entropy" if quantity.startswith("renyi_entropy") else quantity
            values.setdefault(quantity, [math.nan] * size)[depth] = float(r["value"])
            counts.setdefault(quantity, [0] * size)[depth] = int(r["n"])
    except (KeyError, ValueError, IndexError) as error:
        raise InterplayValueError(f"{path} is not a profile table ({type(error).__name__}: {error}); it was edited or "
                                  "damaged: run again with --fresh to compute it anew.") from error
    separation = fit_separation(names, values["nc1"]) if "nc1" in values else None
    return LayerProfile(names, list(meta["widths"]), {q: torch.tensor(v, dtype=torch.float64) for q, v in values.items()},
                        counts, matrices.get("cka"), matrices.get("mutual_information"), pair_counts, separation,
                        torch.tensor(meta["samples"], dtype=torch.int64), int(meta["seen"]), meta["alpha"], meta["head"],
                        list(meta["notes"]))


def _table(result: LayerProfile) -> str:
    quantities = list(result.values)
    header = ["depth", "layer", "width", *(f"Rényi H, α={result.alpha:g}" if q == "renyi_entropy" else axis_label(q) for q in quantities)]
    rows = []
    for depth, (layer, width) in enumerate(zip(result.layers, result.widths)):
        cells = [depth, layer, width, *(format_number(float(result.values[q][depth])) for q in quantities)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{''.join(f'<th>{html.escape(h)}</th>' for h in header)}</tr>{''.join(rows)}</table>"


def _separation(result: LayerProfile) -> str:
    fit = result.separation
    if fit is None:
        return "<p>No NC1 (no labels), so no law of data separation.</p>"
    if not math.isfinite(fit.slope):
        return "<p>Law of data separation: fewer than 2 layers with a finite, positive NC1; no fit.</p>"
    return (f"<p>Law of data separation (He &amp; Su 2023): log NC1 = {format_number(fit.intercept)} "
            f"{'−' if fit.slope < 0 else '+'} {format_number(abs(fit.slope))} · depth over {len(fit.layers)} layers, "
            f"R² = {format_number(fit.r2)}; NC1 is multiplied by {format_number(fit.ratio)} per layer. "
            "He &amp; Su's law holds where R² is near 1 and the slope is negative.</p>")


def write_page(folder: str | Path, result: LayerProfile, stored: dict, figures: list[Path]) -> Path:
    """Write ``folder/profile.html`` for ``result``; ``stored`` is the folder's ``config.json``."""
    folder = Path(folder)
    described = "".join(f"<li>{html.escape(line)}</li>" for line in stored.get("description", []))
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in result.notes) or "<li>none</li>"
    images = "".join(f'<figure><img src="{p.name}" alt="{p.stem}"><figcaption>{html.escape(p.stem)}</figcaption></figure>'
                     for p in figures)
    title = f"Layer profile {stored.get('digest', '')}"
    page = document(title, [
        f"<h1>{html.escape(title)}</h1>", f"<ul>{described}</ul>",
        f"<p>{len(result.samples)} of {result.seen} samples; entropies in nats, {DIGITS} significant "
        "digits. Full values in profile.csv.</p>",
        _separation(result), _table(result), images, f"<h2>Notes</h2><ul>{notes}</ul>",
        f"<h2>Configuration</h2><pre>{html.escape(json.dumps(stored.get('config', {}), indent=1))}</pre>",
    ])
    path = folder / "profile.html"
    path.write_text(page)
    return path
