"""Attaching an evidence document to a case: the bytes are stored first, by their hash, and only then is
the upload recorded (CertificationCase.EvidenceAttached), so that no event ever names a file that is not
stored. A failure in between leaves a stored file that no case names, which is harmless and is used
again by the next attempt (the store never writes the same bytes twice).

No workflow orchestrates it: evidence is not a step of the case's lifecycle, so it is handled directly,
like a waiver. Its key derives from the case and the file's hash, so that the same file attached again
(a retry, a second click, another person) records nothing.
"""

from __future__ import annotations

from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.files import FileStore
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Envelope, command_key
from clusterlabel.domain.evidence import check_media_type, safe_file_name
from clusterlabel.domain.evidence_commands import AttachEvidence


def attach_evidence(app: CertificationApp, case_id: UUID, command: AttachEvidence, env: Envelope) -> CertificationCase:
    """The handler (HANDLERS): record a file already stored as evidence of the case."""

    def act(case: CertificationCase) -> None:
        case.attach_evidence(command.file_name, command.size, command.sha256, command.media_type, *env.when())

    return app.change(case_id, CertificationCase, env, act)


def store_and_attach(
    app: CertificationApp, files: FileStore, case_id: UUID, content: bytes, given_name: str | None, actor: str
) -> tuple[CertificationCase, str]:
    """Check the file and the case, store the bytes, record the upload; the case as saved and the file's hash.

    Everything that may refuse is asked before the bytes are stored: the file's type (from its content)
    and whether the case still takes evidence."""
    media_type = check_media_type(content)
    app.get_case(case_id).check_step("attach_evidence")
    sha256 = files.put(content)
    command = AttachEvidence(
        file_name=safe_file_name(given_name, media_type), size=len(content), sha256=sha256, media_type=media_type
    )
    envelope = Envelope(actor=actor, key=evidence_key(case_id, sha256), at=app.clock())
    return attach_evidence(app, case_id, command, envelope), sha256


def evidence_key(case_id: UUID, sha256: str) -> str:
    """One key per file per case: the same file attached to the case again is the same command."""
    return command_key("case", case_id, "attach_evidence", sha256)
