"""Every experiment runs end to end on tiny settings, resumes without redoing finished points, and
rejects bad configs with a clear error."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from interplay.cli import main
from interplay.experiments import REGISTRY, experiment_config, run_experiment
from interplay.runs import Records

TINY = {
    "dynamics": {"epochs": 2, "seeds": (0, 1)},
    "label-smoothing": {"epochs": 2, "smoothing": (0.0, 0.2)},
    "pruning": {"epochs": 2, "sparsities": (0.0, 0.9)},
    "lmc": {"epochs": 2, "spawn_iterations": (0, 3), "spawn_epochs": (1,), "points": 3, "seeds": (0,)},
    "grokking": {
        "p": 11, "models": ("transformer", "mlp"), "steps": (40, 60), "lrs": (1e-3, 3e-3), "train_fractions": (0.3, 0.5),
        "record_every": 20, "information_samples": 40,
    },
    "clustering": {"epochs": 2, "samples": 150, "seeds": (0, 1)},
    "loss-supervised": {"epochs": 2, "seeds": (0,)},
    "semi-supervised": {"steps": 20, "record_every": 10, "label_counts": (20,), "seeds": (0,)},
    "cma": {"shots": (1, 2), "steps": 5, "seeds": (0,), "test_samples": 200, "pretrain_epochs": 1, "epoch_scale": 0.04},
    "collapse": {"epochs": 2, "record_every": 1, "per_class": 20, "shuffled_loss": "mse"},
    "linguistic-collapse": {"max_tokens": 300, "min_counts": (1, 5)},
}
FIGURES = {
    "dynamics": ["dynamics.png", "collapse.png"],
    "label-smoothing": ["final.png", "curves.png"],
    "pruning": ["pruning.png"],
    "lmc": ["path.png", "path_spawned.png", "barrier.png", "dip_vs_barrier.png", "barriers.csv", "correlations.csv"],
    "grokking": ["transformer.png", "mlp.png", "change_steps.csv"],
    "clustering": ["clustering.png", "classes.png", "correlations.csv", "class_correlations.csv"],
    "loss-supervised": ["loss_supervised.png"],
    "semi-supervised": ["semi_supervised_20.png"],
    "cma": ["cma.png", "chosen.csv", "image_encoder.pt"],
    "collapse": ["readings.png", "versus_nc1.png", "collapse.png", "calibration.png", "calibration.csv"],
    "linguistic-collapse": ["linguistic_collapse.png", "hidden_states.pt"],
}


def tiny(name):
    values = dict(TINY[name])
    fields = {f.name for f in dataclasses.fields(REGISTRY[name].Config)}
    values |= {k: v for k, v in {"train_eval_samples": 200, "width": 16}.items() if k in fields}
    return experiment_config(name, quick=True, values=values)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_experiment_writes_its_files(name, tmp_path):
    page = run_experiment(name, tiny(name), out=tmp_path)
    folder = page.parent
    assert page.name == "report.html" and "<img" in page.read_text()
    for file in ["measurements.csv", "config.json", *FIGURES[name]]:
        assert (folder / file).stat().st_size > 0, file
    assert Records(folder / "records.jsonl").rows()


@pytest.mark.slow
def test_resume_redoes_only_the_unfinished_unit(tmp_path):
    config = tiny("dynamics")
    folder = run_experiment("dynamics", config, out=tmp_path).parent
    lines = (folder / "records.jsonl").read_text().splitlines()
    first_unit = [line for line in lines if json.loads(line)["unit"] == "seed=0"]
    # An interruption in the middle of seed 1: its marker and its last rows never got written.
    (folder / "records.jsonl").write_text("\n".join(lines[: len(first_unit) + 2]) + "\n")
    records = Records(folder / "records.jsonl")
    assert records.finished == {"seed=0"} and len(records.rows()) == len(first_unit) - 1
    log = []
    run_experiment("dynamics", config, out=tmp_path, log=log.append)
    assert log[0] == f"dynamics: writing to {folder}, resuming with 1 unit already finished"
    assert len(log) == 2 and re.fullmatch(r"dynamics: seed=1 finished \(\d+ s\)", log[1])
    again = (folder / "records.jsonl").read_text().splitlines()
    assert again[: len(first_unit)] == first_unit
    assert len(again) == len(lines)


def test_command_line_reports_progress_per_unit(tmp_path, capsys):
    settings = ["p=11", "steps=[40]", "record_every=20", "information_samples=30", "seeds=[0,1]"]
    argv = ["experiment", "grokking", "--quick", *(x for s in settings for x in ("--set", s)), "--out", str(tmp_path)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith("report: ") and out.strip().endswith("report.html")
    lines = err.splitlines()
    assert lines[0].startswith("interplay grokking: writing to ") and "resuming" not in lines[0]
    assert [re.sub(r"\(\d+ s\)", "(t)", line) for line in lines[1:]] == [
        f"interplay grokking: model=mlp,seed={seed} finished (t)" for seed in (0, 1)
    ]


def test_bad_configs_are_clear_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"smoothing must be a non-empty list of finite numbers in \[0, 1\), like \[0.5\]; got \[-0.1\]"):
        experiment_config("label-smoothing", values={"smoothing": [-0.1]})
    with pytest.raises(ValueError, match=r"sparsities must be .* in \[0, 1\).*; got \[0.5, 1.0\]"):
        experiment_config("pruning", values={"sparsities": [0.5, 1.0]})
    with pytest.raises(ValueError, match="unknown experiment 'mnist'; choose one of dynamics"):
        experiment_config("mnist")
    with pytest.raises(ValueError, match="unknown config key 'epoch' \\(from the dynamics config\\)"):
        experiment_config("dynamics", values={"epoch": 3})
    with pytest.raises(ValueError, match=r"loss setting 'mir=-1': cannot read 'mir=-1'; write 'ce' or parts like mir=0.1"):
        experiment_config("loss-supervised", values={"settings": ["ce", "mir=-1"]})
    with pytest.raises(ValueError, match="settings must include 'ce', the baseline"):
        experiment_config("loss-supervised", values={"settings": ["mir=1"]})
    with pytest.raises(ValueError, match="label_counts must be a non-empty list of integers >= 1"):
        experiment_config("semi-supervised", values={"label_counts": [0]})
    with pytest.raises(ValueError, match=r"lambdas must be a non-empty list of finite numbers in \[0, 1\]"):
        experiment_config("cma", values={"lambdas": [1.5]})
    with pytest.raises(ValueError, match="shots must be a non-empty list of integers >= 1"):
        experiment_config("cma", values={"shots": [0, 4]})
    assert main(["experiment", "pruning", "--set", "sparsities=[1.5]"]) == 2
    assert "sparsities must be a non-empty list of finite numbers in [0, 1), like [0.5]; got '[1.5]' (from --set)" in capsys.readouterr().err


@pytest.mark.slow
def test_run_dir_of_another_config_is_refused(tmp_path, capsys):
    folder = run_experiment("grokking", tiny("grokking"), out=tmp_path).parent
    before = (folder / "records.jsonl").read_text()
    argv = ["experiment", "grokking", "--quick", "--set", "p=13", "--run-dir", str(folder)]
    assert main(argv) == 2
    assert "holds a run of another config" in capsys.readouterr().err
    assert (folder / "records.jsonl").read_text() == before


def test_cifar_config_files_are_valid():
    from pathlib import Path

    from interplay.config import load_config_file

    files = sorted((Path(__file__).parents[2] / "configs" / "cifar10").glob("*.toml"))
    assert len(files) == 9
    for path in files:
        config = experiment_config(path.stem, values=load_config_file(path))
        assert config.dataset == "cifar10" and getattr(config, "model", "resnet18") == "resnet18"


def test_coop_config_file_is_valid():
    from pathlib import Path

    from interplay.config import load_config_file

    config = experiment_config("cma", values=load_config_file(Path(__file__).parents[2] / "configs" / "eurosat" / "cma.toml"))
    assert (config.dataset, config.tune, config.base_classes, config.n_ctx) == ("eurosat", "prompt", (), 16)


def test_loss_supervised_default_is_the_terminal_phase_and_the_fashion_config_the_short_budget():
    from pathlib import Path

    from interplay.config import load_config_file

    default = experiment_config("loss-supervised")
    train = default.train_config(0, per_class=default.per_class, schedule=default.schedule)
    assert (train.dataset, train.model, train.epochs, train.schedule, len(default.seeds), len(default.settings)) == ("digits", "mlp", 1000, "step", 5, 9)
    config = experiment_config("loss-supervised", values=load_config_file(Path(__file__).parents[2] / "configs" / "fashion-mnist" / "loss-supervised.toml"))
    train = config.train_config(0, per_class=config.per_class, schedule=config.schedule)
    assert (train.dataset, train.model, train.epochs, train.schedule, train.train_eval_samples) == ("fashion-mnist", "cnn", 8, "cosine", 5000)


@pytest.mark.parametrize(("count", "message"), [(25, "not divisible by the 10 classes"), (5000, "larger than the data set")])
def test_semi_supervised_rejects_label_counts_before_training(count, message, tmp_path):
    config = experiment_config("semi-supervised", quick=True, values={"label_counts": (count,)})
    with pytest.raises(ValueError, match=message):
        run_experiment("semi-supervised", config, out=tmp_path)
    assert not list(tmp_path.rglob("records.jsonl")) or not Records(next(tmp_path.rglob("records.jsonl"))).rows()
