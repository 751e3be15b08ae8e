"""Label smoothing: how the smoothing factor changes MIR, HDR and accuracy.

Claim (arXiv 2406.03999): the papers relate the smoothing factor to MIR/HDR and accuracy; the
direction is not stated in what could be read, so this experiment only measures.

    interplay experiment label-smoothing            # Fashion-MNIST, CNN, 4 factors × 2 seeds
    interplay experiment label-smoothing --quick    # digits, MLP

Writes ``records.jsonl``, ``measurements.csv``, ``final.png``, ``curves.png`` and ``report.html``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt

from interplay.config import setting, train_setting
from interplay.report.experiment import band_figure, mean_std, summary_table, write_page
from interplay.report.plots import save_figure
from interplay.experiments.runs import ExperimentConfig, append_evaluation
from interplay.runs import Records, write_csv
from interplay.training.session import Session

NAME = "label-smoothing"


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 8, "training epochs per run")
    smoothing: tuple[float, ...] = setting((0.0, 0.1, 0.2, 0.4), "label-smoothing factors compared", minimum=0, below=1)
    seeds: tuple[int, ...] = setting((0, 1), "seeds per factor", minimum=0)
    record_every: int = setting(2, "epochs between records (and the last epoch)", minimum=1)


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "smoothing": (0.0, 0.3), "seeds": (0,), "train_eval_samples": 400}


def run(config: Config, records: Records, run_dir: Path) -> None:
    grid = itertools.product(config.smoothing, config.seeds)
    for unit, (smoothing, seed) in records.todo(grid, lambda smoothing, seed: f"smoothing={smoothing},seed={seed}"):
        session = Session.create(config.train_config(seed, label_smoothing=smoothing))
        append_evaluation(records, unit, session, smoothing=smoothing, seed=seed, epoch=0)
        for epoch in range(1, config.epochs + 1):
            session.train_epoch(epoch)
            if epoch % config.record_every == 0 or epoch == config.epochs:
                append_evaluation(records, unit, session, smoothing=smoothing, seed=seed, epoch=epoch)


def _final_figure(final: list[dict], path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    test = [r for r in final if r["split"] == "test"]
    for axis, metric in zip(axes, ("mir", "hdr")):
        for s in sorted({r["smoothing"] for r in test}):
            group = [r for r in test if r["smoothing"] == s]
            (mx, sx), (my, sy) = mean_std([r[metric] for r in group]), mean_std([r["accuracy"] for r in group])
            axis.errorbar(mx, my, xerr=sx, yerr=sy, marker="o", capsize=3, label=f"smoothing {s}")
        axis.set_xlabel(f"final test {metric.upper()}")
        axis.set_ylabel("final test accuracy")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    return save_figure(fig, path)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    last = max(r["epoch"] for r in rows)
    final = [r for r in rows if r["epoch"] == last]
    test_rows = [r for r in rows if r["split"] == "test"]
    figures = [
        _final_figure(final, run_dir / "final.png"),
        band_figure(test_rows, "epoch", ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"], run_dir / "curves.png", group="smoothing", style_by=None),
    ]
    table = summary_table(final, ["split", "smoothing"], ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"])
    return write_page(
        run_dir,
        "Label smoothing",
        [f"Final values (epoch {last}), mean ± std over seeds. Curves show the test set, one colour per smoothing factor."],
        [("Final metrics by smoothing factor", *table)],
        figures,
    )
