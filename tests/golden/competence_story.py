"""The experts of the golden set whose competence is kept per level (tests/golden/story.py tells it): one
registered for Bronze only who then took the Gold training, and one whose consultancy for a cluster
carries its dates."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.record_commands import DeclareAffiliation, RecordQualification, RegisterExpert
from tests.builders import T0, expert_profile, register, send
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
