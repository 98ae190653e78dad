"""The complaint of the golden set (tests/golden/story.py tells it): lodged about a label, escalated when its
acknowledgement was late, acknowledged, investigated and closed with the outcome suspend."""

from __future__ import annotations

from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.complaint import Complaint, ComplaintOutcome
from clusterlabel.domain.complaint_commands import (
    AcknowledgeComplaint,
    CloseComplaint,
    EscalateComplaint,
    LodgeComplaint,
    StartInvestigation,
)
from tests.builders import send
from tests.lifecycle import SECRETARIAT

LODGED_KEY = "golden-complaint-lodged"


def complaint_closed(app: CertificationApp, cluster_id: UUID, label_id: UUID, label_code: str) -> UUID:
    complaint_id = Complaint.create_id(LODGED_KEY)
    lodge = LodgeComplaint(
        about=label_code,
        text="The cluster advertises services it no longer runs.",
        cluster_id=cluster_id,
        label_id=label_id,
    )
    send(app, complaint_id, lodge, actor="public", command_key=LODGED_KEY)
    late = EscalateComplaint(reason="the acknowledgement deadline has passed")
    send(app, complaint_id, late, actor="system:workflow", command_key="golden-complaint-escalated")
    send(app, complaint_id, AcknowledgeComplaint(), actor=SECRETARIAT, command_key="golden-complaint-acknowledged")
    send(app, complaint_id, StartInvestigation(), actor=SECRETARIAT, command_key="golden-complaint-investigated")
    outcome = CloseComplaint(outcome=ComplaintOutcome.SUSPEND, finding="Founded: the label is to be suspended.")
    send(app, complaint_id, outcome, actor=SECRETARIAT, command_key="golden-complaint-closed")
    return complaint_id
