"""Loaders over the CSVs of collapse-ce: the search for a cross-entropy setting that reaches train
NC1 <= 0.01, and its archived runs.

The `claims_*.py` modules pair each quoted number with one of these.
"""
from recompute import rows, values

__all__ = ["CE_SEARCH", "ce_readings", "ce_run", "ce_search", "ce_search_row"]

CE_SEARCH = "collapse-ce/search.csv"
CE_ROW = ["last_epoch", "train_s", "train_accuracy", "train_nc1", "min_train_nc1", "train_nc2_etf_distance", "train_nc3",
          "train_nc4", "train_mir_centred", "train_mir", "train_hdr_centred", "train_hdr"]
CE_READINGS = ["nc1", "nc2_etf_distance", "nc3", "nc4", "mir_centred", "mir", "mir_class", "hdr_centred", "hdr", "hdr_class",
               "rho", "mir_rho", "hdr_rho"]


def ce_search(run: str, column: str, seed: int = 0) -> float:
    """One column of a row of collapse-ce/search.csv."""
    return float(rows(CE_SEARCH, run=run, seed=seed)[0][column])


def ce_search_row(run: str, seed: int = 0) -> list[float]:
    """The numbers of a line of the page's search table, the first epoch at NC1 <= 0.01 last (where there is one)."""
    r = rows(CE_SEARCH, run=run, seed=seed)[0]
    first = r["first_epoch_nc1_le_0.01"]
    return [float(r[c]) for c in CE_ROW] + ([float(first)] if first else [])


def ce_run(run: str, column: str, epoch: int | None = None, seed: int = 0, split: str = "train") -> float:
    """One record of an archived collapse-ce run (its last epoch unless given)."""
    path = f"collapse-ce/{run}/measurements.csv"
    epoch = max(values(path, "epoch")) if epoch is None else epoch
    return float(values(path, column, epoch=epoch, seed=seed, split=split)[0])


def ce_readings(run: str, seed: int, split: str) -> list[float]:
    """A line of the page's readings table: NC1–NC4, MIR and HDR in the three readings, ρ and the collapse values at ρ."""
    return [ce_run(run, c, seed=seed, split=split) for c in CE_READINGS]
