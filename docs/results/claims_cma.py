"""The numbers quoted in the cma section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from recompute import rows, sd, values
from sources_loss_terms import CMA, OLD_CMA, cma, cma_chosen, cma_row, old_cma

__all__ = ["CLAIMS"]

CLAIMS = [
    # protocol: prompt learning (the default)
    ("classifies the base classes' test images at", "0.964", lambda: float(rows(CMA, unit="pretrain")[0]["pretrain_accuracy"])),
    ("**Zero-shot accuracy on the new classes before any tuning:", "0.256**\n(chance 0.2)", lambda: [float(rows(CMA, unit="zero-shot")[0]["accuracy"]), 1 / 5]),
    ("| 1 | 0.357 ± 0.041 | 0.1 |", "0.1 | 0.348 ± 0.041 | −0.010 | 0.1 (0.348)", lambda: [cma_chosen(1)[0], cma("accuracy", 1, 0.1), sd(values(CMA, "accuracy", shots=1, setting="λ=0.1")), *cma_chosen(1)[1:]]),
    ("| 2 | 0.460 ± 0.065 | 0.5 |", "0.5 | 0.379 ± 0.048 | −0.082 | 0.1 (0.457)", lambda: [cma_chosen(2)[0], cma("accuracy", 2, 0.5), sd(values(CMA, "accuracy", shots=2, setting="λ=0.5")), *cma_chosen(2)[1:]]),
    ("| 4 | 0.538 ± 0.011 | 0.1 |", "0.1 | 0.523 ± 0.006 | −0.015 | 0.1 (0.523)", lambda: [cma_chosen(4)[0], cma("accuracy", 4, 0.1), sd(values(CMA, "accuracy", shots=4, setting="λ=0.1")), *cma_chosen(4)[1:]]),
    ("| 8 | 0.725 ± 0.035 | 0.1 |", "0.1 | 0.721 ± 0.037 | −0.004 | 0.1 (0.721)", lambda: [cma_chosen(8)[0], cma("accuracy", 8, 0.1), sd(values(CMA, "accuracy", shots=8, setting="λ=0.1")), *cma_chosen(8)[1:]]),
    ("| 16 | 0.798 ± 0.024 | 0.5 |", "0.5 | 0.783 ± 0.008 | −0.014 | 0.1 (0.797)", lambda: [cma_chosen(16)[0], cma("accuracy", 16, 0.5), sd(values(CMA, "accuracy", shots=16, setting="λ=0.5")), *cma_chosen(16)[1:]]),
    ("| 1 | 0.357 | 0.348 |", "0.357 | 0.348 | 0.316 | 0.275 | 0.387 → 0.393 | 0.576 → 0.755", lambda: cma_row(1)),
    ("| 2 | 0.460 | 0.457 |", "0.460 | 0.457 | 0.427 | 0.379 | 0.387 → 0.393 | 0.356 → 0.564", lambda: cma_row(2)),
    ("| 4 | 0.538 | 0.523 |", "0.538 | 0.523 | 0.460 | 0.393 | 0.384 → 0.392 | 0.430 → 0.666", lambda: cma_row(4)),
    ("| 8 | 0.725 | 0.721 |", "0.725 | 0.721 | 0.716 | 0.705 | 0.383 → 0.390 | 0.244 → 0.268", lambda: cma_row(8)),
    ("| 16 | 0.798 | 0.797 |", "0.798 | 0.797 | 0.795 | 0.783 | 0.383 → 0.388 | 0.237 → 0.244", lambda: cma_row(16)),
    ("- Prompt learning works here", "from 0.256 zero-shot to 0.357 (1 shot) and 0.798 (16 shots)", lambda: [float(rows(CMA, unit="zero-shot")[0]["accuracy"]), cma("accuracy", 1, 0.0), 1, cma("accuracy", 16, 0.0), 16]),
    ("- **With this encoder pair, the CMA term", "(4 shots: 0.538 → 0.393 at\n  λ = 0.5)", lambda: [4, cma("accuracy", 4, 0.0), cma("accuracy", 4, 0.5), 0.5]),
    ("- **With this encoder pair, the CMA term", "(zero-shot 0.256 on the new classes)", lambda: float(rows(CMA, unit="zero-shot")[0]["accuracy"])),
    ("- **With this encoder pair, the CMA term", "(at 2 and 16 shots it picked 0.5)", lambda: [*(k for k in (1, 2, 4, 8, 16) if float(rows("cma/chosen.csv", shots=k)[0]["chosen_lambda"]) == 0.5), 0.5]),
    ("- **With this encoder pair, the CMA term", "No λ > 0 beats cross-entropy\n  alone at any shot count", lambda: [0] if all(cma("accuracy", k, lam) < cma("accuracy", k, 0.0) for k in (1, 2, 4, 8, 16) for lam in (0.1, 0.3, 0.5)) else [1]),  # the 0 of "λ > 0"
    ("- MIR between the fixed image features", "(0.38–0.39)", lambda: [cma("mir", k, lam) for k in (1, 2, 4, 8, 16) for lam in (0.0, 0.1, 0.3, 0.5)]),
    # the earlier image-tuning protocol
    ("it classifies the MNIST test set at 0.987 that way", "0.987", lambda: float(rows(OLD_CMA, unit="pretrain")[0]["pretrain_accuracy"])),
    ("Zero-shot accuracy before fine-tuning:", "0.108 (chance)", lambda: float(rows(OLD_CMA, unit="zero-shot")[0]["accuracy"])),
    ("What it shows: the CMA term does what it is built for", "from 0.36–0.40 to 0.18–0.24 at λ = 0.5", lambda: [*(lambda x: [min(x), max(x)])([old_cma("cma", k, 0.0).mean() for k in (1, 2, 4, 8, 16)]), *(lambda x: [min(x), max(x)])([old_cma("cma", k, 0.5).mean() for k in (1, 2, 4, 8, 16)]), 0.5]),
    ("What it shows: the CMA term does what it is built for", "from 0.39–0.41 to\n0.07–0.14", lambda: [*(lambda x: [min(x), max(x)])([old_cma("hdr", k, 0.0).mean() for k in (1, 2, 4, 8, 16)]), *(lambda x: [min(x), max(x)])([old_cma("hdr", k, 0.5).mean() for k in (1, 2, 4, 8, 16)])]),
    ("What it shows: the CMA term does what it is built for", "the test cross-entropy is lower", lambda: [] if all(old_cma("loss", k, 0.5).mean() < old_cma("loss", k, 0.0).mean() for k in (1, 2, 4, 8, 16)) else [1]),
    ("What it shows: the CMA term does what it is built for", "16 shots:\n0.747, 0.747, 0.742; 4 shots: 0.642, 0.649, 0.656 with std 0.022–0.028", lambda: [16, *(old_cma("accuracy", 16, lam).mean() for lam in (0.0, 0.2, 0.5)), 4, *(old_cma("accuracy", 4, lam).mean() for lam in (0.0, 0.2, 0.5)), *(lambda x: [min(x), max(x)])([sd(old_cma("accuracy", 4, lam)) for lam in (0.0, 0.2, 0.5)])]),
    ("What it shows: the CMA term does what it is built for", "within one standard deviation of each other", lambda: [] if all(np.ptp([old_cma("accuracy", k, lam).mean() for lam in (0.0, 0.2, 0.5)]) <= min(sd(old_cma("accuracy", k, lam)) for lam in (0.0, 0.2, 0.5)) for k in (1, 2, 4, 8, 16)) else [1]),
]
