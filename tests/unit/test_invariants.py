"""Random command sequences never break the certification invariants.

Hypothesis drives clusters, experts, cases and labels through any order of commands,
refused ones included, and after every step checks what must always hold: no label
without an awarded case decided by a non-auditor, at most one active label per cluster
and level, no assessment missing an indicator, renewals only inside the window, and a
refused command records nothing.
"""

from __future__ import annotations

from collections import Counter
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from clusterlabel.domain.base import DomainError, Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.command_base import Command
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    CloseRenewalWindow,
    DecideAppeal,
    ExpireLabel,
    IssueLabel,
    LodgeAppeal,
    ProposeExpert,
    RecordAgreement,
    RecordDecision,
    RestoreLabel,
    Screen,
    StartRenewal,
    SubmitApplication,
    SubmitAssessment,
    SuspendLabel,
    WithdrawCase,
    WithdrawLabel,
)
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.domain.record_commands import RegisterCluster, RegisterExpert
from tests.builders import cluster_profile, expert_profile, full_scores, indicators, key, register, send
from tests.lifecycle import Clock, Lifecycle, event_count, memory_app

LEVELS = st.sampled_from([Level.BRONZE, Level.GOLD])
DECIDERS = st.sampled_from(["secretariat:dora", "board:panel", "auditor"])


