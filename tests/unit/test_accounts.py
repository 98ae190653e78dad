"""Accounts: roles come with their links, every change is an event, and the impartiality rules compare
the deciding account (and the expert record it speaks for) with the audit team."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clusterlabel.domain.account import Account, Role, actor_of
from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.commands import (
    AnswerProposal,
    ProposeExpert,
    RecordDecision,
    RestoreLabel,
    SuspendLabel,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.record_commands import (
    DeactivateAccount,
    DeclareAffiliation,
    EraseAccount,
    GrantRole,
    OpenAccount,
    RevokeExpertCertification,
    RevokeRole,
)
from tests.builders import T0, register, send
from tests.lifecycle import SECRETARIAT, Lifecycle, event_count, memory_app


@pytest.fixture
def life() -> Lifecycle:
    return Lifecycle(memory_app())


def open_account(life: Lifecycle, *roles: Role, **links: object) -> Account:
    account_id = register(life.app, OpenAccount(roles=list(roles), **links), actor=SECRETARIAT)
    return life.app.load(account_id, Account)


def decide_as(life: Lifecycle, account: Account) -> None:
    case_id = life.deciding()
    send(life.app, case_id, RecordDecision(outcome=Outcome.AWARD, rationale="met"), actor=account.actor)


def test_an_expert_or_contact_role_needs_the_record_it_speaks_for_and_nothing_is_recorded_without_it() -> None:
    app = memory_app()
    before = event_count(app)
    with pytest.raises(InvalidInput) as refused:
        register(app, OpenAccount(roles=[Role.EXPERT, Role.CLUSTER]), actor=SECRETARIAT)
    assert len(refused.value.problems) == 2
    assert event_count(app) == before


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER, Role.DECIDER, Role.APPEALS])
def test_a_clusters_contact_holds_no_role_of_the_secretariat_nor_does_it_once_a_former_contact(
    life: Lifecycle, role: Role
) -> None:
    """Else it would screen, decide, judge appeals on or restore its own cluster's certification."""
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="a cluster's contact holds no role of the secretariat"):
        open_account(life, Role.CLUSTER, role, cluster_id=life.cluster_id)
    assert event_count(life.app) == before

    contact = open_account(life, Role.CLUSTER, Role.EXPERT, cluster_id=life.cluster_id, expert_id=life.expert())
    with pytest.raises(InvalidInput, match="a cluster's contact holds no role of the secretariat"):
        send(life.app, contact.id, GrantRole(role=role), actor=SECRETARIAT)
    send(life.app, contact.id, RevokeRole(role=Role.CLUSTER), actor=SECRETARIAT)
    with pytest.raises(StepNotAllowed, match=f"spoke for cluster {life.cluster_id}"):
        send(life.app, contact.id, GrantRole(role=role), actor=SECRETARIAT)
    assert life.app.load(contact.id, Account).roles == {Role.EXPERT}


def test_an_expert_who_is_a_clusters_contact_is_never_proposed_for_its_audits_but_for_others(
    life: Lifecycle,
) -> None:
    expert_id = life.expert(name="Clara Contact")
    case_id = life.screened()
    assert life.app.eligible_experts(case_id) == [expert_id]
    open_account(life, Role.CLUSTER, Role.EXPERT, cluster_id=life.cluster_id, expert_id=expert_id)
    assert life.app.eligible_experts(case_id) == []
    with pytest.raises(InvalidInput, match="Clara Contact is affiliated with the cluster"):
        send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor=SECRETARIAT)
    other = Lifecycle(life.app, "LV")
    assert life.app.eligible_experts(other.screened()) == [expert_id]


def test_an_affiliation_on_record_that_ends_does_not_stand_in_for_the_contacts_ongoing_one(life: Lifecycle) -> None:
    """Else the expert would be proposed for the cluster's audits again once it ends, still its contact."""
    expert_id = life.expert(name="Clara Contact")
    ends = T0 + timedelta(days=30)
    send(life.app, expert_id, DeclareAffiliation(cluster_id=life.cluster_id, until=ends), actor=SECRETARIAT)
    open_account(life, Role.CLUSTER, Role.EXPERT, cluster_id=life.cluster_id, expert_id=expert_id)
    periods = life.app.get_expert(expert_id).affiliation_periods[life.cluster_id]
    assert [period.until for period in periods] == [ends, None]


def test_grants_and_revocations_are_events_naming_who_made_them(life: Lifecycle) -> None:
    account = open_account(life, Role.OFFICER)
    send(life.app, account.id, GrantRole(role=Role.DECIDER), actor="account:admin-1")
    send(life.app, account.id, RevokeRole(role=Role.OFFICER), actor="account:admin-2")

    changes = [(type(e).__name__, e.actor) for e in life.app.repository.event_store.get(account.id)]
    assert changes == [("Opened", SECRETARIAT), ("RoleGranted", "account:admin-1"), ("RoleRevoked", "account:admin-2")]
    assert life.app.load(account.id, Account).roles == {Role.DECIDER}


def test_the_last_role_is_not_revoked_and_a_deactivated_account_takes_no_new_one(life: Lifecycle) -> None:
    account = open_account(life, Role.OFFICER)
    with pytest.raises(InvalidInput, match="at least one role"):
        send(life.app, account.id, RevokeRole(role=Role.OFFICER), actor=SECRETARIAT)
    send(life.app, account.id, DeactivateAccount(reason="left"), actor=SECRETARIAT)
    with pytest.raises(StepNotAllowed, match="deactivated"):
        send(life.app, account.id, GrantRole(role=Role.ADMIN), actor=SECRETARIAT)
    assert not life.app.load(account.id, Account).holds(Role.OFFICER)


