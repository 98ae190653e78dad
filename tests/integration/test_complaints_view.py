"""The complaints as the secretariat lists them, on SQLite and PostgreSQL alike: each one's state, the
deadline of its current step, its escalations and outcome, as the aggregate has them; filtered by state,
latest first; counted per state and overdue at a given hour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.complaint import Complaint, ComplaintOutcome, ComplaintState
from clusterlabel.domain.complaint_commands import (
    AcknowledgeComplaint,
    CloseComplaint,
    EscalateComplaint,
    LodgeComplaint,
    StartInvestigation,
)
from clusterlabel.projections.factory import open_read_models
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock
from tests.stores import postgres_schema, sqlite_env


def lodged(app: CertificationApp, about: str) -> UUID:
    key = f"http:complaint:{uuid4().hex}"
    command = LodgeComplaint(about=about, text="Misleading.", cluster_id=uuid4())
    return send(app, Complaint.create_id(key), command, actor="public", command_key=key).id


class ComplaintsViewContract:
    """Subclasses provide the `env` fixture."""

    def test_the_view_follows_each_complaint_to_its_outcome_and_counts_the_overdue(self, env: dict[str, str]) -> None:
        clock = Clock()
        app = CertificationApp(env=env, clock=clock)
        late, handled, fresh = lodged(app, "late"), lodged(app, "handled"), lodged(app, "fresh")
        send(app, late, EscalateComplaint(reason="the acknowledgement deadline has passed"), actor="system")
        for command in (AcknowledgeComplaint(), StartInvestigation()):
            send(app, handled, command, actor=SECRETARIAT)
        closing = CloseComplaint(outcome=ComplaintOutcome.DISMISSED, finding="Unfounded.")
        send(app, handled, closing, actor=SECRETARIAT)

        with open_read_models(env, app, only=["complaints"]) as models:
            models.catch_up()
            listed = {entry.complaint_id: entry for entry in models.complaints()}
            assert [entry.complaint_id for entry in models.complaints()] == [fresh, handled, late]  # latest first
            for complaint_id, entry in listed.items():
                aggregate = app.load(complaint_id, Complaint)
                due = aggregate.current_deadline()
                assert (entry.state, entry.due) == (aggregate.state, due[1] if due else None)
                assert entry.escalations == len(aggregate.escalations)
            assert (listed[handled].outcome, listed[late].escalations) == ("dismissed", 1)
            assert [entry.complaint_id for entry in models.complaints(state=ComplaintState.RECEIVED)] == [fresh, late]
            assert [entry.complaint_id for entry in models.complaints(limit=1, offset=1)] == [handled]
            acknowledge_by = listed[late].due
            assert acknowledge_by is not None
            assert models.complaint_counts(acknowledge_by - timedelta(seconds=1)) == {
                "complaints": {"received": 2, "acknowledged": 0, "investigating": 0, "closed": 1},
                "overdue_complaints": 0,
            }
            assert models.complaint_counts(acknowledge_by + timedelta(days=1))["overdue_complaints"] == 2


class TestComplaintsViewOnSQLite(ComplaintsViewContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestComplaintsViewOnPostgreSQL(ComplaintsViewContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()
