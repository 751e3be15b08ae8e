"""docs/results: every figure panel of an information metric draws the untrained network's floor,
measured at the run's n and class count and equal to the run's own initialisation where it recorded one."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from results_scripts import RESULTS, results_script

from interplay.functional.closed_form import nc_reference

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
                same = [r for r in run if r["split"] == row["split"] and r.get("epoch", "0") in ("0", "0.0")]
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
