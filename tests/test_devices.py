"""Every public computation on every device this machine has, against the float64 oracle on the CPU.

The ``device`` fixture is ``cpu`` everywhere and adds ``cuda`` where a GPU is present, so CI
checks the CPU path and a GPU machine runs the same assertions there::

    pytest tests/test_devices.py -k cuda
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import reference
from interplay import interplay_metrics, matrix_entropy, nc_reference, neural_collapse, simplex_etf
from interplay.functional.clusters import class_clustering
from interplay.losses import CrossModalAlignmentLoss, InterplayLoss
from interplay.metrics import InformationInterplay, NeuralCollapse

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"))]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


def classed(n=240, d=12, c=6, spread=0.6, seed=0, unbalanced=True):
    g = torch.Generator().manual_seed(seed)
    heads = torch.randn(c, d, generator=g, dtype=torch.float64)
    labels = torch.cat([torch.arange(c), torch.randint(0, c // 2 if unbalanced else c, (n - c,), generator=g)])
    features = heads[labels] / heads[labels].norm(dim=1, keepdim=True) + spread * torch.randn(n, d, generator=g, dtype=torch.float64) / math.sqrt(d)
    return features, labels, heads


def assert_matches_oracle(result, features, labels, heads, atol):
    expected = reference.entropies(features.numpy(), heads.numpy()[labels.numpy()])
    for key in ("h_x", "h_y", "h_joint", "mir", "hdr"):
        name = {"h_x": "h_z", "h_y": "h_w"}.get(key, key)
        value = float(getattr(result, name))
        assert abs(value - expected[key]) < atol, (key, value, expected[key])


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-9), (torch.float32, 2e-4)])
def test_exact_metrics_on_device_match_the_oracle(device, dtype, atol):
    features, labels, heads = classed()
    result = interplay_metrics(features.to(device, dtype), labels.to(device), heads.to(device, dtype), dtype=dtype)
    assert_matches_oracle(result, features, labels, heads, atol)
    assert abs(float(matrix_entropy(features.to(device))) - reference.entropy_of(reference.cosine_gram(features.numpy()))) < 1e-9


def test_float32_metrics_ignore_a_tf32_matmul_setting(device):
    features, labels, heads = classed()
    torch.set_float32_matmul_precision("high")  # TF32 products on a GPU: about 3 significant digits
    try:
        result = interplay_metrics(features.to(device).float(), labels.to(device), heads.to(device).float(), dtype=None)
        assert torch.get_float32_matmul_precision() == "high"  # the caller's setting is given back
    finally:
        torch.set_float32_matmul_precision("highest")
    assert_matches_oracle(result, features, labels, heads, 2e-4)


def test_half_precision_inputs_on_device_are_computed_in_float32(device):
    features, labels, heads = classed()
    ours = interplay_metrics(features.to(device, torch.bfloat16), labels.to(device), heads.to(device, torch.bfloat16), dtype=None)
    rounded = features.to(torch.bfloat16).double(), heads.to(torch.bfloat16).double()
    assert_matches_oracle(ours, rounded[0], labels, rounded[1], 2e-4)


def test_stochastic_estimate_on_device_is_within_its_error_and_seeded(device):
    features, labels, heads = classed(n=600, d=16, c=10, seed=3)
    exact = reference.entropies(features.numpy(), heads.numpy()[labels.numpy()])
    on_device = interplay_metrics(features.to(device), labels.to(device), heads.to(device), method="stochastic", tolerance=0.005, seed=7)
    assert on_device.path == "stochastic" and on_device.se_mir <= 0.005
    assert abs(float(on_device.mir) - exact["mir"]) <= 4 * on_device.se_mir + 1e-9
    on_cpu = interplay_metrics(features, labels, heads, method="stochastic", tolerance=0.005, seed=7)
    assert abs(float(on_device.h_joint) - float(on_cpu.h_joint)) < 1e-6  # the same probes on every device


@pytest.mark.parametrize("storage", ["moments", "features"])
@pytest.mark.parametrize("method", ["exact", "stochastic"])
def test_streaming_metric_on_device(device, storage, method):
    features, labels, heads = classed(n=300, d=8, c=5, seed=1)
    metric = InformationInterplay(5, 8, storage=storage, method=method, tolerance=0.005).to(device)
    for part in torch.split(torch.arange(300), 70):
        metric.update(features[part].float().to(device), labels[part].to(device), heads.float().to(device))
    result = metric.compute()
    exact = reference.entropies(features.numpy(), heads.numpy()[labels.numpy()])
    bound = 1e-4 if method == "exact" else 4 * result.se_mir + 1e-4
    assert abs(float(result.mir) - exact["mir"]) <= bound
    assert abs(float(result.hdr) - exact["hdr"]) < 1e-4


def test_collapse_metrics_on_device(device):
    c = 5
    etf = simplex_etf(c, dim=8)
    labels = torch.arange(200) % c
    features = etf[labels] + 1e-3 * torch.randn(200, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cpu = neural_collapse(features, labels, etf)
    ours = neural_collapse(features.to(device), labels.to(device), etf.to(device))
    for key in ("nc1", "nc2_etf_distance", "nc3", "nc4"):
        assert abs(float(getattr(ours, key)) - float(getattr(cpu, key))) < 1e-9, key
    metric = NeuralCollapse(c, 8).to(device)
    metric.update(features.float().to(device), labels.to(device), etf.float().to(device))
    assert abs(float(metric.compute().nc1) - float(cpu.nc1)) < 1e-4
    reference_mir = interplay_metrics(etf[labels].to(device), labels.to(device), etf.to(device)).mir
    assert abs(float(reference_mir) - float(nc_reference(c).mir)) < 1e-9


def test_class_clustering_accepts_features_on_device(device):
    features, labels, _ = classed(n=120, d=6, c=3, seed=4, unbalanced=False)
    expected = class_clustering(features, labels)
    assert class_clustering(features.to(device), labels.to(device)) == expected


def test_losses_train_on_device_under_autocast(device):
    torch.manual_seed(0)
    features, labels, heads = classed(n=64, d=16, c=4, seed=2)
    body, head = nn.Linear(16, 16).to(device), nn.Linear(16, 4, bias=False).to(device)
    x, y = features.float().to(device), labels.to(device)
    loss_fn, align = InterplayLoss(alpha=1.0, beta=1.0), CrossModalAlignmentLoss()
    with torch.autocast(device.type, dtype=torch.bfloat16):
        hidden = body(x)
        loss = nn.functional.cross_entropy(head(hidden), y) + loss_fn(hidden, y, head.weight) + align(hidden, hidden[:4], y)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    for p in (*body.parameters(), head.weight):
        assert p.grad is not None and torch.isfinite(p.grad).all()
    weight = head.weight.detach().double()
    plain = InterplayLoss(alpha=1.0, beta=1.0)(x.double(), y, weight)
    expected = reference.entropies(x.double().cpu().numpy(), weight.cpu().numpy()[labels.numpy()])
    assert np.isclose(float(plain), -expected["mir"] + expected["hdr"], atol=1e-9)
