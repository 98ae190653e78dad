"""Drive the application through a case's steps, so tests start from any state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    IssueLabel,
    ProposeExpert,
    RecordAgreement,
    RecordDecision,
    ReleaseExpert,
    Screen,
    SignAssessment,
    StartRenewal,
    SubmitApplication,
    SubmitAssessment,
)
from clusterlabel.domain.policy import Policy, default_policy
from clusterlabel.domain.record_commands import RegisterCluster, RegisterExpert
from clusterlabel.domain.silver import validates_on_site
from tests.builders import (
    T0,
    cluster_profile,
    expert_profile,
    full_scores,
    indicators,
    key,
    register,
    send,
    silver_validation,
)

SECRETARIAT = "secretariat:clara"
DECIDER = "secretariat:dora"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def memory_app(policy: Policy | None = None, clock: Callable[[], datetime] | None = None) -> CertificationApp:
    return CertificationApp(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, policy=policy or default_policy(), clock=clock or Clock()
    )


def event_count(app: CertificationApp) -> int:
    return app.recorder.max_notification_id() or 0


class Lifecycle:
    """One cluster and its experts, with a method per step that a case goes through."""

    def __init__(self, app: CertificationApp, country: str = "LT") -> None:
        self.app = app
        self.cluster_id = register(
            app,
            RegisterCluster(profile=cluster_profile(country=country)),
            actor=SECRETARIAT,
            command_key=key("cluster"),
        )
        self.experts: list[UUID] = []

    def expert(self, country: str = "DE", name: str | None = None, **changes: object) -> UUID:
        profile = expert_profile(country=country, name=name or f"Expert {len(self.experts) + 1}", **changes)
        expert_id = register(self.app, RegisterExpert(profile=profile), actor=SECRETARIAT, command_key=key("expert"))
        self.experts.append(expert_id)
        return expert_id

    def apply(
        self,
        level: Level = Level.BRONZE,
        improvement_areas: list[str] | None = None,
        at: datetime | None = None,
        benchmarking_only: bool = False,
    ) -> UUID:
        command = SubmitApplication(
            cluster_id=self.cluster_id,
            level=level,
            improvement_areas=improvement_areas or [],
            benchmarking_only=benchmarking_only,
        )
        return send(self.app, self.cluster_id, command, actor=SECRETARIAT, command_key=key("apply"), at=at).id

    def screened(self, level: Level = Level.BRONZE, **kwargs: object) -> UUID:
        case_id = self.apply(level, **kwargs)  # type: ignore[arg-type]
        send(self.app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
        return case_id

    def staff(self, case_id: UUID) -> list[UUID]:
        """Propose and accept experts until the team is complete."""
        while not self.app.get_case(case_id).team_complete:
            candidates = self.app.eligible_experts(case_id)
            if not candidates:
                self.expert("LT" if self.app.get_case(case_id).next_nationality() == "national" else "DE")
                continue
            expert_id = candidates[0]
            send(self.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
            send(self.app, case_id, AnswerProposal(expert_id=expert_id, accept=True), actor=f"expert:{expert_id}")
        return self.app.get_case(case_id).expert_ids

    def auditing(self, level: Level = Level.BRONZE, **kwargs: object) -> UUID:
        case_id = self.screened(level, **kwargs)
        self.staff(case_id)
        send(self.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
        return case_id

    def renewal_agreed(self, label_id: UUID) -> UUID:
        """The label's renewal case, screened, staffed and agreed: ready for its audit."""
        renewal = send(self.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
        assert renewal is not None
        send(self.app, renewal, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
        self.staff(renewal)
        send(self.app, renewal, RecordAgreement(agreed=True), actor=SECRETARIAT)
        return renewal

    def assess(self, case_id: UUID, fraction: float = 0.9) -> None:
        case = self.app.get_case(case_id)
        catalogue = load_catalogue(case.catalogue_version)
        scores = full_scores(catalogue, fraction)
        expert_id = case.expert_ids[0]
        validation = silver_validation(case.improvement_areas) if validates_on_site(case.level, catalogue) else None
        command = SubmitAssessment(
            expert_id=expert_id, indicators=indicators(scores), report="report", validation=validation
        )
        send(self.app, case_id, command, actor=f"expert:{expert_id}")
        self.sign(case_id)

    def sign(self, case_id: UUID) -> None:
        """Every team expert who has yet to sign the assessment signs it (a Gold team's second expert)."""
        case = self.app.get_case(case_id)
        for expert_id in [e for e in case.expert_ids if e not in case.signed_by]:
            send(self.app, case_id, SignAssessment(expert_id=expert_id), actor=f"expert:{expert_id}")

    def deciding_after_a_release(self) -> tuple[UUID, UUID]:
        """A Gold case whose first expert submitted the team's first version (their scores) and was then
        released, its new team's assessment in: the case, deciding, and the released expert."""
        case_id = self.auditing(Level.GOLD)
        case = self.app.get_case(case_id)
        scorer = case.expert_ids[0]
        scores = indicators(full_scores(load_catalogue(case.catalogue_version), 0.9))
        submitted = SubmitAssessment(expert_id=scorer, indicators=scores, report="first version")
        send(self.app, case_id, submitted, actor=f"expert:{scorer}")
        send(self.app, case_id, ReleaseExpert(expert_id=scorer, reason="certification revoked"), actor=SECRETARIAT)
        self.staff(case_id)
        send(self.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
        self.assess(case_id)
        return case_id, scorer

    def deciding(self, level: Level = Level.BRONZE, fraction: float = 0.9, **kwargs: object) -> UUID:
        case_id = self.auditing(level, **kwargs)
        self.assess(case_id, fraction)
        return case_id

    def decide(self, case_id: UUID, outcome: Outcome = Outcome.AWARD, level: Level | None = None) -> None:
        command = RecordDecision(outcome=outcome, level=level, rationale="as assessed")
        send(self.app, case_id, command, actor=DECIDER)

    def awarded(self, level: Level = Level.BRONZE, **kwargs: object) -> UUID:
        case_id = self.deciding(level, **kwargs)
        self.decide(case_id)
        return case_id

    def labelled(self, level: Level = Level.BRONZE, **kwargs: object) -> tuple[UUID, UUID]:
        """An awarded, closed case and its label id."""
        case_id = self.awarded(level, **kwargs)
        label_id = send(self.app, case_id, IssueLabel(), actor="system").label_id
        send(self.app, case_id, CloseCase(), actor="system")
        assert label_id is not None
        return case_id, label_id
