"""Under DDP with two CPU processes the callback logs the values of the whole validation set."""

from __future__ import annotations

import json
import os

import pytest
import torch
import torch.multiprocessing as mp

pl = pytest.importorskip("lightning.pytorch")

from digits_module import DigitsClassifier, loaders  # noqa: E402
from ports import free_port  # noqa: E402

from interplay import interplay_metrics, neural_collapse  # noqa: E402
from interplay.integrations.lightning import InterplayCallback  # noqa: E402

VAL_SAMPLES = 358  # even: the distributed sampler would otherwise repeat a sample


def worker(rank: int, world: int, port: int, out: str) -> None:
    # Each process is started here and joins as Lightning does under torchrun.
    os.environ |= {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world),
                   "RANK": str(rank), "LOCAL_RANK": str(rank), "NODE_RANK": "0"}
    torch.manual_seed(0)
    module = DigitsClassifier()
    train_loader, val_loader = loaders(val_samples=VAL_SAMPLES)
    trainer = pl.Trainer(
        max_epochs=1, accelerator="cpu", devices=world, strategy="ddp", logger=False, callbacks=[InterplayCallback()],
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, limit_train_batches=4,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, train_loader, val_loader)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("interplay/val/")}
    with open(f"{out}.{rank}.json", "w") as f:
        json.dump(logged, f)
    if rank == 0:
        torch.save(module.state_dict(), f"{out}.pt")


@pytest.mark.slow
def test_two_processes_log_the_values_of_one(tmp_path):
    out = str(tmp_path / "result")
    mp.spawn(worker, args=(2, free_port(), out), nprocs=2, join=True)
    module = DigitsClassifier()
    module.load_state_dict(torch.load(f"{out}.pt"))
    module.eval()
    _, val_loader = loaders(val_samples=VAL_SAMPLES)
    with torch.no_grad():
        features = torch.cat([module.body(x) for x, _ in val_loader])
    labels = torch.cat([y for _, y in val_loader])
    weight, bias = module.head.weight.detach(), module.head.bias.detach()
    info = interplay_metrics(features, labels, weight)
    collapse = neural_collapse(features, labels, weight, bias=bias)
    expected = {"mir": info.mir, "hdr": info.hdr, "h_z": info.h_z, "mi": info.mi, "nc1": collapse.nc1,
                "nc3": collapse.nc3, "nc4": collapse.nc4, "n": VAL_SAMPLES}
    for rank in range(2):
        with open(f"{out}.{rank}.json") as f:
            logged = json.load(f)
        for key, value in expected.items():
            assert logged[f"interplay/val/{key}"] == pytest.approx(float(value), abs=1e-6, rel=0), (rank, key)
