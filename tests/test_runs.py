"""Run folders and records, shared by every command: one folder rule, one guard, one writer."""

from __future__ import annotations

import json

import pytest

from interplay.config import TrainConfig
from interplay.experiments import experiment_config
from interplay.runs import Records, RunError, open_run
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


def test_a_damaged_config_is_one_error(tmp_path):
    config = experiment_config("dynamics", quick=True)
    run = open_run("dynamics", config, out=tmp_path)
    (run / "config.json").write_text('{"experiment": ')
    with pytest.raises(InterplayValueError, match="cannot be parsed") as caught:
        open_run("dynamics", config, out=tmp_path)
    assert str(run / "config.json") in str(caught.value) and "--fresh" in str(caught.value)
    assert open_run("dynamics", config, out=tmp_path, fresh=True) == run


def test_the_folder_is_named_by_command_and_digest_and_reopened_by_the_same_config(tmp_path):
    config = experiment_config("dynamics", quick=True)
    run = open_run("dynamics", config, out=tmp_path)
    assert run == tmp_path / "dynamics" / config.digest()
    stored = json.loads((run / "config.json").read_text())
    assert (stored["command"], stored["digest"], stored["config"]["epochs"]) == ("dynamics", config.digest(), config.epochs)
    Records(run / "records.jsonl").append("seed=0", mir=0.5)
    assert open_run("dynamics", config, out=tmp_path) == run
    assert (run / "records.jsonl").is_file()
    # Where the data lives and which device runs change nothing a run computes.
    moved = experiment_config("dynamics", quick=True, values={"device": "cpu", "data_dir": str(tmp_path)})
    assert open_run("dynamics", moved, run_dir=run) == run


def test_another_config_or_command_in_the_folder_is_refused_with_what_differs(tmp_path):
    run = open_run("train", TrainConfig(), out=tmp_path)
    with pytest.raises(RunError) as caught:
        open_run("train", TrainConfig(lr=0.1, epochs=5), run_dir=run)
    assert "holds a run of another config (epochs: 30 -> 5; lr: 0.05 -> 0.1)" in str(caught.value)
    assert open_run("train", TrainConfig(epochs=40), resume=run, may_change={"epochs"}) == run
    with pytest.raises(RunError, match="holds a run of interplay train, not of interplay experiment dynamics"):
        open_run("dynamics", experiment_config("dynamics", quick=True), run_dir=run)


def test_resume_needs_a_run_and_fresh_discards_the_records(tmp_path):
    with pytest.raises(RunError, match="cannot resume .* holds no config.json"):
        open_run("train", TrainConfig(), resume=tmp_path / "nothing")
    run = open_run("train", TrainConfig(), out=tmp_path)
    Records(run / "records.jsonl").append("epoch=0", mir=0.5)
    (run / "metrics.csv").write_text("epoch\n0\n")
    assert open_run("train", TrainConfig(lr=0.1), run_dir=run, fresh=True, outputs=["metrics.csv"]) == run
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]
    assert json.loads((run / "config.json").read_text())["config"]["lr"] == 0.1


def test_a_unit_left_by_an_exception_or_a_break_is_redone(tmp_path):
    records = Records(tmp_path / "records.jsonl")
    with pytest.raises(RuntimeError):
        for unit, seed in records.todo([0, 1], lambda seed: f"seed={seed}"):
            records.append(unit, seed=seed)
            if seed == 1:
                raise RuntimeError("crash")
    for unit, _ in records.todo([2, 3], lambda seed: f"seed={seed}"):
        break
    resumed = Records(tmp_path / "records.jsonl")
    assert resumed.finished == {"seed=0"} and resumed.rows() == [{"unit": "seed=0", "seed": 0}]
    assert [unit for unit, _ in resumed.todo([0, 1, 2], lambda seed: f"seed={seed}")] == ["seed=1", "seed=2"]


def test_sinks_receive_each_row_as_it_is_written(tmp_path):
    seen = []
    records = Records(tmp_path / "records.jsonl", sinks=[seen.append])
    records.append("epoch=0", epoch=0, mir=0.5)
    records.finish("epoch=0")
    assert seen == [{"unit": "epoch=0", "epoch": 0, "mir": 0.5}]
