"""The numbers quoted in the dynamics section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from sources_stats import mean
from sources_training import DYN, dyn_curve, mir_is_mi_over_h_w, shares

__all__ = ["CLAIMS"]

CLAIMS = [
    ("HDR falls from 0.71 to 0.09 (test", "0.71 to 0.09", lambda: [mean(DYN, "hdr", split="test", epoch=0), mean(DYN, "hdr", split="test", epoch=15)]),
    ("on the training subset it jumps from", "0.31 to 0.62", lambda: dyn_curve("mir", "train")[:2]),
    ("is highest (0.64) at epochs 3–5", "0.64", lambda: dyn_curve("mir", "train")[3:6].max()),
    ("is highest (0.64) at epochs 3–5", "3–5", lambda: [3, 5] if np.argmax(dyn_curve("mir", "train")) in (3, 4, 5) else [0, 0]),
    ("and ends at 0.61 (test 0.58)", "0.61 (test 0.58", lambda: [dyn_curve("mir", "train")[15], dyn_curve("mir", "test")[15]]),
    ("normaliser H(W) of the heads rises from", "2.09 to 2.17", lambda: dyn_curve("h_w", "train")[[4, 15]]),
    ("first-epoch drop from", "2.27 to 2.05", lambda: dyn_curve("h_w", "train")[:2]),
    ("accounts for 53–67 % (train)", "53–67", lambda: 100 * shares("train")),
    ("and 41–54 % (test) of the fall", "41–54", lambda: 100 * shares("test")),
    ("The rest is MI falling slightly", "1.35 → 1.31", lambda: dyn_curve("mi", "train")[[4, 15]]),
    ("The rest is MI falling slightly", "1.26)", lambda: dyn_curve("mi", "test")[15]),
    ("test 1.31 → 1.26", "1.31 → 1.26", lambda: dyn_curve("mi", "test")[[4, 15]]),
    ("MI at collapse\nwould be", "2.09 nats", lambda: 0.9523507825397208 * np.log(9)),
    ("MI reaches 1.28 in the first epoch", "1.28", lambda: dyn_curve("mi", "train")[1]),
    ("1.26 and 1.36 on either split", "1.26 and 1.36", lambda: np.r_[dyn_curve("mi", "train")[1:], dyn_curve("mi", "test")[1:]]),
    ("near 2.40. The network", "2.40", lambda: [dyn_curve("h_z", "train")[15]]),
    ("(train NC1 0.35)", "0.35", lambda: dyn_curve("nc1", "train")[15]),
    ("From epoch 1 on H(Z) exceeds H(W) in every record", "epoch 1", lambda: 1 if mir_is_mi_over_h_w() else 0),
]
