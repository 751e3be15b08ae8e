"""The numbers quoted in the loss-supervised section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from recompute import rows, sd
from sources_loss_terms import LS8, MIR_SETTINGS, TERMINAL, holm, ls8, term, terminal_accuracy, terminal_ci, welch
from sources_stats import mean

__all__ = ["CLAIMS"]

CLAIMS = [
    # default: the terminal phase of training
    ("| mir=0.05 | 0.9794 ± 0.0015 |", "+0.0017 | 0.070 | 0.28 | 0.0022", lambda: [terminal_accuracy("mir=0.05").mean() - terminal_accuracy("ce").mean(), welch("mir=0.05"), holm("mir=0.05"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=0.05")[0]["detectable"])]),
    ("| mir=0.1 | 0.9783 ± 0.0023 |", "+0.0006 | 0.62 | 0.85 | 0.0033", lambda: [terminal_accuracy("mir=0.1").mean() - terminal_accuracy("ce").mean(), welch("mir=0.1"), holm("mir=0.1"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=0.1")[0]["detectable"])]),
    ("| mir=0.3 | 0.9811 ± 0.0012 |", "+0.0033 | 0.004 | 0.023 | 0.0018", lambda: [terminal_accuracy("mir=0.3").mean() - terminal_accuracy("ce").mean(), welch("mir=0.3"), holm("mir=0.3"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=0.3")[0]["detectable"])]),
    ("| mir=1 | 0.9844 ± 0.0025 |", "+0.0067 | 0.004 | 0.023 | 0.0036", lambda: [terminal_accuracy("mir=1").mean() - terminal_accuracy("ce").mean(), welch("mir=1"), holm("mir=1"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=1")[0]["detectable"])]),
    ("| hdr=0.1 | 0.9733 ± 0.0015 |", "−0.0045 | 0.003 | 0.023 | 0.0022", lambda: [terminal_accuracy("hdr=0.1").mean() - terminal_accuracy("ce").mean(), welch("hdr=0.1"), holm("hdr=0.1"), float(rows("loss-supervised/terminal/differences.csv", setting="hdr=0.1")[0]["detectable"])]),
    ("| mir=0.1, hdr=0.1 | 0.9822 ± 0.0015 |", "+0.0045 | 0.003 | 0.023 | 0.0022", lambda: [terminal_accuracy("mir=0.1,hdr=0.1").mean() - terminal_accuracy("ce").mean(), welch("mir=0.1,hdr=0.1"), holm("mir=0.1,hdr=0.1"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=0.1,hdr=0.1")[0]["detectable"])]),
    ("| mir=0.1, centred | 0.9816 ± 0.0037 |", "+0.0039 | 0.080 | 0.28 | 0.0053", lambda: [terminal_accuracy("mir=0.1,centred").mean() - terminal_accuracy("ce").mean(), welch("mir=0.1,centred"), holm("mir=0.1,centred"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=0.1,centred")[0]["detectable"])]),
    ("| mir=0.1, detached | 0.9760 ± 0.0042 |", "−0.0017 | 0.43 | 0.85 | 0.0060", lambda: [terminal_accuracy("mir=0.1,detached").mean() - terminal_accuracy("ce").mean(), welch("mir=0.1,detached"), holm("mir=0.1,detached"), float(rows("loss-supervised/terminal/differences.csv", setting="mir=0.1,detached")[0]["detectable"])]),
    ("One test image is 0.0028 of accuracy", "0.0028", lambda: 1 / int(rows(TERMINAL, setting="ce", seed=0, epoch=1000, split="test")[0]["n"])),
    ("- **Accuracy**: every CE seed classifies", "351 of the 359 test images correctly (std 0)", lambda: [np.round(terminal_accuracy("ce") * 359).max(), 359, sd(terminal_accuracy("ce"))] if np.ptp(terminal_accuracy("ce")) == 0 else [0, 0, 1]),
    ("- **Accuracy**: every CE seed classifies", "over the 8 settings", lambda: len(rows("loss-supervised/terminal/differences.csv")) - 1),
    ("- **Accuracy**: every CE seed classifies", "mir=1 (+0.0067, 2.4\n  images; 95 % t interval +0.0036 to +0.0098)", lambda: [1, (terminal_accuracy("mir=1") - terminal_accuracy("ce")).mean(), 359 * (terminal_accuracy("mir=1") - terminal_accuracy("ce")).mean(), 0.95, *terminal_ci("mir=1")]),
    ("- **Accuracy**: every CE seed classifies", "(+0.0045, 1.6 images; +0.0026 to\n  +0.0064)", lambda: [(terminal_accuracy("mir=0.1,hdr=0.1") - terminal_accuracy("ce")).mean(), 359 * (terminal_accuracy("mir=0.1,hdr=0.1") - terminal_accuracy("ce")).mean(), *terminal_ci("mir=0.1,hdr=0.1")]),
    ("- **Accuracy**: every CE seed classifies", "(+0.0033; +0.0018 to +0.0049)", lambda: [(terminal_accuracy("mir=0.3") - terminal_accuracy("ce")).mean(), *terminal_ci("mir=0.3")]),
    ("- **Accuracy**: every CE seed classifies", "(Holm p 0.023 each)", lambda: np.unique(np.round([holm(n) for n in ("mir=1", "mir=0.1,hdr=0.1", "mir=0.3", "hdr=0.1")], 3))),
    ("- **Accuracy**: every CE seed classifies", "(Holm p ≥ 0.28)", lambda: min(holm(n) for n in ("mir=0.05", "mir=0.1", "mir=0.1,centred", "mir=0.1,detached"))),
    ("- **Accuracy**: every CE seed classifies", "(−0.0045; −0.0064 to −0.0026)", lambda: [(terminal_accuracy("hdr=0.1") - terminal_accuracy("ce")).mean(), *terminal_ci("hdr=0.1")]),
    ("- **Regime**: every run fits the training set", "(accuracy 1.0)", lambda: min(term("accuracy", k).min() for k in ("ce", *MIR_SETTINGS, "hdr=0.1"))),
    ("- **Regime**: every run fits the training set", "(train NC1 0.35 ± 0.02 after 1,000 epochs)", lambda: [term("nc1", "ce").mean(), sd(term("nc1", "ce")), 1000]),
    ("- **Regime**: every run fits the training set", "down to 0.04–0.12", lambda: [term("nc1", k).mean() for k in MIR_SETTINGS]),
    ("- **The degenerate optimum**: mir=1 reaches", "train MIR 0.992, above MIR_NC = 0.952, with HDR 0.67\n  and test H(Z) 0.74 nats (exp H(Z) ≈ 2.1 effective directions, far below the 9", lambda: [term("mir", "mir=1").mean(), 0.9523507825397208, term("hdr", "mir=1").mean(), term("h_z", "mir=1", "test").mean(), np.exp(term("h_z", "mir=1", "test").mean()), 9]),
    ("- **The degenerate optimum**: mir=1 reaches", "(H(Z) 0.92, HDR 0.60)", lambda: [term("h_z", "mir=0.3", "test").mean(), term("hdr", "mir=0.3").mean()]),
    ("- **The degenerate optimum**: mir=1 reaches", "(mir=0.1 + hdr=0.1: HDR 0.002, H(Z) 2.31) or centred features (HDR 0.07, H(Z) 2.32)", lambda: [0.1, 0.1, term("hdr", "mir=0.1,hdr=0.1").mean(), term("h_z", "mir=0.1,hdr=0.1", "test").mean(), term("hdr", "mir=0.1,centred").mean(), term("h_z", "mir=0.1,centred", "test").mean()]),
    ("- **The degenerate optimum**: mir=1 reaches", "(train 0.951 and 0.934)", lambda: [term("mir", "mir=0.1,hdr=0.1").mean(), term("mir", "mir=0.1,centred").mean()]),
    ("- **Detached heads**", "(0.83)", lambda: term("mir", "mir=0.1,detached").mean()),
    # the variant: short budget on Fashion-MNIST
    ("stop far from the terminal phase (train NC1 about 0.36)", "0.36", lambda: mean(LS8, "nc1", setting="α=0.0, β=0.0", epoch=8, split="train")),
    ("all four settings lie within 0.0020 of each other", "0.0020", lambda: np.ptp([mean("loss-supervised/measurements.csv", "accuracy", setting=a, epoch=8, split="test") for a in ("α=0.0, β=0.0", "α=0.5, β=0.5", "α=1.0, β=0.0", "α=0.0, β=1.0")])),
    ("What it shows: the terms reach their targets on the test set", "drives test MIR\nto 0.957", lambda: ls8("mir", "α=1.0, β=0.0")),
    ("What it shows: the terms reach their targets on the test set", "shrinking H(Z) to 0.80 nats", lambda: ls8("h_z", "α=1.0, β=0.0")),
    ("What it shows: the terms reach their targets on the test set", "so HDR rises to 0.65", lambda: ls8("hdr", "α=1.0, β=0.0")),
    ("What it shows: the terms reach their targets on the test set", "With both terms MIR is 0.80 and HDR 0.005, with H(Z) 2.31 and H(W) 2.30", lambda: [ls8(c, "α=0.5, β=0.5") for c in ("mir", "hdr", "h_z", "h_w")]),
    ("What it shows: the terms reach their targets on the test set", "(HDR 0.007)", lambda: ls8("hdr", "α=0.0, β=1.0")),
]
