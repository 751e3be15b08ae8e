"""The numbers quoted in the lmc section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from recompute import rows, sd, values
from sources_stats import mean
from sources_training import LMC, lmc_cells, lmc_corr, lmc_path

__all__ = ["CLAIMS"]

CLAIMS = [
    ("| MIR dip | loss barrier |", "+0.72 (p = 0.0002) | +0.99 |", lambda: lmc_cells("all", "mir_dip", "loss_barrier")[:3]),
    ("| MIR dip | error barrier |", "+0.66 (p = 0.001) | +0.97 |", lambda: lmc_cells("all", "mir_dip", "error_barrier")[:3]),
    ("| HDR rise | loss barrier |", "−0.23 (p = 0.31) | +0.41 (p = 0.06) | −0.53 (p = 0.02) | −0.72 (p = 0.0008) |", lambda: lmc_cells("all", "hdr_rise", "loss_barrier") + lmc_cells("spawned", "hdr_rise", "loss_barrier")),
    ("| HDR rise | error barrier |", "−0.38 (p = 0.09) | +0.52 (p = 0.02) | −0.70 (p = 0.001) | −0.66 (p = 0.003) |", lambda: lmc_cells("all", "hdr_rise", "error_barrier") + lmc_cells("spawned", "hdr_rise", "error_barrier")),
    ("| line − MIR at α = ½ |", "+0.39 (p = 0.08) | +0.99 | +0.03 (p = 0.91) | +0.42 (p = 0.08) |", lambda: lmc_cells("all", "mir_mid", "loss_mid")[:3] + lmc_cells("spawned", "mir_mid", "loss_mid")),
    ("| HDR − line at α = ½ |", "−0.44 (p = 0.04) | −0.63 (p = 0.002) | −0.55 (p = 0.02) | −0.78 (p = 0.0001) |", lambda: lmc_cells("all", "hdr_mid", "loss_mid") + lmc_cells("spawned", "hdr_mid", "loss_mid")),
    ("| MIR dip | loss barrier |", "undefined (dip 0 on every path)", lambda: [0] if np.isnan(lmc_corr("spawned", "mir_dip", "loss_barrier", "spearman")) else [1]),
    ("Children split at\ninitialisation already", "(test loss 0.009 on average: 0.015, 0.010 and 0.001 in\nthe three seeds; error 0.0035)", lambda: [values(LMC, "loss_barrier", spawn=0, split="test").mean(), *values(LMC, "loss_barrier", spawn=0, split="test"), values(LMC, "error_barrier", spawn=0, split="test").mean()]),
    ("Children split at\ninitialisation already", "0.0016 / 0.0003 at step 25", lambda: [values(LMC, "loss_barrier", spawn=25, split="test").mean(), values(LMC, "error_barrier", spawn=25, split="test").mean(), 25]),
    ("Children split at\ninitialisation already", "exactly 0\nfrom step 50 on (5 % of training)", lambda: [max(values(LMC, c, spawn=k, split="test").max() for c in ("loss_barrier", "error_barrier") for k in (50, 100, 200, 469)), 50, 50 / 938]),
    ("Children split at\ninitialisation already", "(midpoint loss 0.281 against 0.299 / 0.296 at spawn 469)", lambda: [lmc_path("loss", 469, 0.5), lmc_path("loss", 469, 0.0), lmc_path("loss", 469, 1.0), 469]),
    ("two independently initialised networks of", "0.887 test accuracy meet at", lambda: values(LMC, "end_accuracy", spawn="independent", split="test").mean()),
    ("two independently initialised networks of", "0.503 accuracy and loss 1.54", lambda: [lmc_path("accuracy", "independent", 0.5), lmc_path("loss", "independent", 0.5)]),
    ("MIR marks that barrier; HDR does not.", "from 0.58 / 0.57 at the ends\nto 0.34 at the midpoint (dip 0.232 ± 0.045)", lambda: [lmc_path("mir", "independent", 0.0), lmc_path("mir", "independent", 1.0), lmc_path("mir", "independent", 0.5), values(LMC, "mir_dip", spawn="independent", split="test").mean(), sd(values(LMC, "mir_dip", spawn="independent", split="test"))]),
    ("MIR marks that barrier; HDR does not.", "H(Z) (2.32 → 1.94)", lambda: [lmc_path("h_z", "independent", 0.0), lmc_path("h_z", "independent", 0.5)]),
    ("MIR marks that barrier; HDR does not.", "(0.51 → 1.96)", lambda: [lmc_path("nc1", "independent", 0.0), lmc_path("nc1", "independent", 0.5)]),
    ("MIR marks that barrier; HDR does not.", "(Spearman +0.72, Pearson +0.99)", lambda: [lmc_corr("all", "mir_dip", "loss_barrier", c) for c in ("spearman", "pearson")]),
    ("MIR marks that barrier; HDR does not.", "(dip 0 on all 18 paths; MIR is 0.0075–0.014", lambda: [values(LMC, "mir_dip", split="test")[:18].max() if rows(LMC, split="test")[17]["spawn"] != "independent" else 1, 18, *(lambda x: [x.min(), x.max()])(np.array([-mean(LMC, "mir_mid", spawn=k, split="test") for k in (0, 25, 50, 100, 200, 469)]))]),
    ("MIR marks that barrier; HDR does not.", "(Spearman +0.03, Pearson +0.42)", lambda: [lmc_corr("spawned", "mir_mid", "loss_mid", c) for c in ("spearman", "pearson")]),
    ("MIR marks that barrier; HDR does not.", "0.11 / 0.09 to 0.055", lambda: [lmc_path("hdr", "independent", 0.0), lmc_path("hdr", "independent", 1.0), lmc_path("hdr", "independent", 0.5)]),
    ("MIR marks that barrier; HDR does not.", "0.012 ± 0.011", lambda: [values(LMC, "hdr_rise", spawn="independent", split="test").mean(), sd(values(LMC, "hdr_rise", spawn="independent", split="test"))]),
    ("MIR marks that barrier; HDR does not.", "(Spearman −0.53 to −0.70)", lambda: [lmc_corr("spawned", "hdr_rise", b, "spearman") for b in ("loss_barrier", "error_barrier")]),
]
