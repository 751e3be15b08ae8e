"""CoOp's image-folder data sets (EuroSAT layout) on tiny generated folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fakes import EUROSAT_COLOURS, write_eurosat_like
from interplay.data import DataError, load_dataset

def test_images_labels_and_class_names_come_from_the_split_file(tmp_path):
    data = load_dataset("eurosat", data_dir=write_eurosat_like(tmp_path), split="train")
    assert data.classes == ["Forest", "Sea or Lake"] and data.labels.tolist() == [0, 0, 1, 1]
    assert tuple(data.images.shape) == (4, 3, 64, 64)  # the 32×32 image is resized
    expected = np.array(EUROSAT_COLOURS["Sea or Lake"]) / 255.0
    np.testing.assert_allclose(data.images[3].mean(dim=(1, 2)).numpy(), expected, atol=1e-6)
    assert len(load_dataset("eurosat", data_dir=tmp_path, split="test").labels) == 2


def break_split(root, text):
    (root / "eurosat" / "split_zhou_EuroSAT.json").write_text(text)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda root: (root / "eurosat" / "split_zhou_EuroSAT.json").unlink(), "split_zhou_EuroSAT.json is missing"),
    (lambda root: break_split(root, "{not json"), "is not a CoOp split file with a 'train' list"),
    (lambda root: break_split(root, json.dumps({"train": []})), "lists no train images"),
    (lambda root: break_split(root, json.dumps({"train": [["Forest/1.png", 0, "Forest"], ["Forest/2.png", 0, "Wood"]]})),
     "names class 0 both 'Forest' and 'Wood'"),
    (lambda root: break_split(root, json.dumps({"train": [["Forest/1.png", 1, "Forest"]]})), r"labels are not 0..0"),
    (lambda root: (root / "eurosat" / "2750" / "Forest" / "1.png").unlink(), "Forest/1.png is listed in split_zhou_EuroSAT.json but missing"),
    (lambda root: (root / "eurosat" / "2750" / "Forest" / "1.png").write_bytes(b"not an image"), "Forest/1.png is not a readable image"),
])
def test_damaged_folders_are_one_clear_error(tmp_path, damage, message):
    root = write_eurosat_like(tmp_path)
    damage(root)
    with pytest.raises(DataError, match=message):
        load_dataset("eurosat", data_dir=root, split="train")
