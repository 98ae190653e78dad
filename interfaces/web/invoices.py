"""The invoices of cases: the secretariat lists them (the unpaid ones, say) and records payments; a cluster's
contacts read their own cluster's. An invoice another caller may not see answers as an unknown one (404)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from clusterlabel.activities.handlers import handle
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.invoice import Invoice, InvoiceState
from clusterlabel.interfaces.web.access import not_found
from clusterlabel.interfaces.web.auth import Caller, Officer, Principal
from clusterlabel.interfaces.web.common import ERRORS, Key, creation_key
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.invoice_schemas import InvoiceOut, PaymentIn, invoice_out
from clusterlabel.interfaces.web.services import Services, Svc

router = APIRouter(tags=["invoices"], responses=ERRORS)


@router.get(
    "/invoices",
    summary="Invoices, the one due first first: every cluster's for the secretariat, a contact's own cluster's",
)
def list_invoices(
    svc: Svc,
    who: Caller,
    status: Annotated[InvoiceState | None, Query(description="unpaid, paid or cancelled")] = None,
    cluster_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[InvoiceOut]:
    cluster_id = _cluster_seen(who, cluster_id)
    svc.fresh()  # an invoice just issued or paid is listed as it now stands
    entries = svc.models.invoices(state=status, cluster_id=cluster_id, limit=limit, offset=offset)
    return [invoice_out(entry, svc.now()) for entry in entries]


@router.get("/invoices/{invoice_id}", summary="An invoice: its amount, due date, payment")
def get_invoice(invoice_id: UUID, svc: Svc, who: Caller) -> InvoiceOut:
    return invoice_out(visible_invoice(svc, invoice_id, who), svc.now())


@router.post(
    "/invoices/{invoice_id}/payment",
    summary="Record that the invoice was paid (on which day, with which reference); a second payment is 409",
)
def record_payment(invoice_id: UUID, body: PaymentIn, svc: Svc, who: Officer, key: Key = None) -> InvoiceOut:
    visible_invoice(svc, invoice_id, who)
    envelope = Envelope(actor=who.actor, key=creation_key(f"invoice:{invoice_id}:payment", key), at=svc.now())
    invoice = handle(svc.app, invoice_id, body, envelope)
    assert isinstance(invoice, Invoice)
    svc.wrote()
    return invoice_out(invoice, svc.now())


def visible_invoice(svc: Services, invoice_id: UUID, who: Principal) -> Invoice:
    """The secretariat sees every invoice, a cluster's contact their cluster's; anyone else none."""
    try:
        invoice = svc.app.load(invoice_id, Invoice)
    except NotFound:
        raise not_found("invoice", invoice_id) from None
    if not who.sees_everything and who.cluster_id != invoice.cluster_id:
        raise not_found("invoice", invoice_id)
    return invoice


def _cluster_seen(who: Principal, asked: UUID | None) -> UUID | None:
    """Whose invoices the caller lists: the secretariat any cluster's (or all), a contact only their own
    (another cluster answers as an unknown one)."""
    if who.sees_everything:
        return asked
    if who.cluster_id is None:
        raise ApiError(403, "only the secretariat and a cluster's contacts read invoices")
    if asked is not None and asked != who.cluster_id:
        raise not_found("cluster", asked)
    return who.cluster_id
