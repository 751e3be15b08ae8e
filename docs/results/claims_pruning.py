"""The numbers quoted in the pruning section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from sources_training import imp_gap, pr, pr_curve

__all__ = ["CLAIMS"]

CLAIMS = [
    ("body sparsity 0.9 / 0.99 is network", "0.9 / 0.99 is network sparsity 0.888 / 0.977", lambda: [0.9, 0.99, pr("network_sparsity", "one-shot body", 0.9).mean(), pr("network_sparsity", "one-shot body", 0.99).mean()]),
    ("the body holds 98.7 % of the weights", "98.7 %", lambda: pr("network_sparsity", "one-shot body", 0.9).mean() / 0.9),
    ("MIR falls with sparsity after fine-tuning at every", "(0.601 at 0 to 0.456 at 99 %)", lambda: [pr_curve("mir", "one-shot body + fine-tune")[0], 0, pr_curve("mir", "one-shot body + fine-tune")[-1], 0.99] if np.all(np.diff(pr_curve("mir", "one-shot body + fine-tune")) < 0) else [0, 0, 0, 0]),
    ("MIR falls with sparsity after fine-tuning at every", "up to 98 % (0.604 to 0.311)", lambda: [0.98, *pr_curve("mir", "one-shot body")[[0, 5]]] if np.all(np.diff(pr_curve("mir", "one-shot body")[:6]) < 0) else [0, 0, 0]),
    ("MIR falls with sparsity after fine-tuning at every", "(0.311 →\n0.319)", lambda: pr_curve("mir", "one-shot body")[5:]),
    ("HDR is\nstill not monotonic", "0.118 → 0.023 at 80 % as pruned, 0.009 at 90 % fine-tuned", lambda: [pr_curve("hdr", "one-shot body")[0], pr_curve("hdr", "one-shot body")[2], 0.8, pr_curve("hdr", "one-shot body + fine-tune")[3], 0.9]),
    ("HDR is\nstill not monotonic", "from 2.43 toward H(W) = 2.15", lambda: [pr_curve("h_z", "one-shot body")[0], pr_curve("h_w", "one-shot body")[0]]),
    ("HDR is\nstill not monotonic", "(to 0.78 at 99 %)", lambda: [pr_curve("hdr", "one-shot body")[-1], 0.99]),
    ("HDR is\nstill not monotonic", "(0.46 nats at 99 %)", lambda: [pr_curve("h_z", "one-shot body")[-1], 0.99]),
    ("H(W) stays at 2.146 in", "2.146", lambda: np.unique(pr_curve("h_w", "one-shot body").round(3))),
    ("(accuracy 0.682 against 0.697 as pruned", "(accuracy 0.682 against 0.697 as pruned,\nMIR 0.426 against 0.429)", lambda: [pr("accuracy", "one-shot all", 0.9).mean(), pr("accuracy", "one-shot body", 0.9).mean(), pr("mir", "one-shot all", 0.9).mean(), pr("mir", "one-shot body", 0.9).mean()]),
    ("pushes H(W) of the pruned heads up to 2.20", "2.20", lambda: pr("h_w", "one-shot all", 0.99).mean()),
    ("HDR at 99 % is alike in both scopes", "(0.79 and 0.78)", lambda: [pr("hdr", "one-shot all", 0.99).mean(), pr("hdr", "one-shot body", 0.99).mean()]),
    ("(0.003–0.008 lower)", "0.003–0.008", lambda: [pr("accuracy", "one-shot body + fine-tune", x).mean() - pr("accuracy", "IMP body, rewound", x).mean() for x in (0.5, 0.8, 0.9)]),
    ("and has a higher MIR in both seeds", "0.604 against 0.560 at 80 % and\n0.574 against 0.517 at 90 %", lambda: [pr("mir", "IMP body, rewound", 0.8).mean(), pr("mir", "one-shot body + fine-tune", 0.8).mean(), 0.8, pr("mir", "IMP body, rewound", 0.9).mean(), pr("mir", "one-shot body + fine-tune", 0.9).mean(), 0.9]),
    ("and has a higher MIR in both seeds", "both seeds", lambda: [] if np.all(pr("mir", "IMP body, rewound", 0.8) > pr("mir", "one-shot body + fine-tune", 0.8)) and np.all(pr("mir", "IMP body, rewound", 0.9) > pr("mir", "one-shot body + fine-tune", 0.9)) else [0]),
    ("and has a higher MIR in both seeds", "(2.33–2.45)", lambda: [pr("h_z", "IMP body, rewound", x).mean() for x in (0.5, 0.8, 0.9)]),
    ("and has a higher MIR in both seeds", "(0.08–0.14\nagainst 0.01–0.11", lambda: [*np.sort([pr("hdr", "IMP body, rewound", x).mean() for x in (0.5, 0.8, 0.9)])[[0, -1]], *np.sort([pr("hdr", "one-shot body + fine-tune", x).mean() for x in (0.5, 0.8, 0.9)])[[0, -1]]]),
    ("The paired differences in MIR", "+0.044 and +0.057", lambda: [imp_gap(0.8)[0], imp_gap(0.9)[0]]),
    ("The paired differences in MIR", "−0.053 to +0.140 and −0.090 to +0.204", lambda: [*imp_gap(0.8)[1:], *imp_gap(0.9)[1:]]),
]
