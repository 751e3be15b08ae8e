"""interplay train and report: files written, interrupt + resume = uninterrupted, clear errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from commands import one_line_error
from fakes import write_cifar10_like, write_mnist_like
from interplay.cli import main
from interplay.training.checkpoint import load_checkpoint
from interplay.runs import read_rows

QUICK = ["--epochs", "3", "--train-eval-samples", "300", "--width", "32", "--record-every", "1"]
TIMING = {"train_time", "eval_time"}


def strip_timing(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


@pytest.mark.slow
def test_train_writes_run_folder_and_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *QUICK, "--run-dir", str(out)]) == 0
    rows = read_rows(out / "metrics.csv")
    assert [(r["epoch"], r["split"]) for r in rows] == [(e, s) for e in range(4) for s in ("train", "test")]
    assert rows[0]["n"] == 300 and rows[1]["n"] == 359
    assert all(0 <= r["mir"] <= 1 and 0 <= r["hdr"] <= 1 for r in rows)
    assert rows[-1]["accuracy"] > 0.5 and rows[-1]["mir_nc"] == pytest.approx(0.9524, abs=1e-4)
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 3
    report = out / "report"
    assert {p.name for p in report.iterdir()} >= {"report.html", "mir.png", "hdr.png", "entropies.png", "collapse.png", "accuracy_loss.png"}
    assert main(["report", str(out), str(out), "--out", str(tmp_path / "overlay")]) == 0
    assert (tmp_path / "overlay" / "mir.png").stat().st_size > 10_000


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    # A small CNN with batch norm, slow enough to be stopped mid-run, deterministic on the CPU.
    config = ["--model", "cnn", "--epochs", "20", "--train-eval-samples", "200", "--width", "8", "--record-every", "1"]
    interrupted = tmp_path / "interrupted"
    # A shell that starts jobs in the background makes them ignore SIGINT; restore the default
    # so that the child installs Python's KeyboardInterrupt handler.
    process = subprocess.Popen(
        [sys.executable, "-m", "interplay", "train", *config, "--run-dir", str(interrupted)],
        stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    checkpoint, log = interrupted / "checkpoint.pt", interrupted / "metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if checkpoint.exists() and log.exists() and log.read_text().count("\n4,") >= 1:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "--resume" in err
    stopped_at = load_checkpoint(checkpoint)["epoch"]
    assert 3 <= stopped_at < 20
    assert main(["train", "--resume", str(interrupted)]) == 0
    assert main(["train", *config, "--run-dir", str(tmp_path / "whole")]) == 0
    resumed = strip_timing(read_rows(interrupted / "metrics.csv"))
    whole = strip_timing(read_rows(tmp_path / "whole" / "metrics.csv"))
    assert len(resumed) == len(whole) == 42
    for a, b in zip(resumed, whole):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], float):
                assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9), (a["epoch"], a["split"], key)
            else:
                assert a[key] == b[key]


@pytest.mark.slow
def test_cifar_resnet_and_fashion_files_in_official_formats(tmp_path):
    write_cifar10_like(tmp_path, per_batch=10)
    assert main(["train", "--dataset", "cifar10", "--model", "resnet18", "--width", "4", "--epochs", "1", "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "c")]) == 0
    assert read_rows(tmp_path / "c" / "metrics.csv")[-1]["n"] == 10


def test_errors_are_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "is empty" in one_line_error(["train", "--dataset", "mnist", "--data-dir", str(empty), "--run-dir", str(tmp_path / "a")], capsys)
    write_mnist_like(tmp_path / "fm")
    assert "official md5" in one_line_error(["train", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "fm"), "--run-dir", str(tmp_path / "b")], capsys)
    (tmp_path / "bad.toml").write_text('epochs = 2\nlearning_rate = 0.1\n')
    assert "unknown config key 'learning_rate' (from " in one_line_error(["train", "--config", str(tmp_path / "bad.toml")], capsys)
    (tmp_path / "neg.toml").write_text('label_smoothing = -0.1\n')
    assert "label_smoothing must be a finite number in [0, 1); got -0.1 (from " in one_line_error(["train", "--config", str(tmp_path / "neg.toml")], capsys)
    assert "has no config.json" in one_line_error(["train", "--resume", str(empty)], capsys)
    assert "no metrics.csv" in one_line_error(["report", str(empty)], capsys)


def test_unknown_choices_are_one_line_errors(capsys):
    assert "dataset must be one of digits, mnist" in one_line_error(["train", "--dataset", "svhn"], capsys)
    assert "model must be one of mlp, cnn, resnet18; got 'vit' (from --model)" in one_line_error(["train", "--model", "vit"], capsys)


@pytest.mark.slow
def test_a_rerun_resumes_a_changed_config_gets_its_own_folder_and_resume_checks_the_config(tmp_path, capsys):
    config = ["--epochs", "1", "--train-eval-samples", "100", "--width", "8", "--out", str(tmp_path)]
    assert main(["train", *config]) == 0
    (first,) = (tmp_path / "train").iterdir()
    before = (first / "metrics.csv").read_text()
    assert main(["train", *config]) == 0  # the same config again: the finished run is kept as it is
    assert (first / "metrics.csv").read_text() == before
    assert main(["train", *config, "--lr", "0.1"]) == 0
    assert len(list((tmp_path / "train").iterdir())) == 2
    refused = one_line_error(["train", *config, "--lr", "0.5", "--run-dir", str(first)], capsys)
    assert f"{first} holds a run of another config (lr: 0.05 -> 0.5)" in refused and "--fresh" in refused
    assert "(lr: 0.05 -> 0.5)" in one_line_error(["train", "--resume", str(first), "--epochs", "2", "--lr", "0.5"], capsys)
    assert (first / "metrics.csv").read_text() == before
    assert main(["train", "--resume", str(first), "--epochs", "2"]) == 0  # extending keeps the folder
    assert [r["epoch"] for r in read_rows(first / "metrics.csv")] == [0, 0, 1, 1, 2, 2]
    assert main(["train", *config, "--lr", "0.5", "--run-dir", str(first), "--fresh"]) == 0
    assert [r["epoch"] for r in read_rows(first / "metrics.csv")] == [0, 0, 1, 1]


def test_toml_config_file(tmp_path):
    (tmp_path / "run.toml").write_text('epochs = 1\ntrain_eval_samples = 100\nwidth = 8\noptimizer = "adamw"\nlr = 0.001\n')
    assert main(["train", "--config", str(tmp_path / "run.toml"), "--run-dir", str(tmp_path / "r")]) == 0
    stored = (tmp_path / "r" / "config.json").read_text()
    assert '"optimizer": "adamw"' in stored and '"torch"' in stored


def test_interplay_loss_terms_in_training(tmp_path, capsys):
    out = tmp_path / "loss"
    assert main(["train", "--epochs", "1", "--train-eval-samples", "100", "--width", "8", "--mir-weight", "0.5", "--hdr-weight", "0.2", "--run-dir", str(out)]) == 0
    assert '"mir_weight": 0.5' in (out / "config.json").read_text()
    assert "hdr_weight must be a finite number >= 0; got '-1' (from --hdr-weight)" in one_line_error(["train", "--hdr-weight", "-1", "--run-dir", str(tmp_path / "x")], capsys)


def test_per_class_trains_on_a_balanced_subset(tmp_path, capsys):
    from interplay.config import TrainConfig
    from interplay.training.session import Session

    session = Session.create(TrainConfig(per_class=20, train_eval_samples=0, width=8))
    assert torch.bincount(session.train_set.labels).tolist() == [20] * 10 and len(session.images["train"]) == 200
    assert session.steps_per_epoch == 2  # 200 images in batches of 128
    message = one_line_error(["train", "--per-class", "500", "--run-dir", str(tmp_path / "x")], capsys)
    assert "per_class=500 asks for more images than the smallest class holds" in message


def test_too_large_for_the_exact_path_is_estimated_on_all_samples(tmp_path):
    runs = {}
    for name, flags in {"estimated": ["--max-exact-size", "100"], "exact": []}.items():
        assert main(["train", "--epochs", "1", "--width", "32", *flags, "--run-dir", str(tmp_path / name)]) == 0
        runs[name] = read_rows(tmp_path / name / "metrics.csv")
    assert "max_exact_size=100 and costs at most twice the estimate, else the stochastic estimate" in (tmp_path / "estimated" / "config.json").read_text()
    for estimated, exact in zip(runs["estimated"], runs["exact"]):
        assert (estimated["estimate"], estimated["path"], exact["estimate"], exact["se_mir"]) == ("stochastic", "stochastic", "exact", 0.0)
        assert estimated["n_information"] == exact["n_information"] == estimated["n"] in (1438, 359)
        assert 0 < estimated["se_mir"] <= 0.005 and estimated["se_hdr"] == 0.0
        assert abs(estimated["mir"] - exact["mir"]) <= 4 * estimated["se_mir"]
        assert estimated["hdr"] == pytest.approx(exact["hdr"], abs=1e-9)


