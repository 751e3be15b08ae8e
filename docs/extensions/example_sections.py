"""Griffe extension for the API reference: read the library's docstrings as the site renders them.

The docstrings head their doctests ``Example:``, which griffe's Google parser knows only in the
plural (the singular would render as an admonition whose ``>>>`` lines read as quotes), and they
cross-reference with Sphinx roles (:func:`name`) and end a line before an indented block with
reST's ``::``, which Markdown would print as they are; all are rewritten before the docstring is
parsed, the roles as plain code.
"""

from __future__ import annotations

import re

import griffe

__all__ = ["ExampleSections"]

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)
_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr|obj|exc):`~?([^`]+)`")
_LITERAL = re.compile(r"(\S)::[ \t]*$", flags=re.MULTILINE)  # reST's "text::" before an indented block


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` section headers to ``Examples:``, turn Sphinx roles into code, drop reST's ``::``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            text = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = _LITERAL.sub(r"\1:", _ROLE.sub(r"`\1`", text))
