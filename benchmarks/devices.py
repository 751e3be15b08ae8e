"""The device a benchmark runs on: waiting for its queued work, and naming it in the table header."""

from __future__ import annotations

import torch


def resolve(name: str) -> torch.device:
    """The device of ``--device``, refused in one line where it is not there."""
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: this machine's torch {torch.__version__} sees no CUDA device; use --device cpu.")
    return device


def wait(device: torch.device) -> None:
    """Block until the device has finished its queued work, so wall times count it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def describe(device: torch.device) -> str:
    """``torch 2.x, cuda:0 (NVIDIA H200)`` or ``torch 2.x, cpu (2 threads)``."""
    what = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    return f"torch {torch.__version__}, {device} ({what})"
