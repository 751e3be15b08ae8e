"""Run folders: one rule, one guard and one record writer for every command that writes results.

``interplay train``, every ``interplay experiment`` and ``interplay profile`` write into
``<out>/<command>/<config digest>/`` (or the folder ``--run-dir`` names). The folder holds
``config.json`` (the command, the digest and the resolved config) and ``records.jsonl``: one JSON
object per measurement, appended and flushed as produced. Work is cut into units (an epoch, a seed,
a grid point); a unit is finished when its ``done`` marker is written. Running the same config
again resumes: finished units are kept and the rows of an unfinished one are dropped before it is
redone. A folder that holds another config is refused with the fields that differ.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from interplay.config import DIGEST_EXCLUDED, Layer, resolve_config, resume_conflicts
from interplay.validation import InterplayValueError

__all__ = [
    "RECORDS_NAME", "Records", "RunError", "add_run_flags", "check_run", "interrupts_deferred", "open_run",
    "read_rows", "resume_layer", "run_path", "stored_config", "write_csv",
]

CONFIG_NAME = "config.json"
RECORDS_NAME = "records.jsonl"


class RunError(InterplayValueError):
    """A run folder cannot be used as asked (a file, another config, nothing to resume)."""


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) until the block ends, then raise ``KeyboardInterrupt``.

    A ``KeyboardInterrupt`` raised inside a write (``torch.save``'s zip writer, a record half
    appended) leaves a damaged file; deferring it keeps writes whole and the exit clean. Outside
    the main thread, or when SIGINT has a custom handler, the block runs unchanged.

    Example:
        >>> with interrupts_deferred():
        ...     total = sum(range(10))
        >>> total
        45
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


def _check_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise RunError(f"run folder {path} is a file; pass --out or --run-dir a folder (it is created when missing).")


def resume_layer(run_dir: str | Path, command: str) -> Layer:
    """The config stored in ``run_dir``, as the lowest layer of the config of a resumed run.

    Raises:
        RunError: no run of ``command`` was started there (no ``config.json``).
    """
    stored = stored_config(run_dir)
    if not stored:
        raise RunError(f"cannot resume {run_dir}: it has no {CONFIG_NAME}, so no run of {_typed(command)} was started "
                       f"there; start one with --run-dir {run_dir}.")
    return Layer(str(Path(run_dir) / CONFIG_NAME), stored["config"])


def stored_config(run_dir: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a run folder as a mapping; ``{}`` when there is none.

    Raises:
        RunError: the folder is a file, or its ``config.json`` cannot be parsed.
    """
    run_dir = Path(run_dir)
    _check_folder(run_dir)
    path = run_dir / CONFIG_NAME
    if not path.is_file():
        return {}
    try:
        stored = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{path} cannot be parsed ({error}); restore it, or pass --fresh to start the run anew.") from error
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
        raise RunError(f"{path} is not the config of a run; restore it, or pass --fresh to start the run anew.")
    return stored


def add_run_flags(parser: argparse.ArgumentParser, command: str, *, tensorboard: bool = True) -> None:
    """Declare the flags that place and resume a run, the same for every command that writes one.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_run_flags(parser, "train")
        >>> vars(parser.parse_args(["--resume", "runs/train/0a1b2c3d"]))["resume"]
        'runs/train/0a1b2c3d'
    """
    where = parser.add_argument_group("run folder (the same for train, every experiment and profile)")
    where.add_argument("--out", default="runs", help=f"parent of the run folders: this run goes into OUT/{command}/<config digest>, "
                       "and the same command with the same config again resumes it (default: runs)")
    place = where.add_mutually_exclusive_group()
    place.add_argument("--run-dir", help="use this folder instead of OUT/.../<config digest>; it must be empty or hold a run "
                       "of the same config")
    place.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR with the config stored there; flags "
                       "may change where it runs (--device, --data-dir) and, for train, extend it (--epochs)")
    where.add_argument("--fresh", action="store_true", help="discard the records of the run in the folder and start it anew")
    if tensorboard:
        where.add_argument("--tensorboard", action="store_true", default=None, help="also write every record as TensorBoard "
                           "scalars into <run folder>/tensorboard (pip install 'interplay[tensorboard]')")


def run_path(command: str, config: Any, *, out: str | Path = "runs", run_dir: str | Path | None = None,
             resume: str | Path | None = None) -> Path:
    """The run folder of ``config``: ``resume``, else ``run_dir``, else ``<out>/<command>/<digest>``.

    Example:
        >>> from interplay.config import TrainConfig
        >>> run_path("train", TrainConfig(), out="runs").as_posix() == f"runs/train/{TrainConfig().digest()}"
        True
    """
    return Path(resume or run_dir or Path(out) / command / config.digest())


