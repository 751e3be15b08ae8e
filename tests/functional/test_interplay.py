"""interplay_metrics: both pairings against the oracle, every exact path, collapse values, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given

import reference
from interplay import ExactSizeError, interplay_metrics, nc_reference, simplex_etf
from strategies import labelled_batch

KEYS = {"h_z": "h_x", "h_w": "h_y", "h_joint": "h_joint", "mi": "mi", "mir": "mir", "hdr": "hdr"}


def random_batch(n, d, c, generator, dtype=torch.float64):
    features = torch.randn(n, d, generator=generator, dtype=dtype)
    labels = torch.arange(n) % c  # every class present
    labels = labels[torch.randperm(n, generator=generator)]
    heads = torch.randn(c, d, generator=generator, dtype=dtype)
    return features, labels, heads


def assert_matches(result, expected, tol=1e-9):
    for ours, theirs in KEYS.items():
        assert getattr(result, ours).item() == pytest.approx(expected[theirs], abs=tol), ours


# (n, d, C): n*... chooses the Hadamard Gram, the Kronecker map or the class blocks.
SHAPES = [(12, 30, 3), (40, 4, 5), (300, 6, 4), (500, 3, 10), (64, 64, 10)]


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_sample_pairing_matches_oracle(shape, center, generator):
    features, labels, heads = random_batch(*shape, generator)
    result = interplay_metrics(features, labels, heads, center=center)
    assert_matches(result, reference.sample_pairing(features, labels, heads, center))
    assert (result.n, result.num_classes, result.pairing, result.center) == (shape[0], shape[2], "sample", center)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_class_pairing_matches_oracle(shape, center, generator):
    features, labels, heads = random_batch(*shape, generator)
    result = interplay_metrics(features, labels, heads, pairing="class", center=center)
    assert_matches(result, reference.class_pairing(features, labels, heads, center))
    assert result.path == "class-means"


def test_every_exact_path_gives_the_same_value(generator):
    features, labels, heads = random_batch(200, 5, 4, generator)
    blocks = interplay_metrics(features, labels, heads)  # n > d*C: factored class blocks
    direct = interplay_metrics(features.requires_grad_(), labels, heads)  # autograd: Kronecker map
    assert (blocks.path, direct.path) == ("class-blocks", "kronecker")
    assert blocks.h_joint.item() == pytest.approx(direct.h_joint.item(), abs=1e-10)


def test_rank_deficient_features_and_missing_classes(generator):
    # Features of rank 2 in 16 dimensions; class 3 of 5 absent from the batch.
    features = torch.randn(400, 2, generator=generator, dtype=torch.float64) @ torch.randn(2, 16, generator=generator, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 4])[torch.randint(0, 4, (400,), generator=generator)]
    heads = torch.randn(5, 16, generator=generator, dtype=torch.float64)
    result = interplay_metrics(features, labels, heads)
    assert result.path == "class-blocks"
    assert_matches(result, reference.sample_pairing(features, labels, heads))


def test_mean_given_as_tensor_equals_center_true(generator):
    features, labels, heads = random_batch(100, 6, 3, generator)
    by_flag = interplay_metrics(features, labels, heads, center=True)
    by_mean = interplay_metrics(features, labels, heads, center=features.mean(0))
    assert by_mean.mir.item() == pytest.approx(by_flag.mir.item(), abs=1e-12)


@pytest.mark.parametrize("num_classes", [3, 4, 10, 25])
@pytest.mark.parametrize("pairing", ["sample", "class"])
def test_collapse_gives_closed_form_values(num_classes, pairing, generator):
    # Collapsed, balanced features on a randomly rotated simplex ETF in a larger space.
    d = num_classes + 7
    rotation, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))
    heads = simplex_etf(num_classes, d) @ rotation * 3.0
    labels = torch.arange(6 * num_classes) % num_classes
    scales = torch.rand(labels.shape[0], 1, generator=generator, dtype=torch.float64) + 0.5
    result = interplay_metrics(heads[labels] * scales, labels, heads, pairing=pairing)
    expected = nc_reference(num_classes)
    assert result.mir.item() == pytest.approx(expected.mir.item(), abs=1e-9)
    assert result.hdr.item() == pytest.approx(0.0, abs=1e-9)
    assert result.h_z.item() == pytest.approx(math.log(num_classes - 1), abs=1e-9)
    assert result.h_w.item() == pytest.approx(math.log(num_classes - 1), abs=1e-9)


def test_closed_form_table_of_paper():
    # Values printed in PAPER.md §3, to four decimals.
    table = {3: (0.5000, 0.6931), 4: (0.7540, 1.0986), 10: (0.9524, 2.1972), 100: (0.9978, 4.5951)}
    for c, (m, h) in table.items():
        ref = nc_reference(c)
        assert round(ref.mir.item(), 4) == m and round(ref.entropy.item(), 4) == h


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradients_finite_at_exact_collapse(dtype):
    heads = simplex_etf(5, 8, dtype=dtype).clone().requires_grad_()
    labels = torch.arange(20) % 5
    features = heads.detach()[labels].clone().requires_grad_()
    result = interplay_metrics(features, labels, heads, dtype=None)
    (result.hdr - result.mir).backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(heads.grad).all()


def test_gradcheck_of_mir_and_hdr(generator):
    features, labels, heads = random_batch(9, 4, 3, generator)
    features.requires_grad_()
    heads.requires_grad_()

    def fn(f, w):
        r = interplay_metrics(f, labels, w)
        return r.mir, r.hdr

    assert torch.autograd.gradcheck(fn, (features, heads))


def test_too_large_for_every_exact_path(generator):
    features, labels, heads = random_batch(300, 20, 10, generator)
    with pytest.raises(ExactSizeError, match=r"200×200 matrix, more than max_exact_size=100\. Use method='auto'"):
        interplay_metrics(features, labels, heads, max_exact_size=100, method="exact")
    estimated = interplay_metrics(features, labels, heads, max_exact_size=100)
    assert estimated.path == "stochastic" and estimated.se_mir > 0


@given(labelled_batch())
def test_sample_pairing_property_bounds_and_permutation(batch):
    features, labels, heads = batch
    expected = reference.sample_pairing(features, labels, heads)
    assume(min(expected["h_x"], expected["h_y"]) > 1e-6)
    result = interplay_metrics(features, labels, heads)
    assert -1e-9 <= result.mir.item() <= 1 + 1e-9 and -1e-9 <= result.hdr.item() <= 1 + 1e-9
    perm = np.random.default_rng(0).permutation(len(labels))
    assert interplay_metrics(features[perm], labels[perm], heads).mir.item() == pytest.approx(result.mir.item(), abs=1e-8)
