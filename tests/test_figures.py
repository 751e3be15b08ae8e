"""The MIR and HDR figures draw the collapse value for the measured cosine ρ where the records hold it."""

from __future__ import annotations

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
