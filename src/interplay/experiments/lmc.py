"""Linear mode connectivity (instability analysis): do MIR and HDR mark the loss barrier between two networks?

Claim (arXiv 2406.03999): the papers follow MIR/HDR along the linear path between two solutions. The
protocol is the instability analysis of Frankle et al. 2020 (arXiv 1912.05671, §2): a parent is
trained from a seeded initialisation; after ``k`` optimiser steps (the *spawn step*) two children
copy its weights and optimiser state and train on, each with its own data order, to the same
total length. As a positive control, two networks from independent initialisations and data
orders are trained the full length. Along each pair's path ``(1-α)·θ_A + α·θ_B`` the networks are
evaluated at evenly spaced α, with batch-norm statistics recomputed on training images
(``torch.optim.swa_utils.update_bn``).

Per path, the loss (error) *barrier* is the largest excess of the loss (error) over the straight
line between the endpoints' values; Frankle et al.'s *instability* is the largest error minus the
mean of the endpoints' errors. The *MIR dip* is the largest shortfall of MIR below its straight
line, the *HDR rise* the largest excess of HDR above its line. Spearman and Pearson correlations
across paths (spawn steps and seeds, with and without the control) say whether the dips track the
barriers.

Spawn points are optimiser steps (``spawn_iterations``) plus whole epochs (``spawn_epochs``, times
the steps per epoch: 469 for Fashion-MNIST at batch 128).

    interplay experiment lmc            # Fashion-MNIST, CNN of width 8, 2 epochs, spawn steps 0-200 and 1 epoch
    interplay experiment lmc --quick    # digits, the same CNN, seconds

Writes ``records.jsonl``, ``measurements.csv``, ``barriers.csv``, ``correlations.csv``, ``path.png``
(every path), ``path_spawned.png`` (the spawned pairs on their own scale), ``barrier.png``,
``dip_vs_barrier.png`` and ``report.html``.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from scipy import stats
from torch import nn
from torch.optim.swa_utils import update_bn

from interplay.config import setting, train_setting
from interplay.experiments.runs import ExperimentConfig, append_evaluation
from interplay.runs import Records, write_csv
from interplay.report.experiment import mean_std, save_panels, summary_table, write_page
from interplay.report.labels import title
from interplay.report.plots import FONT
from interplay.training.session import Session, TensorBatches
from interplay.validation import InterplayValueError

import matplotlib.pyplot as plt  # noqa: E402  (after interplay.report.plots chose the Agg backend)

NAME = "lmc"
CONTROL = "independent"  # the ``spawn`` of the control pair
CHILD_SEEDS = (1000, 2000)  # added to the seed: the children's data orders
CONTROL_SEEDS = (3000, 4000)  # added to the seed: the control networks' initialisations and data orders
SMALL = 1e-3  # figures draw barriers and dips linearly below this, logarithmically above
MEASURES = ("loss_barrier", "error_barrier", "error_instability", "mir_dip", "hdr_rise")
WORDS = {"loss_mid": "loss above its line at α = ½", "mir_mid": "MIR below its line at α = ½", "hdr_mid": "HDR above its line at α = ½"}
# (information measure, barrier measure) pairs correlated across paths
PAIRS = (("mir_dip", "loss_barrier"), ("mir_dip", "error_barrier"), ("hdr_rise", "loss_barrier"), ("hdr_rise", "error_barrier"),
         ("mir_mid", "loss_mid"), ("hdr_mid", "loss_mid"))


@dataclass(frozen=True)
class Config(ExperimentConfig):
    width: int = train_setting("width", 8, "base channels of the CNN (hidden units of the MLP); 0 = model default")
    epochs: int = train_setting("epochs", 2, "total epochs of every network, counted from initialisation")
    spawn_iterations: tuple[int, ...] = setting((0, 25, 50, 100, 200), "optimiser steps of shared training before the children split", minimum=0)
    spawn_epochs: tuple[int, ...] | None = setting((1,), "more spawn points in whole epochs (times the steps per epoch), each < epochs; none for steps only", minimum=0)
    control: bool = setting(True, "also evaluate the path between two networks of independent initialisations and data orders")
    points: int = setting(9, "evaluated points on each path, endpoints included", minimum=2)
    bn_samples: int = setting(2000, "training images (a seeded subset) that recompute the batch-norm statistics at each point; 0 = all", minimum=0)
    seeds: tuple[int, ...] = setting((0, 1, 2), "parent seeds; the children's data orders use seed + 1000 and + 2000, the control seed + 3000 and + 4000", minimum=0)
    train_eval_samples: int = train_setting("train_eval_samples", 1000, "training samples evaluated per point")

    def check(self) -> None:
        if any(k >= self.epochs for k in self.spawn_epochs or ()):
            raise InterplayValueError(
                f"spawn_epochs must each be below epochs={self.epochs}; got {list(self.spawn_epochs)}. "
                f"Raise --epochs or drop the late spawn points."
            )

    def spawn_steps(self, steps_per_epoch: int) -> list[int]:
        """Every spawn point in optimiser steps, ascending; refuses one at or past the end of training.

        Example:
            >>> Config(spawn_iterations=(0, 50), spawn_epochs=(1,)).spawn_steps(469)
            [0, 50, 469]
        """
        steps = sorted(set(self.spawn_iterations) | {k * steps_per_epoch for k in self.spawn_epochs or ()})
        total = self.epochs * steps_per_epoch
        if steps[-1] >= total:
            raise InterplayValueError(
                f"spawn_iterations must each be below the {total} steps of training ({self.epochs} epochs of "
                f"{steps_per_epoch}); got {list(self.spawn_iterations)}. Drop the late ones or raise --epochs."
            )
        return steps


QUICK = {
    "dataset": "digits", "epochs": 3, "spawn_iterations": (0, 4), "spawn_epochs": (1,), "points": 5, "seeds": (0, 1),
    "bn_samples": 0, "train_eval_samples": 300,
}


def train_steps(session: Session, start: int, stop: int) -> None:
    """Train ``session`` over its optimiser steps ``start`` to ``stop - 1`` (counted from initialisation),
    epoch by epoch at the scheduled learning rates and in each epoch's data order."""
    per_epoch = session.steps_per_epoch
    for epoch in range(start // per_epoch + 1, math.ceil(stop / per_epoch) + 1):
        first = (epoch - 1) * per_epoch
        session.train_epoch(epoch, steps=range(max(start, first) - first, min(stop, first + per_epoch) - first))


def snapshots(session: Session, steps: list[int]) -> dict[int, dict]:
    """Model and optimiser states of ``session`` after each of ``steps`` optimiser steps (trained up to the last)."""
    states, done = {}, 0
    for k in sorted(steps):
        train_steps(session, done, k)
        done = k
        states[k] = copy.deepcopy({"model": session.model.state_dict(), "optimizer": session.optimizer.state_dict()})
    return states


def network(config: Config, seed: int, stop: int, state: dict | None = None, start: int = 0) -> nn.Module:
    """A network trained up to step ``stop`` in the data order of ``seed``: a child continues from
    ``state`` at step ``start``; without ``state`` it starts from the initialisation of ``seed``."""
    session = Session.create(config.train_config(seed))
    if state is not None:
        session.model.load_state_dict(state["model"])
        session.optimizer.load_state_dict(state["optimizer"])
    train_steps(session, start, stop)
    return session.model


def _interpolate(a: nn.Module, b: nn.Module, alpha: float) -> nn.Module:
    model = copy.deepcopy(a)
    state_b = b.state_dict()
    mixed = {k: (1 - alpha) * v + alpha * state_b[k] if v.is_floating_point() else v for k, v in a.state_dict().items()}
    model.load_state_dict(mixed)
    return model


def _recompute_batch_norm(model: nn.Module, session: Session, samples: int) -> None:
    """Batch-norm statistics of the interpolated weights: one cumulative pass over a seeded training subset."""
    order = torch.randperm(len(session.train_set.labels), generator=torch.Generator().manual_seed(session.config.seed))
    loader = TensorBatches(session.images["train"], session.train_set.labels, order[: samples or None], 500, session.device)
    update_bn(loader, model, device=session.device)


def _evaluate_path(config: Config, records: Records, unit: str, parent: Session, pair: list[nn.Module], **keys) -> None:
    for i in range(config.points):
        alpha = i / (config.points - 1)
        model = _interpolate(*pair, alpha)
        _recompute_batch_norm(model, parent, config.bn_samples)
        append_evaluation(records, unit, parent, model, **keys, alpha=round(alpha, 6))
    records.finish(unit)


def run(config: Config, records: Records, run_dir: Path) -> None:
    for seed in config.seeds:
        parent = Session.create(config.train_config(seed))
        total = config.epochs * parent.steps_per_epoch
        todo = [k for k in config.spawn_steps(parent.steps_per_epoch) if f"spawn={k},seed={seed}" not in records.finished]
        for k, state in snapshots(parent, todo).items():
            pair = [network(config, seed + offset, total, state, k) for offset in CHILD_SEEDS]
            _evaluate_path(config, records, f"spawn={k},seed={seed}", parent, pair, spawn=k, seed=seed)
        if config.control and f"{CONTROL},seed={seed}" not in records.finished:
            pair = [network(config, seed + offset, total) for offset in CONTROL_SEEDS]
            _evaluate_path(config, records, f"{CONTROL},seed={seed}", parent, pair, spawn=CONTROL, seed=seed)


def _above_line(path: list[dict], column: str, sign: float = 1.0) -> list[float]:
    """Excess of ``sign·column`` over the straight line between the path's endpoints, at each point."""
    first, last = path[0], path[-1]
    return [sign * (r[column] - ((1 - r["alpha"]) * first[column] + r["alpha"] * last[column])) + 0.0 for r in path]  # + 0.0: no -0.0


def path_order(spawn) -> tuple:
    """Sort key of a ``spawn`` value: spawn steps ascending, the control last."""
    return (1, 0) if spawn == CONTROL else (0, spawn)


def barriers(rows: list[dict]) -> list[dict]:
    """Barriers, instability, MIR dip and HDR rise of each path (spawn, seed, split), and the signed
    departures from the line at the point nearest α = ½ (positive in the direction of a barrier)."""
    out = []
    for spawn, seed, split in sorted({(r["spawn"], r["seed"], r["split"]) for r in rows}, key=lambda k: (path_order(k[0]), k[1], k[2])):
        path = sorted((r for r in rows if (r["spawn"], r["seed"], r["split"]) == (spawn, seed, split)), key=lambda r: r["alpha"])
        errors = [1 - r["accuracy"] for r in path]
        middle = min(range(len(path)), key=lambda i: abs(path[i]["alpha"] - 0.5))
        excess = {name: _above_line(path, column, sign) for name, column, sign in
                  (("loss", "loss", 1.0), ("error", "accuracy", -1.0), ("mir", "mir", -1.0), ("hdr", "hdr", 1.0))}
        out.append({
            "spawn": spawn, "seed": seed, "split": split,
            "loss_barrier": max(excess["loss"]), "error_barrier": max(excess["error"]),
            "error_instability": max(errors) - (errors[0] + errors[-1]) / 2,
            "mir_dip": max(excess["mir"]), "hdr_rise": max(excess["hdr"]),
            **{f"{name}_mid": values[middle] for name, values in excess.items()},
            "end_accuracy": (path[0]["accuracy"] + path[-1]["accuracy"]) / 2, "end_mir": (path[0]["mir"] + path[-1]["mir"]) / 2,
        })
    return out


def correlations(found: list[dict]) -> list[dict]:
    """Spearman and Pearson correlation across paths of the MIR dip and HDR rise with the barriers (and
    of their signed midpoint departures), per split, over all paths and over the spawned pairs alone
    (NaN where a side is constant)."""
    out = []
    for split in sorted({r["split"] for r in found}):
        for paths in ("all", "spawned"):
            chosen = [r for r in found if r["split"] == split and (paths == "all" or r["spawn"] != CONTROL)]
            for metric, barrier in PAIRS:
                x, y = [r[barrier] for r in chosen], [r[metric] for r in chosen]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a constant side gives NaN, which is the answer
                    spearman = stats.spearmanr(x, y) if len(x) > 2 else (math.nan, math.nan)
                    pearson = stats.pearsonr(x, y) if len(x) > 2 else (math.nan, math.nan)
                out.append({"split": split, "paths": paths, "metric": metric, "barrier": barrier, "n": len(x),
                            "spearman": float(spearman[0]), "spearman_p": float(spearman[1]),
                            "pearson": float(pearson[0]), "pearson_p": float(pearson[1])})
    return out


def _panels(items: list, path: Path, draw, ncols: int = 3) -> Path:
    """One panel per item, drawn by ``draw(axis, item)``, saved to ``path``."""
    ncols = min(ncols, len(items))
    with plt.rc_context(FONT):
        fig, axes = plt.subplots(-(-len(items) // ncols), ncols, figsize=(5.2 * ncols, 3.9 * -(-len(items) // ncols)), squeeze=False)
        for axis, item in zip(axes.flat, items):
            draw(axis, item)
        save_panels(fig, axes, len(items), path, legend_size=8)
    return path


def _colour(spawn, spawns: list) -> tuple:
    """Early spawn points dark, late ones light; the control red."""
    if spawn == CONTROL:
        return (0.8, 0.1, 0.1, 1.0)
    return plt.get_cmap("viridis")(0.9 * spawns.index(spawn) / max(1, len(spawns) - 1))


def _band(axis, rows: list[dict], x: str, column: str, **style) -> None:
    """Mean ± std over seeds of ``column`` against ``x``."""
    xs = sorted({r[x] for r in rows})
    mean, std = zip(*(mean_std([r[column] for r in rows if r[x] == v]) for v in xs))
    axis.plot(xs, mean, marker="o", markersize=2.5, **style)
    axis.fill_between(xs, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], color=style["color"], alpha=0.15)


def _path_figure(rows: list[dict], path: Path) -> Path:
    rows = [r | {"error": 1 - r["accuracy"]} for r in rows]
    spawns = sorted({r["spawn"] for r in rows}, key=path_order)

    def draw(axis, column):
        for spawn in spawns:
            label = CONTROL if spawn == CONTROL else f"spawn step {spawn}"
            _band(axis, [r for r in rows if r["spawn"] == spawn], "alpha", column, color=_colour(spawn, spawns), label=label,
                  linestyle="--" if spawn == CONTROL else "-")
        axis.set_title(title(column) + " (test set)")
        axis.set_xlabel("α along the path")

    return _panels(["loss", "error", "mir", "hdr", "h_z", "h_w"], path, draw)


def _spawn_figure(found: list[dict], path: Path) -> Path:
    spawned = [r for r in found if r["spawn"] != CONTROL]
    control = [r for r in found if r["spawn"] == CONTROL]

    def draw(axis, column):
        _band(axis, spawned, "spawn", column, color="tab:blue", label="children of a shared parent")
        if control:
            mean, std = mean_std([r[column] for r in control])
            axis.axhline(mean, color="tab:red", linestyle="--", label=f"{CONTROL} initialisations")
            axis.axhspan(mean - std, mean + std, color="tab:red", alpha=0.15)
        axis.set_xscale("symlog", linthresh=10)
        axis.set_xlim(left=0)
        axis.set_yscale("symlog", linthresh=SMALL)
        axis.set_title(column.replace("_", " ") + " (test set)")
        axis.set_xlabel("spawn step (optimiser steps of shared training)")

    return _panels(list(MEASURES[:2] + MEASURES[3:]), path, draw, ncols=2)


def _dip_figure(found: list[dict], linked: list[dict], path: Path) -> Path:
    spawns = sorted({r["spawn"] for r in found}, key=path_order)

    def draw(axis, pair):
        metric, barrier = pair
        for spawn in spawns:
            chosen = [r for r in found if r["spawn"] == spawn]
            axis.scatter([r[barrier] for r in chosen], [r[metric] for r in chosen], color=_colour(spawn, spawns), s=22,
                         marker="x" if spawn == CONTROL else "o", label=CONTROL if spawn == CONTROL else f"spawn {spawn}")
        rho = {r["paths"]: r["spearman"] for r in linked if (r["split"], r["metric"], r["barrier"]) == ("test", metric, barrier)}
        words = {k: f"{rho[k]:+.2f}" if math.isfinite(rho.get(k, math.nan)) else "n/a" for k in ("all", "spawned")}
        axis.set_title(f"Spearman {words['all']} (all paths), {words['spawned']} (spawned)")
        axis.set_xscale("symlog", linthresh=SMALL)
        axis.set_yscale("symlog", linthresh=SMALL)
        axis.set_xlabel(WORDS.get(barrier, barrier.replace("_", " ")) + " (test)")
        axis.set_ylabel(WORDS.get(metric, metric.replace("_", " ")) + " (test)")

    return _panels(list(PAIRS), path, draw)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    found = barriers(rows)
    write_csv(found, run_dir / "barriers.csv")
    linked = correlations(found)
    write_csv(linked, run_dir / "correlations.csv")
    test = [r for r in found if r["split"] == "test"]
    figures = [
        _path_figure([r for r in rows if r["split"] == "test"], run_dir / "path.png"),
        _path_figure([r for r in rows if r["split"] == "test" and r["spawn"] != CONTROL], run_dir / "path_spawned.png"),
        _spawn_figure(test, run_dir / "barrier.png"),
        _dip_figure(test, linked, run_dir / "dip_vs_barrier.png"),
    ]
    header, body = summary_table(test, ["spawn"], [*MEASURES, "end_accuracy", "end_mir"])
    shown = [[r["split"], r["paths"], r["metric"], r["barrier"], str(r["n"])] + [f"{r[k]:+.2f} (p={r[k + '_p']:.2g})" for k in ("spearman", "pearson")]
             for r in linked]
    return write_page(
        run_dir,
        "Linear mode connectivity (instability analysis)",
        ["Children spawned from a shared parent after k optimiser steps train on to the same length with their own "
         f"data orders; the '{CONTROL}' pair comes from two independent initialisations. Barriers, MIR dip and HDR rise "
         "are the largest departures from the straight line between the endpoints on the test set; instability "
         "(Frankle et al. 2020) is the largest error minus the endpoints' mean error. Batch-norm statistics are "
         "recomputed at every point. Mean ± std over seeds."],
        [("Barriers, MIR dip and HDR rise per path (test set)", header, body),
         ("Correlation across paths of the MIR dip and HDR rise with the barriers",
          ["split", "paths", "metric", "barrier", "n", "Spearman", "Pearson"], shown)],
        figures,
    )
