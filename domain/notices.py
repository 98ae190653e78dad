"""Who is told what, when a step of a case or a label calls for it: the outbox's messages, as data.

Each notice names its recipient (`secretariat`, `expert:<id>`, `cluster:<id>`, `complainant:<complaint id>`),
its kind and its text;
the handler that takes the step queues it (activities/handlers.py), once per step and recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.label import Label

SECRETARIAT = "secretariat"
EXPERT = "expert"
CLUSTER = "cluster"
# Whoever lodged a complaint: no account, an address beside the log (interfaces/web/complainants.py).
COMPLAINANT = "complainant"


def recipient(kind: str, record_id: UUID) -> str:
    """An expert or a cluster as a message's recipient: `expert:<id>`, `cluster:<id>`."""
    return f"{kind}:{record_id}"


def addressee(name: str) -> tuple[str, UUID | None]:
    """Whom a recipient names: (SECRETARIAT, None), (EXPERT, id), (CLUSTER, id) or (COMPLAINANT, the
    complaint's id); ValueError for another."""
    if name == SECRETARIAT:
        return SECRETARIAT, None
    kind, _, record_id = name.partition(":")
    if kind not in (EXPERT, CLUSTER, COMPLAINANT):
        raise ValueError(f"{name!r} names no expert, cluster, complainant or the secretariat")
    return kind, UUID(record_id)


@dataclass(frozen=True)
class Notice:
    recipient: str
    kind: str
    subject: str
    body: str
    case_id: UUID | None = None
    label_id: UUID | None = None


def offer(case: CertificationCase, expert_id: UUID, answer_by: datetime) -> list[Notice]:
    """The proposed expert is asked to take the assignment."""
    body = f"You are proposed as expert for case {case.id}; please answer by {answer_by:%Y-%m-%d %H:%M:%S} UTC."
    return [Notice(recipient(EXPERT, expert_id), "offer", "Benchmarking assignment offered", body, case_id=case.id)]


def escalation(case: CertificationCase, reason: str) -> list[Notice]:
    """The secretariat must step in, and why."""
    return [Notice(SECRETARIAT, "escalation", "A case needs attention", reason, case_id=case.id)]


def deadline_reminders(case: CertificationCase, step: str, offset: str, due: datetime) -> list[Notice]:
    """A step of the case is due soon: the secretariat is told, and for the audit the experts too."""
    recipients = [SECRETARIAT] + (
        [recipient(EXPERT, expert_id) for expert_id in case.expert_ids] if step == "audit" else []
    )
    subject = f"The {step} of case {case.id} is due"
    body = f"The {step} is due on {due:%Y-%m-%d %H:%M:%S} UTC ({offset} before)."
    return [Notice(to, "deadline_reminder", subject, body, case_id=case.id) for to in recipients]


def label_issued(label: Label) -> list[Notice]:
    """The cluster's contacts learn their label's code, its verification code and how long it is valid."""
    subject = f"Your {label.level} label {label.label_code}"
    body = (
        f"{label.cluster_name} holds the {label.level} label {label.label_code} (verification code "
        f"{label.verification_code}), valid until {label.valid_until:%Y-%m-%d %H:%M:%S} UTC."
    )
    return [
        Notice(
            recipient(CLUSTER, label.cluster_id),
            "label_issued",
            subject,
            body,
            case_id=label.case_id,
            label_id=label.id,
        )
    ]


def expiry_reminders(label: Label, offset: str) -> list[Notice]:
    """The label expires soon: the cluster and the secretariat are told, with the renewal window."""
    subject = f"Label {label.label_code} expires on {label.valid_until:%Y-%m-%d}"
    body = (
        f"The {label.level} label {label.label_code} of {label.cluster_name} is valid until "
        f"{label.valid_until:%Y-%m-%d %H:%M:%S} UTC and renewable until {label.renewable_until:%Y-%m-%d}. "
        f"Reminder sent {offset} before expiry."
    )
    recipients = (recipient(CLUSTER, label.cluster_id), SECRETARIAT)
    return [Notice(to, "expiry_reminder", subject, body, label_id=label.id) for to in recipients]


# ---- complaints (ISO/IEC 17065 §7.13: acknowledged, investigated, the complainant told the outcome) ----


def _about(complaint: Complaint) -> str:
    return f"complaint {complaint.id} about {complaint.about}"


def complaint_lodged(complaint: Complaint) -> list[Notice]:
    """The secretariat learns of a new complaint, and by when to acknowledge it."""
    due = complaint.deadlines["acknowledgement"]
    body = f"A {_about(complaint)} was lodged; acknowledge it by {due:%Y-%m-%d %H:%M:%S} UTC."
    return [Notice(SECRETARIAT, "complaint_lodged", "A complaint was lodged", body, label_id=complaint.label_id)]


def complaint_acknowledged(complaint: Complaint) -> list[Notice]:
    """The complainant learns that the complaint was received and will be investigated."""
    due = complaint.deadlines["investigation"]
    body = (
        f"Your complaint about {complaint.about} (reference {complaint.id}) has been received. The secretariat "
        f"will investigate it and tell you its outcome by {due:%Y-%m-%d} at the latest."
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
    return [Notice(SECRETARIAT, "deadline_reminder", subject, body, label_id=complaint.label_id)]


def complaint_escalation(complaint: Complaint, reason: str) -> list[Notice]:
    body = f"{_about(complaint)}: {reason}"
    return [Notice(SECRETARIAT, "escalation", "A complaint needs attention", body, label_id=complaint.label_id)]


def _to_complainant(complaint: Complaint, kind: str, subject: str, body: str) -> Notice:
    return Notice(recipient(COMPLAINANT, complaint.id), kind, subject, body, label_id=complaint.label_id)
