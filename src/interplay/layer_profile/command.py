"""``interplay profile``: the layer profile of a run of ``interplay train``, a Hugging Face text
model or a pretrained image model, written to ``<out>/profile/<config digest>/``.

The run folder follows :mod:`interplay.runs`, like every command's: ``config.json``,
``records.jsonl`` (the profile is one unit, whose record describes the data and the result),
``profile.csv`` (tidy: layer, depth, quantity, value, n), ``layer_quantities.png``,
``layer_similarity.png`` and ``profile.html``. The digest covers every option that changes a number
and the bytes of the weights, so the same command again finds its folder and only redraws figures
and page from ``profile.csv``; other options or retrained weights get a folder of their own.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from interplay.config import DATA_DIR_ENV, Layer, Settings, check_device, resolve_config
from interplay.layer_profile import QUANTITIES, models, plot, profile
from interplay.layer_profile.page import read_profile, result_meta, write_page
from interplay.runs import RECORDS_NAME, Records, add_run_flags, check_run, open_run, resume_layer, stored_config
from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["ProfileConfig", "add_parser", "run"]

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")
USAGE_ERROR = 2
_LABELLED = ("nc1", "mir", "hdr")


@dataclass(frozen=True)
class ProfileConfig(Settings):
    """Everything that determines a profile's numbers (``device`` and ``data_dir`` do not, and stay
    out of the digest)."""

    source: str
    model: str
    weights: str
    dataset: str | None
    text: str | None
    split: str
    samples: int
    probe_head: bool
    probe_samples: int
    layers: tuple[str, ...] | None
    quantities: tuple[str, ...] | None
    alpha: float | None
    tokens: str
    max_length: int
    seed: int
    device: str = "cpu"
    data_dir: str | None = None


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def add_parser(subparsers, parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Declare ``interplay profile`` on the ``subparsers`` of the ``interplay`` command; returns its parser.

    Example:
        >>> root = argparse.ArgumentParser(prog="interplay")
        >>> _ = add_parser(root.add_subparsers(dest="command"), argparse.ArgumentParser)
        >>> args = root.parse_args(["profile", "--vision", "efficientnet-lite0", "--probe-head"])
        >>> args.command, args.samples, args.probe_head
        ('profile', 2000, True)
    """
    parser = subparsers.add_parser(
        "profile", help="profile every layer of a network: entropy, effective rank, NC1, MIR/HDR, CKA and MI between layers",
        description="Profile the layers of one network on the same samples, in one pass: a run of interplay train "
        "(RUN_DIR, on its own data set), a local Hugging Face text model (--hf PATH, on --text) or a pretrained image "
        "model (--vision, on --dataset). Writes config.json, profile.csv, two PNG figures and profile.html into "
        "OUT/profile/<config digest>/; the same command again only redraws them.",
    )
    parser.add_argument("trained", nargs="?", metavar="RUN_DIR", help="a run folder of interplay train (config.json, checkpoint.pt)")
    parser.add_argument("--hf", metavar="PATH", help="a local Hugging Face text model folder (nothing is downloaded)")
    parser.add_argument("--vision", choices=models.VISION_MODELS, help=f"a pretrained image model ({models.VISION_EXTRA})")
    parser.add_argument("--dataset", choices=IMAGE_DATASETS, help="images for --vision (default: fashion-mnist); "
                        "a run uses its own data set")
    parser.add_argument("--text", nargs="?", const="", metavar="FILE", help="text for --hf: a UTF-8 file, or none for "
                        "CPython's pydoc_data.topics (the default)")
    parser.add_argument("--split", choices=("train", "test"), default="test", help="split of the images (default: test)")
    parser.add_argument("--samples", type=_count(2), default=2000, help="images profiled, drawn uniformly with "
                        "--seed, or the first token windows of the text (default: 2000)")
    parser.add_argument("--probe-head", action="store_true", help="use, for MIR and HDR, a logistic-regression head "
                        "fitted on the training split's final features instead of the model's own head")
    parser.add_argument("--probe-samples", type=_count(2), help="training images of the probe (default: --samples)")
    parser.add_argument("--layers", nargs="+", metavar="NAME", help="module names or glob patterns (default: the model's blocks)")
    parser.add_argument("--quantities", nargs="+", choices=QUANTITIES, metavar="Q", help=f"any of {', '.join(QUANTITIES)} "
                        "(default: all that the data allow)")
    parser.add_argument("--alpha", type=float, help="order of an extra Rényi entropy per layer")
    parser.add_argument("--tokens", choices=("mean", "first", "last"), default="mean", help="reduce token sequences by "
                        "their mean, first or last token (default: mean)")
    parser.add_argument("--max-length", type=_count(4), default=64, help="tokens per text window, special tokens "
                        "included (default: 64)")
    parser.add_argument("--seed", type=_count(0), default=0, help="seed of the samples and the probe (default: 0)")
    parser.add_argument("--batch-size", type=_count(1), default=100, help="samples per forward pass (default: 100)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--data-dir", help=f"folder of the data files (default: ${DATA_DIR_ENV})")
    add_run_flags(parser, "profile", tensorboard=False)
    return parser


