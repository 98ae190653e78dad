"""The invoices' HTTP bodies: the secretariat's record of a payment in, an invoice out."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from clusterlabel.domain.fee_commands import RecordPayment
from clusterlabel.domain.invoice import Invoice, InvoiceState
from clusterlabel.interfaces.web.bodies import STRICT
from clusterlabel.interfaces.web.schemas import Out
from clusterlabel.projections.invoices import InvoiceEntry


class PaymentIn(RecordPayment):
    model_config = STRICT


class InvoiceOut(Out):
    invoice_id: UUID
    number: str = Field(description="INV-<year>-<8 characters of its id>")
    case_id: UUID
    cluster_id: UUID
    item: str = Field(description="what it charges for, e.g. 'Bronze label audit by video'")
    amount_cents: int
    currency: str
    amount: str = Field(description="as the invoice prints it, e.g. '2,250.00 EUR' (VAT apart)")
    issued_at: datetime
    due_at: datetime
    state: InvoiceState
    overdue: bool = Field(description="unpaid past its due date")
    paid_on: str | None = Field(description="the day the money arrived (ISO date), once paid")
    reference: str | None = Field(description="the payment's reference, once paid")


def invoice_out(invoice: Invoice | InvoiceEntry, now: datetime) -> InvoiceOut:
    """An invoice as the API shows it: from the aggregate (one record) or the view (a list)."""
    invoice_id = invoice.id if isinstance(invoice, Invoice) else invoice.invoice_id
    return InvoiceOut.read_from(invoice, invoice_id=invoice_id, overdue=invoice.is_overdue(now))