def check_run(command: str, config: Any, *, out: str | Path = "runs", run_dir: str | Path | None = None,
              resume: str | Path | None = None, fresh: bool = False, may_change: Iterable[str] = ()) -> Path:
    """The run folder :func:`open_run` would open, checked as it checks it, with nothing written.

    Raises:
        RunError: the folder is a file, holds a damaged config or a run of another command or
            config, or (``resume``) holds no run.
    """
    path = run_path(command, config, out=out, run_dir=run_dir, resume=resume)
    if fresh:  # whatever the folder holds is discarded, a damaged config too
        _check_folder(path)
        return path
    stored = stored_config(path)
    if resume and not stored:
        raise RunError(f"cannot resume {path}: it holds no {CONFIG_NAME}, so no run was started there; "
                       f"start one with --run-dir {path}.")
    if stored:
        _check_same(path, command, config, stored, may_change)
    return path


def open_run(command: str, config: Any, *, out: str | Path = "runs", run_dir: str | Path | None = None,
             resume: str | Path | None = None, fresh: bool = False, may_change: Iterable[str] = (),
             metadata: dict[str, Any] | None = None, outputs: Iterable[str] = ()) -> Path:
    """Create, reopen or refuse the run folder of ``config`` for ``command``; returns the folder.

    The folder is :func:`run_path`'s. A folder that
    holds a run of another command, or of a config whose fields differ beyond ``may_change``, is
    refused with the differing fields (where the data lives and which device runs never differ;
    fields renamed since the folder was written are read by their new names). ``resume`` requires a run to be there. ``fresh`` deletes the
    folder's records and ``outputs`` (file names) first. ``config.json`` is written last, holding
    ``metadata`` beside the command, digest and config.

    Example:
        >>> import tempfile
        >>> from interplay.config import TrainConfig
        >>> out = tempfile.mkdtemp()
        >>> first = open_run("train", TrainConfig(), out=out)
        >>> first == open_run("train", TrainConfig(), out=out), first.name == TrainConfig().digest()
        (True, True)
        >>> open_run("train", TrainConfig(lr=0.1), run_dir=first)
        Traceback (most recent call last):
        ...
        interplay.runs.RunError: ... holds a run of another config (lr: 0.05 -> 0.1); ...
    """
    path = check_run(command, config, out=out, run_dir=run_dir, resume=resume, fresh=fresh, may_change=may_change)
    if fresh:
        for name in (RECORDS_NAME, CONFIG_NAME, *outputs):
            (path / name).unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    written = {"command": command, "digest": config.digest(), "config": dataclasses.asdict(config)} | (metadata or {})
    (path / CONFIG_NAME).write_text(json.dumps(written, indent=2))
    return path


def _check_same(path: Path, command: str, config: Any, stored: dict[str, Any], may_change: Iterable[str]) -> None:
    """Refuse a folder whose stored run is of another command or another config."""
    theirs = stored.get("command", stored.get("experiment", "train"))
    if theirs != command:
        raise RunError(f"{path} holds a run of {_typed(theirs)}, not of {_typed(command)}; pass another --run-dir, "
                       "or leave it out.")
    try:
        earlier = resolve_config(type(config), [Layer(str(path / CONFIG_NAME), stored["config"])])
    except (InterplayValueError, TypeError) as error:
        raise RunError(f"{path / CONFIG_NAME} does not hold a valid config of {command} ({error}); "
                       "pass another --run-dir, or --fresh to start the run anew.") from error
    conflicts = resume_conflicts(earlier, config, may_change)
    if conflicts:
        free = f"only {', '.join(sorted(DIGEST_EXCLUDED | set(may_change)))} may change in a run's folder; "
        raise RunError(f"{path} holds a run of another config ({'; '.join(conflicts)}); {free}leave --run-dir and --resume "
                       "out to give this config its own folder, or pass --fresh to replace that run.")


def _typed(command: str) -> str:
    """The command as the user types it: experiments are named after ``interplay experiment``."""
    return f"interplay {command}" if command in ("train", "profile") else f"interplay experiment {command}"


