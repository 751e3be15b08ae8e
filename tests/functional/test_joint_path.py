"""Which joint-entropy path ``method="auto"`` takes: exact where it fits and is worth its cost."""

from __future__ import annotations

import pytest
import torch

from interplay import interplay_metrics
from interplay.functional.joint_path import EXACT_PREMIUM, ESTIMATE_PER_SQUARE, choose_joint_path
from interplay.validation import ExactSizeError

FITS = {"max_exact_size": 8192}


def test_small_exact_sides_stay_exact_under_auto():
    assert choose_joint_path(method="auto", gram_side=1500, blocks_side=None, samples=1500, **FITS) == "gram"
    # 50,000 samples but per-class moments of side 640: the block eigen-solve is cheap.
    assert choose_joint_path(method="auto", gram_side=None, blocks_side=640, samples=50_000, **FITS) == "class-blocks"


def test_auto_estimates_where_the_exact_solve_costs_more_than_the_premium():
    crossover = EXACT_PREMIUM * ESTIMATE_PER_SQUARE  # side n: n³ / (1000·n²) = 2  ⇔  n = 2,000
    below, above = int(crossover) - 100, int(crossover) + 100
    assert choose_joint_path(method="auto", gram_side=below, blocks_side=None, samples=below, **FITS) == "gram"
    assert choose_joint_path(method="auto", gram_side=above, blocks_side=None, samples=above, **FITS) == "stochastic"
    # Asked for exactly, or without samples to estimate from, the exact path runs whatever it costs.
    assert choose_joint_path(method="exact", gram_side=above, blocks_side=None, samples=above, **FITS) == "gram"
    assert choose_joint_path(method="auto", gram_side=above, blocks_side=None, **FITS) == "gram"


def test_a_tighter_tolerance_makes_the_estimate_dearer():
    n = 8000  # the estimate wins at the default tolerance ...
    assert choose_joint_path(method="auto", gram_side=n, blocks_side=None, samples=n, **FITS) == "stochastic"
    # ... but a tenth of the tolerance needs a hundred times the probes: exact is cheaper.
    assert choose_joint_path(method="auto", gram_side=n, blocks_side=None, samples=n, tolerance=0.0005, **FITS) == "gram"


def test_exact_beyond_the_size_limit_is_refused_with_the_fix():
    with pytest.raises(ExactSizeError, match="method='auto'"):
        choose_joint_path(method="exact", gram_side=9000, blocks_side=None, samples=9000, **FITS)


@pytest.mark.slow
def test_interplay_metrics_follows_the_policy():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(7000) % 20
    heads = torch.randn(20, 12, generator=g, dtype=torch.float64)
    features = heads[labels] + torch.randn(7000, 12, generator=g, dtype=torch.float64)
    # d = 12 and C = 20: the class-block side (≤ 240) is far below n, so even 7,000 samples stay exact.
    assert interplay_metrics(features, labels, heads).path == "class-blocks"