def _source(args) -> tuple[str, str, str]:
    """``(kind, model, weights digest)`` of the one network asked for."""
    given = [name for name, value in (("RUN_DIR", args.trained), ("--hf", args.hf), ("--vision", args.vision)) if value]
    if len(given) != 1:
        raise InterplayValueError(f"pass exactly one network: RUN_DIR, --hf PATH or --vision NAME; got {', '.join(given) or 'none'}.")
    if args.trained:
        path = Path(args.trained).resolve()
        models.run_config(path, None)
        return "run", str(path), models.file_digest(path / "checkpoint.pt")
    if args.hf:
        path = Path(args.hf).resolve()
        if not path.is_dir():
            raise InterplayValueError(f"--hf {args.hf}: no such folder; pass a local Hugging Face model folder.")
        return "hf", str(path), models.file_digest(*models.weight_files(path))
    return "vision", args.vision, models.file_digest(models.weights_file(args.vision))


def _config(args) -> ProfileConfig:
    if args.resume:
        return _stored(args)
    source, model, weights = _source(args)
    labelled = source != "hf"
    if source == "hf" and args.dataset:
        raise InterplayValueError("--hf profiles text models, on --text; leave out --dataset.")
    if source != "hf" and args.text is not None:
        raise InterplayValueError("--text is for --hf text models; a run or --vision reads images (--dataset).")
    asked = set(args.quantities or ())
    if not labelled and (asked & set(_LABELLED) or args.probe_head):
        raise InterplayValueError("text has no labels: NC1, MIR, HDR and --probe-head need labelled images; leave them out.")
    if source == "vision" and asked & {"mir", "hdr"} and not args.probe_head:
        raise InterplayValueError("the ImageNet head's 1000 classes are not the data set's labels, so its MIR and HDR mean "
                                  "nothing; pass --probe-head to measure them with a linear probe.")
    if args.probe_samples and not args.probe_head:
        raise InterplayValueError("--probe-samples sets the training images of --probe-head; pass --probe-head too, or leave it out.")
    if args.alpha is None and "renyi_entropy" in asked:
        raise InterplayValueError("--quantities renyi_entropy needs its order: pass --alpha, e.g. --alpha 2.")
    dataset = None
    if source == "run":
        dataset = models.run_config(Path(model), None).dataset
        if args.dataset and args.dataset != dataset:
            raise InterplayValueError(f"the run was trained on {dataset}; leave out --dataset (got {args.dataset}).")
    elif source == "vision":
        dataset = args.dataset or "fashion-mnist"
    text = models.read_text(args.text or None)[1] if source == "hf" else None
    check_device(args.device)
    return ProfileConfig(
        source, model, weights, dataset, text, args.split, args.samples, args.probe_head,
        (args.probe_samples or args.samples) if args.probe_head else 0, tuple(args.layers) if args.layers else None,
        tuple(sorted(asked)) if asked else None, args.alpha, args.tokens, args.max_length, args.seed, args.device,
        args.data_dir or os.environ.get(DATA_DIR_ENV),
    )


def _stored(args) -> ProfileConfig:
    """The config stored in ``--resume RUN_DIR``, where it may run on another device or read another data folder."""
    stored = resume_layer(args.resume, "profile")
    moved = {k: v for k, v in (("device", args.device), ("data_dir", args.data_dir)) if v is not None}
    check_device(moved.get("device", "cpu"))
    return resolve_config(ProfileConfig, [stored, Layer("flags", moved)])


def _quantities(config: ProfileConfig, network: models.Network) -> list[str] | None:
    if config.quantities:
        return list(config.quantities)
    if network.tokenizer is not None:
        return [q for q in QUANTITIES if q not in _LABELLED and (q != "renyi_entropy" or config.alpha is not None)]
    if network.head == "_fc" and not config.probe_head:
        return [q for q in QUANTITIES if q not in ("mir", "hdr") and (q != "renyi_entropy" or config.alpha is not None)]
    return None


def _images(config: ProfileConfig, network: models.Network, split: str, count: int,
            batch_size: int) -> tuple[models.ImageBatches, str, int]:
    if split in network.splits:
        images, labels = network.splits[split]
    else:
        from interplay.data import load_dataset

        data = load_dataset(config.dataset, data_dir=config.data_dir, split=split)
        images, labels = data.images, data.labels
    chosen = models.choose_samples(len(labels), count, config.seed)
    described = f"{len(chosen)} of the {len(labels)} images of the {split} split of {config.dataset} (seed {config.seed})"
    batches = models.ImageBatches(images[chosen], labels[chosen], batch_size=batch_size, prepare=network.prepare)
    return batches, described, int(labels.max()) + 1


