"""``metrics.csv``: one tidy row per evaluation, appended and flushed as it is produced."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from interplay.training.checkpoint import interrupts_deferred
from interplay.validation import InterplayValueError

__all__ = ["MetricsLog", "read_rows"]


_RENAMED = {"path": "method"}
"""Columns renamed since older run folders were written: new name -> old name."""


class MetricsLog:
    """Append rows to a CSV file whose columns are fixed by the first row written.

    Example:
        >>> import tempfile, pathlib
        >>> log = MetricsLog(pathlib.Path(tempfile.mkdtemp()) / "m.csv")
        >>> log.append({"epoch": 0, "split": "test", "accuracy": 0.5})
        >>> read_rows(log.path)
        [{'epoch': 0, 'split': 'test', 'accuracy': 0.5}]
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, row: dict[str, Any]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        columns = list(row) if new else _header(self.path)
        # A run folder written before a column was renamed keeps its header: write under the old name.
        row = {(_RENAMED[k] if k in _RENAMED and k not in columns and _RENAMED[k] in columns else k): v for k, v in row.items()}
        with interrupts_deferred(), self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def truncate_after(self, epoch: int) -> None:
        """Drop rows of epochs after ``epoch`` (all rows for a negative one): they belong to work a
        resumed run redoes. A last row cut short (the process was killed while appending) goes too.

        Example:
            >>> import tempfile, pathlib
            >>> log = MetricsLog(pathlib.Path(tempfile.mkdtemp()) / "m.csv")
            >>> for epoch in (0, 1):
            ...     log.append({"epoch": epoch, "split": "test"})
            >>> log.truncate_after(0)
            >>> read_rows(log.path)
            [{'epoch': 0, 'split': 'test'}]
        """
        if not self.path.exists():
            return
        columns, body = _cells(self.path)
        if body and len(body[-1]) != len(columns):
            body.pop()
        _check_complete(self.path, columns, body)
        at = columns.index("epoch") if "epoch" in columns else None
        kept = [cells for cells in body if at is not None and int(cells[at]) <= epoch]
        if not kept:  # the next row writes the header afresh, also over one cut short
            self.path.unlink()
            return
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(kept)
        tmp.replace(self.path)


def _header(path: Path) -> list[str]:
    with path.open(newline="") as f:
        return next(csv.reader(f))


def _parse(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return None if value == "" else value


def _cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the non-blank rows of a CSV file, as text cells."""
    with path.open(newline="") as f:
        lines = [cells for cells in csv.reader(f) if cells]
    return (lines[0], lines[1:]) if lines else ([], [])


def _check_complete(path: Path, columns: list[str], body: list[list[str]]) -> None:
    for number, cells in enumerate(body, 2):
        if len(cells) != len(columns):
            raise InterplayValueError(
                f"{path} row {number} has {len(cells)} cells where the header has {len(columns)} columns: the file was cut "
                f"short. interplay train --resume {path.parent} drops that row and redoes the epochs after the run's last "
                "checkpoint; or start the run again with --overwrite."
            )


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """All rows of a metrics CSV, numbers parsed, empty cells as ``None``; ``[]`` for a file
    with a header only, or none.

    Raises:
        InterplayValueError: a row with more or fewer cells than the header.
    """
    path = Path(path)
    columns, body = _cells(path)
    _check_complete(path, columns, body)
    return [{k: _parse(v) for k, v in zip(columns, cells)} for cells in body]
