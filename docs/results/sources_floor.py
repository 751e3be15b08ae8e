"""The random-feature floor beside each run (floor.csv, written by floor.py), the only record of the
untrained network for the runs that kept none.

The `claims_*.py` modules pair each quoted number with one of these.
"""
import numpy as np

from recompute import sd, values

__all__ = ["floor", "same_floor", "within_floor"]

INFORMATION = ("mir", "hdr", "h_z", "h_w")


def floor(folder: str, column: str) -> np.ndarray:
    """The untrained network's test values of ``column``, one per seed."""
    return values(f"{folder}/floor.csv", column, split="test")


def same_floor(*folders: str) -> bool:
    """Whether the floors of ``folders`` agree seed by seed in every information column."""
    return all(np.array_equal(floor(folders[0], c), floor(f, c)) for f in folders[1:] for c in INFORMATION)


def within_floor(x, folder: str, column: str) -> bool:
    """Whether the mean of ``x`` lies within one sample std of the floor's mean."""
    return abs(np.mean(x) - floor(folder, column).mean()) < sd(floor(folder, column))
