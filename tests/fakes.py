"""Tiny data files in the official formats, written into a temporary folder by the tests."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def write_mnist_like(root: Path, folder: str = "fashion_mnist/raw", n_train: int = 40, n_test: int = 20, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(root / folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(root / folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)


def write_cifar10_like(root: Path, per_batch: int = 6, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8), b"labels": list(np.arange(per_batch) % 10)}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}))
    return folder


def write_tiny_clip(folder: Path, words: list[str], image_size: int = 28, seed: int = 0) -> Path:
    """A randomly initialised CLIP (a few thousand weights) and a word-level tokenizer, saved in
    Hugging Face format."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import CLIPConfig, CLIPModel, PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[EOS]": 1, "[UNK]": 2, **{w: i + 3 for i, w in enumerate(sorted(set(words) | {"."}))}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()  # words and punctuation
    backend.post_processor = processors.TemplateProcessing(single="$A [EOS]", special_tokens=[("[EOS]", 1)])  # CLIP pools at the end token
    PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]").save_pretrained(folder)
    text = {"vocab_size": len(vocab), "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
            "max_position_embeddings": 16, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 1}
    vision = {"image_size": image_size, "patch_size": 7, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
              "num_attention_heads": 2}
    torch.manual_seed(seed)
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=8)).save_pretrained(folder)
    return folder


EUROSAT_COLOURS = {"Forest": (0, 128, 0), "Sea or Lake": (0, 0, 200)}


def write_eurosat_like(root: Path, side: int = 64) -> Path:
    """Two classes of solid-colour images in EuroSAT's CoOp layout (one image not side × side),
    two training and one test image each, and CoOp's split file."""
    import json

    from PIL import Image

    base = root / "eurosat"
    entries: dict[str, list] = {"train": [], "val": [], "test": []}
    for label, (name, colour) in enumerate(EUROSAT_COLOURS.items()):
        folder = base / "2750" / name.split()[0]
        folder.mkdir(parents=True)
        for i, split in enumerate(["train", "train", "test"]):
            size = side if i else side // 2
            Image.new("RGB", (size, size), colour).save(folder / f"{i}.png")
            entries[split].append([f"{name.split()[0]}/{i}.png", label, name])
    (base / "split_zhou_EuroSAT.json").write_text(json.dumps(entries))
    return root
