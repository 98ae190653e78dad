"""Where the secretariat and a cluster look at invoices: the dashboard's unpaid list marks the overdue ones,
and the cluster's list says which are paid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from clusterlabel.domain.invoice import InvoiceState
from clusterlabel.interfaces.web.pages import templates
from clusterlabel.projections.invoices import InvoiceEntry
from tests.builders import T0


def entry(number: str, due_in_days: int, state: InvoiceState = InvoiceState.UNPAID, **paid: Any) -> InvoiceEntry:
    fields = {"paid_on": None, "reference": None, **paid}
    return InvoiceEntry(
        invoice_id=uuid4(),
        number=number,
        case_id=uuid4(),
        cluster_id=uuid4(),
        item="Gold label audit",
        amount_cents=825000,
        currency="EUR",
        issued_at=T0 - timedelta(days=30),
        due_at=T0 + timedelta(days=due_in_days),
        state=state,
        **fields,
    )


def rows_of(html: str, marker: str) -> list[str]:
    return [row for row in html.split("<tr>") if marker in row]


def test_the_dashboard_marks_only_the_overdue_unpaid_invoices() -> None:
    late, current = entry("INV-2026-LATE0001", -1), entry("INV-2026-CURR0001", 5)
    unpaid = [{"invoice": i, "cluster_name": "Baltic Marine", "overdue": i.is_overdue(T0)} for i in (late, current)]
    counts = {"states": {}, "complaints": {}, "overdue_invoices": 1}

    html = templates.env.get_template("dashboard.html").render(unpaid=unpaid, counts=counts, who=None, request=None)

    (late_row,) = rows_of(html, late.number)
    (current_row,) = rows_of(html, current.number)
    assert "8,250.00 EUR" in late_row and "overdue" in late_row and "Baltic Marine" in late_row
    assert "overdue" not in current_row
    assert "(1 overdue)" in html


def test_the_cluster_s_list_shows_a_paid_invoice_with_its_payment_day() -> None:
    paid = entry("INV-2026-PAID0001", -10, InvoiceState.PAID, paid_on="2026-03-01", reference="SEPA-1")

    html = templates.env.get_template("_invoices.html").render(invoices=[(paid, paid.is_overdue(T0))])

    (row,) = rows_of(html, paid.number)
    assert "paid</span> on 2026-03-01" in row and "overdue" not in row