def test_an_erasure_deactivates_the_account_and_records_that_it_happened_and_nothing_more(life: Lifecycle) -> None:
    account = open_account(life, Role.DECIDER)
    send(life.app, account.id, EraseAccount(), actor=SECRETARIAT, command_key="erase-1")
    send(life.app, account.id, EraseAccount(), actor=SECRETARIAT, command_key="erase-2")  # erased once only

    events = list(life.app.repository.event_store.get(account.id))
    assert [type(e).__name__ for e in events] == ["Opened", "Deactivated", "Erased"]
    assert set(vars(events[-1])) == {"originator_id", "originator_version", "timestamp", "actor", "command_key"}
    erased = life.app.load(account.id, Account)
    assert erased.erased and not erased.holds(Role.DECIDER)


def test_an_experts_account_is_erased_only_once_their_certification_is_revoked(life: Lifecycle) -> None:
    expert_id = life.expert()
    account = open_account(life, Role.EXPERT, expert_id=expert_id)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=f"expert {expert_id} is still certified: revoke the certification"):
        send(life.app, account.id, EraseAccount(), actor=SECRETARIAT, command_key="erase-1")
    assert event_count(life.app) == before and life.app.load(account.id, Account).active

    send(life.app, expert_id, RevokeExpertCertification(reason="left the pool"), actor=SECRETARIAT)
    send(life.app, account.id, EraseAccount(), actor=SECRETARIAT, command_key="erase-2")
    assert life.app.load(account.id, Account).erased


def test_a_decision_is_recorded_under_the_deciders_account(life: Lifecycle) -> None:
    decider = open_account(life, Role.DECIDER)
    case_id = life.deciding()
    send(life.app, case_id, RecordDecision(outcome=Outcome.AWARD, rationale="met"), actor=decider.actor)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.AWARDED
    assert case.decision["decided_by"] == actor_of(decider.id)


def test_an_account_without_the_decider_role_cannot_decide(life: Lifecycle) -> None:
    officer = open_account(life, Role.OFFICER)
    with pytest.raises(ImpartialityViolation, match="does not hold the role decider"):
        decide_as(life, officer)


def test_a_deactivated_decider_cannot_decide(life: Lifecycle) -> None:
    decider = open_account(life, Role.DECIDER)
    send(life.app, decider.id, DeactivateAccount(), actor=SECRETARIAT)
    with pytest.raises(ImpartialityViolation, match="does not hold the role decider"):
        decide_as(life, decider)


def test_a_decider_whose_account_speaks_for_an_auditor_of_the_case_cannot_decide_it(life: Lifecycle) -> None:
    case_id = life.deciding()
    auditor = life.app.get_case(case_id).expert_ids[0]
    account = open_account(life, Role.EXPERT, Role.DECIDER, expert_id=auditor)
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        send(life.app, case_id, RecordDecision(outcome=Outcome.AWARD, rationale="mine"), actor=account.actor)
    assert event_count(life.app) == before


def test_an_expert_whose_certification_is_revoked_can_no_longer_assess_and_is_told_why(life: Lifecycle) -> None:
    case_id = life.auditing()
    expert_id = life.app.get_case(case_id).expert_ids[0]
    send(life.app, expert_id, RevokeExpertCertification(reason="missed training"), actor=SECRETARIAT)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=r"certification was revoked on .*can no longer submit an assessment"):
        life.assess(case_id)
    assert event_count(life.app) == before


def test_an_expert_whose_certification_ended_cannot_accept_a_proposal(life: Lifecycle) -> None:
    case_id = life.screened()
    expert_id = life.expert(certified_until=T0 + timedelta(days=1))
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    with pytest.raises(StepNotAllowed, match=r"certification ended on .*can no longer accept an assignment"):
        answer = AnswerProposal(expert_id=expert_id, accept=True)
        send(life.app, case_id, answer, actor=f"expert:{expert_id}", at=T0 + timedelta(days=3))


def test_an_account_that_spoke_for_an_auditor_still_cannot_decide_once_its_expert_role_is_revoked(
    life: Lifecycle,
) -> None:
    case_id = life.deciding()
    auditor = life.app.get_case(case_id).expert_ids[0]
    account = open_account(life, Role.EXPERT, Role.DECIDER, expert_id=auditor)
    send(life.app, account.id, RevokeRole(role=Role.EXPERT), actor=SECRETARIAT)
    assert life.app.load(account.id, Account).expert_id is None

    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        send(life.app, case_id, RecordDecision(outcome=Outcome.AWARD, rationale="mine"), actor=account.actor)


def test_an_officer_who_audited_a_label_neither_suspends_restores_nor_withdraws_it_and_another_officer_does(
    life: Lifecycle,
) -> None:
    """Suspending, restoring and withdrawing a label are decisions on it: the four-eyes rule keeps its
    auditors from them as from the award (before, an officer's account that spoke for one took them all)."""
    case_id, label_id = life.labelled()
    auditor = life.app.get_case(case_id).expert_ids[0]
    auditing_officer = open_account(life, Role.EXPERT, Role.OFFICER, expert_id=auditor)
    officer = open_account(life, Role.OFFICER)
    suspension = SuspendLabel(reason="The cluster misused the label.")

    for command in (suspension, WithdrawLabel(reason="The cluster misused the label.")):
        with pytest.raises(ImpartialityViolation, match="took part in the audit"):
            send(life.app, label_id, command, actor=auditing_officer.actor)
    assert life.app.get_label(label_id).state is LabelState.ACTIVE
    send(life.app, label_id, suspension, actor=officer.actor)
    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        send(life.app, label_id, RestoreLabel(), actor=auditing_officer.actor)
    send(life.app, label_id, RestoreLabel(), actor=officer.actor)
    assert life.app.get_label(label_id).state is LabelState.ACTIVE
