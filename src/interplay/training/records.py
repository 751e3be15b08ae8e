"""``metrics.csv``: one tidy row per evaluation, appended and flushed as it is produced."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from interplay.training.checkpoint import interrupts_deferred

__all__ = ["MetricsLog", "read_rows"]


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
        with interrupts_deferred(), self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def truncate_after(self, epoch: int) -> None:
        """Drop rows of epochs after ``epoch``: they belong to work a resumed run redoes."""
        if not self.path.exists():
            return
        rows = [r for r in read_rows(self.path) if int(r["epoch"]) <= epoch]
        columns = _header(self.path)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
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


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """All rows of a metrics CSV, numbers parsed, empty cells as ``None``."""
    with Path(path).open(newline="") as f:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(f)]
