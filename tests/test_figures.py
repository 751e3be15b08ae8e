"""The MIR and HDR figures draw the collapse value for the measured cosine ρ where the records hold it."""

from __future__ import annotations

import math

import matplotlib.axes
import pytest

from interplay.report.experiment import band_figure
from interplay.report.plots import plot_runs


def records(with_rho: bool) -> list[dict]:
    rows = []
    for epoch in range(3):
        for split in ("train", "test"):
            row = {"epoch": epoch, "split": split, "seed": 0, "mir": 0.5 + 0.1 * epoch, "hdr": 0.2, "mir_nc": 0.9524}
            if with_rho:
                row |= {"mir_rho": 0.98 if split == "train" else 0.5, "hdr_rho": 0.04 if split == "train" else 0.5}
            rows.append(row)
    return rows


@pytest.fixture
def drawn(monkeypatch):
    """Every line drawn: (label, y values, line style)."""
    lines = []
    original = matplotlib.axes.Axes.plot

    def plot(self, *args, **kwargs):
        lines.append((kwargs.get("label"), list(args[1]) if len(args) > 1 else None, args[2] if len(args) > 2 else None))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", plot)
    return lines


def shared_lines(lines):
    return [(y, style) for label, y, style in lines if label and "cosine ρ" in label]


@pytest.mark.parametrize("draw", [
    lambda rows, out: plot_runs({"run": rows}, out),
    lambda rows, out: band_figure(rows, "epoch", ["mir", "hdr"], out / "bands.png"),
])
def test_the_training_split_value_for_rho_is_drawn_dotted(draw, drawn, tmp_path):
    draw(records(with_rho=True), tmp_path)
    found = shared_lines(drawn)
    assert ([0.98] * 3, ":") in found and ([0.04] * 3, ":") in found
    assert all(y != [0.5] * 3 for y, _ in found)  # the test split's value is not drawn


@pytest.mark.parametrize("draw", [
    lambda rows, out: plot_runs({"run": rows}, out),
    lambda rows, out: band_figure(rows, "epoch", ["mir", "hdr"], out / "bands.png"),
])
def test_no_rho_line_without_rho_records(draw, drawn, tmp_path):
    draw(records(with_rho=False), tmp_path)
    assert not shared_lines(drawn)


def collapse_values(classes: int) -> tuple[float, float]:
    """MIR and matrix entropy at neural collapse for C classes, from the closed form."""
    c = classes
    return 1 / (c - 1) + (c - 2) / (c - 1) * math.log(c - 2) / math.log(c - 1), math.log(c - 1)


def test_overlaid_runs_of_different_class_counts_draw_each_collapse_value(tmp_path, monkeypatch):
    levels = []
    original = matplotlib.axes.Axes.axhline

    def axhline(self, y=0, *args, **kwargs):
        levels.append((self, y, kwargs.get("label")))
        return original(self, y, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "axhline", axhline)
    runs = {}
    for classes in (10, 100):
        mir_nc, h_nc = collapse_values(classes)
        runs[f"c{classes}"] = [{"epoch": e, "split": s, "mir": 0.5, "h_z": 1.0, "h_w": 1.0, "mir_nc": mir_nc, "h_nc": h_nc}
                               for e in range(2) for s in ("train", "test")]
    plot_runs(runs, tmp_path)
    levels = [(axis.get_title(), y, label) for axis, y, label in levels]  # titles are set after the lines
    for classes in (10, 100):
        mir_nc, h_nc = collapse_values(classes)
        found = [(title, y, label) for title, y, label in levels if label and label.startswith(f"c{classes}: ")]
        assert any("MIR" in title and y == pytest.approx(mir_nc, abs=1e-12) for title, y, _ in found), levels
        assert any(title.startswith("H(Z)") and y == pytest.approx(h_nc, abs=1e-12) for title, y, _ in found), levels
    # Values shared by every run (HDR, NC2-NC4 are 0 at collapse) stay one black line.
    assert len([1 for title, y, _ in levels if "HDR" in title]) == 1
