"""Reading a PDF back as its user would: the text it holds, and a page as an image."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pypdfium2


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def pdf_page_png(pdf: bytes, path: Path, page: int = 0, scale: float = 1.5) -> Path:
    """Render one page to a PNG (to look at, and to check it is not blank)."""
    pypdfium2.PdfDocument(pdf)[page].render(scale=scale).to_pil().save(path)
    return path
