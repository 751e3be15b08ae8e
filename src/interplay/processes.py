"""Process-group set-up for ``torchrun``, and the helpers that make one or many processes look alike."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["Context", "setup", "all_sum", "resolve_device"]


@dataclass(frozen=True)
class Context:
    """Rank and world size of this process; ``world == 1`` without ``torchrun``."""

    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, indices: torch.Tensor) -> torch.Tensor:
        """This process's share of ``indices``: every ``world``-th entry from ``rank``."""
        return indices[self.rank :: self.world]


def resolve_device(name: str, context: Context) -> torch.device:
    """``auto`` picks CUDA when present (one GPU per process under torchrun), else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device


def setup(device_name: str) -> tuple[Context, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world == 1:
        return Context(), resolve_device(device_name, Context())
    context = Context(int(os.environ["RANK"]), world)
    device = resolve_device(device_name, context)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return context, device


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over all processes (identity in a single process)."""
    if dist.is_available() and dist.is_initialized():
        values = values.clone()
        dist.all_reduce(values)
    return values
