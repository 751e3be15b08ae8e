"""The configuration of a training run: one dataclass, read from flags, TOML or JSON files.

Every field is one ``interplay train`` option (``--batch-size`` for ``batch_size``), one key of
a config file, and one entry of the run's ``config.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interplay.validation import InterplayValueError

__all__ = ["TrainConfig", "load_config_file", "config_from_mapping", "add_config_arguments", "DATA_DIR_ENV"]

DATA_DIR_ENV = "INTERPLAY_DATA_DIR"
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100")
MODELS = ("mlp", "cnn", "resnet18")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "constant")


def _opt(default, help: str, choices: tuple[str, ...] | None = None):
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; ``interplay train --help`` lists each field."""

    dataset: str = _opt("digits", "data set; digits is embedded and needs no files", DATASETS)
    data_dir: str | None = _opt(None, f"folder with the data files (default: ${DATA_DIR_ENV})")
    download: bool = _opt(False, "fetch missing official files into --data-dir (needs a network)")
    model: str = _opt("mlp", "architecture: mlp, cnn (small CNN) or resnet18 (CIFAR stem)", MODELS)
    width: int = _opt(0, "model width: hidden units (mlp) or base channels (cnn, resnet18); 0 = model default")
    epochs: int = _opt(30, "number of training epochs")
    batch_size: int = _opt(128, "training batch size (global, over all processes)")
    optimizer: str = _opt("sgd", "optimiser", OPTIMIZERS)
    lr: float = _opt(0.05, "peak learning rate")
    momentum: float = _opt(0.9, "momentum (sgd) or beta1 (adam, adamw)")
    weight_decay: float = _opt(5e-4, "weight decay")
    schedule: str = _opt("cosine", "learning-rate schedule over the epochs (step: x0.1 at 50% and 75%)", SCHEDULES)
    label_smoothing: float = _opt(0.0, "label smoothing of the cross-entropy, in [0, 1)")
    mir_weight: float = _opt(0.0, "weight alpha of the -alpha*MIR loss term on each batch (0 = off)")
    hdr_weight: float = _opt(0.0, "weight beta of the +beta*HDR loss term on each batch (0 = off)")
    seed: int = _opt(0, "seed of initialisation, data order and evaluation subsample")
    device: str = _opt("auto", "cpu, cuda, cuda:N, or auto (CUDA when present, with bfloat16 autocast)")
    metrics_every: int = _opt(0, "record the metrics every this many epochs, and at epoch 0 and the last; 0 = auto (about 10 records per run)")
    train_eval_samples: int = _opt(5000, "training samples evaluated per record (a fixed seeded subset); 0 = all")
    eval_batch_size: int = _opt(1000, "batch size of metric evaluation")
    pairing: str = _opt("sample", "pairing of representations with heads for MIR/HDR", ("sample", "class"))
    center: bool = _opt(False, "centre representations by the training mean before the metrics")
    max_exact_size: int = _opt(8192, "largest eigenproblem of the exact metrics; larger falls back to a subsample")
    tensorboard: bool = _opt(False, "also write the records as TensorBoard scalars into RUN_DIR/tensorboard (pip install 'interplay[tensorboard]')")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise InterplayValueError(f"{f.name} must be one of {', '.join(choices)}; got {getattr(self, f.name)!r}.")
        positive = ("epochs", "batch_size", "eval_batch_size", "max_exact_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise InterplayValueError(f"{name} must be a positive integer; got {getattr(self, name)}.")
        for name in ("width", "train_eval_samples", "metrics_every"):
            if getattr(self, name) < 0:
                raise InterplayValueError(f"{name} must be >= 0 (0 = default/all); got {getattr(self, name)}.")
        if not self.lr > 0 or self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise InterplayValueError(
                f"lr must be > 0, weight_decay >= 0 and momentum in [0, 1); "
                f"got lr={self.lr}, weight_decay={self.weight_decay}, momentum={self.momentum}."
            )
        for name in ("mir_weight", "hdr_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise InterplayValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise InterplayValueError(f"label_smoothing must lie in [0, 1); got {self.label_smoothing}.")

    @property
    def record_every(self) -> int:
        """Epochs between records: ``metrics_every``, or about a tenth of the run when it is 0."""
        return self.metrics_every or max(1, round(self.epochs / 10))

    @property
    def resolved_data_dir(self) -> str | None:
        """``data_dir``, else the environment variable, else ``None``."""
        return self.data_dir or os.environ.get(DATA_DIR_ENV)

    def identity(self) -> dict[str, Any]:
        """The fields that change results (not where data lives or which device runs)."""
        skip = {"data_dir", "download", "device", "tensorboard"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}

    def digest(self) -> str:
        """Short hash of :meth:`identity`, used to name run folders."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]


def config_from_mapping(values: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """A config from a mapping of field names (dashes allowed) to values; unknown keys are an error.

    Example:
        >>> config_from_mapping({"batch-size": 64}).batch_size
        64
    """
    names = {f.name: f for f in dataclasses.fields(TrainConfig)}
    clean = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in names:
            raise InterplayValueError(f"unknown config key {key!r}; valid keys: {', '.join(sorted(names))}.")
        clean[name] = value
    return dataclasses.replace(base or TrainConfig(), **clean)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML (``.toml``) or JSON (``.json``) config file into a mapping.

    A run's own ``config.json`` is accepted too: its ``config`` section is used.
    """
    path = Path(path)
    if not path.is_file():
        raise InterplayValueError(f"config file {path} does not exist; pass a .toml or .json file.")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text())
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
        else:
            raise InterplayValueError(f"config file {path} must end in .toml or .json; got {path.suffix!r}.")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise InterplayValueError(f"config file {path} could not be parsed: {error}.") from error
    return data.get("config", data)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per field, with no default so that only what the user typed is seen."""
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (default: {f.default})"
        if f.type in ("bool", bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
            continue
        kind = {"int": int, "float": float}.get(str(f.type), str)
        parser.add_argument(flag, type=kind, default=None, choices=f.metadata.get("choices"), help=help_text)
