"""nc_reference with a cosine ρ: closed forms against the metrics of exactly collapsed features and the oracle."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import reference
from interplay import interplay_metrics, nc_reference
from interplay.functional.closed_form import collapse_means, mean_cosine, reference_at_cosine
from interplay.validation import InterplayTypeError, InterplayValueError

CASES = [(3, -0.5), (3, 0.3), (4, 0.0), (10, -1 / 9), (10, 0.0), (10, 0.25), (10, 0.8), (25, 0.1), (100, 0.05)]


def collapsed(num_classes, cosine, generator, per_class=3):
    """Features equal to (randomly scaled) class means of pairwise cosine ρ, simplex-ETF heads, randomly rotated."""
    d = num_classes + 4
    rotation, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))
    means = collapse_means(num_classes, cosine, d) @ rotation  # (C, d)
    # Heads are the ETF part of the means: the collapse geometry, any scale.
    heads = 2.0 * collapse_means(num_classes, None, d) @ rotation  # (C, d)
    labels = torch.arange(per_class * num_classes) % num_classes
    scales = torch.rand(labels.shape[0], 1, generator=generator, dtype=torch.float64) + 0.5
    return means[labels] * scales, labels, heads


@pytest.mark.parametrize("pairing", ["sample", "class"])
@pytest.mark.parametrize(("num_classes", "cosine"), CASES)
def test_closed_form_equals_metrics_of_collapsed_features(num_classes, cosine, pairing, generator):
    features, labels, heads = collapsed(num_classes, cosine, generator)
    result = interplay_metrics(features, labels, heads, pairing=pairing)
    ref = nc_reference(num_classes, cosine=cosine)
    for key in ("h_z", "h_w", "mi", "mir", "hdr"):
        assert getattr(result, key).item() == pytest.approx(getattr(ref, key).item(), abs=1e-9), key


@pytest.mark.parametrize(("num_classes", "cosine"), CASES[:7])
def test_closed_form_equals_oracle(num_classes, cosine, generator):
    features, labels, heads = collapsed(num_classes, cosine, generator, per_class=2)
    ref = nc_reference(num_classes, cosine=cosine)
    for oracle in (reference.sample_pairing(features, labels, heads), reference.class_pairing(features, labels, heads)):
        assert ref.h_z.item() == pytest.approx(oracle["h_x"], abs=1e-9)
        assert ref.h_w.item() == pytest.approx(oracle["h_y"], abs=1e-9)
        assert ref.mir.item() == pytest.approx(oracle["mir"], abs=1e-9)
        assert ref.hdr.item() == pytest.approx(oracle["hdr"], abs=1e-9)


@pytest.mark.parametrize("num_classes", [3, 10, 100])
def test_centring_recovers_the_etf_values(num_classes, generator):
    features, labels, heads = collapsed(num_classes, 0.3, generator)
    result = interplay_metrics(features / features.norm(dim=1, keepdim=True), labels, heads, center=True)
    assert result.mir.item() == pytest.approx(nc_reference(num_classes).mir.item(), abs=1e-9)
    assert result.hdr.item() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("num_classes", [3, 4, 10, 100])
def test_etf_cosine_gives_todays_values(num_classes):
    default, etf = nc_reference(num_classes), nc_reference(num_classes, cosine=-1 / (num_classes - 1))
    assert etf.mir.item() == pytest.approx(default.mir.item(), abs=1e-12)
    assert etf.hdr.item() == pytest.approx(0.0, abs=1e-12)
    assert default.h_z.item() == pytest.approx(math.log(num_classes - 1), abs=1e-12)
    assert default.mi.item() == pytest.approx(default.mir.item() * math.log(num_classes - 1), abs=1e-12)


@pytest.mark.parametrize("num_classes", [3, 10, 100])
def test_orthogonal_frame(num_classes):
    # PAPER.md §3b: H(Z) = log C, H(W) = log(C-1), MIR = 1, HDR = log(C/(C-1))/log C.
    ref = nc_reference(num_classes, cosine=0.0)
    assert ref.h_z.item() == pytest.approx(math.log(num_classes), abs=1e-12)
    assert ref.h_w.item() == pytest.approx(math.log(num_classes - 1), abs=1e-12)
    assert ref.mir.item() == pytest.approx(1.0, abs=1e-12)
    assert ref.hdr.item() == pytest.approx(math.log(num_classes / (num_classes - 1)) / math.log(num_classes), abs=1e-12)


@given(num_classes=st.integers(3, 200), share=st.floats(0.0, 0.999))
def test_bounds_hold_over_the_range(num_classes, share):
    cosine = -1 / (num_classes - 1) + share * (1 + 1 / (num_classes - 1))
    ref = nc_reference(num_classes, cosine=cosine)
    assert 0.0 <= ref.mir.item() <= 1.0 + 1e-12
    assert 0.0 <= ref.hdr.item() <= 1.0 + 1e-12
    assert 0.0 <= ref.h_z.item() <= math.log(num_classes) + 1e-12


@given(num_classes=st.integers(2, 50), share=st.floats(0.0, 0.999))
def test_collapse_means_have_the_asked_cosine(num_classes, share):
    cosine = -1 / (num_classes - 1) + share * (1 + 1 / (num_classes - 1))
    means = collapse_means(num_classes, cosine, num_classes + 3)
    gram = means @ means.T
    expected = torch.full_like(gram, cosine).fill_diagonal_(1.0)
    assert torch.allclose(gram, expected, atol=1e-12)


@given(num_classes=st.integers(2, 30), share=st.floats(0.0, 0.99), scales=st.lists(st.floats(1e-3, 1e3), min_size=30, max_size=30))
def test_mean_cosine_reads_back_the_cosine_of_the_means_at_any_scale(num_classes, share, scales):
    cosine = -1 / (num_classes - 1) + share * (1 + 1 / (num_classes - 1))
    means = collapse_means(num_classes, cosine, num_classes + 2) * torch.tensor(scales[:num_classes], dtype=torch.float64)[:, None]
    assert mean_cosine(means) == pytest.approx(cosine, abs=1e-9)


def test_mean_cosine_is_nan_for_a_zero_or_missing_mean():
    means = collapse_means(4, 0.2)
    assert math.isnan(mean_cosine(torch.cat([means[:3], torch.zeros(1, means.shape[1], dtype=means.dtype)])))
    assert math.isnan(mean_cosine(torch.cat([means[:3], torch.full((1, means.shape[1]), math.nan, dtype=means.dtype)])))


@pytest.mark.parametrize("num_classes", [3, 10, 100])
def test_reference_at_cosine_clips_a_measured_cosine_into_the_domain(num_classes):
    etf = nc_reference(num_classes)
    below = reference_at_cosine(-1 / (num_classes - 1) - 1e-9, num_classes)
    assert float(below.mir) == pytest.approx(float(etf.mir), abs=1e-12) and float(below.hdr) == pytest.approx(0.0, abs=1e-12)
    assert float(reference_at_cosine(1.0, num_classes).mir) == float(nc_reference(num_classes, cosine=0.999).mir)
    assert float(reference_at_cosine(0.3, num_classes).hdr) == float(nc_reference(num_classes, cosine=0.3).hdr)
    assert reference_at_cosine(math.nan, num_classes) is None
    assert reference_at_cosine(0.3, 2) is None


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: nc_reference(10, cosine=-0.2), InterplayValueError, r"cosine must lie in \[-1/\(C-1\), 1\).*got -0.2"),
        (lambda: nc_reference(10, cosine=1.0), InterplayValueError, r"at 1 all classes coincide"),
        (lambda: nc_reference(10, cosine="0"), InterplayTypeError, r"cosine must be a real number; got str"),
        (lambda: collapse_means(4, 0.0, 4), InterplayValueError, r"dim must be at least num_classes \+ 1 = 5"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
