"""Who is told what, when a step of a case calls for it: the outbox's messages, as data (a label's:
domain/label_notices.py).

Each notice names its recipient (`secretariat`, `deciders`, `appeals-panel`, `expert:<id>`,
`cluster:<id>`, `complainant:<complaint id>`), its kind, the data its
kind's template words it with (activities/content/: in the recipient's language, when it is sent) and an
English text kept with it as it was queued; the handler that takes the step queues it
(activities/handlers.py), once per step and recipient.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from clusterlabel.domain.case_lifecycle import NO_EXPERT, CaseState, passed_deadline
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.invoice import Invoice
from clusterlabel.domain.label_lifecycle import last_valid_day

SECRETARIAT = "secretariat"
# The secretariat together with those of it who take a step its officers only chase: the deciders (a
# case's decision), the appeals panel (an appeal). One message, read by all the staff and mailed to the
# secretariat and to them: none goes twice to whoever is both.
DECIDERS = "deciders"
APPEALS_PANEL = "appeals-panel"
ROLE_RECIPIENTS = (SECRETARIAT, DECIDERS, APPEALS_PANEL)
EXPERT = "expert"
CLUSTER = "cluster"
# Whoever lodged a complaint: no account, an address beside the log (interfaces/web/complainants.py).
COMPLAINANT = "complainant"


def recipient(kind: str, record_id: UUID) -> str:
    """An expert or a cluster as a message's recipient: `expert:<id>`, `cluster:<id>`."""
    return f"{kind}:{record_id}"


def addressee(name: str) -> tuple[str, UUID | None]:
    """Whom a recipient names: (SECRETARIAT, DECIDERS or APPEALS_PANEL, None), (EXPERT, id), (CLUSTER, id)
    or (COMPLAINANT, the complaint's id); ValueError for another."""
    if name in ROLE_RECIPIENTS:
        return name, None
    kind, _, record_id = name.partition(":")
    if kind not in (EXPERT, CLUSTER, COMPLAINANT):
        raise ValueError(f"{name!r} names no expert, cluster, complainant or secretariat role")
    return kind, UUID(record_id)


@dataclass(frozen=True)
class Notice:
    recipient: str
    kind: str
    subject: str
    body: str
    case_id: UUID | None = None
    label_id: UUID | None = None
    data: dict[str, str] = field(default_factory=dict)  # what the kind's template needs, as text


def instant(at: datetime) -> str:
    """An instant as a notice's data holds it: ISO 8601 with its offset (the template formats it)."""
    return at.isoformat()


def offer(case: CertificationCase, expert_id: UUID, answer_by: datetime) -> list[Notice]:
    """The proposed expert is asked to take the assignment."""
    body = f"You are proposed as expert for case {case.id}; please answer by {answer_by:%Y-%m-%d %H:%M:%S} UTC."
    data = {"case_id": str(case.id), "level": case.level.value, "answer_by": instant(answer_by)}
    to = recipient(EXPERT, expert_id)
    return [Notice(to, "offer", "Benchmarking assignment offered", body, case_id=case.id, data=data)]


def escalation(case: CertificationCase, reason: str) -> list[Notice]:
    """The secretariat must step in, and why: as data too, where the reason is one its template words in the
    reader's language (a deadline passed, no expert for the team's next seat: case_lifecycle)."""
    data = {"case_id": str(case.id), "reason": reason}
    if passed := passed_deadline(reason):
        data |= {"step": passed[0], "due": instant(passed[1])}
    elif reason.startswith(NO_EXPERT):
        data["cause"] = "no_expert"
    return [Notice(SECRETARIAT, "escalation", "A case needs attention", reason, case_id=case.id, data=data)]


def eligibility_review(cluster: Cluster) -> list[Notice]:
    """A profile change broke an eligibility criterion while the cluster holds a label: the secretariat
    reviews it (the label stands until it decides)."""
    assert cluster.review is not None
    criteria = "; ".join(cluster.review["criteria"])
    subject = f"{cluster.name} no longer meets an eligibility criterion"
    body = f"{cluster.name} changed its profile and holds a label: review it. Unmet now: {criteria}."
    data = {"cluster_id": str(cluster.id), "cluster_name": cluster.name, "criteria": criteria}
    return [Notice(SECRETARIAT, "eligibility_review", subject, body, data=data)]


def deadline_reminders(case: CertificationCase, step: str, offset: str, due: datetime) -> list[Notice]:
    """A step of the case is due soon: the secretariat is told (with its deciders for a decision, its
    appeals panel for an appeal's), and whoever else takes the step: for the audit the experts, for the
    agreement to the experts the cluster's contacts."""
    takers = {
        "audit": [recipient(EXPERT, expert_id) for expert_id in case.expert_ids],
        "agreement": [recipient(CLUSTER, case.cluster_id)],
    }
    secretariat = {"decision": DECIDERS, "appeal_decision": APPEALS_PANEL}.get(step, SECRETARIAT)
    recipients = [secretariat, *takers.get(step, [])]
    subject = f"The {step} of case {case.id} is due"
    body = f"The {step} is due on {due:%Y-%m-%d %H:%M:%S} UTC ({offset} before)."
    data = {"case_id": str(case.id), "step": step, "due": instant(due)}
    return [Notice(to, "deadline_reminder", subject, body, case_id=case.id, data=data) for to in recipients]


