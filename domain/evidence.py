"""Evidence documents: which files a case accepts, told from their content, and the name they keep.

The type of a file is read from its bytes, never from its name or the type its sender claims: a
renamed script stays a script. A PDF, a PNG, a JPEG, a GIF or a WebP image says so in its first bytes;
an office document is a ZIP archive, and which one it is says its manifest: OOXML (Word, Excel,
PowerPoint) names its main part in `[Content_Types].xml`, OpenDocument its type in the `mimetype`
entry. Only the standard library reads them (no libmagic), and nothing is written anywhere.
"""

from __future__ import annotations

import io
import lzma
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable

from clusterlabel.domain.base import InvalidInput, Problem

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
MEDIA_TYPES = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP)
ACCEPTED = "a PDF, a PNG, JPEG, GIF or WebP image, or an office document (Word, Excel, PowerPoint or OpenDocument)"

# OOXML: the content type of the package's main part, as [Content_Types].xml declares it.
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.ms-word.document.macroEnabled.main+xml": None,  # macros: refused, like any program
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_ODF_TYPES = frozenset({ODT, ODS, ODP})
# A manifest larger than this is not one an office suite wrote: it is not read.
_MANIFEST_MAX_BYTES = 1024 * 1024
_SIGNATURES: tuple[tuple[Callable[[bytes], bool], str], ...] = (
    (lambda head: head.startswith(b"%PDF-"), PDF),
    (lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), PNG),
    (lambda head: head.startswith(b"\xff\xd8\xff"), JPEG),
    (lambda head: head[:6] in (b"GIF87a", b"GIF89a"), GIF),
    (lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP", WEBP),
)


class UnsupportedMediaType(InvalidInput):
    """A file whose content is of no accepted type (the API answers 415)."""


def media_type_of(content: bytes) -> str | None:
    """The accepted media type the content is, or None for anything else."""
    for matches, media_type in _SIGNATURES:
        if matches(content[:16]):
            return media_type
    if content.startswith(b"PK\x03\x04"):
        return _office_type(content)
    return None


def check_media_type(content: bytes) -> str:
    """The content's media type; InvalidInput for an empty file, UnsupportedMediaType for one of no accepted type."""
    if not content:
        raise InvalidInput("the file is empty", [Problem("the file is empty", ("file",), "empty_file")])
    media_type = media_type_of(content)
    if media_type is None:
        message = f"the file's content is not {ACCEPTED} (its type is read from its content, not its name)"
        raise UnsupportedMediaType(message, [Problem(message, ("file",), "unsupported_media_type")])
    return media_type


# What reading a ZIP that is not a sound office file raises: no type, so 415 (never a 500).
_UNREADABLE_ARCHIVE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted entry
    zlib.error,  # a damaged deflated entry
    lzma.LZMAError,  # a damaged LZMA entry
)


def _office_type(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = _small_entry(archive, "mimetype").decode("ascii", "replace").strip()
                return declared if declared in _ODF_TYPES else None
            if "[Content_Types].xml" in names:
                return _ooxml_type(_small_entry(archive, "[Content_Types].xml").decode("utf-8", "replace"))
    except _UNREADABLE_ARCHIVE:
        return None
    return None


def _small_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    """An entry of the archive, read no further than a manifest can be (a zip bomb is not inflated)."""
    with archive.open(name) as entry:
        data = entry.read(_MANIFEST_MAX_BYTES + 1)
    if len(data) > _MANIFEST_MAX_BYTES:
        raise ValueError(f"{name} is too large to be a manifest")
    return data


def _ooxml_type(manifest: str) -> str | None:
    """The document type of the part that the manifest declares main (the first it names)."""
    for content_type in re.findall(r'ContentType="([^"]+)"', manifest):
        if content_type in _OOXML_MAIN_PARTS:
            return _OOXML_MAIN_PARTS[content_type]
    return None


# ---- names ---------------------------------------------------------------------------------

FILE_NAME_MAX_LENGTH = 200
_UNSAFE = re.compile(r'[\\/:*?"<>|]')


def safe_file_name(given: str | None, media_type: str) -> str:
    """The name a file keeps as metadata: its last path segment, without control characters or the
    characters file systems refuse, at most FILE_NAME_MAX_LENGTH characters; a name left empty is
    `evidence` with the type's usual extension. It only ever labels a download: files are stored by hash."""
    name = re.split(r"[\\/]", given or "")[-1]
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in name)
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name))
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        name = f"evidence.{EXTENSIONS[media_type]}"
    if len(name) > FILE_NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        keep = FILE_NAME_MAX_LENGTH - len(extension) - 1
        name = f"{stem[:keep]}.{extension}" if dot and 0 < len(extension) <= 10 else name[:FILE_NAME_MAX_LENGTH]
    return name


EXTENSIONS = {
    PDF: "pdf",
    PNG: "png",
    JPEG: "jpg",
    GIF: "gif",
    WEBP: "webp",
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
    ODT: "odt",
    ODS: "ods",
    ODP: "odp",
}
