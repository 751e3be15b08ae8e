"""The command line as typed: every subcommand's help, the version, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import interplay
from interplay.cli import main
from interplay.experiments import REGISTRY
from commands import one_line_error

HELP = [["--help"], ["train", "--help"], ["experiment", "--help"], ["report", "--help"]]
HELP += [["experiment", name, "--help"] for name in sorted(REGISTRY)]


@pytest.mark.parametrize("argv", HELP, ids=" ".join)
def test_help_of_every_subcommand(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: interplay") and err == ""


# A fresh interpreter per test: seconds each, so the fast suite leaves them out.
@pytest.mark.slow
def test_version_from_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "interplay", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"interplay {interplay.__version__}"


@pytest.mark.slow
def test_train_help_from_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "interplay", "train", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--max-exact-size" in done.stdout and done.stderr == ""


@pytest.mark.parametrize(("text", "suffix", "message"), [
    ('center = "false"\n', ".toml", "center must be true or false; got 'false' (from "),
    ('epochs = "ten"\n', ".toml", "epochs must be an integer >= 1; got 'ten' (from "),
    ("batch_size = 2.5\n", ".toml", "batch_size must be an integer >= 1; got 2.5 (from "),
    ("[1, 2]", ".json", "must hold a table of key = value settings; got a list."),
])
def test_config_file_values_are_typed(text, suffix, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"run{suffix}"
    path.write_text(text)
    assert message in one_line_error(["train", "--config", str(path)], capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("setting", "message"), [
    ("epochs=abc", "epochs must be an integer >= 1; got 'abc' (from --set)."),
    ("seeds=[0,", "seeds must be a non-empty list of integers >= 0, like [0, 1]; got '[0,' (from --set)."),
    ("epoch=3", "unknown config key 'epoch' (from --set); valid keys: "),
    ("epochs", "--set takes key=value; got 'epochs'."),
])
def test_set_values_are_typed_before_anything_is_written(setting, message, tmp_path, capsys):
    assert message in one_line_error(["experiment", "dynamics", "--quick", "--set", setting, "--out", str(tmp_path)], capsys)
    assert list(tmp_path.iterdir()) == []


def test_flags_beat_the_file_and_the_file_beats_the_stored_config(tmp_path, capsys):
    from interplay.cli import _parser, _train_config

    stored = tmp_path / "run"
    stored.mkdir()
    (stored / "config.json").write_text('{"config": {"epochs": 5, "lr": 0.1, "width": 8}}')
    (tmp_path / "more.toml").write_text("epochs = 7\nwidth = 16\n")
    args = _parser().parse_args(["train", "--resume", str(stored), "--config", str(tmp_path / "more.toml"), "--epochs", "9"])
    config = _train_config(args)
    assert (config.epochs, config.width, config.lr) == (9, 16, 0.1)


def test_resume_may_extend_but_not_change_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    config = ["--epochs", "1", "--train-eval-samples", "100", "--width", "8"]
    assert main(["train", *config, "--run-dir", str(out)]) == 0
    capsys.readouterr()
    err = one_line_error(["train", "--resume", str(out), "--epochs", "2", "--width", "16"], capsys)
    assert "another config (width: 8 -> 16); only data_dir, device, download, epochs, tensorboard may change" in err
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 0
    assert '"epochs": 2' in (out / "config.json").read_text()
    assert "it has finished 2 epochs; pass --epochs 2 or more" in one_line_error(["train", "--resume", str(out), "--epochs", "1"], capsys)


def test_one_digest_without_device_and_data_folder():
    from interplay.config import TrainConfig, config_digest
    from interplay.experiments import experiment_config

    assert TrainConfig(device="cpu").digest() == TrainConfig(device="cuda", data_dir="x", download=True).digest()
    assert TrainConfig(lr=0.1).digest() != TrainConfig().digest()
    cpu, cuda = (experiment_config("dynamics", values={"device": d}) for d in ("cpu", "cuda"))
    assert cpu.digest() == cuda.digest() == config_digest(cpu)


def test_experiment_help_lists_its_keys_and_every_experiment_is_listed(capsys):
    from interplay.config import describe_field

    for argv in (["--help"], ["experiment", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert all(name in out for name in REGISTRY)
    for name, module in REGISTRY.items():
        with pytest.raises(SystemExit):
            main(["experiment", name, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        for key in module.Config.__dataclass_fields__:
            kind, default, text = describe_field(module.Config, key)
            assert f"{key} ({kind}; default" in out and " ".join(text.split()) in out, (name, key)


def test_experiment_config_shares_the_training_declarations():
    from interplay.config import TrainConfig
    from interplay.experiments.runs import ExperimentConfig

    shared = set(ExperimentConfig.__dataclass_fields__) - {"seeds"}
    for name in shared:
        ours, theirs = ExperimentConfig.__dataclass_fields__[name].metadata, TrainConfig.__dataclass_fields__[name].metadata
        assert {k: v for k, v in ours.items() if k != "help"} == {k: v for k, v in theirs.items() if k != "help"}


TINY = ["--epochs", "1", "--train-eval-samples", "100", "--width", "8"]


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--device", "tpu"], "device must be auto, cpu, cuda or cuda:N; got 'tpu' (from --device)."),
    (["train", "--lr", "inf"], "lr must be a finite number > 0; got 'inf' (from --lr)."),
    (["train", "--weight-decay", "nan"], "weight_decay must be a finite number >= 0; got 'nan' (from --weight-decay)."),
    (["train", "--epochs", "ten"], "epochs must be an integer >= 1; got 'ten' (from --epochs)."),
    (["train", "--train-eval-samples", "5"], "of the 10 classes out of the seeded training subset; pass --train-eval-samples 100 or more"),
    (["train", "--max-exact-size", "1"], "max_exact_size must be an integer >= 2; got '1' (from --max-exact-size)."),
    (["train", "--method", "fast"], "method must be one of auto, exact, stochastic; got 'fast' (from --method)."),
    (["train", "--tolerance", "0"], "tolerance must be a finite number > 0; got '0' (from --tolerance)."),
    (["train", "--dataset", "mnist"], "mnist needs its data files: pass --data-dir or set INTERPLAY_DATA_DIR"),
    (["train", "--no-such-flag"], "unrecognized arguments: --no-such-flag; see interplay --help"),
    (["experiment", "nope"], "argument NAME: invalid choice: 'nope'"),
])
def test_bad_values_are_refused_before_a_folder_exists(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTERPLAY_DATA_DIR", raising=False)
    assert message in one_line_error(argv, capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a build or machine without CUDA")
def test_cuda_without_cuda_is_one_line(tmp_path, capsys):
    err = one_line_error(["train", "--device", "cuda", "--run-dir", str(tmp_path / "r")], capsys)
    assert "device 'cuda' needs CUDA, but" in err and "use --device cpu or auto" in err
    assert not (tmp_path / "r").exists()


def test_download_without_network_is_one_line(tmp_path, capsys, monkeypatch):
    import interplay.data.idx as idx

    # Port 9 on the loopback interface refuses the connection: a download that fails with no network at all.
    monkeypatch.setitem(idx.MIRRORS, "mnist", "http://127.0.0.1:9/")
    err = one_line_error(["train", "--dataset", "mnist", "--download", "--data-dir", str(tmp_path / "data"), "--run-dir", str(tmp_path / "r")], capsys)
    assert "could not download http://127.0.0.1:9/train-images-idx3-ubyte.gz (" in err and "check the network" in err
    assert list((tmp_path / "data" / "mnist" / "raw").iterdir()) == [] and not (tmp_path / "r").exists()


def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert "is a file; pass --out or --run-dir a folder" in one_line_error(["train", "--run-dir", str(tmp_path / "notes.txt")], capsys)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_truncated_checkpoint_and_failed_runs(tmp_path, capsys, monkeypatch):
    from interplay.training.session import Session
    from interplay.validation import InterplayValueError

    out = tmp_path / "run"
    assert main(["train", *TINY, "--run-dir", str(out)]) == 0
    capsys.readouterr()
    whole = (out / "checkpoint.pt").read_bytes()
    (out / "checkpoint.pt").write_bytes(whole[: len(whole) // 2])
    err = one_line_error(["train", "--resume", str(out), "--epochs", "2"], capsys)
    assert "checkpoint.pt cannot be read" in err and "Start the run again with --fresh" in err
    (out / "checkpoint.pt").write_bytes(whole)

    def fail(self, model=None):
        raise InterplayValueError("features contain NaN")

    failed = tmp_path / "failed"
    monkeypatch.setattr(Session, "evaluate", fail)
    err = one_line_error(["train", *TINY, "--run-dir", str(failed)], capsys)
    assert f"features contain NaN. The run folder {failed} keeps every finished epoch" in err
    assert f"continue with interplay train --resume {failed}, or start again with --fresh" in err
    monkeypatch.undo()
    assert main(["train", "--resume", str(failed)]) == 0
    assert "test" in (failed / "metrics.csv").read_text()


def test_estimated_information_metrics_warn_on_the_terminal(tmp_path, capsys):
    assert main(["train", *TINY, "--width", "32", "--max-exact-size", "100", "--run-dir", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if line.startswith("interplay: warning: ")]
    # 100 training samples fit the exact n×n path; the 359 test samples do not (block side 9·32 = 288 > 100).
    assert warning == ["interplay: warning: MIR, HDR and MI of the test split are stochastic estimates over all 359 samples "
                       "(the exact eigenproblem exceeds max_exact_size=100); the se_* columns give their standard errors."]


def test_train_ends_with_final_metrics_beside_collapse_values(tmp_path, capsys):
    assert main(["train", *TINY, "--run-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["epoch", "1", "train", "test", "at", "collapse"]
    mir = next(line.split() for line in out if line.startswith("MIR "))
    assert len(mir) == 4 and mir[3] == "0.9524"
    assert out[-1] == f"report: {tmp_path / 'r' / 'report' / 'report.html'}"


def test_data_folder_is_an_explicit_setting(tmp_path, monkeypatch):
    from interplay.cli import _parser, _train_config
    from interplay.experiments import experiment_config

    monkeypatch.setenv("INTERPLAY_DATA_DIR", str(tmp_path / "env"))
    assert _train_config(_parser().parse_args(["train"])).data_dir == str(tmp_path / "env")
    assert _train_config(_parser().parse_args(["train", "--data-dir", "flag"])).data_dir == "flag"
    config = experiment_config("semi-supervised", values={"data_dir": "here"})
    assert config.data_dir == "here"
    assert experiment_config("dynamics", values={"data_dir": "here"}).train_config(0).data_dir == "here"
