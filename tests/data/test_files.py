"""Readers of the official file formats, on tiny generated files and (when given) the real ones."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from fakes import write_cifar10_like, write_idx, write_mnist_like
from interplay.data import DataError, load_dataset
from interplay.data.idx import read_idx


def test_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), array)


def test_idx_not_gzip(tmp_path):
    (tmp_path / "a.gz").write_bytes(b"plain bytes")
    with pytest.raises(DataError, match="a.gz is not a valid gzip file"):
        read_idx(tmp_path / "a.gz")


def test_idx_bad_magic_and_truncated(tmp_path):
    (tmp_path / "magic.gz").write_bytes(gzip.compress(bytes([1, 2, 3, 4, 5])))
    with pytest.raises(DataError, match="bad magic number"):
        read_idx(tmp_path / "magic.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2])))
    with pytest.raises(DataError, match=r"truncated or padded: its header says shape \(5,\)"):
        read_idx(tmp_path / "short.gz")


def test_generated_fashion_mnist_loads_and_md5_is_checked(tmp_path):
    write_mnist_like(tmp_path)
    data = load_dataset("fashion-mnist", data_dir=tmp_path, split="test", verify=False)
    assert tuple(data.images.shape) == (20, 1, 28, 28) and data.num_classes == 10
    assert 0.0 <= float(data.images.min()) and float(data.images.max()) <= 1.0
    with pytest.raises(DataError, match="does not match the official md5"):
        load_dataset("fashion-mnist", data_dir=tmp_path, split="test")


def test_missing_files_name_them(tmp_path):
    write_mnist_like(tmp_path)
    (tmp_path / "fashion_mnist/raw/t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz not found in .*fashion_mnist/raw; put the four official"):
        load_dataset("fashion-mnist", data_dir=tmp_path, split="test", verify=False)


def test_empty_and_absent_data_folders(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="is empty"):
        load_dataset("mnist", data_dir=tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("mnist", data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError, match="pass --data-dir or set INTERPLAY_DATA_DIR"):
        load_dataset("mnist")


def test_unknown_name_and_split():
    with pytest.raises(DataError, match="unknown data set 'svhn'; choose one of digits, mnist"):
        load_dataset("svhn")
    with pytest.raises(DataError, match="split must be 'train' or 'test'"):
        load_dataset("digits", split="val")


def test_cifar10_batches(tmp_path):
    write_cifar10_like(tmp_path)
    train = load_dataset("cifar10", data_dir=tmp_path, split="train")
    test = load_dataset("cifar10", data_dir=tmp_path, split="test")
    assert tuple(train.images.shape) == (30, 3, 32, 32) and tuple(test.images.shape) == (6, 3, 32, 32)
    assert train.classes[3] == "c3"
    augmented = train.augment(train.images)
    assert augmented.shape == train.images.shape and not augmented.equal(train.images)


def test_cifar_corrupt_and_incomplete(tmp_path):
    folder = write_cifar10_like(tmp_path)
    (folder / "data_batch_2").write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match="data_batch_2 is not a readable CIFAR pickle"):
        load_dataset("cifar10", data_dir=tmp_path)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 10), dtype=np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DataError, match=r"test_batch holds data of shape \(2, 10\)"):
        load_dataset("cifar10", data_dir=tmp_path, split="test")
    (folder / "batches.meta").unlink()
    with pytest.raises(DataError, match="batches.meta not found"):
        load_dataset("cifar10", data_dir=tmp_path, split="test")


class _Planted:
    """Unpickling this would write a file: the CIFAR reader must refuse it."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "ran"))


def test_cifar_reader_refuses_pickles_that_run_code(tmp_path):
    folder = write_cifar10_like(tmp_path)
    marker = tmp_path / "marker"
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": _Planted(marker), b"labels": [0]}))
    with pytest.raises(DataError, match=r"test_batch is not a readable CIFAR pickle \(it refers to pathlib"):
        load_dataset("cifar10", data_dir=tmp_path, split="test")
    assert not marker.exists()


def test_digits_is_embedded_and_stratified():
    train, test = load_dataset("digits"), load_dataset("digits", split="test")
    assert len(train.labels) + len(test.labels) == 1797
    assert np.bincount(test.labels.numpy()).min() >= 30


@pytest.mark.parametrize("name,folder", [("mnist", "mnist"), ("fashion-mnist", "fashion_mnist")])
def test_real_files_through_the_environment(name, folder, data_dir):
    if not (data_dir / folder).is_dir():
        pytest.skip(f"{data_dir / folder} is not there")
    test = load_dataset(name, data_dir=data_dir, split="test")
    assert tuple(test.images.shape) == (10000, 1, 28, 28)
    counts = np.bincount(test.labels.numpy())
    assert len(counts) == 10 and counts.sum() == 10000 and counts.min() > 800
