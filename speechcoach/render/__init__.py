"""Renderers: each turns a report dictionary (see :mod:`speechcoach.render.report`) into a document."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("text", "json", "md", "html")


def render(report: dict[str, Any], fmt: str, **options: Any) -> str:
    """Render ``report`` as ``fmt`` (one of :data:`FORMATS`).

    Options are passed to the format's renderer: ``color`` for text, ``audio_src`` for HTML.
    """
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "text":
        from .text import render_text

        return render_text(report, **options)
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(report, **options)
    if fmt == "html":
        from .html import render_html

        return render_html(report, **options)
    raise ValueError(f"unknown format {fmt!r}")
