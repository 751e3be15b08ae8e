"""The ``interplay`` command: ``train`` records the information dynamics of training,
``experiment`` runs the papers' analyses, ``report`` draws runs, ``profile`` reads every layer of a network.

Every error the user can act on prints as one line ``interplay: error: ...`` and exits with 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
import sys
import textwrap
from pathlib import Path

import interplay
from interplay.config import (
    DATA_DIR_ENV, Layer, TrainConfig, check_device, describe_field, load_config_file, parse_pairs, resolve_config,
)
from interplay.runs import RunError, add_run_flags, resume_layer, run_path
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["main"]

INTERRUPTED = 130
USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error of the command."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"interplay: error: {message}; see {self.prog} --help\n")


def _help(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help strings with %


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`TrainConfig` field (``--tensorboard`` is a run flag, :func:`add_run_flags`);
    values stay text until :func:`resolve_config` types them."""
    for f in dataclasses.fields(TrainConfig):
        if f.name == "tensorboard":
            continue
        kind, default, text = describe_field(TrainConfig, f.name)
        flag = "--" + f.name.replace("_", "-")
        if kind == "true or false":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=_help(f"{text} (default: {default})"))
            continue
        metavar = "{" + ",".join(f.metadata["choices"]) + "}" if f.metadata.get("choices") else f.metadata.get("metavar") or f.name.split("_")[-1].upper()
        parser.add_argument(flag, default=None, metavar=metavar, help=_help(f"{text}; {kind} (default: {default})"))


def _summary(module) -> str:
    return (module.__doc__ or module.NAME).strip().splitlines()[0]


def _keys_listing(module) -> str:
    lines = ["config keys (--set KEY=VALUE, or KEY = VALUE in a --config file):"]
    for f in dataclasses.fields(module.Config):
        kind, default, text = describe_field(module.Config, f.name)
        default = list(default) if isinstance(default, tuple) else default
        lines.append(f"  {f.name} ({kind}; default {default!r})")
        lines += textwrap.wrap(text, 90, initial_indent="      ", subsequent_indent="      ")
    if getattr(module, "QUICK", None):
        lines.append(f"--quick sets {', '.join(f'{k}={list(v) if isinstance(v, tuple) else v!r}' for k, v in module.QUICK.items())}")
    return "\n".join(lines)


def _experiment_parsers(commands, registry) -> None:
    experiment = commands.add_parser(
        "experiment", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="run one of the papers' analyses: " + ", ".join(registry),
        description="Run an experiment into OUT/<name>/<config digest>/ (records.jsonl, measurements.csv, PNG figures, "
        "report.html). Running the same config again resumes it: finished points are kept; a changed config gets its "
        "own folder. `interplay experiment NAME --help` lists the config keys of one experiment.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quick", action="store_true", help="small settings that finish in about a minute")
    common.add_argument("--config", help="a .toml or .json file of config values (--set beats it)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one config value (repeatable); lists as [0, 1]")
    common.add_argument("--data-dir", help=f"folder of the data files (default: ${DATA_DIR_ENV})")
    names = experiment.add_subparsers(dest="name", required=True, metavar="NAME", parser_class=_Parser)
    for name, module in registry.items():
        add_run_flags(names.add_parser(
            name, parents=[common], help=_summary(module), description=(module.__doc__ or "").strip().split("\n\n")[0],
            epilog=_keys_listing(module), formatter_class=argparse.RawDescriptionHelpFormatter,
        ), name)


