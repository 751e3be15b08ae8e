"""classes="present" and min_count: the classes left out leave every measure, with their samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay import neural_collapse
from interplay.metrics import NeuralCollapse


def _vocabulary(generator, c=12, d=5):
    """Token-like classes: some never occur, some once or twice, the rest often."""
    sizes = torch.tensor([30, 0, 1, 25, 2, 0, 40, 3, 60, 1, 20, 35])[:c]
    labels = torch.repeat_interleave(torch.arange(c), sizes)
    labels = labels[torch.randperm(len(labels), generator=generator)]
    centres = 3 * torch.randn(c, d, generator=generator, dtype=torch.float64)
    features = centres[labels] + torch.randn(len(labels), d, generator=generator, dtype=torch.float64)
    return features, labels, torch.randn(c, d, generator=generator, dtype=torch.float64), sizes


@pytest.mark.parametrize("min_count", [1, 3])
def test_left_out_classes_leave_every_measure(generator, min_count):
    features, labels, heads, sizes = _vocabulary(generator)
    kept = torch.nonzero(sizes >= min_count).flatten()
    result = neural_collapse(features, labels, heads, classes="present", min_count=min_count)
    chosen = torch.isin(labels, kept)
    relabel = torch.zeros(len(sizes), dtype=torch.long).index_put_((kept,), torch.arange(len(kept)))
    alone = neural_collapse(features[chosen], relabel[labels[chosen]], heads[kept])
    for key, value in alone.as_dict().items():
        if key not in ("n", "num_classes"):
            assert result.as_dict()[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert (result.classes_used, result.samples_used) == (len(kept), int(sizes[kept].sum()))
    assert (result.num_classes, result.n) == (len(sizes), len(labels))
    assert result.classes.tolist() == kept.tolist()
    z, y = features[chosen].numpy(), labels[chosen].numpy()
    mu = np.stack([z[y == k].mean(0) for k in kept.tolist()])
    np.testing.assert_allclose(result.class_mean_norms.numpy(), np.linalg.norm(mu - mu.mean(0), axis=1), rtol=1e-9)


def test_every_class_is_required_by_default(generator):
    features, labels, heads, _ = _vocabulary(generator)
    with pytest.raises(ValueError, match=r"classes \[1, 5\] have none.*classes='present'"):
        neural_collapse(features, labels, heads)


def test_too_few_classes_left_is_an_error(generator):
    features, labels, heads, _ = _vocabulary(generator)
    with pytest.raises(ValueError, match="at least 2 classes with min_count=50"):
        neural_collapse(features, labels, heads, classes="present", min_count=50)


@pytest.mark.parametrize("options, message", [
    ({"classes": "some"}, "classes must be 'all' or 'present'"),
    ({"min_count": 0}, "min_count must be an int >= 1"),
    ({"global_mean": "median"}, "global_mean must be 'classes' or 'samples'"),
])
def test_bad_options_are_errors(generator, options, message):
    features, labels, heads, _ = _vocabulary(generator)
    with pytest.raises(ValueError, match=message):
        neural_collapse(features, labels, heads, **options)
    with pytest.raises(ValueError, match=message):
        NeuralCollapse(12, 5, **options)


def _streamed(features, labels, heads, **options):
    metric = NeuralCollapse(heads.shape[0], heads.shape[1], **options)
    for part in torch.arange(len(labels)).split(23):
        metric.update(features[part], labels[part], heads)
    return metric.compute()


def test_streamed_selection_equals_one_shot(generator):
    features, labels, heads, _ = _vocabulary(generator)
    for min_count in (1, 2):  # classes left out by min_count=2 hold one sample: no spread to shed
        streamed = _streamed(features, labels, heads, classes="present", min_count=min_count).as_dict()
        one_shot = neural_collapse(features, labels, heads, classes="present", min_count=min_count).as_dict()
        for key, value in one_shot.items():
            if key != "nc4":
                assert streamed[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (min_count, key)


def test_streamed_nc1_is_nan_when_a_left_out_class_had_spread(generator):
    features, labels, heads, _ = _vocabulary(generator)
    streamed = _streamed(features, labels, heads, classes="present", min_count=3)
    one_shot = neural_collapse(features, labels, heads, classes="present", min_count=3)
    assert torch.isnan(streamed.nc1)
    assert float(streamed.cdnv) == pytest.approx(float(one_shot.cdnv), rel=1e-9)
    assert float(streamed.nc3) == pytest.approx(float(one_shot.nc3), rel=1e-9)
