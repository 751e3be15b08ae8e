"""Atomic checkpoints: a crash mid-write never leaves a half-written file under the real name."""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from interplay.runs import interrupts_deferred
from interplay.validation import InterplayValueError

__all__ = ["save_atomic", "load_checkpoint", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.pt"


def save_atomic(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` with ``torch.save`` to a temporary file beside ``path``, then rename it.

    Ctrl-C during the write takes effect once the file is in place (:func:`interrupts_deferred`).

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "state.pt"
        >>> save_atomic({"epoch": 3}, target)
        >>> load_checkpoint(target)["epoch"]
        3
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with interrupts_deferred(), os.fdopen(handle, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_atomic` onto the CPU.

    Only tensors and plain values (numbers, strings, lists, dicts) are unpickled
    (``weights_only=True``): a planted file that names any other class or function is refused
    before it can run code.

    Raises:
        InterplayValueError: the file is truncated, is not a checkpoint, or holds other objects.
    """
    try:
        return torch.load(Path(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if refused is None:
            raise _unreadable(path, error) from error
        raise InterplayValueError(
            f"checkpoint {path} refers to {refused.group(1)}, which a checkpoint of interplay holds no reference to; "
            "it was not written by interplay, and it was not loaded, since loading it could run code. "
            "Start the run again with --fresh."
        ) from error
    except (RuntimeError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise _unreadable(path, error) from error


def _unreadable(path: str | Path, error: Exception) -> InterplayValueError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return InterplayValueError(
        f"checkpoint {path} cannot be read ({first.split('. ')[0]}); it is truncated or not a checkpoint. "
        "Start the run again with --fresh."
    )
