"""docs/results.md: every spread table and every checked number agrees with the CSVs beside it."""
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


@pytest.fixture(scope="module")
def recompute():
    before = set(sys.modules)
    sys.path.insert(0, str(RESULTS))
    spec = importlib.util.spec_from_file_location("recompute", RESULTS / "recompute.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["recompute"] = module
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(RESULTS))
    # the page's scripts import each other by bare names (recompute, claims, ...): drop them
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("recompute", "tables", "claims", "sources", "dynamics", "collapse", "grokking"):
            del sys.modules[name]


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
