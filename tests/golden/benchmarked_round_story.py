"""The round of the golden set dated by its audit (tests/golden/story.py tells it): a benchmarking audited on
site and assessed weeks later, whose cluster records the round (CaseClosed, version 2) with the audit's day."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    ProposeExpert,
    RecordAgreement,
    RecordAuditHeld,
    RecordDecision,
    ScheduleAudit,
    Screen,
    SubmitApplication,
    SubmitAssessment,
)
from clusterlabel.domain.record_commands import RegisterCluster
from tests.builders import cluster_profile, full_scores, indicators, register, send
from tests.lifecycle import DECIDER, SECRETARIAT, Clock


def round_closed_weeks_after_its_audit(app: CertificationApp, clock: Clock, expert_id: UUID) -> tuple[UUID, UUID]:
    """A new cluster's Bronze benchmarking (no label asked for), staffed by the expert, audited in Ljubljana and
    assessed six weeks later, decided and closed: the cluster's and the case's id."""
    sava = cluster_profile(name="Sava Timber Cluster", country="SI", website="https://timber.example.si")
    cluster_id = register(app, RegisterCluster(profile=sava), actor=SECRETARIAT, command_key="golden-cluster-sava")
    application = SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE, benchmarking_only=True)
    case_id = send(app, cluster_id, application, actor=SECRETARIAT, command_key="golden-case-sava").id
    expert = f"expert:{expert_id}"
    steps = [
        (Screen(accepted=True, reason="complete"), SECRETARIAT, "screen"),
        (ProposeExpert(expert_id=expert_id), "system", "propose"),
        (AnswerProposal(expert_id=expert_id, accept=True), expert, "accept"),
        (RecordAgreement(agreed=True), SECRETARIAT, "agreement"),
        (ScheduleAudit(audit_date=clock.now + timedelta(days=10), place="Ljubljana"), SECRETARIAT, "schedule"),
    ]
    for command, actor, step in steps:
        send(app, case_id, command, actor=actor, command_key=f"golden-sava-{step}")
    clock.advance(days=10)
    send(app, case_id, RecordAuditHeld(expert_id=expert_id), actor=expert, command_key="golden-sava-held")
    clock.advance(days=42)
    scores = full_scores(load_catalogue(app.get_case(case_id).catalogue_version), 0.8)
    assessment = SubmitAssessment(expert_id=expert_id, indicators=indicators(scores), report="Benchmarked on site.")
    send(app, case_id, assessment, actor=expert, command_key="golden-sava-assessment")
    decision = RecordDecision(outcome=Outcome.AWARD, rationale="benchmarked as asked")
    send(app, case_id, decision, actor=DECIDER, command_key="golden-sava-decision")
    send(app, case_id, CloseCase(), actor="system", command_key="golden-sava-close")
    return cluster_id, case_id
