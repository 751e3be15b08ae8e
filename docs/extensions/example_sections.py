"""Griffe extension for the API reference: read a docstring's ``Example:`` section as ``Examples:``.

The library's docstrings head their doctests ``Example:``; griffe's Google parser knows only the
plural, and would render the singular as an admonition whose ``>>>`` lines read as quotes.
"""

from __future__ import annotations

import re

import griffe

__all__ = ["ExampleSections"]

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename every ``Example:`` section header to ``Examples:`` before the docstring is parsed."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
