"""The numbers quoted in the Floor paragraphs at the top of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from recompute import rows, sd, values
from sources_floor import floor, same_floor, within_floor
from sources_loss_terms import CMA, LS8, SEMI, cma, old_cma, term
from sources_stats import mean, mean_sd
from sources_training import DYN, pr

__all__ = ["CLAIMS"]

CLAIMS = [
    # the floor beside trained values: dynamics, pruning, grokking
    ("On the Fashion-MNIST CNN the floor is", "0.303 ± 0.009", lambda: [mean("dynamics/floor.csv", "mir", split="test"), sd(values("dynamics/floor.csv", "mir", split="test"))]),
    ("On the Fashion-MNIST CNN the floor is", "0.708 ± 0.086", lambda: [mean("dynamics/floor.csv", "hdr", split="test"), sd(values("dynamics/floor.csv", "hdr", split="test"))]),
    ("training for 15 epochs brings them to", "0.582 ± 0.007 and 0.095 ± 0.005", lambda: [mean(DYN, "mir", split="test", epoch=15), sd(values(DYN, "mir", split="test", epoch=15)), mean(DYN, "hdr", split="test", epoch=15), sd(values(DYN, "hdr", split="test", epoch=15))]),
    ("One-shot pruning of all weights to 99 %", "0.338 ± 0.034", lambda: [pr("mir", "one-shot all", 0.99).mean(), sd(pr("mir", "one-shot all", 0.99))]),
    ("One-shot pruning of all weights to 99 %", "0.793 ± 0.111 (2 seeds)", lambda: [pr("hdr", "one-shot all", 0.99).mean(), sd(pr("hdr", "one-shot all", 0.99)), len(pr("hdr", "one-shot all", 0.99))]),
    ("In grokking the transformer's training MIR", "0.180 ± 0.003 to 0.417 ± 0.056", lambda: [*(f(values("grokking/measurements.csv", "train_mir", model="transformer", step=k)) for k in (0, 10000) for f in (np.mean, sd)), ]),
    ("In grokking the transformer's training MIR", "(0.400 ± 0.002 → 0.275 ± 0.024", lambda: [f(values("grokking/measurements.csv", "train_mir", model="mlp", step=k)) for k in (0, 1500) for f in (np.mean, sd)]),
    # the runs that recorded no untrained network (floor.csv written by floor.py)
    ("recorded no untrained network", "test MIR 0.414 ± 0.007, HDR 0.232 ± 0.052 and H(Z) 1.757 ± 0.119 nats (5 seeds)", lambda: [*(x for c in ("mir", "hdr", "h_z") for x in mean_sd(floor("loss-supervised/terminal", c))), len(floor("loss-supervised/terminal", "mir"))]),
    ("recorded no untrained network", "MIR 0.596 ± 0.006 and HDR 0.331 ± 0.008, above the floor in both", lambda: [x for c in ("mir", "hdr") for x in mean_sd(term(c, "ce", "test"))] if all(term(c, "ce", "test").mean() > floor("loss-supervised/terminal", c).mean() for c in ("mir", "hdr")) else [0] * 4),
    ("recorded no untrained network", "down to 0.744 ± 0.075, below the untrained network's", lambda: mean_sd(term("h_z", "mir=1", "test")) if term("h_z", "mir=1", "test").mean() < floor("loss-supervised/terminal", "h_z").mean() else [0, 0]),
    ("recorded no untrained network", "with the same floor (test H(Z) 0.662 ± 0.195)", lambda: mean_sd(floor("dynamics", "h_z")) if same_floor("dynamics", "loss-supervised", "semi-supervised") else [0, 0]),
    ("recorded no untrained network", "HDR 0.651 ± 0.001 and H(Z) 0.801 ± 0.002, each within one floor spread", lambda: [x for c in ("hdr", "h_z") for x in mean_sd(values(LS8, c, setting="α=1.0, β=0.0", epoch=8, split="test"))] if all(within_floor(values(LS8, c, setting="α=1.0, β=0.0", epoch=8, split="test"), "loss-supervised", c) for c in ("hdr", "h_z")) else [0] * 4),
    ("recorded no untrained network", "after 400 steps is at test MIR 0.428 ± 0.016 (40 labels) and 0.468 ± 0.010 (250 labels)", lambda: [400, *(x for k in (40, 250) for x in (*mean_sd(values(SEMI, "mir", labels=k, setting="α=0.0, β=0.0", step=400)), k))]),
    ("recorded no untrained network", "test MIR 0.107 ± 0.007 and HDR 0.365 ± 0.074", lambda: [*mean_sd(floor("cma", "mir")), *mean_sd(floor("cma", "hdr"))]),
    ("recorded no untrained network", "mean MIR is 0.383–0.393 at every shot count and λ", lambda: [cma("mir", k, lam) for k in (1, 2, 4, 8, 16) for lam in (0.0, 0.1, 0.3, 0.5)]),
    ("recorded no untrained network", "has 0.379, so nearly all", lambda: values(CMA, "mir", setting="zero-shot")),
    ("recorded no untrained network", "all 10 classes, 5 seeds", lambda: [float(rows("cma/earlier-image-tuning/floor.csv")[0]["num_classes"]), len(floor("cma/earlier-image-tuning", "mir"))]),
    ("recorded no untrained network", "floor is MIR 0.268 ± 0.017 and HDR 0.827 ± 0.037", lambda: [x for c in ("mir", "hdr") for x in mean_sd(floor("cma/earlier-image-tuning", c))]),
    ("recorded no untrained network", "at 1 shot MIR is 0.285 ± 0.011, 0.017 above the floor, while HDR falls to 0.069 ± 0.032", lambda: [1, *mean_sd(old_cma("mir", 1, 0.5)), old_cma("mir", 1, 0.5).mean() - floor("cma/earlier-image-tuning", "mir").mean(), *mean_sd(old_cma("hdr", 1, 0.5))]),
]
