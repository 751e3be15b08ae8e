"""Readers for the official MNIST and Fashion-MNIST idx ``.gz`` files (LeCun et al.; Xiao et al. 2017)."""

from __future__ import annotations

import gzip
import hashlib
import struct
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from interplay.data.errors import DataError

__all__ = ["read_idx", "load_idx_split", "download_idx", "IDX_FOLDERS"]

IDX_FOLDERS = {"mnist": "mnist/raw", "fashion-mnist": "fashion_mnist/raw"}
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# md5 of the official .gz release files.
MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
_DTYPES = {0x08: np.uint8}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one gzip-compressed idx file (unsigned-byte data) into an array.

    Raises:
        DataError: the file is not gzip, has a wrong magic number, or is truncated.

    Example:
        >>> import gzip, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.gz"
        >>> _ = path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 3])))
        >>> read_idx(path).tolist()
        [7, 3]
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path} is not a valid gzip file ({error}); delete it and copy the official file again.") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{path} is not an idx file of unsigned bytes (bad magic number); replace it with the official file.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(shape)):
        raise DataError(
            f"{path} is truncated or padded: its header says shape {shape} but it holds "
            f"{len(raw) - header} values; replace it with the official file."
        )
    return np.frombuffer(raw, dtype=_DTYPES[raw[2]], offset=header).reshape(shape)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def load_idx_split(name: str, data_dir: str | Path, split: str, *, verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) of one split of MNIST or Fashion-MNIST."""
    folder = Path(data_dir) / IDX_FOLDERS[name]
    paths = [folder / f for f in IDX_FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"{name} files {', '.join(missing)} not found in {folder}; put the four official .gz files "
            f"({', '.join(IDX_FILES['train'] + IDX_FILES['test'])}) there, or pass --download."
        )
    if verify:
        for p in paths:
            if _md5(p) != MD5[name][p.name]:
                raise DataError(f"{p} does not match the official md5 (corrupt or different file); replace it with the official file.")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{folder}: images {images.shape} and labels {labels.shape} do not pair up; replace them with the official files."
        )
    return images, labels


def download_idx(name: str, data_dir: str | Path) -> None:
    """Fetch the four official files of ``name`` into ``data_dir`` (needs a network; never used by the tests)."""
    folder = Path(data_dir) / IDX_FOLDERS[name]
    folder.mkdir(parents=True, exist_ok=True)
    for file in IDX_FILES["train"] + IDX_FILES["test"]:
        target = folder / file
        if target.is_file():
            continue
        partial = target.with_suffix(".part")  # a failed download never leaves a file under the real name
        try:
            urllib.request.urlretrieve(MIRRORS[name] + file, partial)
        except (OSError, ValueError) as error:
            partial.unlink(missing_ok=True)
            reason = getattr(error, "reason", error)
            raise DataError(
                f"could not download {MIRRORS[name] + file} ({reason}); check the network, or copy the official "
                f"files into {folder} yourself and run again without --download."
            ) from error
        partial.replace(target)
