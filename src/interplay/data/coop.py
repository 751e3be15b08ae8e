"""Reader for the image-folder data sets of CoOp (Zhou et al. 2022) with their fixed split files.

CoOp ships, for each of its data sets, a JSON file ``split_zhou_<Name>.json`` that lists the
``train``, ``val`` and ``test`` images as ``[relative path, label, class name]``; the class names
are the ones its prompts use. The images are decoded with Pillow (a Matplotlib dependency) and
resized to one square size so that a split fits one tensor.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from interplay.data.errors import DataError

__all__ = ["COOP_LAYOUT", "load_coop_split"]

# folder under the data folder, split file, image folder inside it, side the images are resized to
COOP_LAYOUT = {"eurosat": ("eurosat", "split_zhou_EuroSAT.json", "2750", 64)}


def _read_split(path: Path, split: str) -> list:
    if not path.is_file():
        raise DataError(f"{path} is missing; put CoOp's split file there (see CoOp's DATASETS.md).")
    try:
        entries = json.loads(path.read_text())[split]
        return [(str(rel), int(label), str(name)) for rel, label, name in entries]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise DataError(f"{path} is not a CoOp split file with a '{split}' list of [path, label, class name]; replace it.") from error


def load_coop_split(name: str, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, 3, S, S) uint8, labels (N,) and class names of one split (``train`` or ``test``).

    Example:
        >>> load_coop_split("eurosat", Path("/no/such/folder"), "test")
        Traceback (most recent call last):
        ...
        interplay.data.errors.DataError: /no/such/folder/eurosat/split_zhou_EuroSAT.json is missing; put CoOp's split file there (see CoOp's DATASETS.md).
    """
    from PIL import Image, UnidentifiedImageError

    sub, split_file, image_dir, side = COOP_LAYOUT[name]
    entries = _read_split(folder / sub / split_file, split)
    if not entries:
        raise DataError(f"{folder / sub / split_file} lists no {split} images; replace it.")
    labels = np.array([label for _, label, _ in entries], dtype=np.int64)
    names: dict[int, str] = {}
    for _, label, cname in entries:
        if names.setdefault(label, cname) != cname:
            raise DataError(f"{split_file} names class {label} both {names[label]!r} and {cname!r}; replace it.")
    if sorted(names) != list(range(len(names))):
        raise DataError(f"{split_file} labels are not 0..{len(names) - 1}; replace it.")
    images = np.empty((len(entries), 3, side, side), dtype=np.uint8)
    for i, (rel, _, _) in enumerate(entries):
        path = folder / sub / image_dir / rel
        try:
            with Image.open(path) as image:
                pixels = image.convert("RGB").resize((side, side), Image.BICUBIC)
        except FileNotFoundError:
            raise DataError(f"{path} is listed in {split_file} but missing; put the {name} images in {folder / sub / image_dir}.") from None
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"{path} is not a readable image ({error}); replace it.") from None
        images[i] = np.asarray(pixels).transpose(2, 0, 1)
    return images, labels, [names[c] for c in range(len(names))]
