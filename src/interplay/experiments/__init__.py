"""The papers' analyses as experiments: one module each, run by ``interplay experiment NAME``.

Each module holds ``NAME``, a frozen ``Config`` (CPU-friendly defaults), ``QUICK`` (overrides that
finish in about a minute), ``run(config, records, run_dir)`` and ``report(run_dir, records)``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interplay.experiments import clustering, cma, collapse, dynamics, grokking, label_smoothing, lmc, loss_supervised, pruning, semi_supervised
from interplay.training.experiment import Records, freeze, prepare_run_dir
from interplay.validation import InterplayValueError

__all__ = ["REGISTRY", "run_experiment", "experiment_config"]

REGISTRY = {module.NAME: module for module in (dynamics, label_smoothing, pruning, lmc, grokking, clustering, loss_supervised, semi_supervised, cma, collapse)}


def experiment_config(name: str, *, quick: bool = False, values: dict[str, Any] | None = None):
    """The config of experiment ``name``: defaults, then the quick overrides, then ``values``."""
    if name not in REGISTRY:
        raise InterplayValueError(f"unknown experiment {name!r}; choose one of {', '.join(REGISTRY)}.")
    module = REGISTRY[name]
    merged = (dict(module.QUICK) if quick else {}) | (values or {})
    fields = {f.name for f in dataclasses.fields(module.Config)}
    unknown = sorted(set(merged) - fields)
    if unknown:
        raise InterplayValueError(f"unknown config key {unknown[0]!r} for {name}; valid keys: {', '.join(sorted(fields))}.")
    merged = {k: freeze(v) for k, v in merged.items()}
    return module.Config(**merged)


def run_experiment(
    name: str, config, *, out: str | Path = "runs", run_dir: str | Path | None = None, fresh: bool = False,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Run (or resume) an experiment and write its report; returns the report page.

    ``log``, when given, receives one line when the run starts and one per finished unit (a seed,
    a grid point), with the time since the start.
    """
    path = prepare_run_dir(name, config, out, run_dir, fresh)
    started = time.monotonic()

    def announce(unit: str) -> None:
        log(f"{name}: {unit} finished ({time.monotonic() - started:.0f} s)")

    records = Records(path / "records.jsonl", on_finish=None if log is None else announce)
    if log is not None:
        done = len(records.finished)
        resumed = f", resuming with {done} unit{'s' * (done != 1)} already finished" if done else ""
        log(f"{name}: writing to {path}{resumed}")
    REGISTRY[name].run(config, records, path)
    return REGISTRY[name].report(path, records)
