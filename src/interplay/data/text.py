"""Text for next-token prediction: the default corpus, a byte-level tokenizer and context windows.

The default corpus is CPython's ``pydoc_data.topics`` (the help topics of the language reference),
which every Python installation ships. The byte-level tokenizer maps a text to its UTF-8 bytes,
ids 0–255, with no vocabulary file.
"""

from __future__ import annotations

from pathlib import Path

import torch

from interplay.validation import InterplayValueError

__all__ = ["BYTE_VOCAB", "read_text", "byte_tokens", "context_windows"]

BYTE_VOCAB = 256


def default_text() -> str:
    """CPython's help topics (``pydoc_data.topics``), joined in the order of their names.

    Example:
        >>> "assert" in default_text()[:2000]
        True
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))


def read_text(source: str) -> str:
    """The text of file ``source`` (UTF-8), or :func:`default_text` for ``""``."""
    if not source:
        return default_text()
    path = Path(source).expanduser()
    if not path.is_file():
        raise InterplayValueError(
            f"text must be a UTF-8 text file or empty (CPython's pydoc_data.topics); {source!r} is not a file. "
            "Check the path, or leave text out."
        )
    return path.read_text(encoding="utf-8", errors="replace")


def byte_tokens(text: str) -> torch.Tensor:
    """Token ids of ``text``: its UTF-8 bytes, each an id in [0, 256).

    Example:
        >>> byte_tokens("hé").tolist()
        [104, 195, 169]
    """
    return torch.frombuffer(bytearray(text.encode("utf-8")), dtype=torch.uint8).long()


def tokens_needed(max_tokens: int, context: int) -> int:
    """Tokens to cut into windows of ``context`` so that they hold ``max_tokens`` predictions.

    A window of ``L`` tokens predicts its last ``L − 1`` from the ones before.

    Example:
        >>> tokens_needed(10, 4)  # windows of 4, 4, 4 and 2 tokens: 3 + 3 + 3 + 1 predictions
        14
    """
    full, rest = divmod(max_tokens, context - 1)
    return full * context + (rest + 1 if rest else 0)


def context_windows(tokens: torch.Tensor, context: int, max_tokens: int, *, pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows of ``context`` tokens from the start of ``tokens``, holding at most
    ``max_tokens`` predictions, the last window padded on the right.

    Returns:
        ``ids`` (b, context) and ``mask`` (b, context), 1 on tokens and 0 on padding. Position j of a
        window predicts token j + 1 where both are tokens.

    Example:
        >>> ids, mask = context_windows(torch.arange(7), 4, 100)
        >>> ids.tolist(), mask.tolist()
        ([[0, 1, 2, 3], [4, 5, 6, 0]], [[1, 1, 1, 1], [1, 1, 1, 0]])
    """
    if context < 2:
        raise InterplayValueError(f"context must be at least 2 tokens (one to read, one to predict); got {context}.")
    if tokens.numel() < context:
        raise InterplayValueError(
            f"the text has {tokens.numel()} tokens, fewer than one context window of {context}; "
            "pass a longer text or a smaller context."
        )
    used = tokens[: tokens_needed(max_tokens, context)]
    padding = -used.numel() % context
    if padding == context - 1:  # a last window of one token predicts nothing
        used, padding = used[:-1], 0
    ids = torch.cat([used, used.new_full((padding,), pad_id)]).reshape(-1, context)
    mask = torch.cat([torch.ones_like(used), used.new_zeros(padding)]).reshape(-1, context)
    return ids, mask
