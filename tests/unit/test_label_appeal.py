"""Appeals against a label's suspension or withdrawal: lodged inside the window, decided by the appeals
panel (not the officer who took the decision, nor an auditor), an upheld one puts the label back in force."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.activities.open_records import waiting_webhook_deliveries
from clusterlabel.activities.views import label_view
from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, StepNotAllowed
from clusterlabel.domain.commands import (
    DecideLabelAppeal,
    ExpireLabel,
    IssueLabel,
    LodgeLabelAppeal,
    RestoreLabel,
    SuspendLabel,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.webhook_commands import RegisterWebhook
from clusterlabel.domain.webhook_delivery import WebhookDelivery
from tests.builders import register, send
from tests.lifecycle import Clock, Lifecycle, event_count

OFFICER = "secretariat:oliver"
PANEL = "board:appeals"
CONTACT = "cluster:contact"
GROUNDS = LodgeLabelAppeal(grounds="The complaint was about another cluster of the same name.")
UPHOLD = DecideLabelAppeal(upheld=True, rationale="The complaint did not concern this cluster.")
DISMISS = DecideLabelAppeal(upheld=False, rationale="The findings stand.")


def a_label(life: Lifecycle, step: SuspendLabel | WithdrawLabel | None = None) -> UUID:
    _, label_id = life.labelled()
    if step is not None:
        send(life.app, label_id, step, actor=OFFICER)
    return label_id


def refused(life: Lifecycle, error: type[Exception], match: str, label_id: UUID, command: object, actor: str) -> None:
    """The step is refused with the domain's words and records nothing."""
    before = event_count(life.app)
    with pytest.raises(error, match=match):
        send(life.app, label_id, command, actor=actor)  # type: ignore[arg-type]
    assert event_count(life.app) == before


def test_an_upheld_appeal_restores_a_suspended_label(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))

    send(life.app, label_id, GROUNDS, actor=CONTACT)
    assert life.app.get_label(label_id).appeal_pending
    send(life.app, label_id, UPHOLD, actor=PANEL)

    label = life.app.get_label(label_id)
    assert label.state is LabelState.ACTIVE and label.suspended_until is None
    assert label.appeal is not None and label.appeal["upheld"] is True


def test_an_upheld_appeal_reverses_a_withdrawal_and_the_cluster_holds_the_label_again(life: Lifecycle) -> None:
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    assert label_id not in life.app.get_cluster(life.cluster_id).current_labels.values()

    send(life.app, label_id, GROUNDS, actor=CONTACT)
    send(life.app, label_id, UPHOLD, actor=PANEL)

    assert life.app.get_label(label_id).state is LabelState.ACTIVE
    assert label_id in life.app.get_cluster(life.cluster_id).current_labels.values()


def test_a_dismissed_appeal_leaves_the_withdrawal_standing_for_good(life: Lifecycle, clock: Clock) -> None:
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    assert label_view(
        life.app.policy, life.app.get_label(label_id), life.app.clock()
    ).final  # its workflow ends: no timer is left

    send(life.app, label_id, GROUNDS, actor=CONTACT)
    view = label_view(life.app.policy, life.app.get_label(label_id), life.app.clock())
    assert not view.final and view.appeal is not None and view.appeal.against == "withdrawn"  # awaits the panel
    send(life.app, label_id, DISMISS, actor=PANEL)

    label = life.app.get_label(label_id)
    assert label.state is LabelState.WITHDRAWN and label.appeal is not None and label.appeal["upheld"] is False
    assert label_view(life.app.policy, label, life.app.clock()).final
    refused(life, StepNotAllowed, "already lodged", label_id, GROUNDS, CONTACT)


def test_a_withdrawal_is_appealed_only_inside_its_appeal_window(life: Lifecycle, clock: Clock) -> None:
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    due = life.app.get_label(label_id).appeal_due(life.app.policy)
    assert due == clock.now + timedelta(days=30)  # the policy's appeal window, from the withdrawal

    clock.now = due
    refused(life, StepNotAllowed, "appeal window closed", label_id, GROUNDS, CONTACT)


