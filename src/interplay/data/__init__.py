"""Data sets: the embedded default, MNIST/Fashion-MNIST idx files, CIFAR python batches and CoOp image folders."""

from interplay.data.datasets import DATASETS, ImageDataset, balanced_subset, load_dataset
from interplay.data.errors import DataError

__all__ = ["DATASETS", "DataError", "ImageDataset", "balanced_subset", "load_dataset"]
