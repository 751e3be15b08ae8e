"""Terminal phase of training: do MIR and HDR reach their values at neural collapse as NC1 → 0?

Claim (arXiv 2406.03999, 2409.16767): at neural collapse MIR = MIR_NC and HDR = 0. The terminal phase of
training (Papyan, Han & Donoho 2020, arXiv 2008.08186) is trained here: a balanced training
subset, no augmentation, weight decay, SGD with the learning rate × 0.1 at 1/3 and 2/3 of the
epochs, far past zero training error, with cross-entropy or MSE (half the summed squared error
to the one-hot target). Every ``record_every`` epochs, on the whole training subset and the test
set: loss, accuracy, NC1–NC4 and MIR, HDR, H(Z), H(W) in three readings: the uncentred sample
pairing (the papers'; samples whose representation is all zeros are left out of it and counted
in ``zero_rows``), the centred sample pairing (each split's mean subtracted) and the class
pairing of the centred class means with the heads. ``rho`` is the mean pairwise cosine of the
normalised uncentred class means and ``mir_rho``/``hdr_rho`` the collapse values for it
(:func:`~interplay.functional.closed_form.nc_reference`). A metric undefined at a record (NC1
of class means that coincide, as shuffled labels can make them) is NaN, and ``undefined`` says
why. Controls: the metrics at epoch 0 and
one run with shuffled training labels.

    interplay experiment collapse            # Fashion-MNIST 500/class, SmallCNN, CE and MSE, 3 seeds, 450 epochs
    interplay experiment collapse --quick    # digits, MLP, MSE, 1,000 epochs, one lr decay at 80 %

The default's length was measured: with MSE, 150 epochs (decays at 50 and 100) level off at
train NC1 0.0145 (seed 0); 300 epochs (decays at 100 and 200) reach NC1 <= 0.01 in seeds 0 and 1
but level off at 0.018 in seed 2; 450 epochs (decays at 150 and 300) bring seed 2 below 0.01.

The quick setting trades Papyan's two decays for one late decay: it is the short recipe that
reaches train NC1 <= 0.01 and centred MIR within 0.025 of MIR_NC (a test checks both).

Writes ``records.jsonl``, ``measurements.csv``, ``calibration.csv``, ``readings.png``,
``versus_nc1.png``, ``collapse.png``, ``calibration.png`` and ``report.html``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from interplay.config import Settings, setting, train_setting
from interplay.data import balanced_subset
from interplay.functional import interplay_metrics, nc_reference, neural_collapse
from interplay.functional.closed_form import mean_cosine, reference_at_cosine
from interplay.functional.collapse import NeuralCollapseResult
from interplay.functional.interplay import InterplayResult
from interplay.functional.calibration import calibration_curve
from interplay.models import build_model
from interplay.report.collapse import calibration_figure, reading_figure, versus_nc1_figure
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.experiments.runs import load_splits
from interplay.runs import Records, write_csv
from interplay.processes import Context, resolve_device
from interplay.validation import InterplayValueError

NAME = "collapse"
CALIBRATION_RANK = 10  # noise directions of the low-rank calibration curve
NEAR = 0.025  # "MIR reached MIR_NC" means within this distance


def half_squared_error(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """MSE loss as half the summed squared error to the one-hot target, averaged over the batch.

    Example:
        >>> half_squared_error(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([0, 1]))
        tensor(0.2500)
    """
    target = nn.functional.one_hot(labels, logits.shape[1]).to(logits.dtype)  # (n, C)
    return 0.5 * (logits - target).pow(2).sum(1).mean()


LOSSES = {"ce": nn.functional.cross_entropy, "mse": half_squared_error}


@dataclass(frozen=True)
class Config(Settings):
    dataset: str = train_setting("dataset", "fashion-mnist")
    model: str = train_setting("model", "cnn")
    width: int = train_setting("width")
    per_class: int = setting(500, "training images per class (a seeded balanced subset)", minimum=1)
    losses: tuple[str, ...] = setting(("mse", "ce"), "losses trained, in this order", choices=tuple(LOSSES))
    seeds: tuple[int, ...] = setting((0, 1, 2), "one run per loss and seed", minimum=0)
    shuffled_loss: str = setting("mse", "loss of the one shuffled-label control run (seed seeds[0]); '' = none",
                                 choices=("", *LOSSES))
    epochs: int = train_setting("epochs", 450)
    decay_at: tuple[float, ...] = setting((1 / 3, 2 / 3), "fractions of the epochs at which the lr is multiplied by 0.1",
                                          above=0, below=1)
    record_every: int = setting(25, "epochs between records (and epoch 0 and the last)", minimum=1)
    batch_size: int = train_setting("batch_size")
    lr: float = train_setting("lr", 0.05, "initial SGD learning rate")
    momentum: float = train_setting("momentum")
    weight_decay: float = train_setting("weight_decay")
    device: str = train_setting("device")
    data_dir: str | None = train_setting("data_dir")


QUICK = {
    "dataset": "digits", "model": "mlp", "per_class": 139, "losses": ("mse",), "seeds": (0,), "shuffled_loss": "",
    "epochs": 1000, "decay_at": (0.8,), "record_every": 100,
}


def _load(config: Config) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    train, test = load_splits(config.dataset, config.data_dir)
    chosen = balanced_subset(train.labels, config.per_class, seed=0)
    images = train.images[chosen]
    mean, std = images.mean(dim=(0, 2, 3), keepdim=True), images.std(dim=(0, 2, 3), keepdim=True)
    return {"train": ((images - mean) / std, train.labels[chosen]), "test": ((test.images - mean) / std, test.labels)}


def evaluate(model: nn.Module, data, loss_fn, num_classes: int) -> dict[str, dict[str, float]]:
    """Loss, accuracy, NC1–NC4 and the three readings of MIR/HDR on each split, in float64."""
    model.eval()
    out = {}
    with torch.no_grad():
        for split, (images, labels) in data.items():
            device = next(model.parameters()).device
            features = torch.cat([model.features(b.to(device)).double().cpu() for b in images.split(1000)])  # (n, d)
            weight, bias = model.head.weight.double().cpu(), model.head.bias.double().cpu()
            logits = features @ weight.mT + bias  # (n, C)
            undefined: list[str] = []
            nc = _measured(lambda: neural_collapse(features, labels, weight, bias=bias), undefined,
                           NeuralCollapseResult.undefined(len(labels), num_classes))
            alive = features.abs().sum(1) > 0
            readings = {
                suffix: _measured(lambda: interplay_metrics(*args, **options), undefined,
                                  InterplayResult.undefined(len(labels), num_classes, "sample", False))
                for suffix, args, options in (
                    ("", (features[alive], labels[alive], weight), {}),
                    ("_centred", (features, labels, weight), {"center": True}),
                    ("_class", (features, labels, weight), {"pairing": "class", "center": True}),
                )
            }
            rho = mean_cosine(torch.stack([features[labels == c].mean(0) for c in range(num_classes)]))
            shared = reference_at_cosine(rho, num_classes)
            row = {"loss": float(loss_fn(logits, labels)), "accuracy": float((logits.argmax(1) == labels).double().mean())}
            row |= {k: float(getattr(nc, k)) for k in ("nc1", "nc2_etf_distance", "nc2_equinorm", "nc2_equiangularity", "nc3", "nc4")}
            for suffix, result in readings.items():
                row |= {f"{k}{suffix}": float(getattr(result, k)) for k in ("mir", "hdr", "h_z", "h_w", "mi")}
            row |= {"zero_rows": int((~alive).sum()), "rho": rho, "undefined": " | ".join(undefined)}
            row |= {f"{k}_rho": float(getattr(shared, k)) if shared else math.nan for k in ("mir", "hdr", "h_z")}
            out[split] = row
    model.train()
    return out


def _measured(compute, undefined: list[str], fallback):
    """``compute()``, or ``fallback`` (NaN) with the reason kept, where the metric is undefined
    (e.g. NC1 of features whose class means coincide, as shuffled labels can produce)."""
    try:
        return compute()
    except InterplayValueError as error:
        undefined.append(str(error))
        return fallback


def _train_one(config: Config, records: Records, unit: str, data, loss_name: str, seed: int, shuffled: bool) -> None:
    device = resolve_device(config.device, Context())
    images, labels = data["train"]
    if shuffled:
        labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed + 1))]
    splits = {"train": (images, labels), "test": data["test"]}
    num_classes = int(labels.max()) + 1
    loss_fn = LOSSES[loss_name]
    torch.manual_seed(seed)
    model = build_model(config.model, tuple(images.shape[1:]), num_classes, width=config.width or None).to(device)
    optimizer = torch.optim.SGD(model.parameters(), config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    milestones = [round(f * config.epochs) for f in config.decay_at]
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    reference = {"mir_nc": float(nc_reference(num_classes).mir), "h_nc": float(nc_reference(num_classes).entropy)}
    keys = {"num_classes": num_classes, "objective": loss_name + " shuffled" * shuffled, "loss_fn": loss_name, "labels": "shuffled" if shuffled else "true", "seed": seed}
    elapsed = 0.0
    for epoch in range(config.epochs + 1):
        if epoch % config.record_every == 0 or epoch == config.epochs:
            for split, row in evaluate(model, splits, loss_fn, num_classes).items():
                records.append(unit, **keys, epoch=epoch, split=split, lr=optimizer.param_groups[0]["lr"],
                               train_time=round(elapsed, 2), **row, **reference)
        if epoch == config.epochs:
            break
        began = time.perf_counter()
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        for part in order.split(config.batch_size):
            loss = loss_fn(model(images[part].to(device)), labels[part].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        schedule.step()
        elapsed += time.perf_counter() - began


def run(config: Config, records: Records, run_dir: Path) -> None:
    data = _load(config)
    # Seed by seed, the control after the first, so that an interrupted run has every kind of run.
    plan = [(loss, seed, False) for seed in config.seeds for loss in config.losses]
    if config.shuffled_loss:
        plan.insert(len(config.losses), (config.shuffled_loss, config.seeds[0], True))
    for unit, (loss_name, seed, shuffled) in records.todo(plan, lambda loss, seed, shuffled: f"loss={loss},seed={seed}" + ",shuffled" * shuffled):
        _train_one(config, records, unit, data, loss_name, seed, shuffled)


def first_epochs(rows: list[dict]) -> list[dict]:
    """Per run: the first epoch with train NC1 <= 0.01 and with centred train MIR within ``NEAR`` of MIR_NC."""
    out = []
    for unit in sorted({r["unit"] for r in rows}):
        path = sorted((r for r in rows if r["unit"] == unit and r["split"] == "train"), key=lambda r: r["epoch"])
        nc1 = next((r["epoch"] for r in path if r["nc1"] <= 0.01), None)
        near = next((r["epoch"] for r in path if abs(r["mir_centred"] - r["mir_nc"]) <= NEAR), None)
        out.append({"run": unit, "first_epoch_nc1_le_0.01": nc1, f"first_epoch_mir_centred_within_{NEAR}": near,
                    "final_train_nc1": path[-1]["nc1"], "final_train_mir_centred": path[-1]["mir_centred"]})
    return out


def calibration(num_classes: int, cosines: dict[str, float]) -> list[dict]:
    """Calibration rows for the experiment's class count: ETF means, and for each objective the means
    of the cosine its runs reached (rows marked with the ``objective``; a geometry no run has is not drawn).

    Example:
        >>> rows = calibration(10, {"mse": 0.3})
        >>> sorted({(r["geometry"], r.get("objective")) for r in rows})
        [('cosine=0.3', 'mse'), ('etf', None)]
    """
    rows = []
    for rank in (None, CALIBRATION_RANK):
        rows += calibration_curve(num_classes, rank=rank)
        for objective, cosine in cosines.items():
            rows += [r | {"objective": objective} for r in calibration_curve(num_classes, cosine=round(cosine, 3), rank=rank)]
    return rows


def final_cosines(rows: list[dict]) -> dict[str, float]:
    """Per objective: the mean over seeds of the final training ρ (mean cosine of the uncentred class
    means), where it is a geometry class means can have (above −1/(C−1)).

    Example:
        >>> final_cosines([{"epoch": 9, "split": "train", "labels": "true", "objective": "ce", "rho": r, "num_classes": 10}
        ...                for r in (0.2, 0.4)])
        {'ce': 0.30000000000000004}
    """
    last = max(r["epoch"] for r in rows)
    final = [r for r in rows if r["epoch"] == last and r["split"] == "train" and r["labels"] == "true"]
    cosines = {}
    for objective in sorted({r["objective"] for r in final}):
        values = [r["rho"] for r in final if r["objective"] == objective]
        mean = sum(values) / len(values)
        if mean > -1 / (final[0]["num_classes"] - 1):
            cosines[objective] = mean
    return cosines


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    num_classes = rows[0]["num_classes"]
    last = max(r["epoch"] for r in rows)
    curves = calibration(num_classes, final_cosines(rows))
    curves += [r for c in (10, 100) if c != num_classes for rank in (None, CALIBRATION_RANK)
               for r in calibration_curve(c, rank=rank, per_class=20 if c < 50 else 5)]
    write_csv(curves, run_dir / "calibration.csv")
    figures = [
        reading_figure(rows, run_dir / "readings.png"),
        versus_nc1_figure(rows, [c for c in curves if c["num_classes"] == num_classes], run_dir / "versus_nc1.png"),
        band_figure(rows, "epoch", ["nc1", "nc2_etf_distance", "nc3", "nc4"], run_dir / "collapse.png", group="objective"),
        calibration_figure([c for c in curves if c["geometry"] == "etf"], run_dir / "calibration.png"),
    ]
    found = first_epochs(rows)
    write_csv(found, run_dir / "first_epochs.csv")
    columns = ["accuracy", "nc1", "mir", "mir_centred", "mir_class", "hdr", "hdr_centred", "hdr_class", "rho", "mir_rho", "hdr_rho"]
    header = list(found[0])
    body = [["" if e[h] is None else (f"{e[h]:.4g}" if isinstance(e[h], float) else str(e[h])) for h in header] for e in found]
    return write_page(
        run_dir,
        "Terminal phase of training: MIR and HDR at collapse",
        ["Three readings: mir/hdr = uncentred sample pairing (papers'), *_centred = centred sample pairing, "
         "*_class = class pairing of centred class means with the heads. Dotted black: centred collapse values "
         "(MIR_NC, HDR = 0); dotted coloured: collapse values for the measured mean cosine rho of the uncentred class "
         "means. Calibration curves: simplex-ETF class means, and for each objective class means of the cosine rho "
         "its runs reached (in the objective's colour), plus isotropic or rank-10 noise."],
        [("Initial (epoch 0), mean ± std over seeds", *summary_table([r for r in rows if r["epoch"] == 0], ["objective", "split"], columns)),
         (f"Final (epoch {last}), mean ± std over seeds", *summary_table([r for r in rows if r["epoch"] == last], ["objective", "split"], columns)),
         ("When each run got there", header, body)],
        figures,
    )

