"""An experiment's records survive a crash mid-append; damaged files are one-line errors."""

from __future__ import annotations

import json

import pytest

from interplay.experiments import experiment_config
from interplay.experiments.runs import Records, prepare_run_dir
from interplay.validation import InterplayValueError


def test_a_line_cut_short_by_a_crash_is_dropped_with_its_unit(tmp_path):
    path = tmp_path / "records.jsonl"
    records = Records(path)
    records.append("seed0", mir=0.5)
    records.finish("seed0")
    records.append("seed1", mir=0.25)
    with path.open("a") as f:
        f.write('{"unit": "seed1", "mi')
    resumed = Records(path)
    assert resumed.finished == {"seed0"} and resumed.rows() == [{"unit": "seed0", "mir": 0.5}]
    resumed.append("seed1", mir=0.75)
    assert [json.loads(line) for line in path.read_text().splitlines()][-1] == {"unit": "seed1", "mir": 0.75}


def test_a_damaged_line_inside_the_records_is_one_error(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"unit": "seed0", "mir": 0.5}\n{"unit": oops}\n{"unit": "seed0", "done": true}\n')
    with pytest.raises(InterplayValueError, match="line 2 is not a JSON record") as caught:
        Records(path)
    assert "--fresh" in str(caught.value) and "\n" not in str(caught.value)


def test_a_damaged_config_of_an_experiment_is_one_error(tmp_path):
    config = experiment_config("dynamics", quick=True)
    run = prepare_run_dir("dynamics", config, tmp_path)
    (run / "config.json").write_text('{"experiment": ')
    with pytest.raises(InterplayValueError, match="cannot be parsed") as caught:
        prepare_run_dir("dynamics", config, tmp_path)
    assert str(run / "config.json") in str(caught.value) and f"delete the folder {run}" in str(caught.value)
