"""The run convention as typed: every command places, resumes and refuses runs the same way."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from commands import one_line_error

from interplay.cli import main
from interplay.runs import Records

DYNAMICS = ["experiment", "dynamics", "--quick", "--set", "epochs=2", "--set", "train_eval_samples=200", "--set", "seeds=[0, 1, 2]"]
COMMANDS = [["train"], ["experiment", "dynamics"], ["profile"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[-1])
def test_every_command_declares_the_same_run_flags(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "run folder (the same for train, every experiment and profile):" in text
    for flag in ("--out OUT", "--run-dir RUN_DIR", "--resume RUN_DIR", "--fresh"):
        assert flag in text, flag
    assert f"OUT/{command[-1]}/<config digest>" in " ".join(text.split())


def test_run_dir_and_resume_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as done:
        main([*DYNAMICS, "--run-dir", "a", "--resume", "b"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not allowed with argument" in err


@pytest.mark.slow
def test_an_experiment_interrupted_by_ctrl_c_resumes_to_the_rows_of_a_whole_run(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "interplay", *DYNAMICS, "--out", str(tmp_path / "cut")], stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    folder = None
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        found = list((tmp_path / "cut" / "dynamics").glob("*/records.jsonl"))
        if found and '"done": true' in found[0].read_text():
            folder = found[0].parent
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and folder is not None, err
    assert f"Continue with: interplay experiment dynamics --resume {folder}" in err
    assert len(Records(folder / "records.jsonl").finished) < 3
    assert main(["experiment", "dynamics", "--resume", str(folder)]) == 0
    assert main([*DYNAMICS, "--out", str(tmp_path / "whole")]) == 0
    (whole,) = (tmp_path / "whole" / "dynamics").iterdir()
    assert whole.name == folder.name
    strip = [{k: v for k, v in r.items() if not k.endswith("_time")} for r in Records(folder / "records.jsonl").rows()]
    assert strip == [{k: v for k, v in r.items() if not k.endswith("_time")} for r in Records(whole / "records.jsonl").rows()]


@pytest.mark.slow
def test_an_experiment_rerun_keeps_its_folder_and_a_changed_config_is_refused_or_gets_its_own(tmp_path, capsys):
    assert main([*DYNAMICS, "--out", str(tmp_path)]) == 0
    (folder,) = (tmp_path / "dynamics").iterdir()
    records = (folder / "records.jsonl").read_text()
    assert main([*DYNAMICS, "--out", str(tmp_path)]) == 0
    assert (folder / "records.jsonl").read_text() == records
    capsys.readouterr()
    err = one_line_error([*DYNAMICS, "--set", "epochs=3", "--run-dir", str(folder)], capsys)
    assert "holds a run of another config (epochs: 2 -> 3)" in err and "--fresh" in err
    err = one_line_error(["experiment", "label-smoothing", "--quick", "--run-dir", str(folder)], capsys)
    assert "holds a run of interplay experiment dynamics, not of interplay experiment label-smoothing" in err
    assert json.loads((folder / "config.json").read_text())["command"] == "dynamics"
