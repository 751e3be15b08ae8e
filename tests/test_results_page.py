"""docs/results.md: every spread table and every checked number agrees with the CSVs beside it."""
import importlib
import sys

import pytest
from results_scripts import results_script


@pytest.fixture(scope="module")
def recompute():
    with results_script("recompute") as module:
        yield module


def test_tables_are_mean_and_sample_std_of_the_csvs(recompute):
    _, changed = recompute.check_tables(recompute.PAGE.read_text())
    assert changed == []


def test_quoted_numbers_match_their_sources(recompute):
    assert recompute.check_claims(recompute.PAGE.read_text()) == []


def test_sample_std_is_ddof_one(recompute):
    assert recompute.sd([1.0, 3.0]) == pytest.approx(2.0 ** 0.5)


def test_a_wrong_quote_is_reported(recompute, monkeypatch):
    claims = sys.modules.get("claims") or importlib.import_module("claims")
    monkeypatch.setattr(claims, "CLAIMS", [("Mean ± std over the 3 seeds. At 10 classes", "0.952", lambda: 0.9)])
    assert len(recompute.check_claims(recompute.PAGE.read_text())) == 1


def test_a_wrong_table_cell_is_reported(recompute):
    page = recompute.PAGE.read_text()
    row = next(line for line in page.split("\n") if line.startswith("| test | 15 |"))
    cells = row.split("|")
    mean, spread = cells[3].split("±")
    cells[3] = f"{mean}± {float(spread) + 0.002:.3f} "
    _, changed = recompute.check_tables(page.replace(row, "|".join(cells)))
    assert len(changed) == 1


@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_archived_grokking_change_steps_are_recomputed_from_the_runs(recompute, model):
    """The pooled change steps the page quotes are those of the archived runs' measurements."""
    spread = importlib.import_module("grokking.spread")
    fresh, archived = spread.runs(model), spread.archived(model)
    assert len(fresh) == len(archived) >= 5
    for run, kept in zip(fresh, archived):
        assert {k: float(v) if k != "model" else v for k, v in run.items()} == kept
