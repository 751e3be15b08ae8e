"""Which modules a layer profile reads: names, patterns or modules, or the model's blocks by default.

The default rule: the model's direct children in registration order, without the head, where a
child that is a container (``nn.Sequential``, ``nn.ModuleList``, ``nn.ModuleDict``) is replaced by
its own children (one level). Of these blocks, a layer followed by an activation module (ReLU,
GELU, ...; normalisation layers in between, as in conv → batch norm → ReLU) is left out, so each
layer is read after its nonlinearity, and dropout layers (the identity in eval mode) are left out.
So an MLP written as ``body = nn.Sequential(Flatten, Linear, ReLU, Linear, ReLU)`` gives its
flattened input and each hidden layer's activation; a ResNet its stem's activation, its stages and
its pooling; a transformer with ``blocks = nn.ModuleList(...)`` each block. The head's input is
read besides; a default block whose output is that very tensor is left out of the profile (see
:mod:`interplay.layer_profile.capture`), so the last hidden layer is counted once.

A Hugging Face model (``transformers.PreTrainedModel``) profiled with the default layers is read
from the ``hidden_states`` it returns with ``output_hidden_states=True`` (the embeddings, then each
layer's output), without hooks; named layers are read with hooks as for any model.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["Tap", "choose_layers", "block_layers"]

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
                nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign, nn.LogSigmoid)
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)


@dataclass(frozen=True)
class Tap:
    """A module to read: its output, its input (``read="input"``, as for the head), or one of a Hugging
    Face model's ``hidden_states`` (``read="hidden_states"``).

    ``chosen`` is True when the user named it: a tap that then fails to run once per forward
    pass is an error, whereas a default one is left out with a note.
    """

    name: str
    module: nn.Module
    read: str = "output"
    chosen: bool = True
    index: int | None = None
    """With ``read="hidden_states"``: the position in the model's ``hidden_states``."""


def block_layers(model: nn.Module, head: nn.Module | None) -> list[tuple[str, nn.Module]]:
    """The model's blocks by the rule of the module docstring: each layer after its nonlinearity.

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Dropout(), nn.Linear(8, 3))
        >>> [name for name, _ in block_layers(model, model[4])]
        ['0', '2']
    """
    blocks = []
    for name, child in model.named_children():
        if child is head:
            continue
        if isinstance(child, _CONTAINERS):
            blocks += [(f"{name}.{inner}", grandchild) for inner, grandchild in child.named_children() if grandchild is not head]
        else:
            blocks.append((name, child))
    modules = [module for _, module in blocks]
    return [(name, module) for k, (name, module) in enumerate(blocks)
            if not isinstance(module, nn.modules.dropout._DropoutNd) and not _activated(modules[k + 1:])]


def _activated(after: list[nn.Module]) -> bool:
    """Whether an activation follows, past normalisation layers: the layer before it is a pre-activation."""
    for module in after:
        if isinstance(module, _ACTIVATIONS):
            return True
        if not isinstance(module, _NORMS):
            return False
    return False


def _unknown(name: str, names: list[str]) -> InterplayValueError:
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f" Close names: {', '.join(map(repr, close))}." if close else f" Some names: {', '.join(map(repr, names[:8]))}."
    return InterplayValueError(
        f"layers: {name!r} names no submodule of the model; pass names from model.named_modules(), "
        f"glob patterns such as 'blocks.*', or the modules themselves.{hint}"
    )


def _resolve(item, named: dict[str, nn.Module], by_module: dict[int, str]) -> list[tuple[str, nn.Module]]:
    if isinstance(item, nn.Module):
        name = by_module.get(id(item))
        if name is None:
            raise InterplayValueError(
                f"layers: the module {type(item).__name__} is not a submodule of the model; pass modules of the model or their names."
            )
        return [(name, item)]
    if not isinstance(item, str):
        raise InterplayTypeError(f"layers must hold module names, glob patterns or modules; got {type(item).__name__}.")
    if item in named:
        return [(item, named[item])]
    if not any(c in item for c in "*?["):
        raise _unknown(item, [n for n in named if n])
    matches = [(n, m) for n, m in named.items() if n and fnmatch.fnmatchcase(n, item)]
    if not matches:
        raise InterplayValueError(
            f"layers: the pattern {item!r} matches no submodule of the model. "
            f"Some names: {', '.join(map(repr, [n for n in named if n][:8]))}."
        )
    return matches


def choose_layers(model: nn.Module, layers, head: nn.Module | None, *, blocks: bool = True) -> list[Tap]:
    """The taps of a profile: the chosen layers (or, with ``blocks``, the blocks), then the head's input
    if a head is used. ``blocks=False`` is for a model read at its hidden states, which may need no tap.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> [(tap.name, tap.read) for tap in choose_layers(model, ["0"], model[2])]
        [('0', 'output'), ('2:input', 'input')]
    """
    named = dict(model.named_modules())
    by_module = {id(m): n for n, m in named.items()}
    if layers is None:
        taps = [Tap(name, module, chosen=False) for name, module in block_layers(model, head)] if blocks else []
    else:
        items = [layers] if isinstance(layers, (str, nn.Module)) else layers
        if not isinstance(items, Sequence) or not items:
            raise InterplayValueError(
                f"layers must be a non-empty list of module names, glob patterns or modules, or None for the "
                f"model's blocks; got {layers!r}."
            )
        seen, taps = set(), []
        for item in items:
            for name, module in _resolve(item, named, by_module):
                if name not in seen:
                    seen.add(name)
                    taps.append(Tap(name, module))
    if head is not None:
        taps.append(Tap(f"{by_module.get(id(head), 'head')}:input", head, read="input"))
    if not taps and blocks:
        raise InterplayValueError(
            "the model has no blocks to profile (no child modules) and no head; pass layers=[...] naming its modules."
        )
    return taps
