"""The random-feature floor: MIR, HDR, H(Z) and H(W) of each experiment's own network at initialisation.

For every experiment whose figures draw the information metrics, the untrained network of each
seed is measured by the experiment's own code path, on the data, splits, evaluated samples, model,
width and class count of the archived run (its ``config.json``): :class:`Session` experiments via
``Session.create`` and :func:`append_evaluation` (loss-supervised with the session options of its
runs), LMC with the batch-norm statistics recomputed as at every point of its paths, clustering by
its ``_measure``, collapse by its ``evaluate`` (the uncentred and centred readings), FixMatch by
``probe`` on the test batches its run evaluates, CMA by its ``_scores`` (image features against the
text features of their classes), and grokking from the step-0 rows already in its CSV. The seeds
are the run's, topped up to 3 where the run had fewer (the untrained network does not depend on
the smoothing factor, the pruning variant, the loss terms or the label count). Writes
``<experiment>/floor.csv``.

Run from the repository root, one process on the CPU (about 5 minutes on 2 busy cores):
    INTERPLAY_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python docs/results/floor.py
    .venv/bin/python docs/results/floor.py --summary    # the page's sentences from the floor.csv files
"""
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from interplay.experiments import (
    clustering,
    cma,
    cma_setup,
    collapse,
    experiment_config,
    lmc,
    loss_supervised,
    semi_supervised,
)
from interplay.experiments.grokking import MODELS
from interplay.experiments.runs import append_evaluation, load_splits
from interplay.models import build_model
from interplay.probing import probe
from interplay.prompt_learning import PromptLearner
from interplay.training.session import Session, TensorBatches
from interplay.vision_language import VisionLanguage, minilm_text_features

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from recompute import rows, values

COLUMNS = ["experiment", "seed", "split", "n", "d", "num_classes", "mir", "hdr", "h_z", "h_w",
           "mir_centred", "hdr_centred", "h_z_centred"]
MIN_SEEDS = 3

__all__ = ["FOLDERS", "main", "summary"]


class _Collected(list):
    """Stands in for :class:`interplay.runs.Records`: keeps the appended rows in memory."""

    def append(self, unit: str, **row) -> None:
        super().append(row)


def _config(folder: str, name: str, *, retired: tuple[str, ...] = (), **changes):
    """The archived config without the ``retired`` keys that today's experiment no longer reads, with ``changes``."""
    stored = {k: v for k, v in json.loads((HERE / folder / "config.json").read_text())["config"].items() if k not in retired}
    data_dir = os.environ.get("INTERPLAY_DATA_DIR")
    if not data_dir:
        raise SystemExit("set INTERPLAY_DATA_DIR to the folder holding the Fashion-MNIST files")
    return experiment_config(name, values=stored | changes | {"device": "cpu", "data_dir": data_dir})


def _seeds(run_seeds) -> list[int]:
    seeds = sorted({int(s) for s in run_seeds})
    return seeds + [s for s in range(max(seeds) + 1, max(seeds) + 1 + MIN_SEEDS - len(seeds))] if len(seeds) < MIN_SEEDS else seeds


def _row(experiment: str, seed: int, split: str, d: int, num_classes: int, measured: dict) -> dict:
    return {"experiment": experiment, "seed": seed, "split": split, "d": d, "num_classes": num_classes} | {
        k: measured.get(k, "") for k in COLUMNS if k not in ("experiment", "seed", "split", "d", "num_classes")}


def session_floor(folder: str, name: str, *, recompute_batch_norm: bool = False, retired: tuple[str, ...] = (),
                  options=lambda config: {}) -> list[dict]:
    """The untrained network of each seed, evaluated as :func:`append_evaluation` does in the run;
    ``options(config)`` are the run's further arguments of ``train_config``."""
    config = _config(folder, name, retired=retired)
    out = []
    for seed in _seeds(config.seeds):
        session = Session.create(config.train_config(seed, **options(config)))
        if recompute_batch_norm:  # every point of an LMC path is evaluated with recomputed statistics
            lmc._recompute_batch_norm(session.model, session, config.bn_samples)
        collected = _Collected()
        append_evaluation(collected, "floor", session)
        out += [_row(folder, seed, r["split"], session.model.head.in_features, session.num_classes, r) for r in collected]
    return out


def loss_supervised_options(config) -> dict:
    """The session options of a loss-supervised run, for cross-entropy alone: the terms change the
    loss, not the initialisation."""
    return {"per_class": config.per_class, "schedule": config.schedule, **loss_supervised.parse_setting("ce")}


