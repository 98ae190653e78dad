"""An award below the level applied for is an adverse decision (ISO/IEC 17065 §7.13): its label is issued,
then the cluster may appeal it inside the appeal window; an upheld appeal sends the case back to a new
decision, which may not leave the cluster worse off, and whose label replaces the lower one."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    CloseCase,
    DecideAppeal,
    IssueLabel,
    LodgeAppeal,
    OpenAppealWindow,
    RecordAgreement,
    RecordDecision,
    RestoreLabel,
    Screen,
    SuspendLabel,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.notification import Notification
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count

PANEL = "board:appeals"
SECOND_DECIDER = "secretariat:greta"


def _silver_for_gold(life: Lifecycle) -> tuple[UUID, UUID]:
    """A Gold application whose decider awarded Silver, its label issued and its appeal window open."""
    case_id = life.deciding(Level.GOLD, fraction=1.0)
    life.decide(case_id, Outcome.AWARD, Level.SILVER)
    label_id = send(life.app, case_id, IssueLabel(), actor="system").label_id
    assert label_id is not None
    send(life.app, case_id, OpenAppealWindow(), actor="system")
    return case_id, label_id


def test_a_lower_award_keeps_the_case_open_through_its_appeal_window(life: Lifecycle, clock: Clock) -> None:
    case_id, label_id = _silver_for_gold(life)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.AWARDED and case.award_below_level_applied
    assert life.app.get_label(label_id).state is LabelState.ACTIVE  # the cluster holds Silver meanwhile
    assert not case.is_concluded(clock())
    with pytest.raises(StepNotAllowed, match="cannot be closed"):
        send(life.app, case_id, CloseCase(), actor="system")
    clock.now = case.deadlines["appeal"]
    send(life.app, case_id, CloseCase(), actor="system")


def test_an_award_at_the_level_applied_for_cannot_be_appealed(life: Lifecycle) -> None:
    case_id = life.awarded(Level.BRONZE)
    send(life.app, case_id, IssueLabel(), actor="system")
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="awarded the bronze level it applied for"):
        send(life.app, case_id, LodgeAppeal(grounds="we want more"), actor=SECRETARIAT)
    with pytest.raises(StepNotAllowed, match="only an award below the level applied for"):
        send(life.app, case_id, OpenAppealWindow(), actor="system")
    assert event_count(life.app) == before
    assert life.app.get_case(case_id).is_concluded(life.app.clock())


def test_an_upheld_appeal_is_decided_again_by_someone_else_and_its_gold_label_replaces_the_silver(
    life: Lifecycle,
) -> None:
    case_id, silver_id = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    with pytest.raises(ImpartialityViolation, match="took the appealed decision"):
        send(life.app, case_id, DecideAppeal(upheld=True, rationale="mine"), actor="secretariat:dora")
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.DECIDING and case.label_id is None and case.appealed_label_id == silver_id
    assert life.app.get_label(silver_id).state is LabelState.ACTIVE  # it stands until the new decision's label
    with pytest.raises(ImpartialityViolation):
        life.decide(case_id, Outcome.AWARD, Level.GOLD)  # the first decider may not decide again
    gold = RecordDecision(outcome=Outcome.AWARD, level=Level.GOLD, rationale="on appeal")
    send(life.app, case_id, gold, actor=SECOND_DECIDER)
    gold_id = send(life.app, case_id, IssueLabel(), actor="system").label_id
    assert gold_id not in (None, silver_id)
    assert life.app.get_label(silver_id).state is LabelState.SUPERSEDED
    cluster = life.app.get_cluster(life.app.get_case(case_id).cluster_id)
    assert cluster.current_labels == {Level.GOLD: gold_id}
    case = life.app.get_case(case_id)
    assert case.is_concluded(life.app.clock())  # a decision taken again after an upheld appeal is final
    with pytest.raises(StepNotAllowed, match="awarded the gold level it applied for: nothing to appeal"):
        send(life.app, case_id, LodgeAppeal(grounds="again"), actor=SECRETARIAT)
    send(life.app, case_id, CloseCase(), actor="system")


def _decided_again_at_silver(life: Lifecycle, withdraw_first: bool) -> tuple[UUID, UUID, UUID | None]:
    case_id, silver_id = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    if withdraw_first:
        send(life.app, silver_id, WithdrawLabel(reason="The management left."), actor=SECRETARIAT)
    again = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="on appeal: Silver after all")
    send(life.app, case_id, again, actor=SECOND_DECIDER)
    return case_id, silver_id, send(life.app, case_id, IssueLabel(), actor="system").label_id


def test_decided_again_at_the_level_appealed_the_appealed_label_stands_as_it_was(life: Lifecycle) -> None:
    # Before, the new label took the appealed one's code and id: its save collided for ever.
    case_id, silver_id, label_id = _decided_again_at_silver(life, withdraw_first=False)
    assert label_id == silver_id and life.app.get_label(silver_id).state is LabelState.ACTIVE
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.SILVER: silver_id}
    assert life.app.get_case(case_id).is_concluded(life.app.clock())
    send(life.app, case_id, CloseCase(), actor="system")


def test_decided_again_at_the_level_of_an_appealed_label_withdrawn_meanwhile_a_new_code_is_issued(
    life: Lifecycle,
) -> None:
    _, silver_id, label_id = _decided_again_at_silver(life, withdraw_first=True)
    assert label_id not in (None, silver_id)
    new, withdrawn = life.app.get_label(label_id), life.app.get_label(silver_id)
    assert new.level is Level.SILVER and new.label_code != withdrawn.label_code
    assert withdrawn.state is LabelState.WITHDRAWN and new.state is LabelState.ACTIVE
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.SILVER: label_id}


@pytest.mark.parametrize(
    ("outcome", "level"), [(Outcome.REFUSE, None), (Outcome.AWARD, Level.BRONZE)], ids=["refusal", "lower"]
)
def test_the_new_decision_after_an_upheld_appeal_leaves_the_cluster_no_worse_off(
    life: Lifecycle, outcome: Outcome, level: Level | None
) -> None:
    case_id, _ = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="must award silver or a higher level"):
        send(life.app, case_id, RecordDecision(outcome=outcome, level=level, rationale="no"), actor=SECOND_DECIDER)
    assert event_count(life.app) == before and life.app.get_case(case_id).state is CaseState.DECIDING


def test_a_dismissed_appeal_leaves_the_lower_award_and_its_label_standing(life: Lifecycle) -> None:
    case_id, silver_id = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=False, rationale="Silver is right"), actor=PANEL)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.AWARDED and case.label_id == silver_id and case.is_concluded(life.app.clock())
    send(life.app, case_id, CloseCase(), actor="system")


def test_a_refusal_decided_again_after_an_upheld_appeal_concludes_the_case(life: Lifecycle) -> None:
    # Before, the upheld appeal stayed pending in the case's eyes: it never concluded, its workflow waited for ever.
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    send(life.app, case_id, LodgeAppeal(grounds="the evidence was misread"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="agreed"), actor=PANEL)
    refusal = RecordDecision(outcome=Outcome.REFUSE, rationale="still short of the threshold")
    send(life.app, case_id, refusal, actor=SECOND_DECIDER)
    assert life.app.get_case(case_id).is_concluded(life.app.clock())
    with pytest.raises(StepNotAllowed, match="taken again after an upheld appeal and is final"):
        send(life.app, case_id, LodgeAppeal(grounds="again"), actor=SECRETARIAT)
    send(life.app, case_id, CloseCase(), actor="system")


def test_the_new_award_replaces_both_the_appealed_label_and_the_one_held_at_its_level(
    life: Lifecycle, clock: Clock
) -> None:
    life.labelled(Level.BRONZE)
    clock.advance(days=600)
    _, held_silver = life.labelled(Level.SILVER, improvement_areas=list(load_catalogue("gold-2020").codes()[:3]))
    case_id = life.deciding(Level.GOLD, fraction=1.0)
    life.decide(case_id, Outcome.AWARD, Level.BRONZE)
    bronze_id = send(life.app, case_id, IssueLabel(), actor="system").label_id
    send(life.app, case_id, OpenAppealWindow(), actor="system")
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports more"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    silver = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="on appeal")
    send(life.app, case_id, silver, actor=SECOND_DECIDER)
    new_id = send(life.app, case_id, IssueLabel(), actor="system").label_id
    for replaced in (held_silver, bronze_id):
        assert life.app.get_label(replaced).state is LabelState.SUPERSEDED
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.SILVER: new_id}


def test_a_lower_award_after_an_overturned_rejection_opens_its_own_window_and_tells_the_cluster(
    life: Lifecycle, clock: Clock
) -> None:
    case_id = life.apply(Level.GOLD)
    send(life.app, case_id, Screen(accepted=False, reason="documents missing"), actor=SECRETARIAT)
    send(life.app, case_id, LodgeAppeal(grounds="they were sent"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="they were"), actor=PANEL)
    send(life.app, case_id, Screen(accepted=True, reason="complete"), actor="secretariat:olga")
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    life.assess(case_id, fraction=1.0)
    life.decide(case_id, Outcome.AWARD, Level.SILVER)
    send(life.app, case_id, IssueLabel(), actor="system")
    clock.advance(days=40)  # the label took long to issue: the window counts from its opening
    send(life.app, case_id, OpenAppealWindow(), actor="system", command_key="open-window")
    case = life.app.get_case(case_id)
    assert case.deadlines["appeal"] == clock() + timedelta(days=30) and not case.is_concluded(clock())
    told = life.app.load(Notification.create_id(f"open-window/notify/cluster:{case.cluster_id}"), Notification)
    assert told.kind == "award_appealable" and told.data["awarded"] == "silver"
    assert f"{case.deadlines['appeal']:%Y-%m-%d %H:%M:%S}" in told.body
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    assert life.app.get_case(case_id).appeal is not None


def test_the_officer_who_lodged_the_appeal_for_the_cluster_does_not_decide_it(life: Lifecycle) -> None:
    case_id, _ = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor="secretariat:hanna")
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="secretariat:hanna lodged the appeal and cannot decide"):
        send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor="secretariat:hanna")
    assert event_count(life.app) == before
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)


def test_an_award_on_appeal_waits_while_the_appealed_label_it_would_supersede_is_suspended(life: Lifecycle) -> None:
    """Decided again at Gold, the new label supersedes the appealed Silver one: suspended meanwhile, it is
    restored or withdrawn first, so that no suspension ends unheard (as for a renewal's label)."""
    case_id, silver_id = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    send(life.app, silver_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    before = event_count(life.app)
    gold = RecordDecision(outcome=Outcome.AWARD, level=Level.GOLD, rationale="on appeal")
    with pytest.raises(StepNotAllowed, match=r"supersede label .* which is suspended; restore or withdraw"):
        send(life.app, case_id, gold, actor=SECOND_DECIDER)
    assert event_count(life.app) == before and life.app.get_case(case_id).state is CaseState.DECIDING
    send(life.app, silver_id, RestoreLabel(), actor=SECRETARIAT)
    send(life.app, case_id, gold, actor=SECOND_DECIDER)
    assert send(life.app, case_id, IssueLabel(), actor="system").label_id not in (None, silver_id)
    assert life.app.get_label(silver_id).state is LabelState.SUPERSEDED


def test_decided_again_at_the_level_appealed_a_suspended_label_is_kept_suspended(life: Lifecycle) -> None:
    """The award at the appealed level keeps that label as it was, suspension included: nothing is superseded,
    so nothing waits."""
    case_id, silver_id = _silver_for_gold(life)
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    send(life.app, silver_id, SuspendLabel(reason="a complaint names the cluster"), actor=SECRETARIAT)
    again = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="on appeal: Silver after all")
    send(life.app, case_id, again, actor=SECOND_DECIDER)
    assert send(life.app, case_id, IssueLabel(), actor="system").label_id == silver_id
    assert life.app.get_label(silver_id).state is LabelState.SUSPENDED