def experts_to_agree(case: CertificationCase) -> list[Notice]:
    """The expert team is complete: the cluster's contacts are asked to agree to it, or object, by the
    agreement's deadline (the case's page names the experts; the message names nobody)."""
    agree_by = case.deadlines["agreement"]
    subject = f"Case {case.id}: your experts are proposed"
    body = f"Agree to the expert team of case {case.id}, or object to it, by {agree_by:%Y-%m-%d %H:%M:%S} UTC."
    data = {"case_id": str(case.id), "level": case.level.value, "agree_by": instant(agree_by)}
    to = recipient(CLUSTER, case.cluster_id)
    return [Notice(to, "experts_to_agree", subject, body, case_id=case.id, data=data)]


def invoice_issued(invoice: Invoice) -> list[Notice]:
    """The cluster's contacts receive the invoice their agreement issued: what it charges for, how much, how
    VAT is charged and the last day to pay (the case's page shows it)."""
    due = last_valid_day(invoice.due_at)
    subject = f"Invoice {invoice.number}"
    body = (
        f"Invoice {invoice.number} for case {invoice.case_id}: {invoice.item}, {invoice.amount} "
        f"(VAT {invoice.vat}), to be paid by {due:%Y-%m-%d}."
    )
    data = {"number": invoice.number, "item": invoice.item, "currency": invoice.currency, "vat": invoice.vat}
    data |= {
        "case_id": str(invoice.case_id),
        "amount_cents": str(invoice.amount_cents),
        "due_at": instant(invoice.due_at),
    }
    to = recipient(CLUSTER, invoice.cluster_id)
    return [Notice(to, "invoice_issued", subject, body, case_id=invoice.case_id, data=data)]


def payment_received(invoice: Invoice) -> list[Notice]:
    """The cluster's contacts learn that the secretariat recorded their payment: a receipt."""
    subject = f"Invoice {invoice.number} paid"
    body = f"The payment of {invoice.amount} for invoice {invoice.number} arrived on {invoice.paid_on}. Thank you."
    data = {"number": invoice.number, "case_id": str(invoice.case_id), "paid_on": str(invoice.paid_on)}
    data |= {"amount_cents": str(invoice.amount_cents), "currency": invoice.currency}
    to = recipient(CLUSTER, invoice.cluster_id)
    return [Notice(to, "payment_received", subject, body, case_id=invoice.case_id, data=data)]


def case_refused(case: CertificationCase, reason: str) -> list[Notice]:
    """The cluster learns that its application was rejected at screening or its case refused at the
    decision, why, and until when it may appeal (ISO/IEC 17065 §7.13): call it once the refusal is applied."""
    stage = "screening" if case.state is CaseState.REJECTED else "decision"
    appeal_due = case.deadlines["appeal"]
    subject = f"Case {case.id}: {'application rejected' if stage == 'screening' else 'label refused'}"
    final = case.decided_again
    body = f"Why: {reason}. You may appeal until {appeal_due:%Y-%m-%d %H:%M:%S} UTC."
    if final:
        body = f"Why: {reason}. Taken again after your upheld appeal, this decision is final."
    fields = {"stage": stage, "reason": reason, "final": "yes" if final else "no"}
    return _appealable(case, "case_refused", subject, body, **fields)


def case_benchmarked(case: CertificationCase, reason: str) -> list[Notice]:
    """The cluster learns that its case is decided as a benchmarking, with no label (it asked for one alone,
    or no longer met an eligibility criterion: `lapsed_criteria`), why, and that its report is ready."""
    unmet = "; ".join(case.lapsed_criteria)
    subject = f"Case {case.id}: benchmarking decided"
    body = f"The decision on case {case.id} is taken: a benchmarking, with no label. Why: {reason}."
    if unmet:
        body += f" Unmet eligibility criteria: {unmet}."
    data = {"case_id": str(case.id), "level": case.level.value, "reason": reason, "unmet": unmet}
    to = recipient(CLUSTER, case.cluster_id)
    return [Notice(to, "case_benchmarked", subject, body, case_id=case.id, data=data)]


def award_appealable(case: CertificationCase) -> list[Notice]:
    """The cluster learns that its award is below the level it applied for, that the lower label stands
    meanwhile, and until when it may appeal (ISO/IEC 17065 §7.13): call it once the window is open."""
    assert case.decision is not None
    awarded, appeal_due = case.decision["level"].value, case.deadlines["appeal"]
    subject = f"Case {case.id}: {awarded} awarded, {case.level.value} applied for"
    body = f"The {awarded} label is issued. You may appeal the award until {appeal_due:%Y-%m-%d %H:%M:%S} UTC."
    return _appealable(case, "award_appealable", subject, body, awarded=awarded)