def _parser() -> argparse.ArgumentParser:
    from interplay.experiments import REGISTRY

    listing = "\n".join(f"  {name:<17} {_summary(module)}" for name, module in REGISTRY.items())
    parser = _Parser(
        prog="interplay", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Matrix information (MIR, HDR, entropies) and neural collapse over supervised training.",
        epilog=f"experiments (interplay experiment NAME):\n{listing}",
    )
    parser.add_argument("--version", action="version", version=f"interplay {interplay.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser(
        "train",
        help="train a classifier and record loss, accuracy, MIR, HDR, entropies and NC1-NC4",
        description="Train a classifier and record, on training and test data, loss, accuracy, MIR, HDR, "
        "H(Z), H(W), MI and NC1-NC4, with their values at neural collapse. With no options it trains an "
        "MLP on the embedded digits data set, offline. Writes config.json, records.jsonl, metrics.csv, "
        "checkpoint.pt and report/ (PNG figures and report.html) into OUT/train/<config digest>/; the same command "
        "again resumes that run from its last checkpoint, and a changed config gets its own folder. More epochs "
        "make another config (the learning-rate schedule depends on them); to extend a run instead, pass "
        "--resume RUN_DIR --epochs N. Settings are taken from, in rising precedence: the defaults, the stored config "
        "of a resumed run, the --config file, the flags.",
    )
    train.add_argument("--config", help="a .toml or .json file of options, one key per option (flags beat it)")
    add_run_flags(train, "train")
    _add_config_flags(train)
    _experiment_parsers(commands, REGISTRY)
    report = commands.add_parser("report", help="rebuild the report of one run, or overlay several runs",
                                 description="Rebuild the report of a run of interplay train from its metrics.csv, "
                                 "or overlay several runs in one report.")
    report.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--out", help="folder for the report (default: RUN_DIR/report of the first run)")
    from interplay.layer_profile.command import add_parser as add_profile_parser

    add_profile_parser(commands, _Parser)
    return parser


def _data_dir_layers(config_class: type, flag: str | None) -> list[Layer]:
    """The data folder from ``--data-dir`` (``flag``), or else from the environment variable, for
    configs that have one; the only place the environment is read."""
    if "data_dir" not in config_class.__dataclass_fields__:
        return []
    if flag is not None:
        return [Layer("--data-dir", {"data_dir": flag})]
    folder = os.environ.get(DATA_DIR_ENV)
    return [Layer("$" + DATA_DIR_ENV, {"data_dir": folder})] if folder else []


def _train_config(args: argparse.Namespace) -> TrainConfig:
    layers = []
    if args.resume:
        layers.append(resume_layer(args.resume, "train"))
    layers += _data_dir_layers(TrainConfig, None)
    if args.config:
        layers.append(Layer(args.config, load_config_file(args.config)))
    flags = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None}
    flags |= {"tensorboard": "true"} if args.tensorboard else {}
    layers += [Layer("--" + k.replace("_", "-"), {k: v}, text=True) for k, v in flags.items()]
    return resolve_config(TrainConfig, layers)


def _tensorboard_sink():
    """TensorBoard's writer for a run folder, checked before any folder is made."""
    from interplay.integrations.tensorboard import TensorBoardWriter, check_available

    check_available()
    return lambda run_dir, start: TensorBoardWriter(Path(run_dir) / "tensorboard", purge_step=start + 1 if start else 0)


def _run_train(args: argparse.Namespace) -> int:
    from interplay.report import build_report, final_table
    from interplay.training.loop import train

    config = _train_config(args)
    run_dir = run_path("train", config, out=args.out, run_dir=args.run_dir, resume=args.resume)
    try:
        train(config, out=args.out, run_dir=args.run_dir, resume=args.resume, fresh=args.fresh, warn=_warn,
              sink=_tensorboard_sink() if config.tensorboard else None)
    except (InterplayValueError, InterplayTypeError) as error:
        if isinstance(error, RunError) or not (run_dir / "config.json").is_file():
            raise
        # The run failed after its folder was written: say how to go on rather than leave a dead end.
        raise type(error)(f"{str(error).rstrip('.')}. The run folder {run_dir} keeps every finished epoch: fix the cause and "
                          f"continue with interplay train --resume {run_dir}, or start again with --fresh.") from error
    except KeyboardInterrupt:
        print(f"\ninterplay: interrupted; every finished epoch is saved. Continue with: interplay train --resume {run_dir}", file=sys.stderr)
        return INTERRUPTED
    if _is_main_process():
        page = build_report([run_dir])
        print(f"{final_table(run_dir)}\nrun folder: {run_dir}\nreport: {page}")
    return 0