def semi_supervised_floor(folder: str) -> list[dict]:
    """The untrained model of each seed on the test batches the FixMatch run evaluates. The run
    evaluates its EMA copy, which equals the model until the first step."""
    config = _config(folder, "semi-supervised")
    train, test = semi_supervised._data(config)
    mean, std = train.channel_stats()
    std = torch.where(std > 0, std, torch.ones_like(std))
    chosen = torch.arange(len(test.labels))[: config.test_samples or None]
    batches = TensorBatches(test.standardize(mean, std), test.labels, chosen, 1000, "cpu")
    out = []
    for seed in _seeds(config.seeds):
        torch.manual_seed(seed)  # as semi_supervised.run builds each seed's model
        model = build_model(config.model, tuple(train.images.shape[1:]), train.num_classes, width=config.width or None)
        out.append(_row(folder, seed, "test", model.head.in_features, train.num_classes, probe(model, batches).as_row()))
    return out


def _initial_text(config, names: list[str]):
    """The text features of the classes ``names`` at the start of few-shot training, as a function of
    the seed: the prompt learner's context reset with it (``tune=prompt``), or the hand-written prompts."""
    if config.tune == "image":
        prompts = minilm_text_features([config.template.format(n) for n in names])
        return lambda seed: prompts
    learner = PromptLearner.minilm(names, config.n_ctx)

    def reset(seed: int) -> torch.Tensor:
        learner.reset(seed)
        with torch.no_grad():
            return learner().float()
    return reset


def cma_floor(folder: str, **changes) -> list[dict]:
    """The untrained image encoder (drawn with the seed) against the text features at the start of
    few-shot training, on the test images of the few-shot classes."""
    config = _config(folder, "cma", **changes)
    splits = load_splits(config.dataset, config.data_dir)
    train, test = cma_setup.few_shot_classes(config, *splits)
    samples = config.test_samples or len(test.labels)
    images, labels = test.images[:samples], test.labels[:samples]
    prepare = cma_setup._standardizer(cma_setup._pretraining_splits(config, *splits)[0])
    text_at = _initial_text(config, train.classes)
    out = []
    for seed in _seeds(config.seeds):
        text = text_at(seed)
        torch.manual_seed(seed)
        model = VisionLanguage(build_model("cnn", tuple(images.shape[1:]), text.shape[1]), text, cma_setup.PRETRAIN_SCALE, prepare)
        measured = cma._scores(model.features(images), labels, text, cma_setup.PRETRAIN_SCALE)
        out.append(_row(folder, seed, "test", text.shape[1], train.num_classes, measured) | {"n": len(labels)})
    return out


def clustering_floor(folder: str = "clustering") -> list[dict]:
    """H(Z) and H(W) of the untrained network on the run's seeded test subset, by the run's own measure."""
    config = _config(folder, "clustering")
    out = []
    for seed in _seeds(config.seeds):
        session = Session.create(config.train_config(seed))
        chosen = torch.randperm(len(session.test_set.labels), generator=torch.Generator().manual_seed(seed))[: config.samples]
        collected = _Collected()
        clustering._measure(session, chosen, collected, "floor", seed=seed, epoch=0)
        measured = next(r for r in collected if r["kind"] == "global")
        row = _row(folder, seed, "test", session.model.head.in_features, session.num_classes, measured)
        out.append(row | {"n": len(chosen)})
    return out


def collapse_floor(folder: str = "collapse/default") -> list[dict]:
    """The untrained network of each seed (true labels) in the collapse experiment's three readings."""
    config = _config(folder, "collapse")
    data = collapse._load(config)
    num_classes = int(data["train"][1].max()) + 1
    out = []
    for seed in _seeds(values(f"{folder}/measurements.csv", "seed", epoch=0, labels="true")):
        torch.manual_seed(seed)  # as collapse._train_one builds its model
        model = build_model(config.model, tuple(data["train"][0].shape[1:]), num_classes, width=config.width or None)
        for split, measured in collapse.evaluate(model, data, collapse.LOSSES["ce"], num_classes).items():
            n = len(data[split][1]) - measured["zero_rows"]
            out.append(_row(folder, seed, split, model.head.in_features, num_classes, measured) | {"n": n})
    return out


def grokking_floor(folder: str = "grokking") -> list[dict]:
    """The step-0 rows of the grokking CSV: the run measured its untrained networks itself."""
    config = json.loads((HERE / folder / "config.json").read_text())["config"]
    out = []
    for name in config["models"]:
        d = MODELS[name](config["p"]).head.in_features
        for r in rows(f"{folder}/measurements.csv", model=name, step=0):
            for split in ("train", "test"):
                measured = {k: r.get(f"{split}_{k}", "") for k in COLUMNS}
                out.append(_row(f"{folder}/{name}", int(r["seed"]), split, d, config["p"], measured | {"n": config["information_samples"]}))
    return out


