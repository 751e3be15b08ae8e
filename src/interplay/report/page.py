"""The HTML document shared by every report page."""

from __future__ import annotations

import html

__all__ = ["document"]

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1500px}table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:100%}figure{margin:1em 0}"
    "pre{background:#f6f6f6;padding:.5em;font-size:12px}"
)


def document(title: str, parts: list[str]) -> str:
    """A complete HTML page with ``title`` and the already escaped ``parts`` as its body.

    Example:
        >>> document("t", ["<p>x</p>"]).startswith("<!doctype html>")
        True
    """
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>")
