"""Complaints: the view their workflow and the HTTP routes see, and the two activities of the complaint
workflow (load, run a command through the handlers' table)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from temporalio import activity

from clusterlabel.activities.certification import BoundActivities, unit_of_work
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.models import Alarm, CommandRun, ComplaintRef, ComplaintView
from clusterlabel.domain.commands import decode_command
from clusterlabel.domain.complaint import Complaint
from clusterlabel.domain.policy import Policy

log = structlog.stdlib.get_logger(__name__)


# ---- what the workflow and the routes see ----------------------------------------------------------


def complaint_view(policy: Policy, complaint: Complaint) -> ComplaintView:
    alarms = [
        Alarm(kind=alarm.kind, step=alarm.step, offset=alarm.offset, at=alarm.at) for alarm in complaint.alarms(policy)
    ]
    return ComplaintView(
        complaint_id=complaint.id,
        about=complaint.about,
        cluster_id=complaint.cluster_id,
        label_id=complaint.label_id,
        state=complaint.state.value,
        version=complaint.version,
        lodged_at=complaint.lodged_at,
        deadlines=dict(complaint.deadlines),
        alarms=alarms,
        outcome=complaint.outcome.value if complaint.outcome else None,
        finding=complaint.finding,
        escalations=list(complaint.escalations),
        open=complaint.is_open,
        recent_keys=complaint.recent_command_keys,
    )


# ---- the activities ------------------------------------------------------------------------------


@dataclass(eq=False)
class ComplaintActivities(BoundActivities):
    """The complaint workflow's activities, bound to one application (see CertificationActivities)."""

    @activity.defn(no_thread_cancel_exception=True)
    def load_complaint(self, input: ComplaintRef) -> ComplaintView:
        with unit_of_work(complaint_id=input.complaint_id):
            return complaint_view(self.app.policy, self.app.load(input.complaint_id, Complaint))

    @activity.defn(no_thread_cancel_exception=True)
    def run_complaint_command(self, run: CommandRun) -> ComplaintView:
        with unit_of_work(complaint_id=run.subject_id, command=run.name):
            complaint = handle(self.app, run.subject_id, decode_command(run.name, run.command), run.envelope)
            log.info("command handled", command=run.name)
            assert isinstance(complaint, Complaint)
            return complaint_view(self.app.policy, complaint)