def _appealable(case: CertificationCase, kind: str, subject: str, body: str, **fields: str) -> list[Notice]:
    """The cluster's notice of a decision on its case that it may appeal, and until when."""
    appeal_due = instant(case.deadlines["appeal"])
    data = {"case_id": str(case.id), "level": case.level.value, **fields, "appeal_due": appeal_due}
    return [Notice(recipient(CLUSTER, case.cluster_id), kind, subject, body, case_id=case.id, data=data)]


# What an appeal on a case stands against, by the state the case is in when it is lodged.
APPEALED_DECISIONS = {
    CaseState.REFUSED: "the refusal",
    CaseState.REJECTED: "the rejection at screening",
    CaseState.AWARDED: "the award of a lower level than applied for",
}


def appeal_lodged(case: CertificationCase) -> list[Notice]:
    """The secretariat and the appeals panel learn of a cluster's appeal, with its grounds: nothing else
    tells anyone that the panel must now decide."""
    assert case.appeal is not None, "sent once the appeal is lodged"
    against, grounds = case.appeal["against"], case.appeal["grounds"]
    decision = APPEALED_DECISIONS[CaseState(against)]
    subject = f"Case {case.id}: appeal lodged against {decision}"
    body = f"The cluster appealed against {decision} of case {case.id}. Grounds: {grounds}"
    data = {"case_id": str(case.id), "against": against, "grounds": grounds}
    return [Notice(APPEALS_PANEL, "appeal_lodged", subject, body, case_id=case.id, data=data)]


def appeal_decided(case: CertificationCase, upheld: bool, rationale: str) -> list[Notice]:
    """The cluster learns the appeals panel's decision and what happens next."""
    subject = f"Case {case.id}: appeal {'upheld' if upheld else 'dismissed'}"
    body = f"The appeal is {'upheld' if upheld else 'dismissed'}: {rationale}."
    data = {"case_id": str(case.id), "upheld": "yes" if upheld else "no", "rationale": rationale}
    return [Notice(recipient(CLUSTER, case.cluster_id), "appeal_decided", subject, body, case_id=case.id, data=data)]


# ---- the audit in the calendars of those who attend it -----------------------------------------------


def audit_invitations(case: CertificationCase, cluster_name: str) -> list[Notice]:
    """The audit's date, to the team and the cluster, as a calendar invitation: the first one, or an
    update (a higher sequence) when the date moves. Their calendars know it by the case."""
    assert case.audit_date is not None, "sent once the audit is scheduled"
    # Invitations take the even sequence numbers and cancellations the odd ones between them, so that
    # every message about the audit outranks all before it (RFC 5545 SEQUENCE), a date set again after
    # a cancellation included: the n-th date is 2(n-1), its cancellation 2n-1.
    sequence = 2 * (case.audit_schedulings - 1)
    subject = f"Audit of case {case.id} on {case.audit_date:%Y-%m-%d %H:%M} UTC" + (" (moved)" if sequence else "")
    body = f"The audit of {cluster_name} for the {case.level} label (case {case.id}) takes place on {case.audit_date:%Y-%m-%d %H:%M} UTC."
    return _audit_notices(case, cluster_name, "audit_invitation", subject, body, sequence)


WITHDRAWN = "withdrawn"  # why an audit is cancelled: the case was withdrawn,
TEAM_CHANGED = "team_changed"  # or an expert left the team, and the next team sets its own date


def audit_cancellations(case: CertificationCase, cluster_name: str, because: str = WITHDRAWN) -> list[Notice]:
    """The audit will not take place on its date: the invitation is cancelled in the calendars it reached
    (the team and the cluster as they were invited: call this before the team changes)."""
    assert case.audit_date is not None, "only a scheduled audit is cancelled"
    subject = f"Cancelled: audit of case {case.id}"
    body = f"The audit of {cluster_name} on {case.audit_date:%Y-%m-%d %H:%M} UTC (case {case.id}) is cancelled."
    notices = _audit_notices(case, cluster_name, "audit_cancelled", subject, body, 2 * case.audit_schedulings - 1)
    return [replace(notice, data=notice.data | {"because": because}) for notice in notices]


def _audit_notices(
    case: CertificationCase, cluster_name: str, kind: str, subject: str, body: str, sequence: int
) -> list[Notice]:
    assert case.audit_date is not None
    data = {
        "case_id": str(case.id),
        "level": case.level.value,
        "cluster_name": cluster_name,
        "audit_date": instant(case.audit_date),
        "sequence": str(sequence),
        # The visit's place and duration, for the calendars (empty for one scheduled without them).
        "place": case.visit.get("place") or "",
        "duration": case.visit.get("duration") or "",
    }
    attendees = [recipient(EXPERT, expert_id) for expert_id in case.expert_ids] + [recipient(CLUSTER, case.cluster_id)]
    return [Notice(to, kind, subject, body, case_id=case.id, data=data) for to in attendees]
