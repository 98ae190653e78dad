"""The invoices as the secretariat and the clusters list them, on SQLite and PostgreSQL alike: each one's
amount and state as the aggregate has them; filtered by state and cluster; the overdue counted at a given
hour; and a rebuild gives the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.commands import WithdrawCase
from clusterlabel.domain.fee_commands import RecordPayment
from clusterlabel.domain.invoice import Invoice, InvoiceState, invoice_id_for
from clusterlabel.projections.factory import open_read_models
from tests.builders import T0, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle
from tests.stores import postgres_schema, sqlite_env


class InvoicesViewContract:
    """Subclasses provide the `env` fixture."""

    def test_the_view_lists_each_invoice_as_the_aggregate_has_it(self, env: dict[str, str]) -> None:
        clock = Clock()
        app = CertificationApp(env=env, clock=clock)
        unpaid, paid, withdrawn = (Lifecycle(app) for _ in range(3))
        unpaid_case = unpaid.auditing()
        clock.advance(days=1)
        paid_case, withdrawn_case = paid.auditing(), withdrawn.auditing()
        payment = RecordPayment(paid_on=clock.now.date(), reference="SEPA-77")
        send(app, invoice_id_for(paid_case), payment, actor=SECRETARIAT)
        send(app, withdrawn_case, WithdrawCase(reason="postponed"), actor=SECRETARIAT)

        with open_read_models(env, app, only=["invoices"]) as models:
            models.catch_up()
            listed = {entry.case_id: entry for entry in models.invoices()}
            assert set(listed) == {unpaid_case, paid_case, withdrawn_case}
            for case_id, entry in listed.items():
                invoice = app.load(invoice_id_for(case_id), Invoice)
                seen = (entry.number, entry.amount, entry.state, entry.due_at, entry.paid_on, entry.reference)
                assert seen == (
                    invoice.number,
                    invoice.amount,
                    invoice.state,
                    invoice.due_at,
                    invoice.paid_on,
                    invoice.reference,
                )
            assert listed[paid_case].reference == "SEPA-77"
            assert listed[withdrawn_case].state is InvoiceState.CANCELLED
            assert [e.case_id for e in models.invoices(state=InvoiceState.UNPAID)] == [unpaid_case]
            assert [e.case_id for e in models.invoices(cluster_id=paid.cluster_id)] == [paid_case]
            assert [e.case_id for e in models.invoices(limit=1, offset=0)] == [unpaid_case]  # due first, first
            due = listed[unpaid_case].due_at
            assert (models.overdue_invoices(due - timedelta(seconds=1)), models.overdue_invoices(due)) == (0, 1)
            built = models.dump()
            models.rebuild()
            assert models.dump() == built
        assert due == datetime.combine((T0 + timedelta(days=31)).date(), time(), UTC)  # through its 30th day


class TestInvoicesViewOnSQLite(InvoicesViewContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestInvoicesViewOnPostgreSQL(InvoicesViewContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()
