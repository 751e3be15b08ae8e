"""What every experiment shares: its config base, its run folder and its resumable records.

An experiment's run folder is ``<out>/<name>/<config digest>/``. It holds ``config.json`` and
``records.jsonl``: one JSON object per measurement, appended and flushed as produced. Work is cut
into units (a seed, a grid point); a unit is finished when its ``done`` marker is written, and a
resumed run skips finished units and drops the rows of an unfinished one before redoing it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interplay.config import TrainConfig, check_fields, config_digest, setting, train_setting
from interplay.data import ImageDataset, load_dataset
from interplay.training.checkpoint import interrupts_deferred
from interplay.validation import InterplayValueError

__all__ = [
    "ExperimentConfig", "Records", "prepare_run_dir", "append_evaluation", "config_digest", "load_splits",
]


@dataclass(frozen=True)
class ExperimentConfig:
    """Training settings shared by the experiments, declared by :class:`TrainConfig`; each
    experiment adds its own fields."""

    dataset: str = train_setting("dataset", "fashion-mnist")
    model: str = train_setting("model", "cnn")
    width: int = train_setting("width")
    epochs: int = train_setting("epochs", 10, "training epochs per run")
    batch_size: int = train_setting("batch_size")
    optimizer: str = train_setting("optimizer")
    lr: float = train_setting("lr", help="peak learning rate (cosine schedule)")
    weight_decay: float = train_setting("weight_decay")
    train_eval_samples: int = train_setting("train_eval_samples")
    seeds: tuple[int, ...] = setting((0, 1, 2), "one run per seed", minimum=0)
    device: str = train_setting("device")
    data_dir: str | None = train_setting("data_dir")

    def __post_init__(self) -> None:
        check_fields(self)

    def train_config(self, seed: int, **changes: Any) -> TrainConfig:
        """The :class:`TrainConfig` of one run of this experiment."""
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(ExperimentConfig) if f.name != "seeds"}
        return TrainConfig(**(shared | {"seed": seed} | changes))

    def digest(self) -> str:
        """Short hash of the config, naming the run folder (:func:`interplay.config.config_digest`)."""
        return config_digest(self)


def prepare_run_dir(name: str, config, out: str | Path, run_dir: str | Path | None = None, fresh: bool = False) -> Path:
    """Create (or reopen, to resume) the run folder of ``config``; a folder of another config is an error."""
    path = Path(run_dir) if run_dir else Path(out) / name / config.digest()
    stored = path / "config.json"
    mine = {"experiment": name, "digest": config.digest(), "config": dataclasses.asdict(config)}
    if stored.is_file():
        try:
            theirs = json.loads(stored.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InterplayValueError(
                f"{stored} cannot be parsed ({error}); restore it, or delete the folder {path} to start the run anew."
            ) from error
        if theirs.get("experiment") != name or theirs.get("digest") != config.digest():
            raise InterplayValueError(
                f"{path} holds a run of another config ({theirs.get('experiment')} {theirs.get('digest')}, "
                f"now {name} {config.digest()}); choose another --run-dir or leave it out."
            )
        if fresh:
            (path / "records.jsonl").unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    stored.write_text(json.dumps(mine, indent=2))
    return path


def load_splits(name: str, data_dir: str | Path | None = None) -> tuple[ImageDataset, ImageDataset]:
    """The train and test splits of data set ``name``, from the files in ``data_dir`` (none for digits).

    Example:
        >>> train, test = load_splits("digits")
        >>> len(train.labels) + len(test.labels)
        1797
    """
    return load_dataset(name, data_dir=data_dir, split="train"), load_dataset(name, data_dir=data_dir, split="test")


class Records:
    """Append-only JSON-lines records of one experiment, cut into resumable units.

    ``on_finish``, when given, is called with each unit's name as the unit is finished, and
    ``on_append`` with each row as it is written.
    """

    def __init__(self, path: str | Path, on_finish: Callable[[str], None] | None = None,
                 on_append: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path = Path(path)
        self.on_finish, self.on_append = on_finish, on_append
        rows, whole = self._read()
        self.finished = {r["unit"] for r in rows if r.get("done")}
        kept = [r for r in rows if r.get("unit") in self.finished]
        if len(kept) != len(rows) or not whole:  # an interrupted unit: its rows are redone
            self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))

    def rows(self, include_markers: bool = False) -> list[dict[str, Any]]:
        """Every row written so far (without the ``done`` markers unless asked)."""
        rows, _ = self._read()
        return rows if include_markers else [r for r in rows if not r.get("done")]

    def _read(self) -> tuple[list[dict[str, Any]], bool]:
        """The rows, and whether the file is whole: a last line cut short by a crash is left out."""
        if not self.path.exists():
            return [], True
        lines = [line for line in self.path.read_text().splitlines() if line.strip()]
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                if number == len(lines):
                    return rows, False
                raise InterplayValueError(
                    f"{self.path} line {number} is not a JSON record ({error}); the file was edited or damaged. "
                    "Run again with --fresh to discard the records of this config."
                ) from error
        return rows, True

    def append(self, unit: str, **row: Any) -> None:
        with interrupts_deferred(), self.path.open("a") as f:
            f.write(json.dumps({"unit": unit} | row) + "\n")
        if self.on_append is not None and not row.get("done"):
            self.on_append({"unit": unit} | row)

    def finish(self, unit: str) -> None:
        self.append(unit, done=True)
        self.finished.add(unit)
        if self.on_finish is not None:
            self.on_finish(unit)


def append_evaluation(records: Records, unit: str, session, model=None, **keys: Any) -> dict[str, Any]:
    """Probe ``model`` (default: the session's) on both splits and append one row per split."""
    results = session.evaluate(model)
    for split, result in results.items():
        records.append(unit, **keys, split=split, **result.as_row(), **session.reference())
    return results
