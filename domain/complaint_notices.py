"""Who is told what of a complaint (ISO/IEC 17065 §7.13: acknowledged, investigated, the complainant told
the outcome): the secretariat's messages link to the complaint's page, the complainant's to none."""

from __future__ import annotations

from datetime import datetime

from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.notices import COMPLAINANT, SECRETARIAT, Notice, recipient


def _about(complaint: Complaint) -> str:
    return f"complaint {complaint.id} about {complaint.about}"


def _complaint_page(complaint: Complaint) -> dict[str, str]:
    """A secretariat's message of a complaint links to the complaint's page, where the officer acts, not to
    the label it names. Its kinds have no template (their stored text is the message): the data is the link's."""
    return {"complaint_id": str(complaint.id)}


def complaint_lodged(complaint: Complaint) -> list[Notice]:
    """The secretariat learns of a new complaint, and by when to acknowledge it."""
    due = complaint.deadlines["acknowledgement"]
    body = f"A {_about(complaint)} was lodged; acknowledge it by {due:%Y-%m-%d %H:%M:%S} UTC."
    data = _complaint_page(complaint)  # where the officer acknowledges it
    return [
        Notice(SECRETARIAT, "complaint_lodged", "A complaint was lodged", body, label_id=complaint.label_id, data=data)
    ]


def complaint_acknowledged(complaint: Complaint) -> list[Notice]:
    """The complainant learns that the complaint was received and will be investigated."""
    due = complaint.deadlines["investigation"]
    body = (
        f"Your complaint about {complaint.about} (reference {complaint.id}) has been received. The secretariat "
        f"will investigate it and tell you its outcome by {due:%Y-%m-%d %H:%M:%S} UTC at the latest."
    )
    return [_to_complainant(complaint, "complaint_acknowledged", "Your complaint has been received", body)]


def complaint_outcome(complaint: Complaint) -> list[Notice]:
    """The complainant is told the outcome and the finding."""
    assert complaint.outcome is not None
    words = {"dismissed": "dismissed", "upheld": "upheld", "suspend": "upheld; the label is to be suspended"}
    body = (
        f"Your complaint about {complaint.about} (reference {complaint.id}) has been {words[complaint.outcome]}.\n\n"
        f"{complaint.finding}"
    )
    return [_to_complainant(complaint, "complaint_outcome", "The outcome of your complaint", body)]


def complaint_reminder(complaint: Complaint, step: str, offset: str, due: datetime) -> list[Notice]:
    subject = f"The {step} of a complaint is due"
    body = f"The {step} of {_about(complaint)} is due on {due:%Y-%m-%d %H:%M:%S} UTC ({offset} before)."
    data = _complaint_page(complaint)
    return [Notice(SECRETARIAT, "complaint_reminder", subject, body, label_id=complaint.label_id, data=data)]


def complaint_escalation(complaint: Complaint, reason: str) -> list[Notice]:
    subject, body, data = "A complaint needs attention", f"{_about(complaint)}: {reason}", _complaint_page(complaint)
    return [Notice(SECRETARIAT, "complaint_escalation", subject, body, label_id=complaint.label_id, data=data)]


def _to_complainant(complaint: Complaint, kind: str, subject: str, body: str) -> Notice:
    """A member of the public, with no account: their message names no label, so it links to no page they
    would have to sign in to (the complaint's reference is in its text)."""
    return Notice(recipient(COMPLAINANT, complaint.id), kind, subject, body)
