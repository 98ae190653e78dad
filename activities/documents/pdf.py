"""HTML to PDF. WeasyPrint lays out HTML and inline SVG with Pango (already on the machine image), so a
document is written once as a template and served both as a page and as a PDF."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any


@cache
def _weasyprint() -> Any:
    """WeasyPrint, imported on the first document: it takes most of a second to load its fonts and Pango,
    which every process (worker, view processes, CLI commands) would otherwise pay at start-up."""
    import weasyprint

    return weasyprint


# Font configurations made once and lent to one document at a time: WeasyPrint 70 never frees the fontconfig
# configuration a document makes for itself when given none (about 220 KB a document, which grew the API by
# megabytes a minute under load). Kept for the life of the process, not of a thread, since a server's
# thread pools end idle threads and start new ones; the pool holds as many as were ever in use at once.
_font_configs: queue.SimpleQueue[Any] = queue.SimpleQueue()


@contextmanager
def _font_config() -> Iterator[Any]:
    try:
        config = _font_configs.get_nowait()
    except queue.Empty:
        from weasyprint.text.fonts import FontConfiguration

        config = FontConfiguration()
    try:
        yield config
    finally:
        _font_configs.put(config)


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (styles and images inline: nothing is fetched)."""
    weasyprint = _weasyprint()
    # Only what the document carries itself (data: URLs): a document that names an outside address must
    # not make the server fetch it (a request forgery, or a document that changes with someone else's server).
    inline_only = weasyprint.URLFetcher(allowed_protocols={"data"})
    with _font_config() as fonts:
        pdf: bytes = weasyprint.HTML(string=html, url_fetcher=inline_only).write_pdf(font_config=fonts)
    return pdf
