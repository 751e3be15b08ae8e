"""FixMatch: balanced labelled subsets, the confidence threshold, the EMA model and the schedule."""

from __future__ import annotations

import math

import pytest
import torch

from interplay.models import build_model
from interplay.training.fixmatch import FixMatch, balanced_labelled

LABELS = torch.arange(60) % 6


def make(steps=4, **options):
    torch.manual_seed(0)
    images = torch.rand(60, 1, 8, 8)
    model = build_model("mlp", (1, 8, 8), 6, width=12)
    return FixMatch(model, images, LABELS, balanced_labelled(LABELS, 12, 6, seed=0), steps=steps, **({"batch_size": 6, "mu": 2} | options))


def test_labelled_subsets_are_balanced_and_seeded():
    first = balanced_labelled(LABELS, 18, 6, seed=3)
    assert torch.bincount(LABELS[first]).tolist() == [3] * 6 and len(set(first.tolist())) == 18
    assert first.equal(balanced_labelled(LABELS, 18, 6, seed=3))
    assert not first.equal(balanced_labelled(LABELS, 18, 6, seed=4))


@pytest.mark.parametrize(("count", "message"), [(13, "not divisible by the 6 classes"), (66, "larger than the data set"), (0, "label count must be an int >= 1")])
def test_bad_label_counts_are_clear_errors(count, message):
    with pytest.raises(ValueError, match=message):
        balanced_labelled(LABELS, count, 6, seed=0)


def test_a_class_with_too_few_samples_is_a_clear_error():
    labels = torch.cat([torch.zeros(30, dtype=torch.long), torch.ones(2, dtype=torch.long)])
    with pytest.raises(ValueError, match="class 1 has 2 samples, fewer than the 4"):
        balanced_labelled(labels, 8, 2, seed=0)


def test_threshold_decides_which_pseudo_labels_count():
    everything = make(threshold=0.0).step(1)
    nothing = make(threshold=1.0).step(1)
    assert everything.mask_rate == 1.0 and 0 <= everything.pseudo_accuracy <= 1
    assert nothing.mask_rate == 0.0 and nothing.unsupervised == 0.0 and math.isnan(nothing.pseudo_accuracy)
    assert nothing.loss == pytest.approx(nothing.supervised)


def test_ema_with_zero_decay_is_the_model_and_a_step_changes_it():
    run = make(ema_decay=0.0)
    before = [p.detach().clone() for p in run.model.parameters()]
    run.step(1)
    for p, q, b in zip(run.model.parameters(), run.eval_model.parameters(), before):
        assert torch.equal(p, q)
    assert any(not torch.equal(p, b) for p, b in zip(run.model.parameters(), before))


def test_learning_rate_follows_the_fixmatch_cosine():
    run = make(steps=8, lr=0.1)
    for k in (1, 5, 8):
        run.step(k)
        assert run.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * math.cos(7 * math.pi * (k - 1) / 128))


def test_interplay_terms_enter_the_loss():
    spread = {"threshold": 0.0, "mean": 0.5, "std": 0.02}  # large inputs: the pseudo-labels differ
    plain = make(**spread).step(1)
    run = make(**spread, mir_weight=1.0, hdr_weight=2.0)
    with_terms = run.step(1)
    terms = float(-run.interplay.components["mir"] + 2.0 * run.interplay.components["hdr"])
    assert with_terms.supervised == pytest.approx(plain.supervised) and with_terms.unsupervised == pytest.approx(plain.unsupervised)
    assert with_terms.loss == pytest.approx(plain.loss + terms, abs=1e-5) and abs(terms) > 1e-3


@pytest.mark.parametrize("options", [{"threshold": 1.5}, {"mu": 0}, {"ema_decay": 1.0}])
def test_bad_settings_are_clear_errors(options):
    with pytest.raises(ValueError, match="must"):
        make(**options)
