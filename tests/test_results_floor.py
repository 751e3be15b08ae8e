"""docs/results: every figure panel of an information metric draws the untrained network's floor,
measured at the run's n and class count and equal to the run's own initialisation where it recorded
one; where it recorded none, equal to the untrained network of one seed rebuilt and measured here."""
import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from results_scripts import RESULTS, results_script

from interplay.experiments.runs import load_splits
from interplay.functional.closed_form import nc_reference
from interplay.models import build_model
from interplay.prompt_learning import PromptLearner
from interplay.vision_language import minilm_text_features

INFORMATION = {"mir", "hdr", "h_z", "h_w", "mir_centred", "hdr_centred", "h_z_centred"}
# The runs' recorded initialisations and the keys that pick them out of each CSV.
INITIAL = {
    "dynamics": ("dynamics/measurements.csv", {"epoch": 0}, ["mir", "hdr", "h_z", "h_w"]),
    "label-smoothing": ("label-smoothing/measurements.csv", {"epoch": 0}, ["mir", "hdr", "h_z", "h_w"]),
    "clustering": ("clustering/measurements.csv", {"epoch": 0}, ["h_z", "h_w"]),
    "collapse/default": ("collapse/default/measurements.csv", {"epoch": 0, "labels": "true"},
                         ["mir", "hdr", "h_z", "h_w", "mir_centred", "hdr_centred", "h_z_centred"]),
}


@pytest.fixture(scope="module")
def figures():
    with results_script("figures") as module:
        yield module


@pytest.fixture(scope="module")
def panels(figures):
    """(csv, column, splits, floor_of, filters) of every band-figure panel, recorded instead of drawn."""
    seen = []

    def record(path, x, columns, out, what, *, splits=("train", "test"), floor_of=None, **options):
        seen.extend((path, c, splits, floor_of or str(Path(path).parent)) for c in columns)

    original = figures.split_figure
    figures.split_figure = record
    try:
        for draw in figures.FIGURES.values():
            if draw.__name__ == "<lambda>":
                draw()
    finally:
        figures.split_figure = original
    return seen


def _core(column: str) -> str:
    return column.removeprefix("train_").removeprefix("test_")


def test_every_information_panel_has_a_floor(figures, panels):
    drawn = [p for p in panels if _core(p[1]) in INFORMATION]
    assert {"mir", "hdr"} <= {_core(p[1]) for p in drawn}
    for path, column, splits, of in drawn:
        for split in splits:
            floor = figures._floor(column, split, of)
            assert floor.size >= 3, f"{path} {column} {split}: no floor with 3 seeds in floor.csv"


def test_floor_is_measured_at_the_runs_n_and_class_count(figures, panels):
    for path, column, splits, of in {(p[0], None, p[2], p[3]) for p in panels if _core(p[1]) in INFORMATION}:
        run = figures.rows(path)
        floor = figures.rows(f"{Path(path).parent}/floor.csv", experiment=of)
        assert len({(r["seed"], r["split"]) for r in floor}) == len(floor), f"{of}: a seed measured twice"
        stored = json.loads((RESULTS / Path(path).parent / "config.json").read_text())["config"]
        for row in floor:
            if "n" in run[0]:  # the run's n of the same split, at initialisation where it recorded it
                split = [r for r in run if r.get("split", "test") == row["split"]]
                same = [r for r in split if r.get("epoch", "0") in ("0", "0.0")] or split
                assert {int(r["n"]) for r in same} == {int(row["n"])}, f"{of} seed {row['seed']} {row['split']}"
            if "mir_nc" in run[0]:
                assert float(run[0]["mir_nc"]) == pytest.approx(float(nc_reference(int(row["num_classes"])).mir), abs=1e-12)
            elif "test_accuracy" in run[0]:  # grokking: the classes are the residues mod p
                assert (int(row["num_classes"]), int(row["n"])) == (stored["p"], stored["information_samples"])
            if "samples" in stored:  # clustering measures a seeded test subset of this size
                assert int(row["n"]) == stored["samples"]


@pytest.mark.parametrize("folder", sorted(INITIAL))
def test_floor_reproduces_the_runs_initialisation(figures, folder):
    """Per seed, the floor equals the run's epoch-0 value to a hundredth of the floor's seed spread."""
    path, keys, columns = INITIAL[folder]
    floor = figures.rows(f"{folder}/floor.csv")
    run = figures.rows(path, **keys)
    if folder == "collapse/default":
        assert {int(r["num_classes"]) for r in run} == {int(r["num_classes"]) for r in floor}
    compared = 0
    for column in columns:
        spread = np.std([float(r[column]) for r in floor if r["split"] == floor[0]["split"]], ddof=1)
        for row in floor:
            recorded = [float(r[column]) for r in run if r["seed"] == row["seed"] and r.get("split", "test") == row["split"]]
            for value in recorded:  # one per smoothing factor or objective: they share the initialisation
                assert math.isclose(value, float(row[column]), abs_tol=0.01 * spread), f"{folder} {column} seed {row['seed']}"
                compared += 1
    assert compared >= 2 * len(columns)


