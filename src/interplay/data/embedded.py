"""The embedded default data set: scikit-learn's copy of the UCI handwritten digits (8×8, 10 classes)."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits_split"]


def load_digits_split(split: str, *, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 8, 8) scaled to [0, 1] and labels of a stratified, seeded split of the 1797 digits.

    Example:
        >>> images, labels = load_digits_split("test")
        >>> images.shape, sorted(set(labels.tolist())) == list(range(10))
        ((359, 8, 8), True)
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    test = np.zeros(len(digits.target), dtype=bool)
    for c in range(10):
        members = np.flatnonzero(digits.target == c)
        test[rng.permutation(members)[: int(round(test_fraction * len(members)))]] = True
    keep = test if split == "test" else ~test
    return (digits.images[keep] / 16.0).astype(np.float32), digits.target[keep].astype(np.int64)
