"""A file's type is read from its content, never from its name: what a case takes, and what it refuses."""

from __future__ import annotations

import io
import zipfile

import pytest

from clusterlabel.domain import evidence
from clusterlabel.domain.base import InvalidInput
from clusterlabel.domain.evidence import UnsupportedMediaType, check_media_type, media_type_of, safe_file_name
from tests import evidence_files


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (evidence_files.pdf, evidence.PDF),
        (evidence_files.png, evidence.PNG),
        (evidence_files.jpeg, evidence.JPEG),
        (evidence_files.docx, evidence.DOCX),
        (evidence_files.xlsx, evidence.XLSX),
        (evidence_files.odt, evidence.ODT),
    ],
)
def test_each_accepted_kind_of_file_is_told_by_its_content(make: object, expected: str) -> None:
    assert callable(make)
    assert check_media_type(make()) == expected


def test_a_text_file_renamed_to_pdf_is_refused_with_what_is_accepted() -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        check_media_type(b"#!/bin/sh\nrm -rf /\n")  # whatever it was called: "report.pdf"
    assert "PDF" in refused.value.message and "content, not its name" in refused.value.message
    assert refused.value.problems[0].loc == ("file",)


@pytest.mark.parametrize(
    "content",
    [
        evidence_files.plain_zip(),  # a ZIP is not an office document without its manifest
        evidence_files.ooxml(evidence_files.WORD_WITH_MACROS_MAIN),  # a document that carries macros
        evidence_files.odt("application/x-shellscript"),  # an ODF-like package declaring another type
        b"PK\x03\x04 this is no archive at all",
        b"<html><script>alert(1)</script></html>",
    ],
)
def test_archives_and_documents_of_no_accepted_type_are_refused(content: bytes) -> None:
    assert media_type_of(content) is None


def test_an_empty_file_is_invalid_rather_than_of_an_unknown_type() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_media_type(b"")
    assert not isinstance(refused.value, UnsupportedMediaType)
    assert refused.value.message == "the file is empty"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\clara\\Jahresbericht 2025.pdf", "Jahresbericht 2025.pdf"),
        ("minutes\x00\r\n.pdf", "minutes .pdf"),
        ('re<port>:"final"?.pdf', "re_port___final__.pdf"),
        ("Łódź Übersicht.pdf", "Łódź Übersicht.pdf"),
        ("", "evidence.pdf"),
        (None, "evidence.pdf"),
        ("...", "evidence.pdf"),
    ],
)
def test_a_file_name_keeps_only_its_last_segment_without_control_characters(given: str | None, kept: str) -> None:
    assert safe_file_name(given, evidence.PDF) == kept


def test_a_very_long_file_name_is_shortened_but_keeps_its_extension() -> None:
    kept = safe_file_name("a" * 500 + ".xlsx", evidence.XLSX)
    assert len(kept) == evidence.FILE_NAME_MAX_LENGTH and kept.endswith("a.xlsx")


def _damaged_manifest_zip(encrypted: bool) -> bytes:
    """An ODF-like archive whose `mimetype` entry cannot be read: its deflated data broken, or marked encrypted."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text" * 20)
    data = bytearray(buffer.getvalue())
    if encrypted:
        data[6] |= 0x01  # the local header's flag
        central = data.rfind(b"PK\x01\x02")
        data[central + 8] |= 0x01  # and the central directory's
    else:
        start = 30 + len("mimetype")
        data[start : start + 8] = b"\xff" * 8  # deflate stream garbage
    return bytes(data)


@pytest.mark.parametrize("encrypted", [False, True], ids=["damaged", "encrypted"])
def test_an_office_file_whose_manifest_cannot_be_read_is_refused_as_unsupported(encrypted: bool) -> None:
    with pytest.raises(UnsupportedMediaType):
        check_media_type(_damaged_manifest_zip(encrypted))
