"""TensorBoard scalars of ``interplay train --tensorboard`` (beside ``metrics.csv``) and of
``interplay experiment NAME --tensorboard`` (beside ``records.jsonl``).

Install with ``pip install 'interplay[tensorboard]'``, then watch a run live with
``tensorboard --logdir RUN_DIR/tensorboard``.
"""

from __future__ import annotations

import math
from numbers import Real
from pathlib import Path
from typing import Any

from interplay.validation import InterplayValueError

__all__ = ["TensorBoardWriter", "check_available"]

STEP_KEYS = ("epoch", "step", "iteration")


def check_available() -> None:
    """Refuse, with what to do, when the tensorboard package is missing.

    Example:
        >>> check_available()  # silent when tensorboard is installed
    """
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError as error:
        raise InterplayValueError(
            f"--tensorboard needs the tensorboard package, which is not installed ({error}); "
            "install it with pip install 'interplay[tensorboard]' or run without --tensorboard."
        ) from None


def scalars_of(row: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of one ``metrics.csv`` row, named ``<split>/<column>``.

    Example:
        >>> scalars_of({"epoch": 3, "split": "test", "mir": 0.5, "path": "class-blocks", "nc4": None})
        {'test/mir': 0.5}
    """
    split = row.get("split", "all")
    return {
        f"{split}/{key}": float(value)
        for key, value in row.items()
        if key != "epoch" and isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    }


class TensorBoardWriter:
    """Appends the rows of ``metrics.csv`` as TensorBoard scalars at step ``row["epoch"]``.

    Args:
        log_dir: the event-file folder.
        purge_step: the first epoch written by this run (0 for a new one, the first redone epoch
            when resuming): events of earlier writers from this step on are dropped.

    Example:
        >>> import tempfile
        >>> writer = TensorBoardWriter(tempfile.mkdtemp())
        >>> writer.append({"epoch": 1, "split": "test", "mir": 0.5})
        >>> writer.close()
    """

    def __init__(self, log_dir: str | Path, *, purge_step: int | None = None) -> None:
        check_available()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(log_dir), purge_step=purge_step)
        self._counters: dict[str, int] = {}

    def append(self, row: dict[str, Any]) -> None:
        """Write one row's numbers and flush, so that a running TensorBoard shows them at once."""
        for tag, value in scalars_of(row).items():
            self.writer.add_scalar(tag, value, global_step=int(row["epoch"]))
        self.writer.flush()

    def append_record(self, row: dict[str, Any]) -> None:
        """Write one experiment record, tagged ``<unit>/<split>/<column>``, at its epoch, step or
        iteration, or else at the count of the unit's earlier records."""
        unit = str(row["unit"])
        step = next((row[k] for k in STEP_KEYS if isinstance(row.get(k), int)), None)
        if step is None:
            step = self._counters.get(unit, 0)
            self._counters[unit] = step + 1
        numbers = {k: v for k, v in row.items() if k not in STEP_KEYS}
        for tag, value in scalars_of(numbers).items():
            self.writer.add_scalar(f"{unit}/{tag}", value, global_step=int(step))
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
