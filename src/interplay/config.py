"""Settings of a run: one declaration per field, one coercion path for every source.

Every field of a config dataclass declares its help and its bounds or choices once, in its
metadata (:func:`setting`). :func:`coerce` turns values from any source (a flag, a TOML or JSON
file, ``--set key=value``, a stored ``config.json``) into the declared types, or raises one error
naming the key, the value received and what is expected. :func:`resolve_config` layers the
sources in one order: defaults < stored config (``--resume``) < config file < flags.
:func:`config_digest` names run folders from every field except :data:`DIGEST_EXCLUDED`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from interplay.typed import checked, describe_field
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = [
    "DATA_DIR_ENV", "DIGEST_EXCLUDED", "RESUME_MAY_CHANGE", "Layer", "Settings", "TrainConfig", "check_device",
    "coerce", "config_digest", "describe_field", "load_config_file", "parse_pairs", "resolve_config",
    "resume_conflicts", "setting", "train_setting",
]

DATA_DIR_ENV = "INTERPLAY_DATA_DIR"
# Where the data lives and which device runs do not change what a run computes.
DIGEST_EXCLUDED = frozenset({"device", "data_dir", "download", "tensorboard"})
# A resumed run may be extended by more epochs, and may run elsewhere; nothing else may change.
RESUME_MAY_CHANGE = DIGEST_EXCLUDED | {"epochs"}
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "eurosat")
MODELS = ("mlp", "cnn", "resnet18")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "constant")
DEVICE_PATTERN = r"auto|cpu|cuda(:\d+)?"


def setting(default: Any, help: str, *, choices: tuple[str, ...] | None = None, minimum: float | None = None,
            above: float | None = None, maximum: float | None = None, below: float | None = None,
            pattern: str | None = None, expects: str | None = None, may_be_empty: bool = False,
            metavar: str | None = None) -> Any:
    """A dataclass field that declares its help and the values it accepts.

    Args:
        default: the default value (a tuple for list-valued fields).
        help: one line for ``--help`` and the experiment listings.
        choices: the accepted strings.
        minimum, above, maximum, below: bounds ``>=``, ``>``, ``<=``, ``<`` on each number.
        pattern, expects: a full-match regular expression for strings, and its wording.
        may_be_empty: a list field that accepts ``[]``.
        metavar: the value's name in ``--help`` (default: the last word of the field's name).

    Example:
        >>> @dataclass(frozen=True)
        ... class Example:
        ...     epochs: int = setting(3, "training epochs", minimum=1)
        >>> coerce(Example, {"epochs": "5"}, "--set", text=True)
        {'epochs': 5}
    """
    bounds = {"minimum": minimum, "above": above, "maximum": maximum, "below": below}
    metadata = {"help": help, "choices": choices, "pattern": pattern, "expects": expects, "may_be_empty": may_be_empty,
                "metavar": metavar}
    return field(default=default, metadata=metadata | {k: v for k, v in bounds.items() if v is not None})


@dataclass(frozen=True)
class Settings:
    """Base of every config: each field is checked against its declaration on construction, then
    :meth:`check` applies the rules that join several fields; :meth:`digest` names the run folder.

    ``FORMERLY`` maps a renamed field to its earlier name: files that use the earlier name still
    load, and the digest hashes the earlier name, so run folders written before the rename resume.

    Example:
        >>> @dataclass(frozen=True)
        ... class Example(Settings):
        ...     epochs: int = setting(3, "training epochs", minimum=1)
        >>> Example(epochs=0)
        Traceback (most recent call last):
        ...
        interplay.validation.InterplayValueError: epochs must be an integer >= 1; got 0.
    """

    FORMERLY = {}

    def __post_init__(self) -> None:
        _check_fields(self)
        self.check()

    def check(self) -> None:
        """Rules across fields, raising :class:`~interplay.validation.InterplayValueError`; none by default."""

    def digest(self) -> str:
        """Short hash of the fields that change results, naming run folders (:func:`config_digest`)."""
        return config_digest(self)


@dataclass(frozen=True)
class TrainConfig(Settings):
    """Everything that determines a training run; ``interplay train --help`` lists each field."""

    FORMERLY = {"record_every": "metrics_every"}

    dataset: str = setting("digits", "data set; digits is embedded and needs no files", choices=DATASETS)
    data_dir: str | None = setting(None, "folder with the data files (the command line's default: $" + DATA_DIR_ENV + ")")
    download: bool = setting(False, "fetch missing official files into --data-dir (needs a network)")
    model: str = setting("mlp", "architecture: mlp, cnn (small CNN) or resnet18 (CIFAR stem)", choices=MODELS)
    width: int = setting(0, "model width: hidden units (mlp) or base channels (cnn, resnet18); 0 = model default", minimum=0)
    epochs: int = setting(30, "number of training epochs", minimum=1)
    batch_size: int = setting(128, "training batch size (global, over all processes)", minimum=1)
    optimizer: str = setting("sgd", "optimiser", choices=OPTIMIZERS)
    lr: float = setting(0.05, "peak learning rate", above=0)
    momentum: float = setting(0.9, "momentum (sgd) or beta1 (adam, adamw)", minimum=0, below=1)
    weight_decay: float = setting(5e-4, "weight decay", minimum=0)
    schedule: str = setting("cosine", "learning-rate schedule over the epochs (step: x0.1 at 50% and 75%)", choices=SCHEDULES)
    label_smoothing: float = setting(0.0, "label smoothing of the cross-entropy", minimum=0, below=1)
    mir_weight: float = setting(0.0, "weight alpha of the -alpha*MIR loss term on each batch (0 = off)", minimum=0)
    hdr_weight: float = setting(0.0, "weight beta of the +beta*HDR loss term on each batch (0 = off)", minimum=0)
    loss_center: bool = setting(False, "centre each batch's features before the MIR/HDR loss terms")
    loss_detach_heads: bool = setting(False, "cut the MIR/HDR loss terms' gradient to the heads")
    per_class: int = setting(0, "train on a balanced subset of this many images per class (drawn with seed 0); 0 = all",
                             minimum=0, metavar="IMAGES")
    seed: int = setting(0, "seed of initialisation, data order, evaluation subset and estimator", minimum=0)
    device: str = setting("auto", "cpu, cuda, cuda:N, or auto (CUDA when present, with bfloat16 autocast)",
                          pattern=DEVICE_PATTERN, expects="auto, cpu, cuda or cuda:N")
    record_every: int = setting(0, "record the metrics every this many epochs, and at epoch 0 and the last; "
                                   "0 = auto (about 10 records per run)", minimum=0)
    train_eval_samples: int = setting(5000, "training samples evaluated per record (a fixed seeded subset holding "
                                            "every class); 0 = all", minimum=0)
    eval_batch_size: int = setting(1000, "batch size of metric evaluation", minimum=1)
    pairing: str = setting("sample", "pairing of representations with heads for MIR/HDR", choices=("sample", "class"))
    center: bool = setting(False, "centre both splits' representations by the training subset's mean before MIR and HDR")
    max_exact_size: int = setting(8192, "largest eigenproblem of the exact metrics", minimum=2)
    method: str = setting("auto", "MIR/HDR on all evaluated samples: exact, stochastic (an estimate with a standard "
                                  "error), or auto (exact when it fits max_exact_size)", choices=("auto", "exact", "stochastic"))
    tolerance: float = setting(0.005, "requested standard error of MIR when it is estimated", above=0)
    tensorboard: bool = setting(False, "also write the records as TensorBoard scalars into RUN_DIR/tensorboard "
                                       "(pip install 'interplay[tensorboard]')")

    @property
    def record_interval(self) -> int:
        """Epochs between records: ``record_every``, or about a tenth of the run when it is 0."""
        return self.record_every or max(1, round(self.epochs / 10))


def train_setting(name: str, default: Any = dataclasses.MISSING, help: str | None = None) -> Any:
    """The :class:`TrainConfig` field ``name`` for another config: same bounds and help, another default.

    Example:
        >>> @dataclass(frozen=True)
        ... class Example:
        ...     epochs: int = train_setting("epochs", 4)
        >>> describe_field(Example, "epochs")
        ('int >= 1', 4, 'number of training epochs')
    """
    declared = TrainConfig.__dataclass_fields__[name]
    metadata = dict(declared.metadata) | ({} if help is None else {"help": help})
    return field(default=declared.default if default is dataclasses.MISSING else default, metadata=metadata)


def coerce(cls: type, values: dict[str, Any], source: str, *, text: bool = False) -> dict[str, Any]:
    """Check ``values`` against the fields of config class ``cls`` and return them typed.

    Args:
        cls: a config dataclass whose fields come from :func:`setting` (others are type-checked only).
        values: field names (dashes allowed) to values.
        source: where the values come from, named in errors (``run.toml``, ``--set``).
        text: values are text typed on the command line: ``"5"`` is parsed for an integer field.

    Raises:
        InterplayValueError: an unknown key, or a value out of bounds or not among the choices.
        InterplayTypeError: a value of the wrong type (``"ten"`` for an integer).

    Example:
        >>> coerce(TrainConfig, {"batch-size": 64, "lr": 1}, "run.toml")
        {'batch_size': 64, 'lr': 1.0}
        >>> coerce(TrainConfig, {"center": "false"}, "run.toml")
        Traceback (most recent call last):
        ...
        interplay.validation.InterplayTypeError: center must be true or false; got 'false' (from run.toml).
    """
    if not isinstance(values, dict):
        raise InterplayTypeError(f"{source} must hold a table of key = value settings; got a {type(values).__name__}.")
    names = cls.__dataclass_fields__
    renamed = {old: new for new, old in getattr(cls, "FORMERLY", {}).items()}
    typed = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        name = renamed.get(name, name)
        if name not in names:
            raise InterplayValueError(f"unknown config key {key!r} (from {source}); valid keys: {', '.join(sorted(names))}.")
        typed[name] = checked(cls, name, value, source, text)
    return typed


def _check_fields(config: Any) -> None:
    """Check every field of a config instance, storing the typed values (lists as tuples).

    Example:
        >>> TrainConfig(lr=float("inf"))
        Traceback (most recent call last):
        ...
        interplay.validation.InterplayValueError: lr must be a finite number > 0; got inf.
    """
    cls = type(config)
    for name in cls.__dataclass_fields__:
        object.__setattr__(config, name, checked(cls, name, getattr(config, name), ""))


class Layer(NamedTuple):
    """One source of config values: where they come from, the values, and whether they are command-line text."""

    source: str
    values: dict[str, Any]
    text: bool = False


def resolve_config(cls: type, layers: list[Layer]) -> Any:
    """A config of class ``cls`` from its defaults and ``layers``, later layers winning.

    The command line passes, in this order, the stored config of a resumed run, the config file
    and the flags, so a flag beats the file and the file beats what was stored.

    Example:
        >>> resolve_config(TrainConfig, [Layer("run.toml", {"epochs": 3}), Layer("flags", {"epochs": "5"}, text=True)]).epochs
        5
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        merged |= coerce(cls, layer.values, layer.source, text=layer.text)
    return cls(**merged)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``["epochs=3", "seeds=[0, 1]"]`` -> ``{"epochs": "3", "seeds": "[0, 1]"}`` (text, typed by :func:`coerce`).

    Example:
        >>> parse_pairs(["epochs=3"])
        {'epochs': '3'}
    """
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InterplayValueError(f"--set takes key=value; got {pair!r}.")
        values[key.strip()] = raw.strip()
    return values


def config_digest(config: Any) -> str:
    """Short hash of every field of a config dataclass except :data:`DIGEST_EXCLUDED`.

    Example:
        >>> config_digest(TrainConfig()) == config_digest(TrainConfig(device="cpu", data_dir="elsewhere"))
        True
    """
    formerly = getattr(config, "FORMERLY", {})
    identity = {formerly.get(k, k): v for k, v in dataclasses.asdict(config).items() if k not in DIGEST_EXCLUDED}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]


def resume_conflicts(stored: Any, requested: Any, may_change: Iterable[str] = ()) -> list[str]:
    """The fields that differ between a stored config and the one asked for, beyond
    :data:`DIGEST_EXCLUDED` and ``may_change``, each as ``"name: stored -> requested"``.

    Example:
        >>> resume_conflicts(TrainConfig(), TrainConfig(epochs=40, lr=0.1), may_change={"epochs"})
        ['lr: 0.05 -> 0.1']
    """
    free = DIGEST_EXCLUDED | set(may_change)
    return [
        f"{f.name}: {getattr(stored, f.name)!r} -> {getattr(requested, f.name)!r}"
        for f in dataclasses.fields(stored)
        if f.name not in free and getattr(stored, f.name) != getattr(requested, f.name)
    ]


def check_device(name: str) -> None:
    """Refuse a CUDA device this machine cannot run, before anything is written.

    Example:
        >>> check_device("cpu")
    """
    if not name.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA device is visible"
        raise InterplayValueError(f"device {name!r} needs CUDA, but {why} (torch {torch.__version__}); use --device cpu or auto.")
    index, count = int(name.partition(":")[2] or 0), torch.cuda.device_count()
    if index >= count:
        raise InterplayValueError(f"device {name!r} does not exist; this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}.")


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
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InterplayValueError(f"config file {path} could not be parsed: {error}.") from error
    if not isinstance(data, dict):
        raise InterplayTypeError(f"config file {path} must hold a table of key = value settings; got a {type(data).__name__}.")
    return data.get("config", data)
