"""After every step of random lifecycles, the views say what the aggregates say.

The case status and label views keep their rows from the events' stored JSON, never from
aggregates, so this test is what ties them to the domain's rules. A state machine drives
cases and labels on a SQLite event store (each step the natural next one, with a random
outcome: rejections, declines, timed-out proposals, objections, escalations, refusals and
appeals, renewals, suspensions, expiries, withdrawals), catches the views up after each step
and compares every row with its aggregate: a case's state, deadlines, current deadline and
whether it is overdue; a label's state, and its status and since when at the instants where
a status turns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import DomainError, Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Command
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    CloseRenewalWindow,
    DecideAppeal,
    DecideLabelAppeal,
    Escalate,
    ExpireLabel,
    IssueLabel,
    LodgeAppeal,
    LodgeLabelAppeal,
    OpenAppealWindow,
    ProposeExpert,
    RecordAgreement,
    RecordDecision,
    ReleaseExpert,
    RestoreLabel,
    Screen,
    StartRenewal,
    SubmitApplication,
    SubmitAssessment,
    SuspendLabel,
    TimeOutProposal,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.policy import default_policy
from clusterlabel.domain.record_commands import RegisterCluster, RegisterExpert
from clusterlabel.projections.expiry_calendar import ExpiryCalendarView
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.registry import RegistryView
from clusterlabel.projections.view_store import stamp
from tests.builders import cluster_profile, expert_profile, full_scores, indicators, key, register, send
from tests.lifecycle import DECIDER, SECRETARIAT, Clock, Lifecycle, event_count
from tests.stores import sqlite_env

VIEWS = ("case_status", "registry", "expiry_calendar")
TICK = timedelta(microseconds=1)
PICK = st.integers(min_value=0, max_value=1_000)  # which case or label, modulo how many there are
# Which outcome a case's next step has: 0 and 1 the unhappy ones (rejected, declined, refused...),
# so that most cases still get far enough for the later steps to be exercised.
CHOICE = st.integers(min_value=0, max_value=6)
MAX_CASES, MAX_GOING = 8, 2  # few enough that the steps of a sequence carry each case far


class ViewsFollowTheDomain(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        env = sqlite_env(Path(self.directory.name))
        self.clock = Clock()
        self.app = CertificationApp(env=env, policy=default_policy(), clock=self.clock)
        self.views = open_read_models(env, self.app, only=VIEWS)
        self.case_ids: list[UUID] = []
        self.closed: set[UUID] = set()  # cases with no step left to take
        self.label_ids: list[UUID] = []

    def teardown(self) -> None:
        self.views.close()
        self.app.close()
        self.directory.cleanup()

    def attempt(self, subject_id: UUID, command: Command, actor: str = SECRETARIAT) -> Any:
        """Run a command; one the domain refuses must leave the log as it was."""
        before = event_count(self.app)
        try:
            return send(self.app, subject_id, command, actor=actor)
        except DomainError:
            assert event_count(self.app) == before, "a refused command recorded events"
            return None

    # ---- cases ---------------------------------------------------------------------------------

    @initialize()
    def a_cluster_holds_a_label(self) -> None:
        case_id, label_id = Lifecycle(self.app).labelled()
        self.case_ids.append(case_id)
        self.label_ids.append(label_id)

    @precondition(lambda self: len(self.case_ids) < MAX_CASES and len(self.case_ids) - len(self.closed) < MAX_GOING)
    @rule(level=st.sampled_from([Level.BRONZE, Level.BRONZE, Level.GOLD]))
    def a_new_cluster_applies(self, level: Level) -> None:
        cluster_id = register(
            self.app, RegisterCluster(profile=cluster_profile()), actor=SECRETARIAT, command_key=key()
        )
        case = self.attempt(cluster_id, SubmitApplication(cluster_id=cluster_id, level=level))
        if case:
            self.case_ids.append(case.id)

    @precondition(lambda self: len(self.case_ids) > len(self.closed))
    @rule(pick=PICK, choices=st.lists(CHOICE, min_size=4, max_size=12))
    def a_case_takes_its_next_steps(self, pick: int, choices: list[int]) -> None:
        """Several steps of one case in a row (so that cases get far), the views checked after each."""
        going = [case_id for case_id in self.case_ids if case_id not in self.closed]
        case_id = going[pick % len(going)]
        for choice in choices:
            if case_id not in self.closed:
                self.take_next_step(self.app.get_case(case_id), choice)
                self.the_views_say_what_the_aggregates_say()

    def take_next_step(self, case: CertificationCase, choice: int) -> None:
        self.clock.advance(hours=1)  # so that each step's deadlines differ from the last ones
        if case.state == "screening":
            self.screen(case, choice)
        elif case.state == "assigning":
            self.assign(case, choice)
        elif case.state == "auditing":
            self.assess(case, choice)
        elif case.state == "deciding":
            outcome = Outcome.REFUSE if choice == 0 else Outcome.AWARD
            level = case.recommended_level or Level.BRONZE
            decider = "board:second" if case.first_decided_by else DECIDER  # after an appeal, someone new
            self.attempt(case.id, RecordDecision(outcome=outcome, level=level, rationale="rationale"), actor=decider)
        elif case.state == "refused":
            self.appeal(case, choice)
        elif case.state == "awarded" and case.label_id is None:
            if issued := self.attempt(case.id, IssueLabel(), actor="system"):
                self.label_ids.append(issued.label_id)
        else:
            self.close(case)

    def close(self, case: CertificationCase) -> None:
        before = event_count(self.app)
        self.attempt(case.id, CloseCase(), actor="system")
        if event_count(self.app) > before:
            self.closed.add(case.id)

    def screen(self, case: CertificationCase, choice: int) -> None:
        if choice == 1:
            self.attempt(case.id, WithdrawCase(reason="changed plans"))
        else:
            self.attempt(case.id, Screen(accepted=choice != 0, reason="incomplete"))

    def assign(self, case: CertificationCase, choice: int) -> None:
        expert = case.proposed_expert_id
        if expert and choice == 0:
            self.attempt(case.id, AnswerProposal(expert_id=expert, accept=False, reason="busy"), f"expert:{expert}")
        elif expert and choice == 1:
            self.clock.now = max(self.clock.now, case.deadlines["response"])
            self.attempt(case.id, TimeOutProposal(expert_id=expert), actor="system")
        elif expert:
            self.attempt(case.id, AnswerProposal(expert_id=expert, accept=True), f"expert:{expert}")
        elif choice == 0:
            self.attempt(case.id, Escalate(reason="needs the secretariat"), actor="system")
        elif case.team_complete:
            self.attempt(case.id, RecordAgreement(agreed=choice != 1))
        elif candidates := self.app.eligible_experts(case.id):
            self.attempt(case.id, ProposeExpert(expert_id=candidates[0]), actor="system")
        else:
            national = case.next_nationality() == "national"
            # Certified from now on: time jumps past the certification of experts registered earlier.
            until = self.clock.now + timedelta(days=3 * 365)
            country = case.cluster_country if national else "FR"
            profile = expert_profile(country=country, name=key("Expert"), certified_until=until)
            register(self.app, RegisterExpert(profile=profile), actor=SECRETARIAT, command_key=key())

    def assess(self, case: CertificationCase, choice: int) -> None:
        if choice == 6:  # the expert's certification was revoked: their seat is free again
            released = ReleaseExpert(expert_id=case.expert_ids[-1], reason="certification revoked")
            self.attempt(case.id, released)
            return
        scores = full_scores(load_catalogue(case.catalogue_version), [0.5, 0.7, 0.9, 1.0, 1.0, 1.0][choice])
        expert = case.expert_ids[0]
        assessment = SubmitAssessment(expert_id=expert, indicators=indicators(scores), report="report")
        self.attempt(case.id, assessment, f"expert:{expert}")

    def appeal(self, case: CertificationCase, choice: int) -> None:
        if case.appeal is None and choice != 0:
            self.attempt(case.id, LodgeAppeal(grounds="grounds"))
        elif case.appeal is not None and case.appeal["upheld"] is None and choice == 1:  # the panel is late
            self.attempt(case.id, Escalate(reason="the appeal decision deadline has passed"), actor="system")
        elif case.appeal is not None and case.appeal["upheld"] is None:
            self.attempt(case.id, DecideAppeal(upheld=choice > 1, rationale="rationale"), actor="board:appeals")
        else:
            self.clock.now = max(self.clock.now, case.deadlines["appeal"])
            self.close(case)

    # ---- labels and time ---------------------------------------------------------------------

    @rule(
        pick=PICK,
        action=st.sampled_from(
            ["suspend", "restore", "withdraw", "expire", "close window", "renew", "appeal", "uphold", "dismiss"]
        ),
    )
    def a_label_takes_a_step(self, pick: int, action: str) -> None:
        label = self.app.get_label(self.label_ids[pick % len(self.label_ids)])
        if action == "suspend":
            self.attempt(label.id, SuspendLabel(reason="complaint"))
        elif action == "restore":
            self.attempt(label.id, RestoreLabel())
        elif action == "withdraw":
            self.attempt(label.id, WithdrawLabel(reason="misuse"))
        elif action == "expire":
            self.clock.now = max(self.clock.now, label.valid_until)
            self.attempt(label.id, ExpireLabel(), actor="system")
        elif action == "close window":
            self.clock.now = max(self.clock.now, label.renewable_until)
            self.attempt(label.id, CloseRenewalWindow(), actor="system")
        elif action == "appeal":
            self.attempt(label.id, LodgeLabelAppeal(grounds="grounds"))
        elif action in ("uphold", "dismiss"):
            decision = DecideLabelAppeal(upheld=action == "uphold", rationale="rationale")
            self.attempt(label.id, decision, actor="board:appeals")
        elif renewed := self.attempt(label.id, StartRenewal()):
            self.case_ids.append(renewed.renewal_case_id)

    @rule(days=st.sampled_from([1, 15, 100, 400]))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)

    # ---- the comparison -------------------------------------------------------------------------

    @invariant()
    def the_views_say_what_the_aggregates_say(self) -> None:
        self.views.catch_up()
        now = self.clock.now
        for case_id in self.case_ids:
            self.check_case(case_id, now)
        labels = _rows_by_id(self.views.view(RegistryView).dump()["registry_labels"])
        assert _rows_by_id(self.views.view(ExpiryCalendarView).dump()["expiry_labels"]) == labels
        for label_id in self.label_ids:
            self.check_label(label_id, labels[str(label_id)], now)

    def check_case(self, case_id: UUID, now: datetime) -> None:
        case, status = self.app.get_case(case_id), self.views.case(case_id, now)
        assert status is not None
        step, due = case.current_deadline() or (None, None)
        assert (status.state, status.current_deadline, status.due_at) == (case.state, step, due)
        assert status.overdue == case.is_overdue(now)
        assert status.deadlines == case.deadlines
        assert (status.proposed_expert_id, status.expert_ids) == (case.proposed_expert_id, case.expert_ids)
        assert (status.attention, status.needs_attention) == (case.attention, case.needs_attention)
        assert (status.label_id, status.version) == (case.label_id, case.version)
        assert status.decided == (case.decision is not None)

    def check_label(self, label_id: UUID, row: dict[str, Any], now: datetime) -> None:
        label = self.app.get_label(label_id)
        assert (row["state"], row["state_since"]) == (label.state.value, stamp(label.state_since))
        assert row["suspended_until"] == stamp(label.suspended_until)
        assert (row["renewal_case_id"], row["superseded_by"]) == (
            _text(label.renewal_case_id),
            _text(label.superseded_by),
        )
        held = (label.held_until - TICK, label.held_until) if label.held_until else ()
        edges = (label.valid_until - TICK, label.valid_until, label.renewable_until - TICK, label.renewable_until)
        for at in (now, *edges, *held):
            entry = self.views.label(label_id, at)
            assert entry is not None and (entry.status, entry.since) == label.status_at(at)
            # The registry's filter, in SQL, finds it under the same status.
            listed = self.views.public_registry(at, status=entry.status, cluster_id=label.cluster_id)
            assert label_id in {other.label_id for other in listed}, (entry.status, at)


def _rows_by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["label_id"]: row for row in rows}


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


# ---- rare paths, walked on purpose (random sequences reach them only now and then) -----------


def _walk(
    choices: list[int], then: Callable[[ViewsFollowTheDomain], None] = lambda machine: None, renewal: bool = False
) -> None:
    """A new case (a new cluster's Bronze application, or the renewal of the first label) taking
    the steps `choices` pick, the views checked after each."""
    machine = ViewsFollowTheDomain()
    try:
        machine.a_cluster_holds_a_label()
        if renewal:
            machine.a_label_takes_a_step(0, "renew")
        else:
            machine.a_new_cluster_applies(Level.BRONZE)
        machine.case_ids.reverse()  # pick 0: the new case
        machine.a_case_takes_its_next_steps(0, choices)
        then(machine)
        machine.the_views_say_what_the_aggregates_say()
    finally:
        machine.teardown()


def test_an_upheld_appeal_sends_the_case_back_to_a_new_decision_in_the_view_too() -> None:
    # screen, propose, accept, agree, assess, refuse, appeal, uphold, award, issue the label
    _walk([2, 2, 2, 2, 5, 0, 2, 2, 2, 2])


def test_an_appeal_escalated_as_overdue_and_then_dismissed_needs_no_attention_in_the_view_too() -> None:
    def settled(machine: ViewsFollowTheDomain) -> None:
        case = machine.app.get_case(machine.case_ids[0])
        steps = [type(stored).__name__ for stored in machine.app.repository.event_store.get(case.id)]
        assert steps[-3:] == ["AppealLodged", "Escalated", "AppealDecided"]
        assert case.appeal is not None and case.appeal["upheld"] is False and case.attention == []

    # screen, propose, accept, agree, assess, refuse, appeal, escalate (the panel is late), dismiss
    _walk([2, 2, 2, 2, 5, 0, 2, 1, 0], settled)


def test_an_upheld_appeal_against_a_lower_award_sets_its_label_aside_in_the_view_too() -> None:
    machine = ViewsFollowTheDomain()
    try:
        life = Lifecycle(machine.app)
        case_id = life.deciding(Level.GOLD, fraction=1.0)
        machine.case_ids.append(case_id)
        life.decide(case_id, Outcome.AWARD, Level.SILVER)
        machine.label_ids.append(send(machine.app, case_id, IssueLabel(), actor="system").label_id)
        send(machine.app, case_id, OpenAppealWindow(), actor="system")
        send(machine.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
        machine.the_views_say_what_the_aggregates_say()
        send(machine.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor="board:appeals")
        assert machine.app.get_case(case_id).label_id is None
        machine.the_views_say_what_the_aggregates_say()
    finally:
        machine.teardown()


def test_an_expert_released_during_the_audit_frees_their_seat_in_the_view_too() -> None:
    def back_to_assigning_with_a_new_team(machine: ViewsFollowTheDomain) -> None:
        case = machine.app.get_case(machine.case_ids[0])
        assert case.state == "auditing" and len(case.excluded_expert_ids) == 1

    # screen, propose, accept, agree, release; register an expert, propose, accept, agree
    _walk([2, 2, 2, 2, 6, 2, 2, 2, 2], back_to_assigning_with_a_new_team)


def test_declined_and_timed_out_proposals_and_an_objection_reach_the_view() -> None:
    # screen, propose, decline, register an expert, propose, time out, register, propose, accept,
    # object, escalate
    _walk([2, 2, 0, 2, 2, 1, 2, 2, 2, 1, 0])


def test_a_renewal_supersedes_the_label_it_renews_in_the_view_too() -> None:
    def superseded(machine: ViewsFollowTheDomain) -> None:
        assert machine.app.get_label(machine.label_ids[0]).state == "superseded"

    # screen, register an expert (rotation), propose, accept, agree, assess, award, issue the label
    _walk([2, 2, 2, 2, 2, 5, 2, 2], superseded, renewal=True)


def test_a_label_restored_after_its_validity_reads_expired_in_the_view() -> None:
    def restore_past_validity(machine: ViewsFollowTheDomain) -> None:
        label = machine.label_ids[0]
        machine.a_label_takes_a_step(0, "suspend")
        machine.clock.now = machine.app.get_label(label).valid_until + timedelta(days=1)
        machine.a_label_takes_a_step(0, "restore")
        assert machine.app.get_label(label).state == "expired"

    _walk([2], restore_past_validity)


def test_a_renewal_withdrawn_after_the_window_lapses_its_label_from_then_in_the_view_too() -> None:
    machine = ViewsFollowTheDomain()
    try:
        machine.a_cluster_holds_a_label()
        machine.a_label_takes_a_step(0, "renew")
        label = machine.app.get_label(machine.label_ids[0])
        renewal_case = label.renewal_case_id
        assert renewal_case is not None
        machine.clock.now = label.renewable_until + timedelta(days=10)  # the renewal runs past the window
        machine.a_label_takes_a_step(0, "expire")
        machine.the_views_say_what_the_aggregates_say()
        assert machine.views.label(label.id, machine.clock.now).status == "expired"  # type: ignore[union-attr]
        machine.attempt(renewal_case, WithdrawCase(reason="the cluster gives up"))
        machine.attempt(renewal_case, CloseCase(), actor="system")
        ended = machine.app.get_label(label.id)
        assert (ended.renewal_case_id, ended.held_until) == (None, machine.clock.now)
        # Lapsed from the renewal's end, not from the window's close, when it still read as expired.
        machine.views.catch_up()
        entry = machine.views.label(label.id, machine.clock.now)
        assert entry is not None and (entry.status, entry.since) == ("lapsed", machine.clock.now)
        machine.the_views_say_what_the_aggregates_say()
    finally:
        machine.teardown()


def test_a_label_restored_after_its_window_lapses_from_its_restoration_in_the_view_too() -> None:
    def restore_past_window(machine: ViewsFollowTheDomain) -> None:
        label_id = machine.label_ids[0]
        machine.a_label_takes_a_step(0, "suspend")
        machine.clock.now = machine.app.get_label(label_id).renewable_until + timedelta(days=30)
        suspended = machine.app.get_label(label_id)
        assert suspended.status_at(machine.clock.now) == (LabelState.EXPIRED, suspended.valid_until)
        machine.the_views_say_what_the_aggregates_say()
        machine.a_label_takes_a_step(0, "restore")
        # Not from the window's close, when it still read as expired: from its restoration.
        assert machine.app.get_label(label_id).status_at(machine.clock.now) == (LabelState.LAPSED, machine.clock.now)

    _walk([2], restore_past_window)


ViewsFollowTheDomain.TestCase.settings = settings(
    max_examples=10, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestViewsFollowTheDomain = ViewsFollowTheDomain.TestCase
