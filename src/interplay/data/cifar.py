"""Reader for the CIFAR-10 and CIFAR-100 python pickle batches (Krizhevsky 2009)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from interplay.data.errors import DataError

__all__ = ["load_cifar_split"]

# folder, training batches, test batch, meta file, label key, class-name key
CIFAR_LAYOUT = {
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], "test_batch", "batches.meta", "labels", "label_names"),
    "cifar100": ("cifar-100-python", ["train"], "test", "meta", "fine_labels", "fine_label_names"),
}


# The only globals an official batch refers to: numpy arrays and their dtypes.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "ndarray"), ("numpy", "dtype"),
}


class _ArraysOnly(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a planted file cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which an official batch never does")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return _ArraysOnly(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise DataError(f"{path} is not a readable CIFAR pickle ({error}); replace it with the official file.") from error


def _get(batch: dict, key: str, path: Path):
    for k in (key, key.encode()):
        if k in batch:
            return batch[k]
    raise DataError(f"{path} has no {key!r} entry; it is not an official CIFAR batch. Replace it with the official file.")


def load_cifar_split(name: str, data_dir: str | Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, 3, 32, 32) uint8, labels (N,) and class names of one CIFAR split.

    Example:
        >>> load_cifar_split("cifar10", "/nonexistent", "train")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        interplay.data.errors.DataError: cifar10 files ... not found in /nonexistent/cifar-10-batches-py; ...
    """
    folder_name, train_files, test_file, meta_file, label_key, names_key = CIFAR_LAYOUT[name]
    folder = Path(data_dir) / folder_name
    files = train_files if split == "train" else [test_file]
    missing = [f for f in [*files, meta_file] if not (folder / f).is_file()]
    if missing:
        raise DataError(
            f"{name} files {', '.join(missing)} not found in {folder}; extract the official python "
            f"archive into {Path(data_dir)} so that {folder_name}/ holds them."
        )
    images, labels = [], []
    for f in files:
        batch = _unpickle(folder / f)
        data = np.asarray(_get(batch, "data", folder / f), dtype=np.uint8)
        batch_labels = np.asarray(_get(batch, label_key, folder / f), dtype=np.int64)
        if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != batch_labels.shape[0]:
            raise DataError(f"{folder / f} holds data of shape {data.shape} for {batch_labels.shape[0]} labels, not (N, 3072); replace it.")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(batch_labels)
    names = [n.decode() if isinstance(n, bytes) else n for n in _get(_unpickle(folder / meta_file), names_key, folder / meta_file)]
    return np.concatenate(images), np.concatenate(labels), names
