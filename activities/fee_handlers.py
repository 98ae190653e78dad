"""The invoices of cases: issued in the agreement's save, cancelled in the withdrawal's, paid on the
secretariat's record; and the policy's wait for the payment before the audit's steps (activities/handlers.py
maps RecordPayment here; activities/case_handlers.py calls the rest)."""

from __future__ import annotations

from uuid import UUID

from clusterlabel.activities import outbox
from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import fee_commands, notices
from clusterlabel.domain.base import NotFound, RecordedAggregate
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.fees import AuditMode, quote
from clusterlabel.domain.invoice import Invoice, InvoiceState, invoice_id_for


def record_payment(
    app: CertificationApp, invoice_id: UUID, command: fee_commands.RecordPayment, env: Envelope
) -> Invoice:
    """The payment, and the receipt that tells the cluster's contacts, in one save."""

    def act(invoice: Invoice) -> list[RecordedAggregate]:
        invoice.record_payment(command.paid_on, command.reference, *env.when())
        return outbox.queue(notices.payment_received(invoice), env)

    return app.change(invoice_id, Invoice, env, act)


def case_invoice(app: CertificationApp, case_id: UUID) -> Invoice | None:
    """The case's invoice; None for a case not agreed yet, or agreed before cases were invoiced."""
    try:
        return app.load(invoice_id_for(case_id), Invoice)
    except NotFound:
        return None


def invoice_on_agreement(
    app: CertificationApp, case: CertificationCase, mode: AuditMode, env: Envelope
) -> Invoice | None:
    """The quote, priced before the agreement is recorded (a mode the price list lacks refuses both), and
    the invoice that carries it; a case agreed again (after a new team) keeps the invoice it has, and the
    audit mode that invoice prices: None then."""
    priced = quote(app.policy.fees, case.level, case.kind, mode)
    invoice = case_invoice(app, case.id)
    if invoice is not None:
        invoice.check_prices(priced, mode)
        return None
    return Invoice.issue(case.id, case.cluster_id, priced, env.instant(), app.policy, *env.who())


def cancel_unpaid(
    app: CertificationApp, case: CertificationCase, reason: str, env: Envelope
) -> list[RecordedAggregate]:
    """A withdrawn case owes nothing it has not paid: its unpaid invoice is cancelled (a paid one stays paid)."""
    invoice = case_invoice(app, case.id)
    if invoice is None or invoice.state is not InvoiceState.UNPAID:
        return []
    invoice.cancel(f"the case was withdrawn: {reason}", *env.when())
    return [invoice]


def check_paid_before(app: CertificationApp, case_id: UUID, step: str) -> None:
    invoice = case_invoice(app, case_id)
    if invoice is not None:
        invoice.check_allows(step, app.policy)