class Records:
    """Append-only JSON-lines records of one run, cut into resumable units: the one record writer.

    ``sinks`` receive each row as it is written (a TensorBoard writer, a CSV view); ``on_finish``
    is called with each unit's name as the unit is finished.

    Example:
        >>> import tempfile, pathlib
        >>> records = Records(pathlib.Path(tempfile.mkdtemp()) / "records.jsonl")
        >>> records.append("seed=0", accuracy=0.5)
        >>> records.finish("seed=0")
        >>> records.rows()
        [{'unit': 'seed=0', 'accuracy': 0.5}]
    """

    def __init__(self, path: str | Path, on_finish: Callable[[str], None] | None = None,
                 sinks: Iterable[Callable[[dict[str, Any]], None]] = ()) -> None:
        self.path = Path(path)
        self.on_finish, self.sinks = on_finish, list(sinks)
        rows, whole = self._read()
        self.finished = {r["unit"] for r in rows if r.get("done")}
        kept = [r for r in rows if r.get("unit") in self.finished]
        if len(kept) != len(rows) or not whole:  # an interrupted unit: its rows are redone
            self._rewrite(kept)

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
                raise RunError(
                    f"{self.path} line {number} is not a JSON record ({error}); the file was edited or damaged. "
                    "Run again with --fresh to discard the records of this config."
                ) from error
        return rows, True

    def _rewrite(self, rows: list[dict[str, Any]]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
        tmp.replace(self.path)

    def drop(self, unfinished: Callable[[dict[str, Any]], bool]) -> None:
        """Forget the rows (and units) for which ``unfinished(row)`` holds: work a resumed run redoes.

        Example:
            >>> import tempfile, pathlib
            >>> records = Records(pathlib.Path(tempfile.mkdtemp()) / "records.jsonl")
            >>> for epoch in (0, 1):
            ...     records.append(f"epoch={epoch}", epoch=epoch)
            ...     records.finish(f"epoch={epoch}")
            >>> records.drop(lambda row: row["epoch"] > 0)
            >>> records.rows(), sorted(records.finished)
            ([{'unit': 'epoch=0', 'epoch': 0}], ['epoch=0'])
        """
        rows = self.rows(include_markers=True)
        gone = {r["unit"] for r in rows if not r.get("done") and unfinished(r)}
        self._rewrite([r for r in rows if r["unit"] not in gone])
        self.finished -= gone

    def todo(self, items: Iterable[Any], name: Callable[..., str]) -> Iterator[tuple[str, Any]]:
        """Each ``(unit, item)`` of ``items`` whose unit ``name(*item)`` is not finished yet (``name(item)``
        for an item that is not a tuple). A unit is finished when the loop body it was handed to
        completes; an exception or a ``break`` leaves it unfinished, so a resumed run redoes it.

        Example:
            >>> import tempfile, pathlib
            >>> records = Records(pathlib.Path(tempfile.mkdtemp()) / "records.jsonl")
            >>> for unit, seed in records.todo([0, 1], lambda seed: f"seed={seed}"):
            ...     records.append(unit, seed=seed)
            >>> [unit for unit, _ in records.todo([(0, "a"), (2, "b")], lambda seed, arm: f"seed={seed}")]
            ['seed=2']
        """
        for item in items:
            unit = name(*item) if isinstance(item, tuple) else name(item)
            if unit not in self.finished:
                yield unit, item
                self.finish(unit)

    def append(self, unit: str, **row: Any) -> None:
        """Write one row of ``unit`` and flush it; Ctrl-C waits until the line is whole."""
        with interrupts_deferred(), self.path.open("a") as f:
            f.write(json.dumps({"unit": unit} | row) + "\n")
        if not row.get("done"):
            for sink in self.sinks:
                sink({"unit": unit} | row)

    def finish(self, unit: str) -> None:
        """Mark ``unit`` finished: a resumed run keeps its rows and skips it."""
        self.append(unit, done=True)
        self.finished.add(unit)
        if self.on_finish is not None:
            self.on_finish(unit)


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Rows as one tidy CSV (the union of their keys as columns, in order of appearance), written
    whole under a temporary name and then renamed, so a reader never sees half a file.

    Example:
        >>> import tempfile, pathlib
        >>> path = write_csv([{"epoch": 0, "mir": 0.5}, {"epoch": 1, "hdr": 0.1}], pathlib.Path(tempfile.mkdtemp()) / "m.csv")
        >>> read_rows(path)
        [{'epoch': 0, 'mir': 0.5, 'hdr': None}, {'epoch': 1, 'mir': None, 'hdr': 0.1}]
    """
    path = Path(path)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def _parse(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return None if value == "" else value


def read_rows(path: str | Path, *, cut_end: bool = False) -> list[dict[str, Any]]:
    """All rows of a tidy CSV, numbers parsed, empty cells as ``None``; ``[]`` for a file with a
    header only, or none. ``cut_end`` leaves out a last row cut short by a crash.

    Raises:
        RunError: a row with more or fewer cells than the header.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        lines = [cells for cells in csv.reader(f) if cells]
    columns, body = (lines[0], lines[1:]) if lines else ([], [])
    if cut_end and body and len(body[-1]) != len(columns):
        body.pop()
    for number, cells in enumerate(body, 2):
        if len(cells) != len(columns):
            raise RunError(f"{path} row {number} has {len(cells)} cells where the header has {len(columns)} columns: "
                           f"the file was cut short or edited; interplay train --resume {path.parent} writes it anew "
                           "from the run's records.")
    return [{k: _parse(v) for k, v in zip(columns, cells)} for cells in body]
