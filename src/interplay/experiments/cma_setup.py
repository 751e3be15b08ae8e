"""The vision-language model of the ``cma`` experiment: base-to-new class split and the image encoder's pretraining.

The image encoder trained here learns CLIP's image-to-text objective (text side frozen) on the
base classes, so the few-shot classes are new to it, as CLIP's downstream classes are new to CLIP.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from interplay.data import ImageDataset
from interplay.experiments.runs import load_splits
from interplay.runs import Records
from interplay.models import build_model
from interplay.training.checkpoint import load_checkpoint, save_atomic
from interplay.validation import InterplayValueError
from interplay.vision_language import VisionLanguage, load_clip, minilm_text_features

__all__ = ["few_shot_classes", "pretrained"]

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PRETRAIN_SCALE = 1 / 0.07  # CLIP's initial logit scale, kept fixed for the encoder trained here


def class_names(data: ImageDataset) -> list[str]:
    """Words for the classes of a data set, as they go into a prompt.

    Example:
        >>> from interplay.experiments.runs import load_splits
        >>> class_names(load_splits("digits")[0])[:3]
        ['zero', 'one', 'two']
    """
    return DIGIT_NAMES if data.name in ("digits", "mnist") else [c.lower() for c in data.classes]


def _subset(data: ImageDataset, keep: list[int]) -> ImageDataset:
    """The images of classes ``keep``, relabelled 0..len(keep)-1, the classes named in words."""
    remap = torch.full((data.num_classes,), -1, dtype=torch.long)
    remap[keep] = torch.arange(len(keep))
    mask = remap[data.labels] >= 0
    names = class_names(data)
    return ImageDataset(data.name, data.images[mask], remap[data.labels[mask]], [names[c] for c in keep])


def few_shot_classes(config, train: ImageDataset, test: ImageDataset) -> tuple[ImageDataset, ImageDataset]:
    """Train and test splits restricted to the classes outside ``config.base_classes``."""
    out_of_range = [c for c in config.base_classes if c >= train.num_classes]
    if out_of_range:
        raise InterplayValueError(f"base_classes {out_of_range} do not exist: {config.dataset} has classes 0..{train.num_classes - 1}.")
    new = [c for c in range(train.num_classes) if c not in config.base_classes]
    if len(new) < 2:
        raise InterplayValueError(f"base_classes leave {len(new)} class(es) of {config.dataset} for few-shot classification; leave at least 2.")
    return _subset(train, new), _subset(test, new)


def _pretraining_splits(config, train: ImageDataset, test: ImageDataset) -> tuple[ImageDataset, ImageDataset]:
    """The base classes of the few-shot data set (its splits ``train``, ``test``), joined with every class of ``pretrain_dataset``."""
    parts = [(_subset(train, list(config.base_classes)), _subset(test, list(config.base_classes)))] if config.base_classes else []
    if config.pretrain_dataset:
        extra = load_splits(config.pretrain_dataset, config.data_dir)
        parts.insert(0, (_subset(extra[0], list(range(extra[0].num_classes))), _subset(extra[1], list(range(extra[1].num_classes)))))
    if not parts:
        raise InterplayValueError("the image encoder has nothing to learn from: set pretrain_dataset or base_classes, "
                                  "or give a clip checkpoint.")
    shapes = {tuple(p.images.shape[1:]) for pair in parts for p in pair}
    if len(shapes) > 1:
        raise InterplayValueError(f"pretrain_dataset and dataset have images of different shapes {sorted(shapes)}; pick data sets of one shape.")
    return tuple(_join([pair[i] for pair in parts]) for i in (0, 1))


def _join(parts: list[ImageDataset]) -> ImageDataset:
    offsets = torch.tensor([0, *[p.num_classes for p in parts]]).cumsum(0)
    return ImageDataset("+".join(p.name for p in parts), torch.cat([p.images for p in parts]),
                        torch.cat([p.labels + offsets[i] for i, p in enumerate(parts)]), [c for p in parts for c in p.classes])


def _standardizer(data: ImageDataset):
    mean, std = data.channel_stats()
    return lambda images: (images - mean.to(images)) / std.to(images)


def _accuracy(model: VisionLanguage, data: ImageDataset, device) -> float:
    predicted = model.logits(model.features(data.images, device).to(device)).argmax(1).cpu()
    return float((predicted == data.labels).double().mean())


def pretrained(config, records: Records, run_dir: Path, splits: tuple[ImageDataset, ImageDataset], names: list[str],
               device) -> VisionLanguage:
    """The model for the few-shot classes ``names``, with the hand-written prompts' text features.

    ``splits`` are the train and test splits of ``config.dataset``, whose base classes join the pretraining.

    The image encoder trained here is saved once and reused on resume.
    """
    prompts = [config.template.format(n) for n in names]
    if config.clip:
        return load_clip(config.clip, prompts).to(device)
    train, test = _pretraining_splits(config, *splits)
    encoder = build_model("cnn", tuple(train.images.shape[1:]), 384)
    saved = run_dir / "image_encoder.pt"
    if "pretrain" in records.finished and saved.is_file():
        encoder.load_state_dict(load_checkpoint(saved))
    else:
        torch.manual_seed(0)
        text = minilm_text_features([config.template.format(n) for n in train.classes])
        model = VisionLanguage(encoder, text, PRETRAIN_SCALE, _standardizer(train)).to(device)
        optimizer = torch.optim.Adam(model.image_encoder.parameters(), 1e-3)
        for epoch in range(config.pretrain_epochs):
            order = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(epoch))
            model.train()
            for start in range(0, len(order), 128):
                part = order[start : start + 128]
                loss = F.cross_entropy(model.logits(model(train.images[part].to(device))), train.labels[part].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        save_atomic(encoder.state_dict(), saved)
        records.append("pretrain", dataset=train.name, pretrain_classes=train.num_classes, pretrain_accuracy=_accuracy(model, test, device))
        records.finish("pretrain")
    return VisionLanguage(encoder, minilm_text_features(prompts), PRETRAIN_SCALE, _standardizer(train)).to(device)
