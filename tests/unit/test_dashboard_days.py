"""The dashboard names a label's validity by its last valid day, as every other page does: a validity kept
as the first instant past it (1 April 00:00 UTC) reads "valid until 31 March", not the instant."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from clusterlabel.interfaces.web.pages import templates
from clusterlabel.projections.expiry_calendar import CalendarEntry


def test_the_dashboard_s_expiring_labels_show_their_last_valid_day() -> None:
    entry = CalendarEntry(
        label_id=uuid4(),
        label_code="ECEI-B-2026-0001",
        cluster_id=uuid4(),
        cluster_name="Baltic Marine",
        level="bronze",
        state="active",
        due=datetime(2028, 4, 1, tzinfo=UTC),
        renewal_case_id=None,
    )
    counts = {"states": {}, "complaints": {}, "overdue_invoices": 0}

    html = templates.env.get_template("dashboard.html").render(expiring=[entry], counts=counts, who=None, request=None)

    (row,) = [row for row in html.split("<tr>") if entry.label_code in row]
    assert "31 March 2028" in row and "1 April" not in row and "00:00" not in row