FOLDERS = {
    "dynamics": lambda: session_floor("dynamics", "dynamics"),
    "label-smoothing": lambda: session_floor("label-smoothing", "label-smoothing"),
    "pruning": lambda: session_floor("pruning", "pruning"),
    "lmc": lambda: session_floor("lmc", "lmc", recompute_batch_norm=True),
    "clustering": clustering_floor,
    "collapse/default": collapse_floor,
    "grokking": grokking_floor,
    # the Fashion-MNIST run keeps the (α, β) pairs of its earlier protocol, which today's settings replaced
    "loss-supervised": lambda: session_floor("loss-supervised", "loss-supervised", retired=("weights",), options=loss_supervised_options),
    "loss-supervised/terminal": lambda: session_floor("loss-supervised/terminal", "loss-supervised", options=loss_supervised_options),
    **{folder: (lambda folder=folder: semi_supervised_floor(folder))
       for folder in ("semi-supervised", "semi-supervised/long-250", "semi-supervised/long-250-seeds-1-2")},
    "cma": lambda: cma_floor("cma"),
    # the earlier protocol: the image encoder tuned on all classes after pretraining on MNIST alone
    "cma/earlier-image-tuning": lambda: cma_floor("cma/earlier-image-tuning", base_classes=[], tune="image"),
}


def _mean_sd(x) -> str:
    x = np.asarray(x, dtype=float)
    return f"{x.mean():.3f} ± {x.std(ddof=1):.3f}"


# Per experiment: the trained reading set beside its floor (csv, filters, label), test split unless named.
TRAINED = {
    "dynamics": [("dynamics/measurements.csv", {"epoch": 15}, "epoch 15")],
    "label-smoothing": [("label-smoothing/measurements.csv", {"epoch": 8, "smoothing": s}, f"epoch 8, smoothing {s}") for s in (0.0, 0.4)],
    "pruning": [("pruning/measurements.csv", {"variant": "one-shot body", "sparsity": 0.0}, "dense, trained"),
                ("pruning/measurements.csv", {"variant": "one-shot all", "sparsity": 0.99}, "one-shot all at sparsity 0.99")],
    "lmc": [("lmc/measurements.csv", {"spawn": "independent", "alpha": 0.0}, "trained endpoints"),
            ("lmc/measurements.csv", {"spawn": "independent", "alpha": 0.5}, "midpoint of independent pairs")],
    "clustering": [("clustering/measurements.csv", {"epoch": 10}, "epoch 10")],
    "collapse/default": [("collapse/default/measurements.csv", {"epoch": 450, "objective": o, "split": "train"}, f"epoch 450, {o}, train")
                         for o in ("ce", "mse")],
    "loss-supervised/terminal": [("loss-supervised/terminal/measurements.csv", {"epoch": 1000, "setting": s}, f"epoch 1000, {s}")
                                 for s in ("ce", "mir=0.1,hdr=0.1", "mir=1")],
    "loss-supervised": [("loss-supervised/measurements.csv", {"epoch": 8, "setting": s}, f"epoch 8, {s}")
                        for s in ("α=0.0, β=0.0", "α=0.5, β=0.5", "α=1.0, β=0.0")],
    "semi-supervised": [("semi-supervised/measurements.csv", {"step": 400, "labels": k, "setting": s}, f"{k} labels, step 400, {s}")
                        for k in (40, 250) for s in ("α=0.0, β=0.0", "α=0.5, β=0.5")],
    "cma": [("cma/measurements.csv", {"shots": k, "setting": s}, f"{k} shots, {s}") for k in (1, 16) for s in ("λ=0.0", "λ=0.5")],
    "cma/earlier-image-tuning": [("cma/earlier-image-tuning/measurements.csv", {"shots": k, "setting": s}, f"{k} shots, {s}")
                                 for k in (1, 16) for s in ("λ=0.0", "λ=0.5")],
}


def summary() -> list[str]:
    """One line per experiment and metric: the floor (mean ± sample std over seeds) and the trained values."""
    lines = []
    for folder, trained in TRAINED.items():
        split = trained[0][1].get("split", "test")
        for metric in ("mir", "hdr", "h_z", "mir_centred", "hdr_centred"):
            floor = values(f"{folder}/floor.csv", metric, split=split)
            if np.isnan(floor).all():
                continue
            found = [f"{label} {_mean_sd(values(path, metric, **(keys | ({'split': split} if 'split' in first else {}))))}"
                     for path, keys, label in trained if metric in (first := rows(path, **keys)[0])]
            lines.append(f"{folder} {split} {metric}: floor {_mean_sd(floor)} ({len(floor)} seeds); " + "; ".join(found))
    for name in ("transformer", "mlp"):
        last = max(float(r["step"]) for r in rows("grokking/measurements.csv", model=name))
        for metric in ("train_mir", "test_mir", "train_mir_centred", "test_hdr"):
            floor = values("grokking/measurements.csv", metric, model=name, step=0)
            final = values("grokking/measurements.csv", metric, model=name, step=last)
            lines.append(f"grokking {name} {metric}: floor (step 0) {_mean_sd(floor)}; step {last:g} {_mean_sd(final)}")
    return lines


def main(names: list[str]) -> None:
    if names == ["--summary"]:
        print("\n".join(summary()))
        return
    for folder in names or FOLDERS:
        found = FOLDERS[folder]()
        with open(HERE / folder / "floor.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            writer.writerows(found)
        print("wrote", HERE / folder / "floor.csv", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
