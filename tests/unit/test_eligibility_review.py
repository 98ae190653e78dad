"""A profile change that breaks an eligibility criterion while the cluster holds a label opens a review
for the secretariat (ISO/IEC 17065 §7.10): the secretariat is told, the label stands, and the review is
closed with what was decided and why."""

from __future__ import annotations

import pytest

from clusterlabel.domain.base import InvalidInput, StepNotAllowed
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.record_commands import CloseEligibilityReview, UpdateClusterProfile
from tests.builders import cluster_profile, send
from tests.lifecycle import SECRETARIAT, Lifecycle, memory_app
from tests.workflows.harness import outbox

SHRUNK = cluster_profile(members=9)  # below the 15 committed members a label asks for
RENAMED = cluster_profile(name="Baltic Blue Economy Cluster")


def update(life: Lifecycle, profile: object, key: str) -> None:
    send(life.app, life.cluster_id, UpdateClusterProfile(profile=profile), actor=SECRETARIAT, command_key=key)


def test_a_labelled_cluster_that_stops_meeting_a_criterion_is_under_review_and_its_label_stands() -> None:
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    update(life, SHRUNK, "shrunk")
    cluster = life.app.get_cluster(life.cluster_id)
    assert cluster.review is not None and cluster.review["label_ids"] == [str(label_id)]
    assert cluster.review["criteria"] == ["the cluster has 9 committed members; at least 15 are required"]
    assert life.app.get_label(label_id).state is LabelState.ACTIVE
    assert len(outbox(life.app, "eligibility_review")) == 1

    update(life, SHRUNK.model_copy(update={"staff_fte": 0.1}), "worse")  # one review at a time
    assert len(outbox(life.app, "eligibility_review")) == 1

    closing = CloseEligibilityReview(outcome="labels_stand", reason="Members rejoin next month; re-checked then.")
    send(life.app, life.cluster_id, closing, actor=SECRETARIAT)
    assert life.app.get_cluster(life.cluster_id).review is None


def test_a_change_that_breaks_nothing_or_a_cluster_without_a_label_opens_no_review() -> None:
    labelled = Lifecycle(memory_app())
    labelled.labelled()
    update(labelled, RENAMED, "renamed")
    assert labelled.app.get_cluster(labelled.cluster_id).review is None

    unlabelled = Lifecycle(memory_app())
    update(unlabelled, SHRUNK, "shrunk")
    assert unlabelled.app.get_cluster(unlabelled.cluster_id).review is None
    assert not outbox(unlabelled.app, "eligibility_review")


def test_a_figure_still_short_of_a_criterion_already_reviewed_opens_no_second_review() -> None:
    life = Lifecycle(memory_app())
    life.labelled()
    update(life, SHRUNK, "shrunk")
    closing = CloseEligibilityReview(outcome="labels_stand", reason="Members rejoin next month; re-checked then.")
    send(life.app, life.cluster_id, closing, actor=SECRETARIAT)

    update(life, SHRUNK.model_copy(update={"members": 12}), "better")  # still short of 15: nothing newly broken

    assert life.app.get_cluster(life.cluster_id).review is None
    assert len(outbox(life.app, "eligibility_review")) == 1
    update(life, SHRUNK.model_copy(update={"members": 12, "staff_fte": 0.1}), "staff")  # a criterion newly missed
    assert life.app.get_cluster(life.cluster_id).review is not None


def test_closing_needs_an_open_review_and_a_reason_and_records_nothing_otherwise() -> None:
    life = Lifecycle(memory_app())
    life.labelled()
    closing = CloseEligibilityReview(outcome="labels_stand", reason="nothing to review")
    before = life.app.get_cluster(life.cluster_id).version
    with pytest.raises(StepNotAllowed, match="no eligibility review open"):
        send(life.app, life.cluster_id, closing, actor=SECRETARIAT)
    update(life, SHRUNK, "shrunk")
    with pytest.raises(InvalidInput, match="needs a reason"):
        send(life.app, life.cluster_id, closing.model_copy(update={"reason": "   "}), actor=SECRETARIAT)
    assert life.app.get_cluster(life.cluster_id).version == before + 2  # the update and its review only
