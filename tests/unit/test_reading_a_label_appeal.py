"""A label's appeal (the cluster's grounds, the appeals panel's rationale) is read by the secretariat and
the label's own cluster: in a history, anyone else reads its events in place without their data, as a
case's withheld events read; and so is its succession (interfaces/web/common.py: history_events,
LABEL_APPEAL, LABEL_SUCCESSION)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from clusterlabel.activities.views import label_view
from clusterlabel.domain.account import Role
from clusterlabel.domain.commands import IssueLabel
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import history_events, label_out
from clusterlabel.projections.audit_history import AuditEntry
from tests.builders import audit_entry, send
from tests.lifecycle import Clock, Lifecycle, memory_app

AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
LABEL, OTHER_LABEL, CLUSTER = uuid4(), uuid4(), uuid4()
SECRETARIAT = Principal(frozenset({Role.OFFICER}))
AUDITOR = Principal(frozenset({Role.EXPERT}), expert_id=uuid4())
CONTACT = Principal(frozenset({Role.CLUSTER}), cluster_id=CLUSTER)
GROUNDS = {"against": "withdrawn", "grounds": "We never showed the label."}
RATIONALE = {"rationale": "No misuse was shown.", "decided_by": "account:panel"}


def _entry(seq: int, event_type: str, data: dict[str, Any], label_id: Any = LABEL) -> AuditEntry:
    actor = "account:panel" if event_type == "LabelAppealUpheld" else "account:contact"
    return audit_entry(seq, ("Label", label_id), event_type, data, actor, AT)


HISTORY = [
    _entry(1, "Withdrawn", {"reason": "misuse"}),
    _entry(2, "LabelAppealLodged", GROUNDS),
    _entry(3, "LabelAppealUpheld", RATIONALE),
]


def test_an_expert_reads_that_a_label_was_appealed_and_decided_but_neither_the_grounds_nor_the_rationale() -> None:
    events = history_events(HISTORY, AUDITOR, team_cases=[uuid4()], file_cases=[uuid4()])
    assert [(event.seq, event.version, event.type, event.actor, event.data) for event in events] == [
        (1, 1, "Withdrawn", "account:contact", {"reason": "misuse"}),
        (2, 2, "LabelAppealLodged", "account:contact", {}),
        (3, 3, "LabelAppealUpheld", "account:panel", {}),
    ]


@pytest.mark.parametrize("reader", [SECRETARIAT, CONTACT])
def test_the_secretariat_and_the_labels_own_cluster_read_the_appeal_in_full(reader: Principal) -> None:
    events = history_events(HISTORY, reader, full_labels=[LABEL])
    assert [event.data for event in events[1:]] == [GROUNDS, RATIONALE]


def test_a_clusters_own_contact_reads_every_labels_appeal_and_a_reader_named_for_one_label_that_ones_alone() -> None:
    history = [*HISTORY, _entry(4, "LabelAppealLodged", GROUNDS, label_id=OTHER_LABEL)]
    assert [event.data for event in history_events(history, CONTACT, full_labels=None)][3] == GROUNDS
    assert [event.data for event in history_events(history, CONTACT, full_labels=[LABEL])][2:] == [RATIONALE, {}]


def test_an_expert_reads_that_the_label_was_renewed_and_superseded_but_not_by_which_case_or_label() -> None:
    """Its succession names a later round's case and label, which the expert of the label's case may not see."""
    renewal, successor = {"case_id": str(uuid4()), "at": AT.isoformat()}, {"new_label_id": str(uuid4())}
    history = [_entry(1, "RenewalStarted", renewal), _entry(2, "Superseded", successor)]
    assert [event.data for event in history_events(history, AUDITOR, team_cases=[uuid4()])] == [{}, {}]
    assert [event.data for event in history_events(history, CONTACT, full_labels=[LABEL])] == [renewal, successor]


def test_an_expert_reads_a_renewed_label_without_its_renewal_case_or_successor_and_its_cluster_with_them() -> None:
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, old = life.labelled()
    clock.advance(days=600)
    renewal = life.renewal_agreed(old)
    life.assess(renewal)
    life.decide(renewal)
    new = send(life.app, renewal, IssueLabel(), actor="system").label_id
    label = life.app.get_label(old)

    def read_by(reader: Principal) -> tuple[Any, Any]:
        out = label_out(label_view(life.app.policy, label, clock.now), label, clock.now, reader)
        return out.renewal_case_id, out.superseded_by

    assert read_by(AUDITOR) == (None, None)
    contact = Principal(frozenset({Role.CLUSTER}), cluster_id=label.cluster_id)
    assert read_by(contact) == read_by(SECRETARIAT) == (None, new)  # the renewal ended in the new label
