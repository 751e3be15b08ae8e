"""Typed values of declared config fields: conversion, bounds, and the words of their errors.

A field declares its type in its annotation and its bounds, choices or pattern in its metadata
(:func:`interplay.config.setting`); :func:`checked` converts a value from any source to that type
(lists to tuples, integers in float fields to floats) or raises one error that names the field,
the value received and what is expected.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import types
import typing
from typing import Any

from interplay.validation import InterplayTypeError, InterplayValueError

__all__ = ["checked", "describe_field", "expected", "Scalars"]


@functools.cache
def _types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _bounds_text(metadata) -> str:
    low = f"[{metadata['minimum']}" if "minimum" in metadata else f"({metadata['above']}" if "above" in metadata else None
    high = f"{metadata['maximum']}]" if "maximum" in metadata else f"{metadata['below']})" if "below" in metadata else None
    if low and high:
        return f" in {low}, {high}"
    if low:
        return (" >= " if low[0] == "[" else " > ") + low[1:]
    if high:
        return (" <= " if high[-1] == "]" else " < ") + high[:-1]
    return ""


def expected(kind: Any, metadata, plural: bool = False) -> str:
    """What a field of type ``kind`` accepts, in words ("an integer >= 1", "a list of numbers in [0, 1)")."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        other = next(a for a in args if a is not type(None))
        return f"{expected(other, metadata, plural)} or none"
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            size = "" if metadata.get("may_be_empty") else "non-empty "
            return f"a {size}list of {expected(args[0], metadata, plural=True)}, like [{_example(args[0])}]"
        return f"{'lists' if plural else 'a list'} of {len(args)} {expected(args[0], metadata, plural=True)}"
    if kind is bool:
        return "true or false"
    if kind is str:
        if metadata.get("choices"):
            return "one of " + ", ".join(choice or "''" for choice in metadata["choices"])
        return metadata.get("expects") or ("strings" if plural else "a string")
    noun = {int: ("an integer", "integers"), float: ("a finite number", "finite numbers")}[kind][plural]
    return noun + _bounds_text(metadata)


def _example(kind: Any) -> str:
    if typing.get_origin(kind) is tuple:
        return "[" + ", ".join(_example(a) for a in typing.get_args(kind)) + "]"
    return {int: "0, 1", float: "0.5", str: '"a"'}.get(kind, "0")


class _Mismatch(Exception):
    """A value that does not fit its declared type (the caller words the error)."""


def _convert(kind: Any, value: Any, metadata) -> Any:
    """``value`` as ``kind`` (lists become tuples, integers in float fields floats), bounds checked."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, metadata)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        if len(args) == 2 and args[1] is Ellipsis:
            if not value and not metadata.get("may_be_empty"):
                raise _Mismatch
            return tuple(_convert(args[0], v, metadata) for v in value)
        if len(value) != len(args):
            raise _Mismatch
        return tuple(_convert(a, v, metadata) for a, v in zip(args, value))
    if kind is bool:
        if not isinstance(value, bool):
            raise _Mismatch
        return value
    if kind is str:
        valid = isinstance(value, str) and (not metadata.get("choices") or value in metadata["choices"])
        if not valid or (metadata.get("pattern") and not re.fullmatch(metadata["pattern"], value)):
            raise _Mismatch
        return value
    if isinstance(value, bool) or not isinstance(value, int if kind is int else (int, float)):
        raise _Mismatch
    value = kind(value)
    in_bounds = math.isfinite(value) and all((
        value >= metadata.get("minimum", -math.inf), value > metadata.get("above", -math.inf),
        value <= metadata.get("maximum", math.inf), value < metadata.get("below", math.inf),
    ))
    if not in_bounds:
        raise _Mismatch
    return value


def _parse_text(kind: Any, text: str) -> Any:
    """A typed value from text typed on the command line (``5``, ``true``, ``[0, 1]``)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return None if text.lower() == "none" else _parse_text(next(a for a in args if a is not type(None)), text)
    if kind is str:
        return text
    if kind is bool:
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        return words.get(text.strip().lower(), text)
    try:
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        return json.loads(text)
    except ValueError:
        return text


def checked(cls: type, name: str, value: Any, source: str, text: bool = False) -> Any:
    """``value`` of field ``name`` of config class ``cls``, typed and bounds-checked, or one error naming
    the field, the value, its ``source`` and what the field accepts."""
    f = cls.__dataclass_fields__[name]
    kind = _types(cls)[name]
    parsed = _parse_text(kind, value) if text and isinstance(value, str) else value
    try:
        return _convert(kind, parsed, f.metadata)
    except _Mismatch:
        where = f" (from {source})" if source else ""
        wrong_type = not _is_kind(kind, parsed)
        error = InterplayTypeError if wrong_type else InterplayValueError
        raise error(f"{name} must be {expected(kind, f.metadata)}; got {value!r}{where}.") from None


def _is_kind(kind: Any, value: Any) -> bool:
    """Whether ``value`` has the shape of ``kind``, bounds aside (to choose TypeError or ValueError)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return value is None or any(_is_kind(a, value) for a in args if a is not type(None))
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        kinds = [args[0]] * len(value) if args[-1] is Ellipsis else args
        return all(_is_kind(k, v) for k, v in zip(kinds, value))
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def describe_field(cls: type, name: str) -> tuple[str, Any, str]:
    """Type (with bounds or choices), default and help of one field, for listings."""
    f = cls.__dataclass_fields__[name]
    kind = _types(cls)[name]
    words = typing.get_origin(kind) is tuple or kind in (str, bool) or typing.get_origin(kind) in (typing.Union, types.UnionType)
    shown = expected(kind, f.metadata) if words else kind.__name__ + _bounds_text(f.metadata)
    default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    return shown, default, f.metadata.get("help", "")


class Scalars:
    """Mixin of result dataclasses: :meth:`as_dict` gives the row a log or CSV file takes."""

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain Python values: 0-d tensors as floats, other tensors (per class) left out.

        Example:
            >>> import torch
            >>> @dataclasses.dataclass
            ... class Result(Scalars):
            ...     mir: torch.Tensor
            ...     per_class: torch.Tensor
            ...     n: int
            >>> Result(torch.tensor(0.5), torch.ones(3), 7).as_dict()
            {'mir': 0.5, 'n': 7}
        """
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if getattr(value, "ndim", None) is None:
                out[f.name] = value
            elif value.ndim == 0:
                out[f.name] = float(value)
        return out