def _compute(config: ProfileConfig, *, text_file: str | None, batch_size: int) -> tuple:
    """Load the network and data, fit the probe if asked, and profile; returns the result and its description.
    ``batch_size`` does not change the numbers, so it is no part of the config."""
    if config.source == "run":
        network = models.load_run(config.model, data_dir=config.data_dir)
    elif config.source == "hf":
        network = models.load_hf(config.model)
    else:
        network = models.load_vision(config.model)
    network.model.to(config.device)
    described, probe = list(network.notes), None
    if network.tokenizer is not None:
        text, name = models.read_text(text_file)
        ids = models.text_windows(text, network.tokenizer, length=config.max_length, count=config.samples)
        loader = models.TextBatches(ids, batch_size=batch_size)
        described.append(f"{len(ids)} windows of {config.max_length} tokens of {name}, unlabelled, without padding; "
                         f"tokens reduced by their {config.tokens}")
        head = False
    else:
        loader, data, num_classes = _images(config, network, config.split, config.samples, batch_size)
        described.append(data)
        head = network.head
        if config.probe_head:
            train, data, _ = _images(config, network, "train", config.probe_samples, batch_size)
            probe, accuracy = models.fit_probe(network.model, network.head, train, num_classes=num_classes, seed=config.seed)
            described.append(f"MIR and HDR use a linear probe (logistic regression) fitted on the final features of {data} "
                             f"(training accuracy {accuracy:.4f}), in place of the model's own head {network.head!r}")
        elif network.head == "_fc":
            described.append("MIR and HDR not computed: the ImageNet head's classes are not these labels (pass --probe-head)")
    predicted: list[torch.Tensor] = []
    # The probe's predictions on the profiled images come from the profile's own forward pass.
    handle = probe.register_forward_hook(lambda _m, _i, out: predicted.append(out.argmax(1).cpu())) if probe is not None else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = profile(network.model, loader, layers=list(config.layers) if config.layers else network.layers,
                             head=head, tokens=config.tokens, quantities=_quantities(config, network), alpha=config.alpha,
                             max_samples=config.samples, seed=config.seed)
    finally:
        if handle is not None:
            handle.remove()
    for warning in caught:
        print(f"interplay: warning: {warning.message}", file=sys.stderr)
    if predicted:
        accuracy = float((torch.cat(predicted) == loader.labels).double().mean())
        described.append(f"the probe's accuracy on the {len(loader.labels)} profiled images: {accuracy:.4f}")
    return result, described


def _profile(config: ProfileConfig, args: argparse.Namespace) -> Path:
    where = {"out": args.out, "run_dir": args.run_dir, "resume": args.resume, "fresh": args.fresh}
    # Checked and made before the work, so a refused or unwritable folder fails at once; written after
    # it, so a profile that fails leaves no config behind.
    folder = check_run("profile", config, **where)
    folder.mkdir(parents=True, exist_ok=True)
    records = Records(folder / RECORDS_NAME)
    if args.fresh or "profile" not in records.finished or not (folder / "profile.csv").is_file():
        result, described = _compute(config, text_file=args.text or None, batch_size=args.batch_size)
        versions = {"torch": torch.__version__, "python": ".".join(map(str, sys.version_info[:3]))}
        open_run("profile", config, **where, metadata={"description": described, "versions": versions}, outputs=("profile.csv",))
        records = Records(folder / RECORDS_NAME)
        result.to_csv(folder / "profile.csv")
        records.append("profile", result=result_meta(result))
        records.finish("profile")
    else:
        print(f"interplay profile: {folder} holds this profile; redrawing its figures and page (--fresh computes it anew)",
              file=sys.stderr)
    result = read_profile(folder, records.rows()[-1]["result"])
    stored = stored_config(folder)
    page = write_page(folder, result, stored, plot(result, folder))
    fit = result.separation
    if fit is not None:
        print(f"law of data separation: slope {fit.slope:.4g} per layer (NC1 ×{fit.ratio:.4g}), R² {fit.r2:.4g} "
              f"over {len(fit.layers)} layers")
    print(f"profile: {folder / 'profile.csv'}\npage: {page}")
    return folder


def run(args: argparse.Namespace) -> int:
    """Run ``interplay profile`` with parsed ``args``; returns the exit status (2 for an input error, printed as one line)."""
    try:
        _profile(_config(args), args)
    except (InterplayValueError, InterplayTypeError) as error:
        print(f"interplay: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:
        flag, where = next((f, v) for f, v in (("--resume", args.resume), ("--run-dir", args.run_dir), ("--out", args.out)) if v)
        print(f"interplay: error: cannot write {error.filename or where} ({error.strerror or error}); pass {flag} a folder "
              "you can write to.", file=sys.stderr)
        return USAGE_ERROR
    return 0
