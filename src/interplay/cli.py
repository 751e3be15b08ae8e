"""The ``interplay`` command: ``train`` records the information dynamics of training, ``report`` draws runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from interplay.config import TrainConfig, add_config_arguments, config_from_mapping, load_config_file
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["main"]

INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interplay",
        description="Matrix information (MIR, HDR, entropies) and neural collapse over supervised training.",
    )
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


def _is_main_process() -> bool:
    import torch.distributed as dist

    return not dist.is_initialized() or dist.get_rank() == 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a usage or input error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return _run_train(args)
        from interplay.report import build_report

        print(f"report: {build_report(args.run_dirs, args.out)}")
        return 0
    except (InterplayValueError, InterplayTypeError, FileNotFoundError) as error:
        print(f"interplay: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
