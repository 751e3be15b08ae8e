"""The experiments' analysis helpers against computations written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.experiments.clustering import correlations
from interplay.experiments.lmc import barriers


def test_barriers_of_a_known_bump():
    # Loss 1 → 3 linearly plus a bump 4·h·α(1−α): the excess over the line peaks at α = 1/2 at h.
    rows = []
    for alpha in np.linspace(0, 1, 11):
        bump = 4 * alpha * (1 - alpha)
        rows.append({"spawn": 2, "seed": 0, "split": "test", "alpha": float(alpha), "loss": 1 + 2 * alpha + 0.7 * bump,
                     "accuracy": 0.9 - 0.1 * alpha - 0.2 * bump, "mir": 0.5 - 0.1 * bump, "hdr": 0.1 + 0.05 * bump})
    rows.append(dict(rows[0], split="train", loss=100.0))  # another split is another path
    (found,) = (r for r in barriers(rows) if r["split"] == "test")
    assert found["loss_barrier"] == pytest.approx(0.7)
    assert found["error_barrier"] == pytest.approx(0.2)
    assert found["mir_dip"] == pytest.approx(0.1) and found["hdr_rise"] == pytest.approx(0.05)


def test_spearman_gives_tied_values_one_rank():
    x, y = [1.0, 2.0, 2.0, 3.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]
    rank_x, rank_y = np.array([1, 2.5, 2.5, 4, 5]), np.array([2, 1, 4, 3, 5])  # average ranks for the tie
    want = np.corrcoef(rank_x, rank_y)[0, 1]
    rows = [{"seed": 0, "epoch": e, "h_z": a, "h_w": a, "silhouette": b, "davies_bouldin": b} for e, (a, b) in enumerate(zip(x, y))]
    found = correlations(rows)
    assert found and all(r["spearman"] == pytest.approx(want) for r in found if r["pair"] == "h_z vs silhouette")
    assert all(r["pearson"] == pytest.approx(np.corrcoef(x, y)[0, 1]) for r in found if r["pair"] == "h_z vs silhouette")
