"""InformationInterplay: batches = one-shot = oracle, and states that merge across processes."""

from __future__ import annotations

import pytest
import torch

import reference
from interplay import interplay_metrics
from interplay.metrics import InformationInterplay


def data(n, d, c, generator):
    features = torch.randn(n, d, generator=generator, dtype=torch.float64) + 0.3
    labels = torch.randint(0, c, (n,), generator=generator)
    labels[:c] = torch.arange(c)
    heads = torch.randn(c, d, generator=generator, dtype=torch.float64)
    return features, labels, heads


def random_split(n, generator, parts=5):
    cuts = sorted(torch.randperm(n - 1, generator=generator)[: parts - 1].add(1).tolist())
    return [slice(a, b) for a, b in zip([0, *cuts], [*cuts, n])]


FIELDS = ("h_z", "h_w", "h_joint", "mi", "mir", "hdr")


@pytest.mark.parametrize("pairing", ["sample", "class"])
@pytest.mark.parametrize("shape", [(300, 8, 5), (50, 20, 3), (400, 3, 10)])
def test_batches_equal_one_shot_and_oracle(shape, pairing, generator):
    features, labels, heads = data(*shape, generator)
    metric = InformationInterplay(shape[2], shape[1], pairing=pairing)
    for part in random_split(shape[0], generator):
        metric.update(features[part], labels[part], heads)
    streamed = metric.compute()
    one_shot = interplay_metrics(features, labels, heads, pairing=pairing)
    oracle = (reference.sample_pairing if pairing == "sample" else reference.class_pairing)(features, labels, heads)
    for field, key in zip(FIELDS, ("h_x", "h_y", "h_joint", "mi", "mir", "hdr")):
        assert getattr(streamed, field).item() == pytest.approx(getattr(one_shot, field).item(), abs=1e-6)
        assert getattr(streamed, field).item() == pytest.approx(oracle[key], abs=1e-9)
    assert streamed.n == shape[0]


def test_centering_with_a_known_mean(generator):
    features, labels, heads = data(200, 6, 4, generator)
    metric = InformationInterplay(4, 6, center=features.mean(0))
    metric.update(features[:90], labels[:90], heads)
    metric.update(features[90:], labels[90:], heads)
    expected = reference.sample_pairing(features, labels, heads, center=True)
    assert metric.compute().mir.item() == pytest.approx(expected["mir"], abs=1e-9)


def test_float32_features_give_float64_states(generator):
    features, labels, heads = data(120, 5, 3, generator)
    metric = InformationInterplay(3, 5)
    metric.update(features.float(), labels, heads.float())
    expected = reference.sample_pairing(features.float().double(), labels, heads.float().double())
    assert metric.compute().mir.item() == pytest.approx(expected["mir"], abs=1e-9)


def test_merge_state_equals_one_instance(generator):
    features, labels, heads = data(160, 4, 4, generator)
    first, second, whole = (InformationInterplay(4, 4) for _ in range(3))
    first.update(features[:70], labels[:70], heads)
    second.update(features[70:], labels[70:], heads)
    whole.update(features, labels, heads)
    first.merge_state(second)
    assert first.compute().h_joint.item() == pytest.approx(whole.compute().h_joint.item(), abs=1e-12)


def test_reset_and_heads_changing_between_updates(generator):
    features, labels, heads = data(40, 4, 3, generator)
    metric = InformationInterplay(3, 4)
    metric.update(features, labels, heads)
    with pytest.raises(ValueError, match="head_weight changed between updates"):
        metric.update(features, labels, heads + 1)
    metric.reset()
    metric.update(features, labels, heads + 1)
    assert metric.compute().n == 40


@pytest.mark.filterwarnings("ignore:The ``compute`` method")
def test_compute_before_update_and_wrong_class_count(generator):
    with pytest.raises(ValueError, match=r"compute\(\) was called before any update"):
        InformationInterplay(3, 4).compute()
    with pytest.raises(ValueError, match="num_classes=3 rows; got 4"):
        InformationInterplay(3, 4).update(torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1]), torch.randn(4, 4))
    with pytest.raises(ValueError, match="head_weight must have shape \\(num_classes, 4\\)"):
        InformationInterplay(3, 4).update(torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1]), torch.randn(3, 5))


