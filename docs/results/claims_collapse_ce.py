"""The numbers quoted in the cross-entropy part of the collapse section of docs/results.md ("Cross-entropy
and the terminal phase", the collapse-ce runs) and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from recompute import rows
from sources_collapse import ce, mse, on_curve
from sources_collapse_ce import ce_readings, ce_run, ce_search, ce_search_row
from sources_stats import minmax

__all__ = ["CLAIMS"]

CE_MLP = ["mlp-batch32-wd5e-3-stopped", "mlp-fullbatch-lr0.5-wd5e-3", "mlp-lr0.2-wd5e-3-3000ep", "mlp-wd1e-2-400ep",
          "mlp-wd5e-3-400ep", "mlp-wd5e-4-3000ep", "mlp-width1024-wd5e-3-stopped"]
CE_W32 = "cnn-width32-wd5e-4-1000ep"
CE_2000 = "cnn-wd5e-4-2000ep"
CE_FULL = "mlp-fullbatch-lr0.5-wd5e-3"
CE_FASHION = "fashion-cnn-width32-50pc-1600ep"
CE_FASHION_LR = "fashion-cnn-width32-50pc-lr0.02-stopped"
MIR_NC_10 = 0.9523507825397208
CE_SEARCH_LINES = [
    ("mlp-batch32-wd5e-3-stopped", 0, "| 1100 | 106 | 0.9993 | 0.249 | 0.218 | 0.731 | 0.150 | 0.003 | 0.569 | 0.633 | 0.020 | 0.133 | — |"),
    ("mlp-fullbatch-lr0.5-wd5e-3", 0, "| 10000 | 316 | 1.0000 | 0.407 | 0.242 | 0.766 | 0.164 | 0.004 | 0.502 | 0.570 | 0.016 | 0.212 | — |"),
    ("mlp-lr0.2-wd5e-3-3000ep", 0, "| 3000 | 130 | 1.0000 | 0.331 | 0.228 | 0.740 | 0.154 | 0.002 | 0.538 | 0.607 | 0.024 | 0.174 | — |"),
    ("mlp-wd1e-2-400ep", 0, "| 400 | 14 | 0.9993 | 0.409 | 0.389 | 0.777 | 0.145 | 0.009 | 0.490 | 0.552 | 0.018 | 0.221 | — |"),
    ("mlp-wd5e-3-400ep", 0, "| 400 | 15 | 1.0000 | 0.363 | 0.356 | 0.783 | 0.164 | 0.006 | 0.502 | 0.579 | 0.028 | 0.262 | — |"),
    ("mlp-wd5e-4-3000ep", 0, "| 3000 | 161 | 1.0000 | 0.347 | 0.347 | 0.785 | 0.198 | 0.002 | 0.515 | 0.605 | 0.028 | 0.289 | — |"),
    ("mlp-width1024-wd5e-3-stopped", 0, "| 300 | 114 | 1.0000 | 0.36 | 0.36 | 0.782 | 0.162 | 0.004 | 0.503 | 0.578 | 0.019 | 0.254 | — |"),
    ("cnn-lr0.1-wd5e-4-1000ep", 0, "| 1000 | 225 | 1.0000 | 0.0882 | 0.0108 | 0.673 | 0.044 | 0.000 | 0.724 | 0.692 | 0.017 | 0.147 | — |"),
    ("cnn-wd1e-2-600ep", 0, "| 600 | 124 | 1.0000 | 0.0785 | 0.0323 | 0.504 | 0.021 | 0.000 | 0.831 | 0.800 | 0.008 | 0.002 | — |"),
    ("cnn-wd1e-3-2000ep", 0, "| 2000 | 390 | 1.0000 | 0.0464 | 0.0161 | 0.538 | 0.023 | 0.000 | 0.835 | 0.786 | 0.001 | 0.058 | — |"),
    ("cnn-wd5e-3-600ep", 0, "| 600 | 74 | 1.0000 | 0.0327 | 0.0192 | 0.532 | 0.019 | 0.000 | 0.830 | 0.790 | 0.001 | 0.052 | — |"),
    ("cnn-wd5e-4-2000ep", 0, "| 2000 | 399 | 1.0000 | 0.00997 | 0.00972 | 0.553 | 0.021 | 0.000 | 0.869 | 0.806 | 0.017 | 0.109 | 1900 |"),
    ("cnn-wd5e-4-2000ep", 1, "| 2000 | 439 | 1.0000 | 0.00637 | 0.00632 | 0.504 | 0.019 | 0.000 | 0.892 | 0.859 | 0.018 | 0.106 | 800 |"),
    ("cnn-wd5e-4-2000ep", 2, "| 2000 | 436 | 1.0000 | 0.0414 | 0.0105 | 0.468 | 0.019 | 0.000 | 0.843 | 0.841 | 0.001 | 0.106 | — |"),
    ("cnn-wd5e-4-600ep", 0, "| 600 | 130 | 1.0000 | 0.0367 | 0.0367 | 0.592 | 0.050 | 0.000 | 0.819 | 0.796 | 0.036 | 0.255 | — |"),
    ("cnn-width32-wd5e-4-1000ep", 0, "| 1000 | 405 | 1.0000 | 0.00336 | 0.00336 | 0.459 | 0.021 | 0.000 | 0.913 | 0.896 | 0.022 | 0.154 | 500 |"),
    ("cnn-width32-wd5e-4-1000ep", 1, "| 1000 | 433 | 1.0000 | 0.00448 | 0.00442 | 0.439 | 0.024 | 0.000 | 0.910 | 0.892 | 0.016 | 0.145 | 600 |"),
    ("cnn-width32-wd5e-4-1000ep", 2, "| 1000 | 431 | 1.0000 | 0.00311 | 0.00311 | 0.403 | 0.020 | 0.000 | 0.923 | 0.912 | 0.016 | 0.127 | 500 |"),
    ("fashion-cnn-width32-50pc-1600ep", 0, "| 1600 | 1590 | 1.0000 | 0.184 | 0.0395 | 0.588 | 0.166 | 0.000 | 0.665 | 0.738 | 0.013 | 0.069 | — |"),
    ("fashion-cnn-width32-50pc-400ep", 0, "| 400 | 428 | 1.0000 | 0.101 | 0.101 | 0.548 | 0.207 | 0.000 | 0.740 | 0.794 | 0.015 | 0.091 | — |"),
    ("fashion-cnn-width32-50pc-lr0.02-stopped", 0, "| 1200 | 1282 | 1.0000 | 0.199 | 0.0394 | 0.672 | 0.150 | 0.000 | 0.629 | 0.712 | 0.020 | 0.175 | — |"),
]
CE_READING_LINES = [
    (0, "train", "| 0.0034 | 0.459 | 0.021 | 0.000 | 0.913 | 0.896 | 0.924 | 0.022 | 0.154 | 0.025 | 0.408 | 0.949 | 0.153 |"),
    (1, "train", "| 0.0045 | 0.439 | 0.024 | 0.000 | 0.910 | 0.892 | 0.922 | 0.016 | 0.145 | 0.019 | 0.402 | 0.949 | 0.148 |"),
    (2, "train", "| 0.0031 | 0.403 | 0.020 | 0.000 | 0.923 | 0.912 | 0.935 | 0.016 | 0.127 | 0.019 | 0.374 | 0.950 | 0.125 |"),
    (0, "test", "| 0.054 | 0.490 | 0.028 | 0.003 | 0.816 | 0.828 | 0.924 | 0.021 | 0.194 | 0.029 | 0.458 | 0.948 | 0.197 |"),
    (1, "test", "| 0.060 | 0.477 | 0.031 | 0.000 | 0.816 | 0.824 | 0.922 | 0.015 | 0.186 | 0.023 | 0.453 | 0.948 | 0.192 |"),
    (2, "test", "| 0.056 | 0.441 | 0.027 | 0.006 | 0.824 | 0.841 | 0.935 | 0.015 | 0.169 | 0.023 | 0.427 | 0.949 | 0.169 |"),
]


def _w32(column: str, epoch: int | None = None, split: str = "train") -> np.ndarray:
    return np.array([ce_run(CE_W32, column, epoch, s, split) for s in range(3)])


def _w32_curve() -> np.ndarray:
    return np.array([on_curve(n, "etf", "isotropic", "mir_centred", f"collapse-ce/{CE_W32}/calibration.csv") for n in _w32("nc1")])


CLAIMS = [(f"| {run}, seed {seed} |", quoted, lambda run=run, seed=seed: ce_search_row(run, seed)) for run, seed, quoted in CE_SEARCH_LINES]
CLAIMS += [(f"| width 32, seed {seed}, {split} |", quoted, lambda seed=seed, split=split: ce_readings(CE_W32, seed, split))
           for seed, split, quoted in CE_READING_LINES]
CLAIMS += [
    ("search for a cross-entropy setting that reaches the terminal phase", "0.28–0.40 (SmallCNN on Fashion-MNIST)", lambda: ce("nc1")),
    ("**The two-layer MLP does not get there with cross-entropy**", "last train NC1 is 0.25–0.41", lambda: [ce_search(r, "train_nc1") for r in CE_MLP]),
    ("**The two-layer MLP does not get there with cross-entropy**", "the smallest NC1 of any MLP record is 0.22", lambda: min(ce_search(r, "min_train_nc1") for r in CE_MLP)),
    ("**The two-layer MLP does not get there with cross-entropy**", "NC1 falls to 0.24 at epoch 500 and then rises to 0.41 at epoch 10,000", lambda: [ce_run(CE_FULL, "nc1", 500), 500, ce_run(CE_FULL, "nc1", 10000), 10000]),
    ("**The two-layer MLP does not get there with cross-entropy**", "loss stays at 0.028 (epochs 1,000 and 10,000)", lambda: [ce_run(CE_FULL, "loss", 1000), 1000, 10000] if round(ce_run(CE_FULL, "loss", 1000), 3) == round(ce_run(CE_FULL, "loss", 10000), 3) else [0, 0, 0]),
    ("**The two-layer MLP does not get there with cross-entropy**", "at 0.22–0.33", lambda: [ce_search(r, c) for r in ("mlp-batch32-wd5e-3-stopped", "mlp-lr0.2-wd5e-3-3000ep") for c in ("train_nc1", "min_train_nc1")]),
    ("**The small CNN (three conv–batch-norm–ReLU–pool blocks)", "0.033–0.078 with decays at 300 and 450", lambda: [*minmax([ce_search(r, "train_nc1") for r in ("cnn-wd5e-4-600ep", "cnn-wd5e-3-600ep", "cnn-wd1e-2-600ep")]), 300, 450]),
    ("**The small CNN (three conv–batch-norm–ReLU–pool blocks)", "0.040 at epoch 300 (the first decay) and 0.037 at 600", lambda: [ce_run("cnn-wd5e-4-600ep", "nc1", 300), 300, ce_run("cnn-wd5e-4-600ep", "nc1", 600), 600]),
    ("**The small CNN (three conv–batch-norm–ReLU–pool blocks)", "(from epoch 1,900 and 800; 0.00997 and 0.0064 at epoch 2,000)", lambda: [ce_search(CE_2000, "first_epoch_nc1_le_0.01", 0), ce_search(CE_2000, "first_epoch_nc1_le_0.01", 1), ce_search(CE_2000, "train_nc1", 0), ce_search(CE_2000, "train_nc1", 1), 2000]),
    ("**The small CNN (three conv–batch-norm–ReLU–pool blocks)", "at 0.0105 at epoch 900, jumps to 0.099 at epoch 1,000 and ends at 0.041", lambda: [ce_run(CE_2000, "nc1", 900, 2), 900, ce_run(CE_2000, "nc1", 1000, 2), 1000, ce_run(CE_2000, "nc1", seed=2)]),
    ("**The small CNN (three conv–batch-norm–ReLU–pool blocks)", "0.016 at epoch 300, 0.085 at\n  500, 0.24 at 900", lambda: [x for e in (300, 500, 900) for x in (ce_run("cnn-wd1e-3-2000ep", "nc1", e), e)]),
    ("**The small CNN (three conv–batch-norm–ReLU–pool blocks)", "0.011 at epoch 500, 0.23 at 600", lambda: [x for e in (500, 600) for x in (ce_run("cnn-lr0.1-wd5e-4-1000ep", "nc1", e), e)]),
    ("**The small CNN at width 32", "from epoch 500, 600 and 500, and 0.0034, 0.0045 and 0.0031 at epoch 1,000", lambda: [*(ce_search(CE_W32, "first_epoch_nc1_le_0.01", s) for s in range(3)), *_w32("nc1"), 1000]),
    ("**The small CNN at width 32", "training accuracy 1 from epoch 100 on", lambda: [1, 100] if all(np.all(_w32("accuracy", e) == 1) for e in range(100, 1001, 100)) and np.all(_w32("accuracy", 0) < 1) else [0, 0]),
    ("**The small CNN at width 32", "(NC2 ETF distance 0.40–0.46)", lambda: _w32("nc2_etf_distance")),
    ("**The small CNN at width 32", "NC3 (0.020–0.024) and NC4 (0)", lambda: [*minmax(_w32("nc3")), _w32("nc4").max()]),
    ("**Centred MIR rises toward MIR_NC as NC1 falls", "0.73 → 0.85 → 0.90 →\n  0.916 (mean of the seeds at epochs 100, 300, 500 and 1,000, where NC1 is 0.090, 0.027, 0.0098\n  and 0.0037)", lambda: [*(_w32("mir_centred", e).mean() for e in (100, 300, 500, 1000)), 100, 300, 500, 1000, *(_w32("nc1", e).mean() for e in (100, 300, 500, 1000))]),
    ("**Centred MIR rises toward MIR_NC as NC1 falls", "0.029–0.042 below MIR_NC", lambda: MIR_NC_10 - _w32("mir_centred")),
    ("**Centred MIR rises toward MIR_NC as NC1 falls", "0.008–0.017 below the\n  isotropic ETF calibration curve at the same NC1 (0.925–0.931", lambda: [*minmax(_w32_curve() - _w32("mir_centred")), *minmax(_w32_curve())]),
    ("**Centred MIR rises toward MIR_NC as NC1 falls", "never comes within 0.025 of MIR_NC", lambda: [0.025] if all(r["first_epoch_mir_centred_within_0.025"] == "" for r in rows(f"collapse-ce/{CE_W32}/first_epochs.csv")) else [0]),
    ("**Centred MIR rises toward MIR_NC as NC1 falls", "0.918–0.943 at NC1 0.0024–0.0058", lambda: [*minmax(mse("mir_centred")), *minmax(mse("nc1"))]),
    ("**The uncentred reading (the papers') does not go to the value at ρ**", "0.892–0.912, below MIR_NC", lambda: _w32("mir")),
    ("**The uncentred reading (the papers') does not go to the value at ρ**", "ρ = 0.37–0.41 whose collapse value is 0.949–0.950", lambda: [*minmax(_w32("rho")), *minmax(_w32("mir_rho"))]),
    ("**The uncentred reading (the papers') does not go to the value at ρ**", "within 0.003 (0.127–0.154)", lambda: [np.abs(_w32("hdr") - _w32("hdr_rho")).max(), *minmax(_w32("hdr"))]),
    ("**Class pairing**: 0.983–0.991", "0.983–0.991 at initialisation and 0.922–0.935 at the end", lambda: [*minmax(_w32("mir_class", 0)), *minmax(_w32("mir_class"))]),
    ("**Class pairing**: 0.983–0.991", "(0.019–0.025) and centred HDR (0.016–0.022)", lambda: [*minmax(_w32("hdr_class")), *minmax(_w32("hdr_centred"))]),
    ("**Test split**: accuracy 0.986–0.989", "accuracy 0.986–0.989, NC1 0.054–0.060, centred MIR 0.816–0.824", lambda: [x for c in ("accuracy", "nc1", "mir_centred") for x in minmax(_w32(c, split="test"))]),
    ("**The small CNN at width 32", "405–433 s of training per seed, the `train_time` of its last record", lambda: _w32("train_time")),
    ("**On Fashion-MNIST (50 training images per class", "0.040 at epoch\n  500, then jumps to 0.22 at epoch 600, and again to 0.23 at 1,000 and 0.28 at 1,300 (training\n  accuracy 0.91 there), and ends at 0.18 after 1,600 epochs", lambda: [*(x for e in (500, 600, 1000, 1300) for x in (ce_run(CE_FASHION, "nc1", e), e)), ce_run(CE_FASHION, "accuracy", 1300), ce_run(CE_FASHION, "nc1", 1600), 1600]),
    ("**On Fashion-MNIST (50 training images per class", "falls to 0.039 at epoch\n  1,000 and then jumps to 0.51 at 1,100 (training accuracy 0.88; the run was stopped at 1,200)", lambda: [ce_run(CE_FASHION_LR, "nc1", 1000), 1000, ce_run(CE_FASHION_LR, "nc1", 1100), 1100, ce_run(CE_FASHION_LR, "accuracy", 1100), ce_search(CE_FASHION_LR, "last_epoch")]),
]
