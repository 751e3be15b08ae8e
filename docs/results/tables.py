"""Where each spread table of docs/results.md comes from: the rows of a CSV per table row, the column per cell.

A table is found by the start of its header line; `rows` are the filters of each page row in order;
`columns` maps a cell index (0 = first column) to a function of the row's filters that returns the
per-seed samples. `recompute.py` prints each cell as mean ± sample std with the page's decimals.
"""
from dataclasses import dataclass, field
from typing import Callable

from recompute import values

__all__ = ["Table", "TABLES"]


@dataclass(frozen=True)
class Table:
    header: str
    rows: list[dict]
    columns: dict[int, Callable] = field(default_factory=dict)


def _col(path: str, column, **fixed) -> Callable:
    return lambda spec: values(path, column, **{**fixed, **spec})


def _cols(path: str, start: int, names: list, **fixed) -> dict[int, Callable]:
    return {start + i: _col(path, name, **fixed) for i, name in enumerate(names)}


def _both(column, setting: str) -> Callable:
    """The longer FixMatch run: seed 0 and seeds 1–2 are two files."""
    import numpy as np

    files = ("semi-supervised/long-250/measurements.csv", "semi-supervised/long-250-seeds-1-2/measurements.csv")
    return lambda spec: np.concatenate([values(f, column, setting=setting, **spec) for f in files])


def _cma_chosen(spec: dict):
    from recompute import rows

    lam = rows("cma/chosen.csv", shots=spec["shots"])[0]["chosen_lambda"]
    return values("cma/measurements.csv", "accuracy", setting=f"λ={float(lam)}", **spec)


def _collapse_col(column: str) -> Callable:
    return lambda spec: values("collapse/default/measurements.csv", column, **spec)


DYN = "dynamics/measurements.csv"
PRUNE = "pruning/measurements.csv"
SPARSITIES = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)
LS_TERMINAL = ("ce", "mir=0.05", "mir=0.1", "mir=0.3", "mir=1", "hdr=0.1", "mir=0.1,hdr=0.1", "mir=0.1,centred", "mir=0.1,detached")
ALPHA_BETA = ("α=0.0, β=0.0", "α=0.5, β=0.5", "α=1.0, β=0.0", "α=0.0, β=1.0")
COLLAPSE = ["accuracy", "nc1", "nc2_etf_distance", "nc3", "mir", "mir_centred", "mir_class", "hdr", "hdr_centred", "hdr_class", "rho", "mir_rho"]

TABLES = [
    Table("| split | epoch | accuracy | MIR | HDR |",
          [dict(split="test", epoch=0), dict(split="test", epoch=15), dict(split="train", epoch=15)],
          _cols(DYN, 2, ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1", "nc4"])),
    Table("| sparsity | accuracy, pruned |",
          [dict(sparsity=s) for s in SPARSITIES],
          {**_cols(PRUNE, 1, ["accuracy", "mir", "hdr", "h_z"], variant="one-shot body", split="test"),
           **_cols(PRUNE, 5, ["accuracy", "mir", "hdr", "nc1"], variant="one-shot body + fine-tune", split="test")}),
    Table("| body sparsity | protocol |",
          [dict(sparsity=s, variant=v) for s in (0.5, 0.8, 0.9) for v in ("one-shot body + fine-tune", "IMP body, rewound")],
          _cols(PRUNE, 2, ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"], split="test")),
    Table("| epoch | accuracy | H(Z) | H(W) | silhouette |",
          [dict(epoch=e) for e in (0, 1, 5, 10)],
          _cols("clustering/measurements.csv", 1, ["accuracy", "h_z", "h_w", "silhouette", "davies_bouldin"])),
    Table("| smoothing | test accuracy |",
          [dict(smoothing=s, epoch=8) for s in (0.0, 0.1, 0.2, 0.4)],
          {**_cols("label-smoothing/measurements.csv", 1, ["accuracy", "mir", "hdr", "nc1"], split="test"),
           **_cols("label-smoothing/measurements.csv", 5, ["mir", "hdr"], split="train")}),
    Table("| spawn step | test loss barrier |",
          [dict(spawn=s) for s in ("0", "25", "50", "100", "200", "469", "independent")],
          {**_cols("lmc/barriers.csv", 1, ["loss_barrier", "error_barrier", "error_instability", "mir_dip", "hdr_rise"], split="test"),
           6: _col("lmc/barriers.csv", lambda r: -float(r["mir_mid"]), split="test"),
           7: _col("lmc/barriers.csv", "end_accuracy", split="test")}),
    Table("| setting | test accuracy | − CE |",
          [dict(setting=s) for s in LS_TERMINAL],
          {1: _col("loss-supervised/terminal/measurements.csv", "accuracy", epoch=1000, split="test"),
           **_cols("loss-supervised/terminal/measurements.csv", 6, ["nc1", "mir", "hdr"], epoch=1000, split="train"),
           **_cols("loss-supervised/terminal/measurements.csv", 9, ["mir", "hdr", "h_z"], epoch=1000, split="test")}),
    Table("| setting | test accuracy | test CE |",
          [dict(setting=s) for s in ALPHA_BETA],
          _cols("loss-supervised/measurements.csv", 1, ["accuracy", "loss", "mir", "hdr", "h_z", "h_w"], epoch=8, split="test")),
    Table("| labels | setting | test accuracy |",
          [dict(labels=n, setting=s) for n in (40, 250) for s in ALPHA_BETA[:2]],
          _cols("semi-supervised/measurements.csv", 2, ["accuracy", "mir", "hdr", "mask_rate", "pseudo_accuracy"], step=400)),
    Table("| step | FixMatch: test accuracy |",
          [dict(step=s) for s in (1000, 2000, 3000, 4000)],
          {1 + 2 * i + j: _both(column, ALPHA_BETA[j]) for i, column in enumerate(["accuracy", "mir", "hdr"]) for j in (0, 1)}),
    Table("| shots | CE alone (λ = 0) |",
          [dict(shots=k) for k in (1, 2, 4, 8, 16)],
          {1: _col("cma/measurements.csv", "accuracy", setting="λ=0.0"), 3: _cma_chosen}),
    Table("| shots | λ | test accuracy | test CMA |",
          [dict(shots=k, setting=f"λ={lam}") for k in (1, 2, 4, 8, 16) for lam in (0.0, 0.2, 0.5)],
          _cols("cma/earlier-image-tuning/measurements.csv", 2, ["accuracy", "cma", "mir", "hdr", "loss"])),
    Table("| run, split | epoch | accuracy | NC1 | NC2 (ETF) |",
          [dict(labels="true", loss_fn="ce", epoch=0, split="train"),  # both losses share the initialisation
           *[dict(labels="true", loss_fn=loss, epoch=450, split=split) for loss in ("mse", "ce") for split in ("train", "test")],
           dict(labels="shuffled", epoch=0, split="train"), dict(labels="shuffled", epoch=450, split="train"),
           dict(labels="shuffled", epoch=450, split="test")],
          {2 + i: _collapse_col(c) for i, c in enumerate(COLLAPSE)}),
]
