"""The pages name people, never their UUIDs: experts from their records, accounts from the people kept
beside the log (an erased one as "erased person"), and instants as a reader writes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from clusterlabel.activities.handlers import handle
from clusterlabel.domain.account import actor_of
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.complaint_commands import LodgeComplaint
from clusterlabel.interfaces.web.naming import AUTOMATIC, names, readable, readable_day, recipient_names, words
from clusterlabel.interfaces.web.people import COLUMNS, ERASED, People
from clusterlabel.interfaces.web.side_tables import SQLiteSideFile
from tests.lifecycle import Lifecycle, memory_app


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Any]:
    people = People(SQLiteSideFile(tmp_path / "people.sqlite", "people", COLUMNS))
    yield SimpleNamespace(app=memory_app(), people=people)
    people.close()


def test_an_expert_is_named_from_their_record_and_an_account_from_its_person(svc: Any) -> None:
    expert_id = Lifecycle(svc.app).expert(name="Aaron Auditor")
    account_id = uuid.uuid4()
    svc.people.add(account_id, "Olga Officer", "olga@secretariat.example.org")

    named = names(svc, [actor_of(account_id), f"expert:{expert_id}"], [expert_id])

    assert named == {
        actor_of(account_id): "Olga Officer",
        f"expert:{expert_id}": "Aaron Auditor",
        str(expert_id): "Aaron Auditor",
    }


def test_an_erased_person_reads_erased_person_and_an_unknown_one_is_never_a_uuid(svc: Any) -> None:
    erased, unknown = uuid.uuid4(), uuid.uuid4()
    svc.people.add(erased, "Ernst Erased", "ernst@example.org")
    svc.people.erase(erased)

    nobody = uuid.uuid4()

    named = names(svc, [actor_of(erased), actor_of(unknown)], [nobody])

    assert named[actor_of(erased)] == ERASED == "erased person"
    assert named[actor_of(unknown)] == "unknown person" and named[str(nobody)] == "unknown expert"


def test_the_outbox_names_each_recipient_by_whose_it_is_and_never_by_uuid(svc: Any) -> None:
    lifecycle = Lifecycle(svc.app)
    expert_id, cluster = lifecycle.expert(name="Anna Berg"), svc.app.get_cluster(lifecycle.cluster_id)
    complaint_id = Complaint.create_id("http:complaint:naming")
    lodge = LodgeComplaint(about=str(cluster.id), text="Misleading claims.", cluster_id=cluster.id)
    handle(svc.app, complaint_id, lodge, Envelope(actor="public", key="http:complaint:naming"))
    gone = uuid.uuid4()

    named = recipient_names(
        svc,
        [
            f"expert:{expert_id}",
            f"cluster:{cluster.id}",
            f"complainant:{complaint_id}",
            "secretariat",
            "deciders",
            "appeals-panel",
            f"cluster:{gone}",
        ],
    )

    assert named == {
        f"expert:{expert_id}": "Anna Berg",
        f"cluster:{cluster.id}": f"contacts of {cluster.name}",
        f"complainant:{complaint_id}": f"complainant about {cluster.name}",
        "secretariat": "the secretariat",
        "deciders": "the secretariat and its deciders",
        "appeals-panel": "the secretariat and its appeals panel",
        f"cluster:{gone}": "contacts of unknown cluster",
    }


def test_the_secretariat_stays_secretariat_and_the_workflows_acts_read_as_automatic(svc: Any) -> None:
    assert names(svc, ["secretariat", "system:workflow", None]) == {
        "secretariat": "secretariat",
        "system:workflow": AUTOMATIC,
    }


def test_an_instant_reads_in_utc_with_the_month_by_name() -> None:
    at = datetime(2027, 3, 12, 15, 5, tzinfo=timezone(timedelta(hours=1)))
    assert readable(at) == "12 March 2027, 14:05 UTC"
    assert readable_day(datetime(2040, 1, 1, tzinfo=UTC)) == "1 January 2040"
    assert readable(None) == ""


def test_an_event_type_reads_as_words() -> None:
    assert words("ClusterAgreedToExperts") == "Cluster agreed to experts"
    assert words("Submitted") == "Submitted"
