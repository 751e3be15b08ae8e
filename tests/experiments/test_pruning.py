"""Pruning: global magnitude masks, the classifier left out of the body scope, and IMP's nested masks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from interplay.experiments import experiment_config, run_experiment
from interplay.experiments.pruning import apply_masks, magnitude_masks, prunable
from interplay.runs import Records
from interplay.models import build_model
from interplay.training.checkpoint import load_checkpoint


def test_masks_rank_all_layers_together_and_nest():
    g = torch.Generator().manual_seed(0)
    weights = {"a": torch.randn(30, generator=g), "b": 5 * torch.randn(4, 5, generator=g)}
    everything = torch.cat([w.abs().flatten() for w in weights.values()])
    for sparsity in (0.0, 0.3, 0.8):
        masks = magnitude_masks(weights, sparsity)
        kept = torch.cat([(m * w).abs().flatten() for m, w in zip(masks.values(), weights.values())])
        removed = round(sparsity * everything.numel())
        assert int((kept == 0).sum()) == removed and masks["b"].shape == (4, 5)
        # Every removed weight is no larger than every kept one: one global ranking.
        if removed:
            assert everything[kept == 0].max() <= everything[kept != 0].min()
    pruned = {n: w * m for (n, w), m in zip(weights.items(), magnitude_masks(weights, 0.5).values())}
    nested = magnitude_masks(pruned, 0.8)
    assert all(bool((nested[n] <= magnitude_masks(weights, 0.5)[n]).all()) for n in weights)


def test_body_scope_leaves_the_classifier_out():
    model = build_model("cnn", (1, 28, 28), 10)
    assert model.head not in prunable(model, "body").values() and model.head in prunable(model, "all").values()
    layers = prunable(model, "body")
    apply_masks(model, magnitude_masks({n: m.weight for n, m in layers.items()}, 0.9))
    assert not bool((model.head.weight == 0).any())
    share = sum(int((m.weight == 0).sum()) for m in layers.values()) / sum(m.weight.numel() for m in layers.values())
    assert share == pytest.approx(0.9, abs=1e-4)


@pytest.mark.slow
def test_quick_run_records_both_scopes_and_nested_imp_rounds(tmp_path):
    config = experiment_config("pruning", quick=True, values={"epochs": 2, "sparsities": (0.0, 0.9), "train_eval_samples": 200, "width": 16})
    folder = run_experiment("pruning", config, out=tmp_path).parent
    rows = [r for r in Records(folder / "records.jsonl").rows() if r["split"] == "test"]
    assert {r["variant"] for r in rows} == {"one-shot body", "one-shot body + fine-tune", "one-shot all", "one-shot all + fine-tune",
                                            "IMP body, rewound"}
    for r in rows:
        assert r["measured_sparsity"] == pytest.approx(r["sparsity"], abs=1e-3)
    rounds = [load_checkpoint(folder / f"imp-seed0-{s}.pt")["model"] for s in (0.5, 0.8)]
    first = rounds[0]["body.1.weight"]  # the MLP's first hidden layer
    assert bool(((first == 0) <= (rounds[1]["body.1.weight"] == 0)).all())  # pruned once, pruned for good
    assert not bool((rounds[1]["head.weight"] == 0).any())
