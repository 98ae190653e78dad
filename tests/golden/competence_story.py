"""The experts of the golden set whose competence is kept per level (tests/golden/story.py tells it): one
registered for Bronze only who then took the Gold training, and one whose consultancy for a cluster
carries its dates, and one who declared no conflict of interest when accepting a case."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import AnswerProposal, ProposeExpert, Screen, SubmitApplication
from clusterlabel.domain.record_commands import DeclareAffiliation, RecordQualification, RegisterCluster, RegisterExpert
from tests.builders import T0, cluster_profile, expert_profile, register, send
from tests.lifecycle import SECRETARIAT


def expert_qualified_for_gold(app: CertificationApp) -> UUID:
    profile = expert_profile(name="Ilse", country="AT", levels=["bronze"])
    expert_id = register(app, RegisterExpert(profile=profile), actor=SECRETARIAT, command_key="golden-expert-ilse")
    gold = RecordQualification(
        level=Level.GOLD, until=T0 + timedelta(days=2 * 365), training="Gold team assessor course", trained_on=T0
    )
    send(app, expert_id, gold, actor=SECRETARIAT, command_key="golden-qualification-ilse")
    return expert_id


def expert_with_a_past_consultancy(app: CertificationApp, cluster_id: UUID) -> UUID:
    """An expert who consulted for the cluster for a year, which ended two years before T0."""
    profile = expert_profile(name="Jonas", country="SE")
    expert_id = register(app, RegisterExpert(profile=profile), actor=SECRETARIAT, command_key="golden-expert-jonas")
    consultancy = DeclareAffiliation(
        cluster_id=cluster_id, since=T0 - timedelta(days=3 * 365), until=T0 - timedelta(days=2 * 365)
    )
    send(app, expert_id, consultancy, actor=SECRETARIAT, command_key="golden-affiliation-jonas")
    return expert_id


def expert_declaring_no_conflict(app: CertificationApp) -> tuple[UUID, UUID, UUID]:
    """An expert who accepts a Bronze case declaring no conflict of interest; the expert's, the case's and
    its cluster's id."""
    fjord = cluster_profile(name="Fjord Energy Cluster", country="NO", website="https://energy.example.no")
    cluster_id = register(app, RegisterCluster(profile=fjord), actor=SECRETARIAT, command_key="golden-cluster-fjord")
    profile = expert_profile(name="Karin", country="DK", certified_until=T0 + timedelta(days=20 * 365))
    expert_id = register(app, RegisterExpert(profile=profile), actor=SECRETARIAT, command_key="golden-expert-karin")
    application = SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE)
    case_id = send(app, cluster_id, application, actor=SECRETARIAT, command_key="golden-case-declared").id
    send(app, case_id, Screen(accepted=True), actor=SECRETARIAT, command_key="golden-declared-screen")
    send(app, case_id, ProposeExpert(expert_id=expert_id), actor="system", command_key="golden-declared-propose")
    answer = AnswerProposal(expert_id=expert_id, accept=True, no_conflict_declared=True)
    send(app, case_id, answer, actor=f"expert:{expert_id}", command_key="golden-declared-accept")
    return expert_id, case_id, cluster_id
