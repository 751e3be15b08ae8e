"""The papers' analyses as experiments: one module each, run by ``interplay experiment NAME``.

Each module holds ``NAME``, a frozen ``Config`` (CPU-friendly defaults), ``QUICK`` (overrides that
finish in about a minute), ``run(config, records, run_dir)`` and ``report(run_dir, records)``.
They write into run folders with resumable records (:mod:`interplay.runs`, as every command does);
the config base of those that train lives in :mod:`interplay.experiments.runs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interplay.experiments import (
    clustering, cma, collapse, dynamics, grokking, label_smoothing, linguistic_collapse, lmc, loss_supervised, pruning, semi_supervised,
)
from interplay.config import Layer, resolve_config
from interplay.runs import RECORDS_NAME, Records, open_run
from interplay.validation import InterplayValueError

__all__ = ["REGISTRY", "run_experiment", "experiment_config"]

REGISTRY = {module.NAME: module for module in (
    dynamics, label_smoothing, pruning, lmc, grokking, clustering, loss_supervised, semi_supervised, cma, collapse, linguistic_collapse,
)}


def experiment_config(name: str, *, quick: bool = False, values: dict[str, Any] | None = None, layers: list[Layer] = ()):
    """The config of experiment ``name``: defaults, then the quick overrides, then ``values``, then ``layers``.

    Every value is typed and checked by :func:`interplay.config.coerce`.
    """
    if name not in REGISTRY:
        raise InterplayValueError(f"unknown experiment {name!r}; choose one of {', '.join(REGISTRY)}.")
    module = REGISTRY[name]
    first = [Layer("--quick", dict(module.QUICK))] if quick else []
    return resolve_config(module.Config, [*first, Layer(f"the {name} config", values or {}), *layers])


def run_experiment(
    name: str, config, *, out: str | Path = "runs", run_dir: str | Path | None = None, resume: str | Path | None = None,
    fresh: bool = False, log: Callable[[str], None] | None = None, tensorboard: bool = False,
) -> Path:
    """Run (or resume) an experiment and write its report; returns the report page.

    The run folder follows :func:`interplay.runs.open_run`: ``<out>/<name>/<digest>``, ``run_dir``
    or ``resume``; a folder of another config is refused. ``log``, when given, receives one line when the run starts and one per finished unit (a seed,
    a grid point), with the time since the start. ``tensorboard`` also writes every record as
    TensorBoard scalars into ``<run folder>/tensorboard`` as it is produced.
    """
    board = _board() if tensorboard else None
    path = open_run(name, config, out=out, run_dir=run_dir, resume=resume, fresh=fresh)
    started = time.monotonic()

    def announce(unit: str) -> None:
        log(f"{name}: {unit} finished ({time.monotonic() - started:.0f} s)")

    records = Records(path / RECORDS_NAME, on_finish=None if log is None else announce,
                      sinks=[] if board is None else [board(path / "tensorboard").append_record])
    if log is not None:
        done = len(records.finished)
        resumed = f", resuming with {done} unit{'s' * (done != 1)} already finished" if done else ""
        log(f"{name}: writing to {path}{resumed}")
    REGISTRY[name].run(config, records, path)
    return REGISTRY[name].report(path, records)


def _board():
    """The TensorBoard writer class, checked before any folder is made."""
    from interplay.integrations.tensorboard import TensorBoardWriter, check_available

    check_available()
    return TensorBoardWriter
