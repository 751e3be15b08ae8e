"""The numbers quoted in the label-smoothing section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
from sources_stats import holm_min
from sources_training import ls, ls_gap, ls_p

__all__ = ["CLAIMS"]

CLAIMS = [
    ("What it shows: label smoothing moves both ratios", "MIR rises from\n0.60 to 0.67–0.68 (test) and HDR falls from 0.10 to 0.05 as the factor grows from 0 to 0.4", lambda: [ls("mir", 0.0).mean(), *(lambda x: [min(x), max(x)])([ls("mir", f).mean() for f in (0.1, 0.2, 0.4)]), ls("hdr", 0.0).mean(), ls("hdr", 0.4).mean(), 0, 0.4]),
    ("What it shows: label smoothing moves both ratios", "falls from 0.44 to 0.24 with it", lambda: [ls("nc1", 0.0).mean(), ls("nc1", 0.4).mean()]),
    ("What it shows: label smoothing moves both ratios", "it is 0.920–0.925 for every factor", lambda: [ls("accuracy", f).mean() for f in (0.0, 0.1, 0.2, 0.4)]),
    ("What it shows: label smoothing moves both ratios", "+0.0030, −0.0004 and −0.0028 (0.1, 0.2, 0.4)", lambda: [*(ls_gap(f)[0] for f in (0.1, 0.2, 0.4)), 0.1, 0.2, 0.4]),
    ("What it shows: label smoothing moves both ratios", "paired p ≥ 0.67 over the 3 factors", lambda: [holm_min([ls_p(f) for f in (0.1, 0.2, 0.4)]), 3]),
    ("What it shows: label smoothing moves both ratios", "with 2 seeds the 95 % t\nintervals are −0.011 to +0.017, −0.026 to +0.026 and −0.024 to +0.019", lambda: [len(ls("accuracy", 0.0)), 0.95, *(x for f in (0.1, 0.2, 0.4) for x in ls_gap(f)[1:])]),
]