def _run_experiment(args: argparse.Namespace) -> int:
    from interplay.experiments import REGISTRY, experiment_config, run_experiment

    config_class = REGISTRY[args.name].Config
    layers = _data_dir_layers(config_class, None)
    if args.resume:
        layers.append(resume_layer(args.resume, args.name))
    if args.config:
        layers.append(Layer(args.config, load_config_file(args.config)))
    layers.append(Layer("--set", parse_pairs(args.set), text=True))
    layers += _data_dir_layers(config_class, args.data_dir)
    config = experiment_config(args.name, quick=args.quick, layers=layers)
    check_device(getattr(config, "device", "cpu"))
    try:
        page = run_experiment(args.name, config, out=args.out, run_dir=args.run_dir, resume=args.resume, fresh=args.fresh,
                              log=_log, tensorboard=bool(args.tensorboard))
    except KeyboardInterrupt:
        folder = run_path(args.name, config, out=args.out, run_dir=args.run_dir, resume=args.resume)
        print(f"\ninterplay: interrupted; finished points are saved. Continue with: interplay experiment {args.name} "
              f"--resume {folder}", file=sys.stderr)
        return INTERRUPTED
    print(f"report: {page}")
    return 0


def _log(line: str) -> None:
    print(f"interplay {line}", file=sys.stderr, flush=True)


def _warn(line: str) -> None:
    print(f"interplay: warning: {line}", file=sys.stderr, flush=True)


def _is_main_process() -> bool:
    import torch.distributed as dist

    return not dist.is_initialized() or dist.get_rank() == 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a usage or input error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return _run_train(args)
        if args.command == "experiment":
            return _run_experiment(args)
        if args.command == "profile":
            from interplay.layer_profile.command import run as run_profile

            return run_profile(args)
        from interplay.report import build_report

        print(f"report: {build_report(args.run_dirs, args.out)}")
        return 0
    except (InterplayValueError, InterplayTypeError) as error:
        print(f"interplay: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:
        print(f"interplay: error: {_os_error(error, _folder_flag(args))}", file=sys.stderr)
        return USAGE_ERROR


def _folder_flag(args: argparse.Namespace) -> str:
    """The option naming the folder a command writes, for the advice of an error."""
    if getattr(args, "resume", None):
        return "--resume"
    return "--run-dir" if getattr(args, "run_dir", None) else "--out"


def _os_error(error: OSError, flag: str) -> str:
    """One line for a folder or file the command cannot use: the path, the cause and the fix.

    Example:
        >>> import errno
        >>> _os_error(PermissionError(errno.EACCES, "Permission denied", "/srv/runs"), "--out")
        'cannot write /srv/runs (Permission denied); pass --out a folder you can write to.'
    """
    if error.errno is None or error.filename is None:
        return str(error)
    path = Path(error.filename)
    # Below a file, mkdir names the path it was asked for: the file is one of its parents.
    blocking = next((p for p in (path, *path.parents) if p.is_file()), None)
    if isinstance(error, (FileExistsError, NotADirectoryError)) and blocking is not None:
        where = "" if blocking == path else f", where a folder is needed for {path}"
        return f"{blocking} is a file{where}; pass {flag} a folder (it is created when missing)."
    if isinstance(error, PermissionError) or error.errno == errno.EROFS:
        return f"cannot write {path} ({error.strerror}); pass {flag} a folder you can write to."
    if error.errno == errno.ENOSPC:
        return f"no space left on the device of {path}; free some space or pass {flag} a folder on another device."
    return f"cannot use {path} ({error.strerror}); pass {flag} another folder."


if __name__ == "__main__":
    sys.exit(main())