class CertificationMachine(RuleBasedStateMachine):
    clusters = Bundle("clusters")
    experts = Bundle("experts")
    cases = Bundle("cases")
    labels = Bundle("labels")

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = memory_app(clock=self.clock)
        self.case_ids: set[UUID] = set()
        self.label_ids: set[UUID] = set()

    @initialize(target=labels, level=LEVELS)
    def a_cluster_already_holds_a_label(self, level: Level) -> UUID:
        """Start with a label in force, so that renewals and sanctions get exercised early."""
        life = Lifecycle(self.app)
        case_id, label_id = life.labelled(level, fraction=1.0)
        self.case_ids.add(case_id)
        self.label_ids.add(label_id)
        return label_id

    def attempt(self, subject_id: UUID, command: Command, actor: str = "secretariat:clara"):
        """Run a command; a refused one must leave the log as it was. The aggregate as saved, or None."""
        before = event_count(self.app)
        try:
            return send(self.app, subject_id, command, actor=actor, command_key=key())
        except DomainError:
            assert event_count(self.app) == before, "a refused command recorded events"
            return None

    @rule(target=clusters, country=st.sampled_from(["LT", "DE"]))
    def register_cluster(self, country: str) -> UUID:
        cluster = RegisterCluster(profile=cluster_profile(country=country))
        return register(self.app, cluster, actor="secretariat:clara", command_key=key())

    @rule(target=experts, country=st.sampled_from(["LT", "DE", "FR"]))
    def register_expert(self, country: str) -> UUID:
        expert = RegisterExpert(profile=expert_profile(country=country, name=key("Expert")))
        return register(self.app, expert, actor="secretariat:clara", command_key=key())

    @rule(target=cases, cluster=clusters, level=LEVELS)
    def apply(self, cluster: UUID, level: Level) -> UUID | None:
        case = self.attempt(cluster, SubmitApplication(cluster_id=cluster, level=level))
        case_id = case.id if case else None
        if case_id:
            self.case_ids.add(case_id)
        return case_id

    @rule(case=cases, choices=st.lists(st.integers(0, 3), min_size=1, max_size=10), decider=DECIDERS)
    def advance(self, case: UUID | None, choices: list[int], decider: str) -> None:
        """The steps a case would naturally take next, with random outcomes."""
        for choice in choices:
            if case:
                self._advance(case, choice, decider)

    def _advance(self, case: UUID, choice: int, decider: str) -> None:
        current = self.app.get_case(case)
        state = current.state.value
        if state == "screening":
            self.attempt(case, Screen(accepted=choice != 0, reason="reason"))
        elif state == "assigning":
            self._advance_assignment(case, choice)
        elif state == "auditing":
            self.assess(case, [0.5, 0.9, 1.0, 1.0][choice], drop_one=False)
        elif state == "deciding":
            self.decide(case, choice != 0, decider, current.recommended_level or Level.BRONZE)
        elif state == "awarded" and current.label_id is None:
            awarded = self.attempt(case, IssueLabel())
            self.label_ids.add(awarded.label_id if awarded else None)
        elif state == "refused" and current.appeal is None and choice == 0:
            self.attempt(case, LodgeAppeal(grounds="grounds"))
        elif state == "refused" and current.appeal and current.appeal["upheld"] is None:
            self.attempt(case, DecideAppeal(upheld=choice != 0, rationale="rationale"), actor="board:appeals")
        else:
            self.attempt(case, CloseCase())
        self.label_ids.discard(None)

    def _advance_assignment(self, case: UUID, choice: int) -> None:
        current = self.app.get_case(case)
        if current.proposed_expert_id and choice == 0:
            self.attempt(case, AnswerProposal(expert_id=current.proposed_expert_id, accept=False, reason="busy"))
        elif current.proposed_expert_id:
            self.attempt(case, AnswerProposal(expert_id=current.proposed_expert_id, accept=True))
        elif current.team_complete:
            self.attempt(case, RecordAgreement(agreed=choice != 0))
        else:
            candidates = self.app.eligible_experts(case)
            if candidates:
                self.attempt(case, ProposeExpert(expert_id=candidates[0]))
            else:
                country = current.cluster_country if current.next_nationality() == "national" else "FR"
                self.register_expert(country)

    @rule(case=cases, accepted=st.booleans())
    def screen(self, case: UUID | None, accepted: bool) -> None:
        if case:
            self.attempt(case, Screen(accepted=accepted, reason="reason"))

    @rule(case=cases, expert=experts)
    def propose(self, case: UUID | None, expert: UUID) -> None:
        if case:
            self.attempt(case, ProposeExpert(expert_id=expert))

    @rule(case=cases, expert=experts, accept=st.booleans())
    def respond(self, case: UUID | None, expert: UUID, accept: bool) -> None:
        if case and accept:
            self.attempt(case, AnswerProposal(expert_id=expert, accept=True))
        elif case:
            self.attempt(case, AnswerProposal(expert_id=expert, accept=False, reason="busy"))

    @rule(case=cases, agreed=st.booleans())
    def agree(self, case: UUID | None, agreed: bool) -> None:
        if case:
            self.attempt(case, RecordAgreement(agreed=agreed))

    @rule(case=cases, fraction=st.sampled_from([0.5, 0.9, 1.0]), drop_one=st.booleans())
    def assess(self, case: UUID | None, fraction: float, drop_one: bool) -> None:
        if not case:
            return
        current = self.app.get_case(case)
        scores = full_scores(load_catalogue(current.catalogue_version), fraction)
        if drop_one:
            scores.popitem()
        expert = current.expert_ids[0] if current.expert_ids else UUID(int=0)
        self.attempt(case, SubmitAssessment(expert_id=expert, indicators=indicators(scores), report="report"))

    @rule(case=cases, award=st.booleans(), decider=DECIDERS, level=LEVELS)
    def decide(self, case: UUID | None, award: bool, decider: str, level: Level) -> None:
        if not case:
            return
        team = self.app.get_case(case).expert_ids
        if decider == "auditor":
            decider = f"expert:{team[0]}" if team else "secretariat:dora"
        outcome = Outcome.AWARD if award else Outcome.REFUSE
        self.attempt(case, RecordDecision(outcome=outcome, level=level, rationale="rationale"), actor=decider)

    @rule(target=labels, case=cases)
    def issue(self, case: UUID | None) -> UUID | None:
        awarded = self.attempt(case, IssueLabel()) if case else None
        label_id = awarded.label_id if awarded else None
        if label_id:
            self.label_ids.add(label_id)
        return label_id

    @rule(case=cases)
    def close(self, case: UUID | None) -> None:
        if case:
            self.attempt(case, CloseCase())

    @rule(case=cases)
    def withdraw_case(self, case: UUID | None) -> None:
        if case:
            self.attempt(case, WithdrawCase(reason="changed plans"))

    @rule(days=st.sampled_from([1, 40, 200, 400]))
    def wait(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule(label=labels, moment=st.sampled_from(["valid_until", "renewable_until"]))
    def wait_for(self, label: UUID | None, moment: str) -> None:
        """Jump to a label's expiry or the close of its renewal window."""
        if label:
            self.clock.now = max(self.clock.now, getattr(self.app.get_label(label), moment))

    @rule(label=labels)
    def expire(self, label: UUID | None) -> None:
        if label:
            self.attempt(label, ExpireLabel())

    @rule(target=cases, label=labels)
    def renew(self, label: UUID | None) -> UUID | None:
        renewed = self.attempt(label, StartRenewal()) if label else None
        case_id = renewed.renewal_case_id if renewed else None
        if case_id:
            self.case_ids.add(case_id)
        return case_id

    @rule(label=labels)
    def close_window(self, label: UUID | None) -> None:
        if label:
            self.attempt(label, CloseRenewalWindow())

    @rule(label=labels, action=st.sampled_from(["suspend", "restore", "withdraw"]))
    def sanction(self, label: UUID | None, action: str) -> None:
        if not label:
            return
        if action == "suspend":
            self.attempt(label, SuspendLabel(reason="complaint"))
        elif action == "restore":
            self.attempt(label, RestoreLabel())
        else:
            self.attempt(label, WithdrawLabel(reason="misuse"))

    # ---- what must always hold ------------------------------------------------------------

    @invariant()
    def every_label_comes_from_an_awarded_case_decided_by_a_non_auditor(self) -> None:
        for label_id in self.label_ids:
            label = self.app.get_label(label_id)
            case = self.app.get_case(label.case_id)
            assert case.state == "awarded" and case.label_id == label_id
            auditors = {f"expert:{expert_id}" for expert_id in case.expert_ids}
            assert case.decision["decided_by"] not in auditors

    @invariant()
    def at_most_one_active_label_per_cluster_and_level(self) -> None:
        labels = [self.app.get_label(label_id) for label_id in self.label_ids]
        active = Counter((label.cluster_id, label.level) for label in labels if label.state is LabelState.ACTIVE)
        assert all(count == 1 for count in active.values())

    @invariant()
    def no_assessment_misses_an_indicator(self) -> None:
        for case_id in self.case_ids:
            case = self.app.get_case(case_id)
            if case.assessed_at is not None:
                assert set(case.scores) == set(load_catalogue(case.catalogue_version).codes())

    @invariant()
    def renewals_start_only_inside_the_window(self) -> None:
        for label_id in self.label_ids:
            label = self.app.get_label(label_id)
            for stored in self.app.repository.event_store.get(label_id):
                if type(stored).__name__ == "RenewalStarted":
                    assert stored.at < label.renewable_until


CertificationMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestCertificationInvariants = CertificationMachine.TestCase