# Runs with no record at initialisation, and for CMA the classes its image encoder was pretrained on
# (the earlier protocol, whose config predates the setting, pretrained on MNIST alone).
REBUILT = {"loss-supervised/terminal": None, "loss-supervised": None, "semi-supervised": None, "semi-supervised/long-250": None,
           "semi-supervised/long-250-seeds-1-2": None, "cma": (0, 1, 2, 3, 4), "cma/earlier-image-tuning": ()}


def _unit(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _entropy(gram: np.ndarray) -> float:
    p = np.linalg.eigvalsh(gram / np.trace(gram))
    p = p[p > 1e-15]
    return float(-(p * np.log(p)).sum())


def _sample_pairing(z, heads, labels) -> dict[str, float]:
    """MIR, HDR, H(Z), H(W) of the sample pairing from the d × d second moments, whose nonzero
    eigenvalues are those of the n × n Gram matrices; the joint's rows z_i ⊗ w_(y_i) are written in a
    basis of the heads' span, so that its moment is (d · C) × (d · C)."""
    u, v, labels = _unit(z), _unit(heads), np.asarray(labels)
    c = v @ np.linalg.svd(v, full_matrices=False)[2].T
    joint = sum(np.kron(u[labels == k].T @ u[labels == k], np.outer(c[k], c[k])) for k in range(len(v)))
    h_z, h_w, h_joint = _entropy(u.T @ u), _entropy(v[labels].T @ v[labels]), _entropy(joint)
    return {"mir": (h_z + h_w - h_joint) / min(h_z, h_w), "hdr": abs(h_z - h_w) / max(h_z, h_w), "h_z": h_z, "h_w": h_w}


def _standardised(train_images: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    mean, std = train_images.mean(dim=(0, 2, 3), keepdim=True), train_images.std(dim=(0, 2, 3), keepdim=True)
    return (images - mean) / std


@functools.cache
def _classifier(dataset: str, model: str, width: int, seed: int, data_dir: str | None) -> dict[str, float]:
    """The untrained classifier of ``seed`` on the test set: representations at the head's input against its rows."""
    train, test = load_splits(dataset, data_dir)
    torch.manual_seed(seed)
    network = build_model(model, tuple(train.images.shape[1:]), train.num_classes, width=width or None).eval()
    seen = []
    network.head.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    with torch.no_grad():
        network(_standardised(train.images, test.images))
    return _sample_pairing(torch.cat(seen).numpy(), network.head.weight.detach().numpy(), test.labels.numpy()) | {"n": len(test.labels)}


def _cma(stored: dict, base: tuple[int, ...], seed: int, data_dir: str) -> dict[str, float]:
    """The untrained image encoder of ``seed`` (standardised by the pretraining data set and the base
    classes' training images) against the text features of the other classes at the start of tuning
    (the earlier protocol, whose config has no ``tune``, tuned the image encoder)."""
    (train, test), (extra, _) = load_splits(stored["dataset"], data_dir), load_splits(stored["pretrain_dataset"], data_dir)
    pretraining = torch.cat([extra.images, train.images[torch.isin(train.labels, torch.tensor(base, dtype=torch.long))]])
    new = [k for k in range(train.num_classes) if k not in base]
    kept = torch.isin(test.labels, torch.tensor(new))
    labels = torch.searchsorted(torch.tensor(new), test.labels[kept])
    names = [train.classes[k].lower() for k in new]
    if stored.get("tune", "image") == "prompt":
        learner = PromptLearner.minilm(names, stored["n_ctx"])
        learner.reset(seed)
        with torch.no_grad():
            text = learner()
    else:
        text = minilm_text_features([stored["template"].format(name) for name in names])
    torch.manual_seed(seed)
    encoder = build_model("cnn", (1, 28, 28), text.shape[1]).eval()
    with torch.no_grad():
        features = encoder(_standardised(pretraining, test.images[kept]))
    return _sample_pairing(features.numpy(), text.numpy(), labels.numpy()) | {"n": len(labels)}


@pytest.mark.parametrize("folder", sorted(REBUILT))
def test_floor_equals_the_untrained_network_rebuilt_here(figures, folder, request):
    """The floor of the run's first seed equals the untrained network built and measured here."""
    stored = json.loads((RESULTS / folder / "config.json").read_text())["config"]
    data_dir = None if stored["dataset"] == "digits" else str(request.getfixturevalue("data_dir"))
    base = REBUILT[folder]
    row = next(r for r in figures.rows(f"{folder}/floor.csv", split="test") if int(r["seed"]) == min(stored["seeds"]))
    seed = int(row["seed"])
    if base is None:
        expected = _classifier(stored["dataset"], stored["model"], stored["width"], seed, data_dir)
    else:
        expected = _cma(stored, base, seed, data_dir)
    assert int(row["n"]) == expected["n"]
    for column in ("mir", "hdr", "h_z", "h_w"):
        assert float(row[column]) == pytest.approx(expected[column], abs=1e-6), f"{folder} seed {seed} {column}"


def test_earlier_cma_floor_has_the_runs_text_entropy(figures):
    """With the hand-written prompts fixed, H(W) of the untrained encoder is the run's own in every record."""
    run = [float(r["h_w"]) for r in figures.rows("cma/earlier-image-tuning/measurements.csv") if r["h_w"]]
    floor = [float(r["h_w"]) for r in figures.rows("cma/earlier-image-tuning/floor.csv")]
    assert len(run) > 1 and len(floor) >= 3
    assert max(floor + run) - min(floor + run) < 1e-6
