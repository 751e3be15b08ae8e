"""One symbol, name and unit per recorded quantity: every figure, table and page reads its labels here.

A record column is a quantity's key, optionally with a split prefix (``train_``, ``test_``) and a
centring suffix (``_centred``); :func:`title` spells both out.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["QUANTITIES", "axis_label", "symbol", "title"]


class Quantity(NamedTuple):
    """How a quantity is written: ``symbol`` in table headers and on axes, ``name`` in titles, ``unit`` after both."""

    symbol: str
    name: str = ""
    unit: str = ""


QUANTITIES = {
    "accuracy": Quantity("accuracy"),
    "loss": Quantity("cross-entropy loss"),
    "mir": Quantity("MIR", "matrix mutual information ratio"),
    "hdr": Quantity("HDR", "matrix entropy difference ratio"),
    "h_z": Quantity("H(Z)", "entropy of the representations", "nats"),
    "h_w": Quantity("H(W)", "entropy of the heads paired with them", "nats"),
    "mi": Quantity("I(Z; W)", "matrix mutual information", "nats"),
    "mir_nc": Quantity("MIR at collapse"),
    "h_nc": Quantity("log(C−1) = H at collapse", unit="nats"),
    "h_heads": Quantity("H(heads)", "entropy of all heads", "nats"),
    "nc1": Quantity("NC1", "within-class variability"),
    "nc2_etf_distance": Quantity("NC2", "distance to a simplex ETF"),
    "nc3": Quantity("NC3", "heads vs class means"),
    "nc4": Quantity("NC4", "nearest-mean disagreement"),
    "mir_class": Quantity("MIR", "class pairing"),
    "hdr_class": Quantity("HDR", "class pairing"),
    "weight_norm": Quantity("weight norm"),
    "embedding_fourier_share": Quantity("Fourier share of the embedding"),
    "restricted_loss": Quantity("restricted loss"),
    "excluded_loss": Quantity("excluded loss"),
    "entropy": Quantity("H", "matrix entropy", "nats"),
    "effective_rank": Quantity("effective rank", "exp of the matrix entropy"),
}


def _quantity(key: str) -> Quantity:
    return QUANTITIES.get(key, Quantity(key.replace("_", " ")))


def symbol(key: str) -> str:
    """The short name of a quantity, for table headers (the key with spaces when it is not registered).

    Example:
        >>> symbol("nc2_etf_distance"), symbol("zero_rows")
        ('NC2', 'zero rows')
    """
    return _quantity(key).symbol


def axis_label(key: str) -> str:
    """The symbol and the unit, for an axis.

    Example:
        >>> axis_label("h_z")
        'H(Z) (nats)'
    """
    q = _quantity(key)
    return f"{q.symbol} ({q.unit})" if q.unit else q.symbol


def title(column: str) -> str:
    """A panel title for a record column, with its split prefix and centring suffix spelled out.

    Example:
        >>> title("train_h_z_centred")
        'train: H(Z), entropy of the representations (nats), centred'
        >>> title("mir")
        'MIR, matrix mutual information ratio'
    """
    split, _, rest = column.partition("_")
    prefix = f"{split}: " if split in ("train", "test") and rest else ""
    core = rest if prefix else column
    suffix = ", centred" if core.endswith("_centred") else ""
    q = _quantity(core.removesuffix("_centred"))
    text = f"{q.symbol}, {q.name}" if q.name else q.symbol
    return prefix + text + (f" ({q.unit})" if q.unit else "") + suffix