def test_neither_the_officer_who_decided_nor_an_auditor_decides_the_appeal(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    auditor = life.app.get_label(label_id).expert_ids[0]

    refused(life, ImpartialityViolation, "took the appealed decision", label_id, UPHOLD, OFFICER)
    refused(life, ImpartialityViolation, "took part in the audit", label_id, UPHOLD, f"expert:{auditor}")
    refused(
        life, InvalidInput, "rationale", label_id, DecideLabelAppeal.model_construct(upheld=True, rationale=" "), PANEL
    )


def test_appeal_steps_out_of_turn_are_refused(life: Lifecycle) -> None:
    label_id = a_label(life)
    refused(life, StepNotAllowed, "cannot appeal: label .* is active", label_id, GROUNDS, CONTACT)
    refused(life, StepNotAllowed, "cannot decide an appeal", label_id, UPHOLD, PANEL)

    send(life.app, label_id, SuspendLabel(reason="A complaint is investigated."), actor=OFFICER)
    refused(life, StepNotAllowed, "no pending appeal", label_id, UPHOLD, PANEL)
    refused(life, InvalidInput, "grounds", label_id, LodgeLabelAppeal.model_construct(grounds=" "), CONTACT)


def test_a_restoration_ends_the_appeal_against_the_suspension(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)

    send(life.app, label_id, RestoreLabel(), actor=OFFICER)

    assert life.app.get_label(label_id).appeal is None
    refused(life, StepNotAllowed, "cannot decide an appeal: label .* is active", label_id, UPHOLD, PANEL)


def test_an_expert_released_from_the_labels_case_after_scoring_it_does_not_decide_its_appeal(life: Lifecycle) -> None:
    """The label names the team that signed; its case remembers the expert released after scoring it too."""
    case_id, scorer = life.deciding_after_a_release()
    life.decide(case_id)
    label_id = send(life.app, case_id, IssueLabel(), actor="system").label_id
    assert label_id is not None and scorer not in life.app.get_label(label_id).expert_ids
    send(life.app, label_id, SuspendLabel(reason="A complaint is investigated."), actor=OFFICER)
    send(life.app, label_id, GROUNDS, actor=CONTACT)

    refused(life, ImpartialityViolation, "took part in the audit", label_id, UPHOLD, f"expert:{scorer}")


def test_an_appeal_against_the_suspension_carries_over_to_the_withdrawal_at_its_limit(
    life: Lifecycle, clock: Clock
) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)

    send(life.app, label_id, WithdrawLabel(reason="suspended past the limit"), actor="system")

    label = life.app.get_label(label_id)
    assert label.state is LabelState.WITHDRAWN and label.appeal_pending and OFFICER in label.adverse_by
    assert not label_view(life.app.policy, label, life.app.clock()).final  # its workflow waits for the panel
    refused(life, ImpartialityViolation, "took the appealed decision", label_id, UPHOLD, OFFICER)
    send(life.app, label_id, UPHOLD, actor=PANEL)
    assert life.app.get_label(label_id).state is LabelState.ACTIVE


def test_a_reversal_after_the_validity_ran_out_leaves_the_label_expired(life: Lifecycle, clock: Clock) -> None:
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    clock.now = life.app.get_label(label_id).valid_until

    send(life.app, label_id, UPHOLD, actor=PANEL)

    assert life.app.get_label(label_id).state is LabelState.EXPIRED
    refused(life, StepNotAllowed, "cannot expire", label_id, ExpireLabel(), "system")


def test_the_cluster_is_told_of_the_suspension_until_when_to_appeal_and_of_the_panels_decision(
    life: Lifecycle, clock: Clock
) -> None:
    label_id = a_label(life)
    send(life.app, label_id, SuspendLabel(reason="A complaint is investigated."), actor=OFFICER, command_key="s-1")
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    send(life.app, label_id, DISMISS, actor=PANEL, command_key="d-1")

    suspension, decision = (told_the_cluster(life, key) for key in ("s-1", "d-1"))
    assert (suspension.kind, suspension.label_id, suspension.data["state"]) == ("label_decision", label_id, "suspended")
    assert "A complaint is investigated." in suspension.body
    assert f"{clock.now + timedelta(days=30):%Y-%m-%d}" in suspension.body
    assert (decision.kind, decision.data["upheld"], decision.data["rationale"]) == (
        "label_appeal_decided",
        "no",
        DISMISS.rationale,
    )


def told_the_cluster(life: Lifecycle, command_key: str) -> Notification:
    return life.app.load(Notification.create_id(f"{command_key}/notify/cluster:{life.cluster_id}"), Notification)


def test_a_suspension_outlasting_the_validity_stands_with_its_appeal_until_the_label_is_restored(
    life: Lifecycle, clock: Clock
) -> None:
    """DOMAIN.md: a suspension ends in a restoration or a withdrawal. The expiry does not end it: the
    public reads the label as expired, yet it cannot be renewed, its appeal stands and so does its limit."""
    _, label_id = life.labelled()
    valid_until = life.app.get_label(label_id).valid_until
    clock.now = valid_until - timedelta(days=30)
    send(life.app, label_id, SuspendLabel(reason="A complaint is investigated."), actor=OFFICER)
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    clock.now = valid_until

    refused(life, StepNotAllowed, "cannot expire: label .* is suspended, not active", label_id, ExpireLabel(), "system")
    label = life.app.get_label(label_id)
    assert label.status_at(clock.now) == (LabelState.EXPIRED, valid_until) and label.appeal_pending
    assert not label.may_start_renewal(clock.now)
    assert [alarm.kind for alarm in label_view(life.app.policy, label, clock.now).alarms] == ["suspension_limit"]

    send(life.app, label_id, RestoreLabel(), actor=OFFICER)
    label = life.app.get_label(label_id)
    assert (label.state, label.appeal) == (LabelState.EXPIRED, None)
    assert label.may_start_renewal(clock.now)
    view = label_view(life.app.policy, label, clock.now)
    assert not view.final and [alarm.kind for alarm in view.alarms] == ["renewal_window_close"]


