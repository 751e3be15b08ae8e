"""The experiments' analysis helpers against computations written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.metrics import davies_bouldin_score, silhouette_score

from interplay.experiments.clustering import class_correlations, correlations
from interplay.functional.clusters import class_clustering, gaussian_mixture
from interplay.experiments.lmc import barriers
from interplay.experiments.loss_supervised import detectable_difference, differences, parse_setting
from interplay.report.labels import title


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


def test_class_clustering_against_sklearn_and_hand_computation():
    features, labels = gaussian_mixture(4, 6, 30, [0.2, 0.5, 0.9, 1.4], seed=3)
    rows = class_clustering(features, labels)
    x, y = features.numpy(), labels.numpy()
    # Means of the per-class contributions are the global scores.
    assert np.mean([r["davies_bouldin_class"] for r in rows]) == pytest.approx(davies_bouldin_score(x, y))
    weights = [r["n_class"] for r in rows]
    assert np.average([r["silhouette_class"] for r in rows], weights=weights) == pytest.approx(silhouette_score(x, y, metric="cosine"))
    z = x[y == 2] / np.linalg.norm(x[y == 2], axis=1, keepdims=True)
    eig = np.clip(np.linalg.eigvalsh(z @ z.T / len(z)), 1e-300, None)
    assert rows[2]["h_class"] == pytest.approx(-(eig * np.log(eig)).sum(), abs=1e-9)


def test_the_control_ranks_tight_classes_low_in_entropy():
    rows = class_clustering(*gaussian_mixture(10, 32, 100, np.linspace(0.2, 1.6, 10)))
    entropy = [r["h_class"] for r in rows]
    assert spearmanr(entropy, [r["silhouette_class"] for r in rows]).statistic < -0.9
    assert spearmanr(entropy, [r["davies_bouldin_class"] for r in rows]).statistic > 0.9


def test_class_correlations_scopes():
    rows = [{"seed": 0, "epoch": e, "class": c, "h_class": c + e, "silhouette_class": -c, "davies_bouldin_class": c * e}
            for e in range(3) for c in range(4)]
    found = {(r["scope"], r["pair"]): r["spearman"] for r in class_correlations(rows)}
    assert found[("1", "h_class vs silhouette_class")] == pytest.approx(-1.0)
    assert found[("2", "h_class vs davies_bouldin_class")] == pytest.approx(1.0)
    assert np.isnan(found[("0", "h_class vs davies_bouldin_class")])  # constant 0 at epoch 0
    assert found[("all", "h_class vs silhouette_class")] == pytest.approx(spearmanr([c + e for e in (1, 2) for c in range(4)], [-c for e in (1, 2) for c in range(4)]).statistic)


def test_class_clustering_refuses_singletons():
    with pytest.raises(ValueError, match="at least two classes of at least two samples"):
        class_clustering(torch.randn(3, 2), torch.tensor([0, 0, 1]))


def test_loss_settings_are_parsed_or_refused():
    assert parse_setting("mir=0.3,hdr=0.1,detached") == {"mir_weight": 0.3, "hdr_weight": 0.1, "loss_center": False, "loss_detach_heads": True}
    for bad, message in [("mir=-1", "cannot read 'mir=-1'"), ("alpha=1", "cannot read 'alpha=1'"), ("centred", "has no MIR or HDR weight"),
                         ("mir=x", "cannot read 'mir=x'")]:
        with pytest.raises(ValueError, match=message):
            parse_setting(bad)


def test_detectable_difference_tends_to_the_normal_formula_and_differences_use_welch():
    from scipy.stats import norm, ttest_ind

    assert detectable_difference(1.0, 2000) == pytest.approx((norm.ppf(0.975) + norm.ppf(0.8)) * math.sqrt(2 / 2000), rel=1e-3)
    assert detectable_difference(1.0, 3) > detectable_difference(1.0, 5) > detectable_difference(0.5, 5)
    rows = [{"setting": s, "accuracy": a, "h_z": h} for s, values, h in (("ce", [0.90, 0.91, 0.92], 2.3), ("mir=1", [0.93, 0.95, 0.94], 0.4))
            for a in values]
    found = {r["setting"]: r for r in differences(rows)}
    assert found["mir=1"]["difference"] == pytest.approx(0.03)
    assert found["mir=1"]["p_value"] == pytest.approx(ttest_ind([0.93, 0.95, 0.94], [0.90, 0.91, 0.92], equal_var=False).pvalue)
    assert found["mir=1"]["detectable"] == pytest.approx(detectable_difference(0.01, 3))
    assert (found["mir=1"]["rank_one"], found["ce"]["rank_one"]) == (True, False)


@pytest.mark.parametrize("column, expected", [
    ("mir", "MIR, matrix mutual information ratio"),
    ("test_hdr", "test: HDR, matrix entropy difference ratio"),
    ("train_h_w", "train: H(W), entropy of the heads paired with them (nats)"),
    ("train_mir_centred", "train: MIR, matrix mutual information ratio, centred"),
    ("train_mir_class", "train: MIR, class pairing"),
    ("excluded_loss", "excluded loss"),
    ("unknown_column", "unknown column"),
])
def test_panel_titles_spell_out_split_and_centring(column, expected):
    assert title(column) == expected
