"""The ``interplay`` command: ``train`` records the information dynamics of training, ``report`` draws runs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import interplay
from interplay.config import DATA_DIR_ENV, TrainConfig, add_config_arguments, config_from_mapping, load_config_file
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["main"]

INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interplay",
        description="Matrix information (MIR, HDR, entropies) and neural collapse over supervised training.",
    )
    parser.add_argument("--version", action="version", version=f"interplay {interplay.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train a classifier and record loss, accuracy, MIR, HDR, entropies and NC1-NC4",
        description="Train a classifier and record, on training and test data, loss, accuracy, MIR, HDR, "
        "H(Z), H(W), MI and NC1-NC4, with their values at neural collapse. With no options it trains an "
        "MLP on the embedded digits data set, offline. Writes config.json, metrics.csv, checkpoint.pt and "
        "report/ (PNG figures and report.html) into the run folder.",
    )
    train.add_argument("--config", help="a .toml or .json file of options (flags given here override it)")
    train.add_argument("--out", help="run folder (default: runs/<dataset>-<model>-<config digest>)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the interrupted run in RUN_DIR with its own config")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run in the run folder")
    add_config_arguments(train)
    experiment = commands.add_parser(
        "experiment",
        help="run one of the papers' analyses (dynamics, label-smoothing, pruning, lmc, grokking, clustering)",
        description="Run an experiment into <out>/<name>/<config digest>/ (records.jsonl, measurements.csv, "
        "PNG figures, report.html). Running the same config again resumes it: finished points are kept.",
    )
    experiment.add_argument("name", help="experiment name")
    experiment.add_argument("--quick", action="store_true", help="small settings that finish in about a minute")
    experiment.add_argument("--config", help="a .toml or .json file of config values")
    experiment.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one config value (repeatable)")
    experiment.add_argument("--out", default="runs", help="parent folder of the run folders (default: runs)")
    experiment.add_argument("--run-dir", help="use this folder instead of <out>/<name>/<digest>")
    experiment.add_argument("--data-dir", help=f"folder of the data files (sets ${DATA_DIR_ENV})")
    experiment.add_argument("--fresh", action="store_true", help="discard earlier records of this config")
    report = commands.add_parser("report", help="rebuild the report of one run, or overlay several runs")
    report.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    report.add_argument("--out", help="folder for the report (default: RUN_DIR/report of the first run)")
    return parser


def _train_config(args: argparse.Namespace) -> TrainConfig:
    given = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None}
    if args.resume:
        stored = Path(args.resume) / "config.json"
        if not stored.is_file():
            raise InterplayValueError(f"cannot resume {args.resume}: it has no config.json; is it a run folder of interplay train?")
        base = config_from_mapping(json.loads(stored.read_text())["config"])
        return config_from_mapping(given | ({} if args.config is None else load_config_file(args.config)), base)
    base = config_from_mapping(load_config_file(args.config)) if args.config else TrainConfig()
    return config_from_mapping(given, base)


def _run_train(args: argparse.Namespace) -> int:
    from interplay.report import build_report
    from interplay.training.loop import train

    config = _train_config(args)
    run_dir = Path(args.resume or args.out or Path("runs") / f"{config.dataset}-{config.model}-{config.digest()}")
    try:
        train(config, run_dir, resume=bool(args.resume), overwrite=args.overwrite)
    except KeyboardInterrupt:
        print(f"\ninterplay: interrupted; every finished epoch is saved. Continue with: interplay train --resume {run_dir}", file=sys.stderr)
        return INTERRUPTED
    if _is_main_process():
        page = build_report([run_dir])
        print(f"run folder: {run_dir}\nreport: {page}")
    return 0


def _run_experiment(args: argparse.Namespace) -> int:
    from interplay.experiments import REGISTRY, experiment_config, run_experiment
    from interplay.training.experiment import parse_overrides

    if args.data_dir:
        os.environ[DATA_DIR_ENV] = args.data_dir
    values = load_config_file(args.config) if args.config else {}
    if args.name in REGISTRY:
        values |= parse_overrides(REGISTRY[args.name].Config, args.set)
    config = experiment_config(args.name, quick=args.quick, values=values)
    try:
        page = run_experiment(args.name, config, out=args.out, run_dir=args.run_dir, fresh=args.fresh, log=_log)
    except KeyboardInterrupt:
        print("\ninterplay: interrupted; finished points are saved. Run the same command again to resume.", file=sys.stderr)
        return INTERRUPTED
    print(f"report: {page}")
    return 0


def _log(line: str) -> None:
    print(f"interplay {line}", file=sys.stderr, flush=True)


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
        from interplay.report import build_report

        print(f"report: {build_report(args.run_dirs, args.out)}")
        return 0
    except (InterplayValueError, InterplayTypeError, FileNotFoundError) as error:
        print(f"interplay: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
