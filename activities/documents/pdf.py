"""HTML to PDF. WeasyPrint lays out HTML and inline SVG with Pango (already on the machine image), so a
document is written once as a template and served both as a page and as a PDF."""

from __future__ import annotations

import weasyprint

# Only what the document carries itself (data: URLs): a document that names an outside address must not
# make the server fetch it (a request forgery, or a document that changes with someone else's server).
_INLINE_ONLY = weasyprint.URLFetcher(allowed_protocols={"data"})


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (styles and images inline: nothing is fetched)."""
    return weasyprint.HTML(string=html, url_fetcher=_INLINE_ONLY).write_pdf()
