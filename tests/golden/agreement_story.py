"""The case of the golden set that waits for its cluster's agreement to a complete team (tests/golden/story.py
tells it): the acceptance that filled the last seat asked for the agreement by its deadline."""

from __future__ import annotations

from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import AnswerProposal, ProposeExpert, Screen, SubmitApplication
from clusterlabel.domain.record_commands import RegisterCluster
from tests.builders import cluster_profile, register, send
from tests.lifecycle import SECRETARIAT


def case_awaiting_agreement(app: CertificationApp, expert_id: UUID) -> tuple[UUID, UUID]:
    """A Bronze case of a new cluster, staffed by the expert: the case's and its cluster's id."""
    meadow = cluster_profile(name="Meadow Dairy Cluster", country="IE", website="https://dairy.example.ie")
    cluster_id = register(app, RegisterCluster(profile=meadow), actor=SECRETARIAT, command_key="golden-cluster-meadow")
    application = SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE)
    case_id = send(app, cluster_id, application, actor=SECRETARIAT, command_key="golden-case-meadow").id
    send(app, case_id, Screen(accepted=True), actor=SECRETARIAT, command_key="golden-meadow-screen")
    send(app, case_id, ProposeExpert(expert_id=expert_id), actor="system", command_key="golden-meadow-propose")
    answer = AnswerProposal(expert_id=expert_id, accept=True)
    send(app, case_id, answer, actor=f"expert:{expert_id}", command_key="golden-meadow-accept")
    return case_id, cluster_id
