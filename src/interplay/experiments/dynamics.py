"""Training dynamics: MIR, HDR, entropies and NC1–NC4 per epoch over several seeds.

Claim (arXiv 2406.03999, direction derived): as training proceeds, MIR rises toward its value at
neural collapse and HDR falls toward 0.

    interplay experiment dynamics            # Fashion-MNIST, small CNN, 3 seeds
    interplay experiment dynamics --quick    # digits, MLP, about a minute

Writes ``records.jsonl``, ``measurements.csv``, ``dynamics.png``, ``collapse.png`` and ``report.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interplay.config import train_setting
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.experiments.runs import ExperimentConfig, append_evaluation
from interplay.runs import Records, write_csv
from interplay.training.session import Session

NAME = "dynamics"


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 15, "training epochs per seed; metrics after every epoch")


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "seeds": (0, 1), "train_eval_samples": 400}


def run(config: Config, records: Records, run_dir: Path) -> None:
    for unit, seed in records.todo(config.seeds, lambda seed: f"seed={seed}"):
        session = Session.create(config.train_config(seed))
        append_evaluation(records, unit, session, seed=seed, epoch=0)
        for epoch in range(1, config.epochs + 1):
            session.train_epoch(epoch)
            append_evaluation(records, unit, session, seed=seed, epoch=epoch)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    figures = [
        band_figure(rows, "epoch", ["accuracy", "mir", "hdr", "h_z", "h_w", "mi"], run_dir / "dynamics.png"),
        band_figure(rows, "epoch", ["nc1", "nc2_etf_distance", "nc3", "nc4"], run_dir / "collapse.png"),
    ]
    last = max(r["epoch"] for r in rows)
    final = [r for r in rows if r["epoch"] == last]
    first = [r for r in rows if r["epoch"] == 0]
    columns = ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1", "nc4"]
    return write_page(
        run_dir,
        "Training dynamics",
        ["Mean ± std over seeds. Bands in the figures are ± one std; dotted lines are the values at neural "
         "collapse (MIR_NC, log(C−1), HDR = 0). Dashed: training subset; solid: test set."],
        [("Initial (epoch 0)", *summary_table(first, ["split"], columns)), (f"Final (epoch {last})", *summary_table(final, ["split"], columns))],
        figures,
    )