def test_states_are_bounded_by_max_exact_size(generator):
    # The rows are kept only while they fit the n×n exact path; beyond it the states have fixed size.
    metric = InformationInterplay(3, 4, max_exact_size=120)
    features, labels, heads = data(500, 4, 3, generator)
    for part in torch.arange(500).split(50):
        metric.update(features[part], labels[part], heads)
    sizes = {name: tuple(getattr(metric, name).shape) for name in metric._defaults if name not in ("rows", "row_labels")}
    assert sizes == {"counts": (3,), "sums": (3, 4), "second": (3, 4, 4), "skipped": (), "rows_dropped": ()}
    assert (metric.rows, metric.row_labels, int(metric.rows_dropped)) == ([], [], 1)
    assert metric.compute().mir.item() == pytest.approx(reference.sample_pairing(features, labels, heads)["mir"], abs=1e-9)


def test_zero_rows_are_skipped_on_request(generator):
    features, labels, heads = data(60, 4, 3, generator)
    with_zeros = features.clone()
    with_zeros[[5, 17]] = 0
    metric = InformationInterplay(3, 4, skip_zero_rows=True)
    metric.update(with_zeros, labels, heads)
    keep = torch.ones(60, dtype=torch.bool)
    keep[[5, 17]] = False
    expected = reference.sample_pairing(features[keep], labels[keep], heads)
    result = metric.compute()
    assert (int(metric.skipped), result.n) == (2, 58)
    assert result.mir.item() == pytest.approx(expected["mir"], abs=1e-9)
    with pytest.raises(ValueError, match="all-zero rows"):
        InformationInterplay(3, 4).update(with_zeros, labels, heads)


@pytest.mark.parametrize("method", ["exact", "stochastic"])
def test_features_storage_equals_moments_storage(method, generator):
    features, labels, heads = data(400, 6, 5, generator)
    metrics = {s: InformationInterplay(5, 6, storage=s, method=method, seed=3) for s in ("moments", "features")}
    for part in random_split(400, generator):
        for metric in metrics.values():
            metric.update(features[part], labels[part], heads)
    moments, kept = (m.compute() for m in metrics.values())
    one_shot = interplay_metrics(features, labels, heads, method=method, seed=3)
    assert kept.path == one_shot.path and kept.mir.item() == pytest.approx(one_shot.mir.item(), abs=1e-12)
    assert kept.se_mir == one_shot.se_mir
    # Both feed the same estimator; the stochastic values differ only within their standard errors.
    bound = 1e-9 if method == "exact" else 4 * (moments.se_mir + kept.se_mir)
    assert abs(moments.mir.item() - kept.mir.item()) <= bound
    assert (moments.path, moments.seed) == (("class-blocks", None) if method == "exact" else ("stochastic", 3))


def test_storage_follows_the_memory_budget(generator):
    features, labels, heads = data(100, 8, 4, generator)
    assert InformationInterplay(4, 8).storage == "moments"
    small = InformationInterplay(4, 8, memory_budget=8 * 4 * 8 * 8 - 1)  # one byte short of the moments
    assert small.storage == "features"
    small.update(features[:30], labels[:30], heads)  # 8·30·8 = 1,920 bytes
    with pytest.raises(ValueError, match=r"31 samples of dimension 8 need 1,984 bytes \(8·n·d\) > memory_budget=1,983; raise"):
        InformationInterplay(4, 8, memory_budget=1983).update(features[:31], labels[:31], heads)
    with pytest.raises(ValueError, match=r"second moments need 2,048 bytes \(8·C·d²\) > memory_budget=10; use storage='features'"):
        InformationInterplay(4, 8, storage="moments", memory_budget=10)
    with pytest.raises(ValueError, match="storage must be one of auto, moments, features"):
        InformationInterplay(4, 8, storage="disk")
    with pytest.raises(ValueError, match="tolerance must be a number > 0"):
        InformationInterplay(4, 8, tolerance=0)
    with pytest.raises(ValueError, match="method must be one of"):
        InformationInterplay(4, 8, method="fast")


def test_auto_estimates_beyond_max_exact_size(generator):
    features, labels, heads = data(600, 12, 6, generator)
    metric = InformationInterplay(6, 12, method="auto", max_exact_size=40, seed=1)
    metric.update(features, labels, heads)
    result = metric.compute()
    exact = reference.sample_pairing(features, labels, heads)
    assert result.path == "stochastic" and result.seed == 1 and 0 < result.se_mir < 0.02
    assert abs(result.mir.item() - exact["mir"]) <= 4 * result.se_mir + 1e-6
    assert result.hdr.item() == pytest.approx(exact["hdr"], abs=1e-9)
    exact_metric = InformationInterplay(6, 12, max_exact_size=40, method="exact")
    exact_metric.update(features, labels, heads)
    with pytest.raises(ValueError, match="max_exact_size=40. Use method='auto'"):
        exact_metric.compute()
