"""The invoice of a case: issued when the cluster agrees to its expert team, then paid or cancelled.

unpaid → paid (on a date, with the payment's reference) or cancelled (the case was withdrawn before it was
paid). One invoice per case, its id derived from the case's, so a second agreement (after a new team) or a
retried one issues nothing twice. Its number, `INV-<year>-<8 characters of its id>`, is derived too: an
event store has no counter to number invoices one after another without a race.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import InvalidInput, RecordedAggregate, StepNotAllowed, derived_id
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.fees import Quote, money
from clusterlabel.domain.policy import Policy

# The furthest a time zone runs ahead of UTC (UTC+14): whose "today" a payment's day may be.
_FURTHEST_AHEAD = timedelta(hours=14)


def payment_due(issued_at: datetime, term: Duration) -> datetime:
    """The first instant an invoice is overdue: the end (UTC) of the day `term` after its issue, so that it
    is payable through the day its page prints; a term in hours or seconds (compressed demo policies)
    runs from the instant itself."""
    due = term.after(issued_at)
    if term.seconds:
        return due
    return datetime.combine(due.astimezone(UTC).date() + timedelta(days=1), time(), UTC)


class InvoiceState(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    CANCELLED = "cancelled"


# The state each event (by class name) leaves an invoice in; the aggregate and the view follow it.
STATE_AFTER: dict[str, InvoiceState] = {
    "Issued": InvoiceState.UNPAID,
    "Paid": InvoiceState.PAID,
    "Cancelled": InvoiceState.CANCELLED,
}


def invoice_id_for(case_id: UUID) -> UUID:
    return derived_id("invoice", case_id)


def invoice_number(case_id: UUID, issued_at: datetime) -> str:
    return f"INV-{issued_at.year}-{invoice_id_for(case_id).hex[:8].upper()}"


class Invoice(RecordedAggregate):
    """What a cluster owes for one case, and whether it has paid."""

    @classmethod
    def create_id(cls, case_id: UUID) -> UUID:  # type: ignore[override]  # one per case, whatever the key
        return invoice_id_for(case_id)

    @classmethod
    def issue(
        cls, case_id: UUID, cluster_id: UUID, quote: Quote, at: datetime, policy: Policy, actor: str, command_key: str
    ) -> Invoice:
        return cls(
            case_id=case_id,
            cluster_id=cluster_id,
            number=invoice_number(case_id, at),
            item=quote.item,
            amount_cents=quote.amount_cents,
            currency=quote.currency,
            vat=policy.fees.vat,
            issued_at=at,
            due_at=payment_due(at, policy.fees.payment_term),
            actor=actor,
            command_key=command_key,
        )

    @event("Issued")
    def __init__(
        self,
        case_id: UUID,
        cluster_id: UUID,
        number: str,
        item: str,
        amount_cents: int,
        currency: str,
        vat: str,
        issued_at: datetime,
        due_at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.case_id = case_id
        self.cluster_id = cluster_id
        self.number = number
        self.item = item
        self.amount_cents = amount_cents
        self.currency = currency
        self.vat = vat
        self.issued_at = issued_at
        self.due_at = due_at
        self.state = InvoiceState.UNPAID
        self.paid_on: str | None = None  # an ISO date: the day the money arrived, as the bank statement says
        self.reference: str | None = None
        self.cancelled_because: str | None = None
        self.cancelled_at: datetime | None = None

    @property
    def amount(self) -> str:
        return money(self.amount_cents, self.currency)

    def is_overdue(self, now: datetime) -> bool:
        return self.state is InvoiceState.UNPAID and now >= self.due_at

    def check_prices(self, priced: Quote, mode: str) -> None:
        """Refuse an agreement again in another audit mode than the one this invoice charges for: the case's
        visit keeps the mode agreed, and the cluster would be billed for one audit and get another."""
        if priced.item != self.item:  # what it charges for names the mode; a price list changed since is no matter
            raise InvalidInput(
                f"the case's invoice {self.number} charges for {self.item!r} ({self.amount}): "
                f"agree again with the audit mode it was issued for, not {mode}"
            )

    # ---- commands ---------------------------------------------------------------------

    def record_payment(self, paid_on: date, reference: str, at: datetime, actor: str, command_key: str) -> None:
        """`paid_on` as the bank statement says: not before the invoice's issue, nor after today where the
        day is furthest ahead (an officer east of UTC records today's payment before UTC's midnight). Money
        that arrived by the day the invoice was cancelled (its case withdrawn before the payment was recorded)
        is recorded too: the invoice is paid, as it would have stayed had the payment been recorded in time."""
        if not self._cancelled_after(paid_on):
            self.check_unpaid("record a payment")
        if paid_on > (at.astimezone(UTC) + _FURTHEST_AHEAD).date():
            raise InvalidInput(f"paid_on {paid_on} is in the future: record a payment once the money has arrived")
        if paid_on < self.issued_at.astimezone(UTC).date():
            raise InvalidInput(f"paid_on {paid_on} is before the invoice was issued ({self.issued_at:%Y-%m-%d})")
        self._paid(paid_on=paid_on.isoformat(), reference=reference, at=at, actor=actor, command_key=command_key)

    @event("Paid")
    def _paid(self, paid_on: str, reference: str, at: datetime, actor: str, command_key: str) -> None:
        self.state = InvoiceState.PAID
        self.paid_on = paid_on
        self.reference = reference

    def cancel(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.check_unpaid("cancel it")
        self._cancelled(reason=reason, at=at, actor=actor, command_key=command_key)

    @event("Cancelled")
    def _cancelled(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.state = InvoiceState.CANCELLED
        self.cancelled_because = reason
        self.cancelled_at = at

    def _cancelled_after(self, paid_on: date) -> bool:
        """Cancelled, on or after the day the money arrived."""
        cancelled_at = self.cancelled_at
        return self.state is InvoiceState.CANCELLED and cancelled_at is not None and paid_on <= _day(cancelled_at)

    # ---- guards -------------------------------------------------------------------------

    def check_unpaid(self, step: str) -> None:
        if self.state is InvoiceState.PAID:
            raise StepNotAllowed(
                f"cannot {step}: invoice {self.number} was paid on {self.paid_on} (reference {self.reference})"
            )
        if self.state is InvoiceState.CANCELLED:
            on = f" on {_day(self.cancelled_at)}" if self.cancelled_at else ""
            raise StepNotAllowed(f"cannot {step}: invoice {self.number} was cancelled{on} ({self.cancelled_because})")

    def check_allows(self, step: str, policy: Policy) -> None:
        """Whether the audit may go ahead: when the policy makes it wait for the payment, only once paid. The
        refusal names no number or amount: the case's experts take these steps too, and invoices are not theirs."""
        if policy.audit_waits_for_payment and self.state is InvoiceState.UNPAID:
            raise StepNotAllowed(
                f"cannot {step}: the case's invoice is not paid yet, and the policy makes the audit wait for the payment"
            )


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()
