"""MIR/HDR loss terms in supervised training: cross-entropy alone against CE − α·MIR + β·HDR.

Claim (PAPER.md §5.6): adding the terms to the cross-entropy improves accuracy. Every setting
uses the same data, model, optimiser, epochs and seeds; the terms are computed on the sample
pairing of each training batch (:class:`interplay.losses.InterplayLoss`).

    interplay experiment loss-supervised            # Fashion-MNIST, CNN, 4 settings × 3 seeds
    interplay experiment loss-supervised --quick    # digits, MLP

Writes ``records.jsonl``, ``measurements.csv``, ``loss_supervised.png`` and ``report.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interplay.config import setting, train_setting
from interplay.report.experiment import band_figure, summary_table, write_csv, write_page
from interplay.experiments.runs import ExperimentConfig, Records, append_evaluation
from interplay.training.session import Session

NAME = "loss-supervised"


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 8, "training epochs per run")
    weights: tuple[tuple[float, float], ...] = setting(
        ((0.0, 0.0), (0.5, 0.5), (1.0, 0.0), (0.0, 1.0)), "(α, β) weights of the -α·MIR + β·HDR terms; (0, 0) is CE alone", minimum=0
    )
    record_every: int = setting(2, "epochs between records (and the last epoch)", minimum=1)


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "weights": ((0.0, 0.0), (1.0, 1.0)), "seeds": (0, 1), "train_eval_samples": 400}


def run(config: Config, records: Records, run_dir: Path) -> None:
    for alpha, beta in config.weights:
        for seed in config.seeds:
            unit = f"alpha={alpha},beta={beta},seed={seed}"
            if unit in records.finished:
                continue
            session = Session.create(config.train_config(seed, mir_weight=alpha, hdr_weight=beta))
            setting = f"α={alpha}, β={beta}"
            for epoch in range(1, config.epochs + 1):
                session.train_epoch(epoch)
                if epoch % config.record_every == 0 or epoch == config.epochs:
                    append_evaluation(records, unit, session, setting=setting, seed=seed, epoch=epoch)
            records.finish(unit)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    last = max(r["epoch"] for r in rows)
    final = [r for r in rows if r["epoch"] == last and r["split"] == "test"]
    test = [r for r in rows if r["split"] == "test"]
    figure = band_figure(test, "epoch", ["accuracy", "loss", "mir", "hdr"], run_dir / "loss_supervised.png", group="setting", style_by=None)
    return write_page(
        run_dir,
        "MIR/HDR loss terms in supervised training",
        [f"Test metrics after {last} epochs, mean ± std over seeds; α = 0, β = 0 is cross-entropy alone. "
         "Every setting has the same budget and seeds."],
        [("Final test metrics by setting", *summary_table(final, ["setting"], ["accuracy", "loss", "mir", "hdr", "h_z", "h_w"]))],
        [figure],
    )
