"""``interplay train``: supervised training that records the information dynamics as it goes.

The run folder holds ``config.json`` (resolved config, versions, how the metrics are estimated),
``metrics.csv`` (one row per split and evaluation, appended as produced), ``checkpoint.pt``
(written atomically after every epoch) and the report. Data order depends only on the seed and
the epoch, so a run resumed from its last checkpoint ends where an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import torch
from tqdm.auto import tqdm

from interplay.config import RESUME_MAY_CHANGE, Layer, TrainConfig, check_device, load_config_file, resolve_config, resume_conflicts
from interplay.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_atomic
from interplay.processes import setup
from interplay.training.records import MetricsLog
from interplay.training.session import Session
from interplay.validation import InterplayValueError

__all__ = ["train", "RunError"]


class RunError(InterplayValueError):
    """A run folder cannot be used as asked (exists, belongs to another config, has no checkpoint)."""


def _metadata(config: TrainConfig, num_classes: int, world: int) -> dict:
    estimate = {
        "exact": "exact, on all evaluated samples",
        "stochastic": f"stochastic Lanczos estimate of the joint entropy on all evaluated samples, standard error of MIR "
                      f"<= {config.tolerance} (seed={config.seed}); se_* columns give each record's",
        "auto": f"exact where the eigenproblem fits max_exact_size={config.max_exact_size}, else the stochastic estimate "
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


def _check_run_dir(run_dir: Path, config: TrainConfig, resume: bool, overwrite: bool) -> None:
    """Refuse, before anything is written, a run folder that cannot be used as asked."""
    stored = run_dir / "config.json"
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"run folder {run_dir} is a file; pass --out a folder (it is created when missing).")
    if resume:
        if not stored.is_file():
            raise RunError(f"cannot resume {run_dir}: it has no config.json, so no run was started there; start one with --out {run_dir}.")
        conflicts = resume_conflicts(resolve_config(TrainConfig, [Layer(str(stored), load_config_file(stored))]), config)
        if conflicts:
            raise RunError(
                f"cannot resume {run_dir} with another config ({'; '.join(conflicts)}); on resume only "
                f"{', '.join(sorted(RESUME_MAY_CHANGE))} may change. Start a new run with another --out instead."
            )
    elif stored.exists() and not overwrite:
        raise RunError(f"run folder {run_dir} already holds a run; pass --resume {run_dir} to continue it or --overwrite to replace it.")


def train(config: TrainConfig, run_dir: str | Path, *, resume: bool = False, overwrite: bool = False,
          warn: Callable[[str], None] | None = None, sink: Callable[[Path, int], object] | None = None) -> Path:
    """Train ``config`` into ``run_dir``, recording the metrics; returns the run folder.

    Every check (device, run folder, data, checkpoint) runs before anything is written. A resumed
    run without a checkpoint (it failed before its first epoch ended) starts again from epoch 0.
    ``warn``, when given, receives one line when the information metrics of a split are first
    estimated rather than exact. ``sink``, when given, is called on the main process with the run
    folder and the first epoch this call records, and returns a second writer whose ``append(row)``
    receives every row ``metrics.csv`` does (e.g. TensorBoard's, which ``interplay train --tensorboard``
    passes).

    Example:
        >>> import tempfile
        >>> run = train(TrainConfig(epochs=1, train_eval_samples=100, width=8), tempfile.mkdtemp())
        >>> sorted(p.name for p in run.iterdir())
        ['checkpoint.pt', 'config.json', 'metrics.csv']
    """
    check_device(config.device)
    context, device = setup(config.device)
    run_dir = Path(run_dir)
    if context.is_main:
        _check_run_dir(run_dir, config, resume, overwrite)
    state = None
    if resume and (run_dir / CHECKPOINT_NAME).is_file():
        try:
            state = load_checkpoint(run_dir / CHECKPOINT_NAME)
        except InterplayValueError as error:
            raise RunError(str(error)) from error
        if state["epoch"] > config.epochs:
            raise RunError(f"cannot resume {run_dir} with epochs={config.epochs}: it has finished {state['epoch']} epochs; "
                           f"pass --epochs {state['epoch']} or more.")
    session = Session.create(config, device, context)
    model, optimizer = session.model, session.optimizer
    start, elapsed = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, elapsed = state["epoch"], state["elapsed"]
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if overwrite and not resume:
            for name in ("config.json", "metrics.csv", CHECKPOINT_NAME):
                (run_dir / name).unlink(missing_ok=True)
    wrapped = session.ddp()
    log = MetricsLog(run_dir / "metrics.csv")
    board = sink(run_dir, start) if sink is not None and context.is_main else None
    if context.is_main:
        metadata = _metadata(config, session.num_classes, context.world)
        (run_dir / "config.json").write_text(json.dumps(metadata, indent=2))
        # Without a checkpoint the run starts again at epoch 0, whose rows it writes anew.
        log.truncate_after(start if state is not None else -1)

    estimated: set[str] = set()

    def record(epoch: int) -> None:
        began = time.perf_counter()
        results = session.evaluate()
        for split, result in results.items():
            row = {"epoch": epoch, "split": split, "lr": optimizer.param_groups[0]["lr"], "train_time": round(elapsed, 3),
                   "eval_time": round((time.perf_counter() - began) / len(results), 3)}
            row |= result.as_row() | session.reference()
            if context.is_main:
                log.append(row)
                for warning in result.warnings:
                    tqdm.write(f"interplay: warning: epoch {epoch}, {split}: recorded as NaN: {warning}", file=sys.stderr)
                if result.estimate == "stochastic" and split not in estimated and warn is not None:
                    estimated.add(split)
                    warn(f"MIR, HDR and MI of the {split} split are stochastic estimates over all {result.n} samples "
                         f"(the exact eigenproblem exceeds max_exact_size={config.max_exact_size}); the se_* columns "
                         "give their standard errors.")
            if board is not None:
                board.append(row)

    if start == 0:
        record(0)
    epochs = tqdm(range(start + 1, config.epochs + 1), desc="epochs", initial=start, total=config.epochs, disable=not context.is_main or None)
    for epoch in epochs:
        elapsed += session.train_epoch(epoch, wrapped)
        if epoch % config.record_every == 0 or epoch == config.epochs:
            record(epoch)
        if context.is_main:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "elapsed": elapsed}
            save_atomic(state, run_dir / CHECKPOINT_NAME)
    return run_dir

