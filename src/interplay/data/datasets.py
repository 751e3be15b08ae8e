"""One registry of image classification data sets, loaded whole into tensors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from interplay.data.augment import crop_and_flip
from interplay.data.cifar import load_cifar_split
from interplay.data.coop import COOP_LAYOUT, load_coop_split
from interplay.data.embedded import load_digits_split
from interplay.data.errors import DataError
from interplay.data.idx import IDX_FOLDERS, download_idx, load_idx_split

__all__ = ["ImageDataset", "balanced_subset", "load_dataset", "DATASETS"]

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DATASETS = {
    "digits": "embedded 8×8 handwritten digits (scikit-learn), no files needed",
    "mnist": "MNIST idx .gz files in <data-dir>/mnist/raw",
    "fashion-mnist": "Fashion-MNIST idx .gz files in <data-dir>/fashion_mnist/raw",
    "cifar10": "CIFAR-10 python batches in <data-dir>/cifar-10-batches-py",
    "cifar100": "CIFAR-100 python batches in <data-dir>/cifar-100-python",
    "eurosat": "EuroSAT RGB images in <data-dir>/eurosat/2750 beside CoOp's split_zhou_EuroSAT.json",
}


@dataclass(frozen=True)
class ImageDataset:
    """A split held in memory: images (N, C, H, W) float32 in [0, 1], labels (N,) int64."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def channel_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and standard deviation, shaped (1, C, 1, 1)."""
        return self.images.mean(dim=(0, 2, 3), keepdim=True), self.images.std(dim=(0, 2, 3), keepdim=True)

    def standardize(self, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        """Images with the given (training) channel statistics removed; a constant channel becomes 0."""
        return (self.images - mean) / torch.where(std > 0, std, torch.ones_like(std))

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """Training augmentation: random 4-pixel-padded crops and horizontal flips for CIFAR, none otherwise."""
        if not self.name.startswith("cifar"):
            return images
        return crop_and_flip(images, pad=4)


def balanced_subset(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Indices of ``per_class`` seeded samples of every class.

    Example:
        >>> labels = torch.tensor([0, 1, 0, 1, 0])
        >>> labels[balanced_subset(labels, 1, seed=0)].tolist()
        [0, 1]
    """
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    counts = torch.bincount(labels)
    if int(counts.min()) < per_class:
        raise DataError(
            f"per_class={per_class} asks for more images than the smallest class holds ({int(counts.min())}); lower per_class."
        )
    return torch.cat([order[labels[order] == c][:per_class] for c in range(len(counts))])


def _require_dir(name: str, data_dir: str | Path | None) -> Path:
    if data_dir is None:
        raise DataError(f"{name} needs its data files: pass --data-dir or set INTERPLAY_DATA_DIR ({DATASETS[name]}).")
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist; pass the folder that holds {DATASETS[name]}.")
    if not any(folder.iterdir()):
        raise DataError(f"data folder {folder} is empty; put {DATASETS[name]}, or pass --download.")
    return folder


def load_dataset(
    name: str, *, data_dir: str | Path | None = None, split: str = "train", download: bool = False, verify: bool = True
) -> ImageDataset:
    """Load one split of a registered data set.

    Args:
        name: one of ``digits``, ``mnist``, ``fashion-mnist``, ``cifar10``, ``cifar100``, ``eurosat``.
        data_dir: the folder of the official files (not needed for ``digits``).
        split: ``"train"`` or ``"test"``.
        download: fetch missing MNIST/Fashion-MNIST files first (needs a network).
        verify: check MNIST/Fashion-MNIST files against the official md5.

    Raises:
        DataError: unknown name or split, missing folder or files, corrupt files.

    Example:
        >>> data = load_dataset("digits", split="test")
        >>> tuple(data.images.shape), data.num_classes
        ((359, 1, 8, 8), 10)
    """
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test'; got {split!r}.")
    if name == "digits":
        images, labels = load_digits_split(split)
        return ImageDataset(name, torch.from_numpy(images)[:, None], torch.from_numpy(labels), [str(c) for c in range(10)])
    if download and name in IDX_FOLDERS and data_dir is not None:
        download_idx(name, data_dir)
    folder = _require_dir(name, data_dir)
    if name in IDX_FOLDERS:
        images, labels = load_idx_split(name, folder, split, verify=verify)
        classes = FASHION_CLASSES if name == "fashion-mnist" else [str(c) for c in range(10)]
        images = torch.from_numpy(images.copy())[:, None]
    else:
        raw, labels, classes = (load_coop_split if name in COOP_LAYOUT else load_cifar_split)(name, folder, split)
        images = torch.from_numpy(raw)
    labels = torch.from_numpy(labels.astype("int64"))
    if int(labels.min()) < 0 or int(labels.max()) >= len(classes):
        raise DataError(f"{name} {split} labels lie outside [0, {len(classes) - 1}]; the files are corrupt, replace them.")
    return ImageDataset(name, images.float() / 255.0, labels, classes)
