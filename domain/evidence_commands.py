"""The command of evidence documents: a file attached to a case. Listed in COMMANDS (domain/commands.py)
and handled from the same table (activities/handlers.py: activities/evidence.py).

The file itself never travels in a command: it is stored first, by its SHA-256 (activities/files.py),
and the command names it by that hash, so that no event ever points to bytes that are not there.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from clusterlabel.domain.command_base import CaseCommand
from clusterlabel.domain.evidence import FILE_NAME_MAX_LENGTH, MEDIA_TYPES
from clusterlabel.domain.text import Text

SHA256_HEX = r"^[0-9a-f]{64}$"


class AttachEvidence(CaseCommand):
    """Attach a stored file to the case; the same file (by hash) is attached to a case once."""

    file_name: Text = Field(min_length=1, max_length=FILE_NAME_MAX_LENGTH)
    size: int = Field(ge=1)
    sha256: str = Field(pattern=SHA256_HEX)
    media_type: Text

    @field_validator("media_type")
    @classmethod
    def _accepted(cls, media_type: str) -> str:
        if media_type not in MEDIA_TYPES:
            raise ValueError(f"not an accepted type of evidence: {media_type}")
        return media_type
