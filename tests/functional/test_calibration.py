"""calibration_curve: collapse values at zero noise, NC1 of isotropic noise, monotone MIR, errors."""

from __future__ import annotations

import math

import pytest

from interplay import nc_reference
from interplay.functional.calibration import calibration_curve
from interplay.validation import InterplayValueError


@pytest.mark.parametrize("num_classes", [3, 10])
def test_no_noise_gives_the_collapse_values(num_classes):
    etf = calibration_curve(num_classes, [0.0], per_class=3)[0]
    assert etf["nc1"] == pytest.approx(0.0, abs=1e-12)
    assert etf["mir"] == pytest.approx(nc_reference(num_classes).mir.item(), abs=1e-9)
    assert etf["hdr"] == pytest.approx(0.0, abs=1e-9)
    frame = calibration_curve(num_classes, [0.0], cosine=0.2, per_class=3)[0]
    shared = nc_reference(num_classes, cosine=0.2)
    assert frame["mir"] == pytest.approx(shared.mir.item(), abs=1e-9)
    assert frame["hdr"] == pytest.approx(shared.hdr.item(), abs=1e-9)
    assert frame["mir_centred"] == pytest.approx(nc_reference(num_classes).mir.item(), abs=1e-9)


@pytest.mark.parametrize("scale", [0.1, 0.5])
def test_isotropic_nc1_matches_its_expectation(scale):
    # ETF means: Σ_B has eigenvalue 1/(C-1) on C-1 directions; Σ_W ≈ scale²/d · I.
    c, d = 10, 64
    row = calibration_curve(c, [scale], dim=d, per_class=400)[0]
    assert row["nc1"] == pytest.approx(scale**2 / d * (c - 1) ** 2 / c, rel=0.05)


def test_low_rank_noise_stays_in_its_directions():
    # Centred features span at most (C-1) + k directions, so their entropy is at most log(C-1+k).
    c, k = 10, 3
    low_rank = calibration_curve(c, [2.0], rank=k)[0]
    isotropic = calibration_curve(c, [2.0])[0]
    assert low_rank["h_z_centred"] <= math.log(c - 1 + k) + 1e-9 < isotropic["h_z_centred"]


@pytest.mark.parametrize("rank", [None, 9])
def test_mir_falls_and_nc1_rises_with_the_noise(rank):
    rows = calibration_curve(10, [0.05, 0.2, 0.8, 3.0], rank=rank)
    nc1, mir = [r["nc1"] for r in rows], [r["mir_centred"] for r in rows]
    assert nc1 == sorted(nc1) and mir == sorted(mir, reverse=True)
    assert all(0 <= r["hdr"] <= 1 and r["noise"] == ("isotropic" if rank is None else "rank 9") for r in rows)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rank": 0}, r"rank must lie in \[1, dim=64\]"),
        ({"per_class": 1}, r"per_class must be an int >= 2"),
        ({"scales": [-1.0]}, r"scales must be >= 0"),
        ({"cosine": -0.5}, r"cosine must lie in"),
        ({"dim": 10}, r"dim must be at least num_classes \+ 1 = 11"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(InterplayValueError, match=match):
        calibration_curve(10, **kwargs)
