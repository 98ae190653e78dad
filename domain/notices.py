"""Who is told what, when a step of a case or a label calls for it: the outbox's messages, as data.

Each notice names its recipient (`secretariat`, `expert:<id>`, `cluster:<id>`), its kind and its text;
the handler that takes the step queues it (activities/handlers.py), once per step and recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.label import Label

SECRETARIAT = "secretariat"


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
    return [Notice(f"expert:{expert_id}", "offer", "Benchmarking assignment offered", body, case_id=case.id)]


def escalation(case: CertificationCase, reason: str) -> list[Notice]:
    """The secretariat must step in, and why."""
    return [Notice(SECRETARIAT, "escalation", "A case needs attention", reason, case_id=case.id)]


def deadline_reminders(case: CertificationCase, step: str, offset: str, due: datetime) -> list[Notice]:
    """A step of the case is due soon: the secretariat is told, and for the audit the experts too."""
    recipients = [SECRETARIAT] + ([f"expert:{expert_id}" for expert_id in case.expert_ids] if step == "audit" else [])
    subject = f"The {step} of case {case.id} is due"
    body = f"The {step} is due on {due:%Y-%m-%d %H:%M:%S} UTC ({offset} before)."
    return [Notice(recipient, "deadline_reminder", subject, body, case_id=case.id) for recipient in recipients]


def expiry_reminders(label: Label, offset: str) -> list[Notice]:
    """The label expires soon: the cluster and the secretariat are told, with the renewal window."""
    subject = f"Label {label.label_code} expires on {label.valid_until:%Y-%m-%d}"
    body = (
        f"The {label.level} label of {label.cluster_name} is valid until {label.valid_until:%Y-%m-%d %H:%M:%S} UTC "
        f"and renewable until {label.renewable_until:%Y-%m-%d}. Reminder sent {offset} before expiry."
    )
    recipients = (f"cluster:{label.cluster_id}", SECRETARIAT)
    return [Notice(recipient, "expiry_reminder", subject, body, label_id=label.id) for recipient in recipients]