def test_whoever_suspended_does_not_decide_the_appeal_against_the_withdrawal_at_the_limit(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, label_id, WithdrawLabel(reason="suspended past the limit"), actor="system")
    send(life.app, label_id, GROUNDS, actor=CONTACT)

    refused(life, ImpartialityViolation, "took the appealed decision", label_id, UPHOLD, OFFICER)
    send(life.app, label_id, UPHOLD, actor=PANEL)


def test_an_upheld_withdrawal_gives_way_to_the_label_the_cluster_was_awarded_meanwhile(life: Lifecycle) -> None:
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    _, newer = life.labelled()  # a new round at the same level, awarded while the appeal waited

    send(life.app, label_id, UPHOLD, actor=PANEL)

    label = life.app.get_label(label_id)
    assert label.state is LabelState.SUPERSEDED and label.superseded_by == newer
    assert life.app.get_cluster(life.cluster_id).current_labels == {life.app.get_label(newer).level: newer}
    assert label_view(life.app.policy, label, life.app.clock()).final


def test_the_cluster_is_told_an_upheld_withdrawal_gave_way_to_its_newer_label_not_that_it_is_in_force(
    life: Lifecycle,
) -> None:
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    life.labelled()

    send(life.app, label_id, UPHOLD, actor=PANEL, command_key="upheld")

    assert told_the_cluster(life, "upheld").data["state"] == "superseded"


def test_partners_hear_of_a_withdrawal_reversed_and_superseded_at_once_each_with_its_own_status(
    life: Lifecycle,
) -> None:
    """One save puts the label back in force and has the newer label supersede it: label.restored says active,
    label.superseded says superseded, in the order of the label's versions (before, both said superseded)."""
    label_id = a_label(life, WithdrawLabel(reason="The management left."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)
    life.labelled()
    register(
        life.app,
        RegisterWebhook(url="https://partner.example.org/hook", events=["label.restored", "label.superseded"]),
        actor="admin:ada",
    )

    send(life.app, label_id, UPHOLD, actor=PANEL)

    told = [life.app.load(i, WebhookDelivery) for i in waiting_webhook_deliveries(life.app)]
    told = sorted((d for d in told if d.label_id == label_id), key=lambda d: d.label_version)
    assert [(d.kind, d.label_status) for d in told] == [
        ("label.restored", "active"),
        ("label.superseded", "superseded"),
    ]
    # Both at one instant: partners order them by the label's version their payloads carry.
    restored, superseded = (d.payload() for d in told)
    assert restored["timestamp"] == superseded["timestamp"]
    assert restored["data"]["label_version"] + 1 == superseded["data"]["label_version"]


def test_the_automatic_withdrawal_tells_the_cluster_its_pending_appeal_stands_against_it(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, label_id, GROUNDS, actor=CONTACT)

    send(life.app, label_id, WithdrawLabel(reason="suspended past the limit"), actor="system", command_key="w-1")

    assert told_the_cluster(life, "w-1").data["appeal_pending"] == "yes"


def test_a_dismissal_tells_the_decision_that_stands_the_withdrawal_an_appeal_was_carried_over_to(
    life: Lifecycle,
) -> None:
    suspended = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, suspended, GROUNDS, actor=CONTACT)
    send(life.app, suspended, DISMISS, actor=PANEL, command_key="dismissed-1")
    assert told_the_cluster(life, "dismissed-1").data["state"] == "suspended"

    other = Lifecycle(life.app, "LV")  # another cluster: this one's label stays suspended
    carried = a_label(other, SuspendLabel(reason="Another complaint is investigated."))
    send(life.app, carried, GROUNDS, actor=CONTACT)
    send(life.app, carried, WithdrawLabel(reason="suspended past the limit"), actor="system")
    send(life.app, carried, DISMISS, actor=PANEL, command_key="dismissed-2")
    told = told_the_cluster(other, "dismissed-2").data
    assert (told["against"], told["state"]) == ("suspended", "withdrawn")


def test_the_officer_who_lodged_the_appeal_for_the_cluster_does_not_decide_it(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    send(life.app, label_id, GROUNDS, actor="secretariat:hanna")  # on the cluster's behalf
    refused(life, ImpartialityViolation, "lodged the appeal", label_id, UPHOLD, "secretariat:hanna")
    send(life.app, label_id, UPHOLD, actor=PANEL)


def test_a_restored_label_tells_its_cluster_it_may_be_shown_again_and_why(life: Lifecycle) -> None:
    label_id = a_label(life, SuspendLabel(reason="A complaint is investigated."))
    restore = RestoreLabel(rationale="  The complaint proved unfounded.  ")
    send(life.app, label_id, restore, actor=OFFICER, command_key="restored")
    cluster_id = life.app.get_label(label_id).cluster_id
    told = life.app.load(Notification.create_id(f"restored/notify/cluster:{cluster_id}"), Notification)
    assert told.kind == "label_restored" and told.data["state"] == "active"
    assert "no longer suspended" in told.subject and "Why: The complaint proved unfounded." in told.body
    restored = life.app.repository.event_store.get(label_id, gt=None)
    assert [event.rationale for event in restored if type(event).__name__ == "Restored"] == [
        "The complaint proved unfounded."
    ]
