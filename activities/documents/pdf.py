"""HTML to PDF. WeasyPrint lays out HTML and inline SVG with Pango (already on the machine image), so a
document is written once as a template and served both as a page and as a PDF."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any


@cache
def _weasyprint() -> Any:
    """WeasyPrint, imported on the first document: it takes most of a second to load its fonts and Pango,
    which every process (worker, view processes, CLI commands) would otherwise pay at start-up."""
    import weasyprint

    return weasyprint


class _ThreadFonts(threading.local):
    """Each thread's own font configuration, made on its first document and kept: WeasyPrint 70 never frees
    the fontconfig configuration a document makes for itself when given none (about 220 KB a document,
    which grew the API by megabytes a minute under load), and a Pango font map is not shared across threads."""

    config: Any = None


_fonts = _ThreadFonts()


def _font_config() -> Any:
    if _fonts.config is None:
        from weasyprint.text.fonts import FontConfiguration

        _fonts.config = FontConfiguration()
    return _fonts.config


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (styles and images inline: nothing is fetched)."""
    weasyprint = _weasyprint()
    # Only what the document carries itself (data: URLs): a document that names an outside address must
    # not make the server fetch it (a request forgery, or a document that changes with someone else's server).
    inline_only = weasyprint.URLFetcher(allowed_protocols={"data"})
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=inline_only).write_pdf(font_config=_font_config())
    return pdf
