"""``interplay train``: supervised training that records the information dynamics as it goes.

The run folder (:mod:`interplay.runs`: ``<out>/train/<digest>``, or ``--run-dir``) holds
``config.json`` (resolved config, versions, how the metrics are estimated), ``records.jsonl`` (one
row per split and evaluation, appended as produced, an evaluation being one unit), ``metrics.csv``
(the same rows as a tidy table, rewritten after every evaluation), ``checkpoint.pt`` (written
atomically after every epoch) and the report. Data order depends only on the seed and the epoch, so
a run resumed from its last checkpoint ends where an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import torch
from tqdm.auto import tqdm

from interplay.config import RESUME_MAY_CHANGE, TrainConfig, check_device
from interplay.processes import setup
from interplay.runs import RECORDS_NAME, Records, RunError, check_run, open_run, read_rows, run_path, write_csv
from interplay.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_atomic
from interplay.training.session import Session
from interplay.validation import InterplayValueError

__all__ = ["train"]


METRICS_NAME = "metrics.csv"
_RENAMED = {"method": "path"}
"""Columns renamed since older run folders were written: old name -> new name."""


def _metadata(config: TrainConfig, num_classes: int, world: int) -> dict:
    estimate = {
        "exact": "exact, on all evaluated samples",
        "stochastic": f"stochastic Lanczos estimate of the joint entropy on all evaluated samples, standard error of MIR "
                      f"<= {config.tolerance} (seed={config.seed}); se_* columns give each record's",
        "auto": f"exact where the eigenproblem fits max_exact_size={config.max_exact_size} and costs at most twice the estimate, else the stochastic estimate "
                f"(standard error of MIR <= {config.tolerance}, seed={config.seed}); the method and se_* columns say which",
    }[config.method]
    return {
        "config": dataclasses.asdict(config),
        "digest": config.digest(),
        "num_classes": num_classes,
        "processes": world,
        "information_estimate": estimate,
        "versions": {"interplay": version("interplay"), "torch": torch.__version__, "python": platform.python_version()},
    }


def _adopt_table(run_dir: Path, records: Records) -> None:
    """Take the rows of a run folder written before ``records.jsonl`` existed (``metrics.csv`` alone)
    into the records, one finished unit per epoch, so that it resumes like any other."""
    if records.path.exists() or not (run_dir / METRICS_NAME).is_file():
        return
    for row in read_rows(run_dir / METRICS_NAME, cut_end=True):
        row = {_RENAMED.get(k, k): v for k, v in row.items()}
        records.append(_unit(row["epoch"]), **row)
    for epoch in sorted({r["epoch"] for r in records.rows()}):
        records.finish(_unit(epoch))


def _unit(epoch: int) -> str:
    return f"epoch={epoch}"


def _table(records: Records) -> list[dict]:
    """The rows of ``metrics.csv``: every record without its unit name."""
    return [{k: v for k, v in row.items() if k != "unit"} for row in records.rows()]


def train(config: TrainConfig, *, out: str | Path = "runs", run_dir: str | Path | None = None,
          resume: str | Path | None = None, fresh: bool = False, warn: Callable[[str], None] | None = None,
          sink: Callable[[Path, int], object] | None = None) -> Path:
    """Train ``config`` into its run folder, recording the metrics; returns the run folder.

    The folder follows :func:`interplay.runs.open_run`: ``<out>/train/<digest>``, ``run_dir`` or
    ``resume``. A folder that holds the same config resumes from its last checkpoint (a finished
    run is left as it is); one of another config is refused with the fields that differ, except
    that ``resume`` may extend a run by more ``epochs`` (the folder keeps its name; ``config.json``
    records the new length) or move it to another device or data folder. ``fresh`` starts anew.

    Every check (device, run folder, data, checkpoint) runs before anything is written. A run
    without a checkpoint (it failed before its first epoch ended) starts again from epoch 0.
    ``warn``, when given, receives one line when the information metrics of a split are first
    estimated rather than exact. ``sink``, when given, is called on the main process with the run
    folder and the first epoch this call records, and returns a second writer whose ``append(row)``
    receives every row the records do (e.g. TensorBoard's, which ``interplay train --tensorboard``
    passes).

    Example:
        >>> import tempfile
        >>> run = train(TrainConfig(epochs=1, train_eval_samples=100, width=8), out=tempfile.mkdtemp())
        >>> sorted(p.name for p in run.iterdir())
        ['checkpoint.pt', 'config.json', 'metrics.csv', 'records.jsonl']
    """
    check_device(config.device)
    context, device = setup(config.device)
    where = {"out": out, "run_dir": run_dir, "resume": resume, "fresh": fresh,
             "may_change": RESUME_MAY_CHANGE if resume else ()}
    folder = check_run("train", config, **where) if context.is_main else run_path("train", config, out=out, run_dir=run_dir, resume=resume)
    state = None
    if not fresh and (folder / CHECKPOINT_NAME).is_file():
        try:
            state = load_checkpoint(folder / CHECKPOINT_NAME)
        except InterplayValueError as error:
            raise RunError(str(error)) from error
        if state["epoch"] > config.epochs:
            raise RunError(f"cannot resume {folder} with epochs={config.epochs}: it has finished {state['epoch']} epochs; "
                           f"pass --epochs {state['epoch']} or more.")
    session = Session.create(config, device, context)
    model, optimizer = session.model, session.optimizer
    start, elapsed = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, elapsed = state["epoch"], state["elapsed"]
    records = None
    if context.is_main:
        metadata = _metadata(config, session.num_classes, context.world)
        open_run("train", config, **where, metadata=metadata, outputs=(METRICS_NAME, CHECKPOINT_NAME))
        board = sink(folder, start) if sink is not None else None
        records = Records(folder / RECORDS_NAME, sinks=[] if board is None else [board.append])
        _adopt_table(folder, records)
        # Work after the checkpoint is redone; without one the run starts again at epoch 0.
        records.drop(lambda row: row["epoch"] > (start if state is not None else -1))
        write_csv(_table(records), folder / METRICS_NAME)
    wrapped = session.ddp()

    estimated: set[str] = set()

    def record(epoch: int) -> None:
        began = time.perf_counter()
        results = session.evaluate()
        for split, result in results.items():
            row = {"epoch": epoch, "split": split, "lr": optimizer.param_groups[0]["lr"], "train_time": round(elapsed, 3),
                   "eval_time": round((time.perf_counter() - began) / len(results), 3)}
            row |= result.as_row() | session.reference()
            if records is not None:
                records.append(_unit(epoch), **row)
                for warning in result.warnings:
                    tqdm.write(f"interplay: warning: epoch {epoch}, {split}: recorded as NaN: {warning}", file=sys.stderr)
                if result.estimate == "stochastic" and split not in estimated and warn is not None:
                    estimated.add(split)
                    warn(f"MIR, HDR and MI of the {split} split are stochastic estimates over all {result.n} samples "
                         f"(the exact eigenproblem exceeds max_exact_size={config.max_exact_size}); the se_* columns "
                         "give their standard errors.")
        if records is not None:
            records.finish(_unit(epoch))
            write_csv(_table(records), folder / METRICS_NAME)

    if start == 0:
        record(0)
    epochs = tqdm(range(start + 1, config.epochs + 1), desc="epochs", initial=start, total=config.epochs, disable=not context.is_main or None)
    for epoch in epochs:
        elapsed += session.train_epoch(epoch, wrapped)
        if epoch % config.record_interval == 0 or epoch == config.epochs:
            record(epoch)
        if context.is_main:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "elapsed": elapsed}
            save_atomic(state, folder / CHECKPOINT_NAME)
    return folder

