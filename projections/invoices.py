"""The invoices as the secretariat and the clusters list them: what each one charges, and whether it is paid.

The state follows the domain's rule for each event (domain/invoice.py, STATE_AFTER). Whether an unpaid
invoice is overdue depends on the hour it is asked at, so the queries decide it from its due instant.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.fees import money
from clusterlabel.domain.invoice import STATE_AFTER, InvoiceState
from clusterlabel.projections.view import Change, RowPerAggregateView
from clusterlabel.projections.view_store import Row, stamp, unstamped

# An invoice's row beside its key and position, as InvoicesView stores it (RowPerAggregateView writes
# the table's statement).
INVOICE_COLUMNS = (
    "number TEXT NOT NULL, case_id TEXT NOT NULL, cluster_id TEXT NOT NULL, item TEXT NOT NULL, "
    "amount_cents BIGINT NOT NULL, currency TEXT NOT NULL, issued_at TEXT NOT NULL, due_at TEXT NOT NULL, "
    "state TEXT NOT NULL, paid_on TEXT, reference TEXT"
)


class InvoiceEntry(BaseModel):
    invoice_id: UUID
    number: str
    case_id: UUID
    cluster_id: UUID
    item: str
    amount_cents: int
    currency: str
    issued_at: datetime
    due_at: datetime
    state: InvoiceState
    paid_on: str | None
    reference: str | None

    @property
    def amount(self) -> str:
        return money(self.amount_cents, self.currency)

    def is_overdue(self, now: datetime) -> bool:
        return self.state is InvoiceState.UNPAID and now >= self.due_at


class InvoicesView(
    RowPerAggregateView, key="invoice_id", started_by="Issued", aggregate="Invoice", follows=STATE_AFTER
):
    name = "invoices"
    cost = 1.1
    row_columns = INVOICE_COLUMNS
    more_ddl = (
        "CREATE INDEX IF NOT EXISTS invoices_by_state ON {invoices} (state, due_at)",
        "CREATE INDEX IF NOT EXISTS invoices_by_cluster ON {invoices} (cluster_id, position)",
    )

    def first_columns(self, change: Change) -> Row:
        return {
            **change.columns(
                "number", "case_id", "cluster_id", "item", "amount_cents", "currency", "issued_at", "due_at"
            ),
            "state": InvoiceState.UNPAID.value,
            "paid_on": None,
            "reference": None,
        }

    def follow(self, row: Row, change: Change) -> None:
        row["state"] = STATE_AFTER[change.event_type].value
        if change.event_type == "Paid":
            row["paid_on"], row["reference"] = change["paid_on"], change["reference"]

    # ---- queries -------------------------------------------------------------------------

    def invoices(
        self,
        state: InvoiceState | None = None,
        cluster_id: UUID | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[InvoiceEntry]:
        """Invoices, the one due first first (the latest issued first among those due together), filtered."""
        conditions = [(column, value) for column, value in (("state", state), ("cluster_id", cluster_id)) if value]
        where = " AND ".join(f"{column} = ?" for column, _ in conditions)
        params = tuple(str(value) for _, value in conditions)
        rows = self.fetch(
            f"SELECT * FROM {{invoices}}{' WHERE ' + where if where else ''} "
            "ORDER BY due_at, position DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [InvoiceEntry.model_validate(unstamped(row, "issued_at", "due_at")) for row in rows]

    def overdue_count(self, now: datetime) -> int:
        rows = self.fetch(
            "SELECT COUNT(*) AS n FROM {invoices} WHERE state = ? AND due_at <= ?",
            (InvoiceState.UNPAID.value, stamp(now)),
        )
        return int(rows[0]["n"])
