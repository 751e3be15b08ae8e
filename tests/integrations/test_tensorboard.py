"""interplay train --tensorboard writes the rows of metrics.csv as TensorBoard scalars."""

from __future__ import annotations

import json
import sys

import pytest

from interplay.cli import main
from interplay.integrations.tensorboard import TensorBoardWriter
from interplay.runs import read_rows
from interplay.validation import InterplayValueError

QUICK = ["--epochs", "2", "--train-eval-samples", "200", "--width", "16", "--record-every", "1"]


def read_scalars(log_dir) -> dict[tuple[str, int], float]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {(tag, e.step): e.value for tag in events.Tags()["scalars"] for e in events.Scalars(tag)}


def test_scalars_equal_the_csv_rows(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    out = tmp_path / "run"
    assert main(["train", *QUICK, "--tensorboard", "--run-dir", str(out)]) == 0
    scalars = read_scalars(out / "tensorboard")
    rows = read_rows(out / "metrics.csv")
    assert len(rows) == 6
    for row in rows:
        for key in ("accuracy", "loss", "mir", "hdr", "h_z", "nc1", "nc4", "mir_nc"):
            # TensorBoard stores float32
            assert scalars[(f"{row['split']}/{key}", row["epoch"])] == pytest.approx(row[key], rel=1e-6)
    assert not any(tag.endswith(("/method", "/estimate")) for tag, _ in scalars)


def test_the_flag_does_not_change_the_run_digest():
    from interplay.config import TrainConfig

    assert TrainConfig(tensorboard=True).digest() == TrainConfig().digest()


def test_missing_tensorboard_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(InterplayValueError, match="needs the tensorboard package"):
        TensorBoardWriter(tmp_path)
    assert main(["train", *QUICK, "--tensorboard", "--run-dir", str(tmp_path / "run")]) == 2
    assert "interplay: error: --tensorboard needs the tensorboard package" in capsys.readouterr().err


def test_experiment_records_become_scalars(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    argv = ["experiment", "loss-supervised", "--quick", "--set", "epochs=2", "--set", "seeds=[0]", "--set", 'settings=["ce"]',
            "--tensorboard", "--out", str(tmp_path)]
    assert main(argv) == 0
    (folder,) = (tmp_path / "loss-supervised").iterdir()
    scalars = read_scalars(folder / "tensorboard")
    rows = [r for r in map(json.loads, (folder / "records.jsonl").read_text().splitlines()) if not r.get("done")]
    assert len(rows) == 2  # epoch 2, train and test
    for row in rows:
        assert scalars[(f"{row['unit']}/{row['split']}/mir", row["epoch"])] == pytest.approx(row["mir"], rel=1e-6)


def test_experiment_without_tensorboard_is_refused_before_a_folder_exists(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    assert main(["experiment", "dynamics", "--quick", "--tensorboard", "--out", str(tmp_path / "runs")]) == 2
    assert "interplay: error: --tensorboard needs the tensorboard package" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
