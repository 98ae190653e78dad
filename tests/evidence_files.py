"""Small real files of each kind a case takes as evidence, made in the test (none is checked in)."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from clusterlabel.activities.documents.pdf import render_pdf

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORD_WITH_MACROS_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
ODT = "application/vnd.oasis.opendocument.text"


def pdf(text: str = "Minutes of the cluster's annual meeting") -> bytes:
    return render_pdf(f"<h1>{text}</h1>")


def png(colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), "orange").save(out, "JPEG")
    return out.getvalue()


def ooxml(main_part: str, main_path: str = "/word/document.xml") -> bytes:
    """An OOXML package as an office suite writes one: the manifest names its main part's type."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{main_path}" ContentType="{main_part}"/>'
        "</Types>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", manifest)
        package.writestr(main_path.lstrip("/"), "<document>Self-assessment</document>")
    return out.getvalue()


def docx() -> bytes:
    return ooxml(WORD_MAIN)


def xlsx() -> bytes:
    return ooxml(EXCEL_MAIN, "/xl/workbook.xml")


def odt(declared: str = ODT) -> bytes:
    """An OpenDocument file: its first entry, stored uncompressed, is `mimetype`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("mimetype", declared, compress_type=zipfile.ZIP_STORED)
        package.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    return out.getvalue()
