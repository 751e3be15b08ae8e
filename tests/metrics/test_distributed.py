"""Two CPU processes (gloo) give the same metrics as one process on the same data."""

from __future__ import annotations

import json

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from interplay import interplay_metrics, neural_collapse
from interplay.metrics import InformationInterplay, NeuralCollapse
from ports import free_port

N, D, C = 301, 6, 4


def make_data():
    g = torch.Generator().manual_seed(7)
    features = torch.randn(N, D, generator=g, dtype=torch.float64)
    labels = torch.arange(N) % C
    heads = torch.randn(C, D, generator=g, dtype=torch.float64)
    return features, labels, heads


def worker(rank: int, world: int, port: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    features, labels, heads = make_data()
    shard = torch.arange(N)[rank::world]  # uneven shards on purpose (301 samples)
    results = {}
    for name, options in {"sample": {}, "class": {"pairing": "class"}, "features": {"storage": "features"}}.items():
        metric = InformationInterplay(C, D, **options)
        for part in shard.split(40):
            metric.update(features[part], labels[part], heads)
        results[name] = metric.compute().mir.item()
    collapse = NeuralCollapse(C, D)
    collapse.update(features[shard], labels[shard], heads)
    results["nc1"] = collapse.compute().nc1.item()
    with open(f"{out}.{rank}", "w") as f:
        json.dump(results, f)
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    out = str(tmp_path / "result")
    mp.spawn(worker, args=(2, free_port(), out), nprocs=2, join=True)
    features, labels, heads = make_data()
    expected = {
        "sample": interplay_metrics(features, labels, heads).mir.item(),
        "features": interplay_metrics(features, labels, heads).mir.item(),
        "class": interplay_metrics(features, labels, heads, pairing="class").mir.item(),
        "nc1": neural_collapse(features, labels, heads).nc1.item(),
    }
    for rank in range(2):
        with open(f"{out}.{rank}") as f:
            got = json.load(f)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-9), (rank, key)
