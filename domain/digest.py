"""The secretariat's digest: once a period (a day unless configured otherwise), one message listing what
needs the secretariat's eye: the cases whose deadline has passed, the labels that expire within the
reminder horizon (the policy's earliest expiry reminder), the invoices unpaid past their due day, and the
messages that could not be delivered.

A digest is a message of the outbox like any other (to `secretariat`, kind `digest`): it goes out by
mail and shows in the staff's inboxes. Its key is the period it covers, so one period has one digest
however often its schedule fires or its activity is retried; a period with nothing to report has none
(an empty message every morning teaches people to ignore the digest).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, Field

from clusterlabel.domain.command_base import Command, command_key
from clusterlabel.domain.label_lifecycle import last_valid_day
from clusterlabel.domain.notices import SECRETARIAT, Notice
from clusterlabel.domain.policy import Policy
from clusterlabel.domain.text import Text

DIGEST = "digest"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MOST_LISTED = 50  # of each kind: a longer list is cut, saying how many more there are


class OverdueCase(BaseModel):
    case_id: UUID
    cluster_name: Text
    deadline: Text  # the step whose deadline passed (screening, response, audit, decision, ...)
    due_at: datetime


class ExpiringLabel(BaseModel):
    label_id: UUID
    label_code: Text
    cluster_name: Text
    valid_until: datetime


class OverdueInvoice(BaseModel):
    invoice_id: UUID
    number: Text
    case_id: UUID
    amount: Text  # as the invoice prints it: 2,250.00 EUR
    due_at: datetime  # the first instant past its last day to pay


class FailedMessage(BaseModel):
    notification_id: UUID
    kind: Text
    recipient: Text  # a role or a record (secretariat, expert:<id>, cluster:<id>), never an address


class DigestFacts(BaseModel):
    overdue: list[OverdueCase] = Field(default_factory=list)
    expiring: list[ExpiringLabel] = Field(default_factory=list)
    failed: list[FailedMessage] = Field(default_factory=list)
    unpaid: list[OverdueInvoice] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.expiring or self.failed or self.unpaid)


class SendDigest(Command, subject="notification"):
    """Queue the digest of one period for the secretariat (nothing when there is nothing to report)."""

    period: datetime = Field(description="the start of the period the digest covers: one digest per period")
    facts: DigestFacts


def digest_period(now: datetime, every: timedelta, offset: timedelta) -> datetime:
    """The start of the period `now` falls in: periods of `every` starting `offset` after midnight UTC
    (every day at 07:00 with every=1 day, offset=7 h), so that every firing in one period shares its key."""
    periods = (now - EPOCH - offset) // every
    return EPOCH + offset + periods * every


def digest_key(period: datetime) -> str:
    return command_key(DIGEST, period.astimezone(UTC).isoformat())


def reminder_horizon(policy: Policy, now: datetime) -> timedelta:
    """How far ahead the digest looks for expiring labels: the policy's largest expiry reminder offset."""
    if not policy.expiry_reminders:
        return timedelta(0)
    return max(offset.after(now) for offset in policy.expiry_reminders) - now


def digest_notices(command: SendDigest) -> list[Notice]:
    """The digest's message to the secretariat; none when there is nothing to report."""
    facts = command.facts
    if facts.empty:
        return []
    unpaid = f", {len(facts.unpaid)} unpaid" if facts.unpaid else ""
    subject = (
        f"Digest for {command.period:%Y-%m-%d}: {len(facts.overdue)} overdue, "
        f"{len(facts.expiring)} expiring, {len(facts.failed)} undelivered{unpaid}"
    )
    sections = [
        _section("Cases past a deadline", [_overdue(case) for case in facts.overdue]),
        _section("Labels expiring soon", [_expiring(label) for label in facts.expiring]),
        _section("Invoices unpaid past their due day", [_unpaid(invoice) for invoice in facts.unpaid]),
        _section("Messages not delivered", [_failed(message) for message in facts.failed]),
    ]
    return [Notice(SECRETARIAT, DIGEST, subject, "\n\n".join(section for section in sections if section))]


def _section(title: str, lines: list[str]) -> str:
    if not lines:
        return ""
    shown = lines[:MOST_LISTED]
    more = [f"- and {len(lines) - MOST_LISTED} more"] if len(lines) > MOST_LISTED else []
    return "\n".join([f"{title} ({len(lines)}):", *shown, *more])


def _overdue(case: OverdueCase) -> str:
    return f"- case {case.case_id} ({case.cluster_name}): {case.deadline} was due {case.due_at:%Y-%m-%d %H:%M} UTC"


def _expiring(label: ExpiringLabel) -> str:
    return f"- {label.label_code} ({label.cluster_name}) valid until {last_valid_day(label.valid_until):%Y-%m-%d}"


def _unpaid(invoice: OverdueInvoice) -> str:
    last_day = invoice.due_at - timedelta(microseconds=1)
    return f"- invoice {invoice.number} (case {invoice.case_id}): {invoice.amount} was due by {last_day:%Y-%m-%d}"


def _failed(message: FailedMessage) -> str:
    return f"- message {message.notification_id} ({message.kind}) to {message.recipient}"
