"""What a workflow (and the HTTP caller after it) sees of a case or a label: its state and the alarms ahead.

Built from the aggregate a command has just saved, so a step costs no extra load.
"""

from __future__ import annotations

from datetime import datetime

from clusterlabel.activities.models import Alarm, CaseView, LabelView, Visit
from clusterlabel.domain.case_lifecycle import APPEALABLE_STATES
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import (
    LabelState,
    expiry_reminder_schedule,
    reminds_of_expiry,
)
from clusterlabel.domain.policy import Policy
from clusterlabel.domain.reminders import reminders_to_send, schedule_before


def case_view(policy: Policy, case: CertificationCase, at: datetime) -> CaseView:
    """The case as its workflow sees it, with the alarms of the step it is in."""
    current = case.current_deadline()
    step = current[0] if current else None
    alarms: list[Alarm] = []
    deadlines = dict(case.deadlines)
    if (appeal_due := case.appeal_decision_due(policy)) is not None:  # the appeals panel's turn
        current = "appeal_decision", appeal_due
        deadlines["appeal_decision"] = appeal_due
    if current is not None:
        step, due = current
        alarms = [*_reminders(policy, case, step, due), Alarm(kind="deadline", step=step, at=due)]
    elif case.state in APPEALABLE_STATES and case.appeal is None and "appeal" in case.deadlines:
        # The window's close is the workflow's alarm (it closes the case); the step the case works against
        # only while an appeal may still be lodged (not past the window, nor once the decision is final).
        step = None if case.is_concluded(at) else "appeal"
        alarms.append(Alarm(kind="deadline", step="appeal", at=case.deadlines["appeal"]))
    appeal = case.appeal or {}
    return CaseView(
        case_id=case.id,
        cluster_id=case.cluster_id,
        level=case.level.value,
        kind=case.kind.value,
        state=case.state.value,
        version=case.version,
        team=case.expert_ids,
        team_complete=case.team_complete,
        awaiting_proposal=case.awaiting_proposal(),
        proposed_expert_id=case.proposed_expert_id,
        deadlines=deadlines,
        current_step=step,
        alarms=sorted(alarms, key=lambda alarm: alarm.at),
        needs_attention=case.needs_attention,
        attention=list(case.attention),
        appeal_lodged=case.appeal is not None,
        appeal_upheld=appeal.get("upheld"),
        concluded=case.is_concluded(at),
        label_id=case.label_id,
        previous_label_id=case.previous_label_id,
        appeal_window_to_open=case.appeal_window_to_open,
        appealed_label_id=case.appealed_label_id,
        catalogue_version=case.catalogue_version,
        recommended_level=case.recommended_level.value if case.recommended_level else None,
        assessment_version=case.assessment_version,
        signed_by=list(case.signed_by),
        submitted_at=case.submitted_at,
        recent_keys=case.recent_command_keys,
        visit=_visit(case),
        improvement_areas=list(case.improvement_areas),
        improvement_descriptions=list(case.improvement_descriptions),
        silver_validation=dict(case.silver_validation) if case.silver_validation else None,
    )


def _reminders(policy: Policy, case: CertificationCase, step: str, due: datetime) -> list[Alarm]:
    """The reminders of the step the case works against, if the policy reminds of it. One that would fall
    as the step begins, or before, is none: the step's own message tells (a 7-day reminder of a 5-day
    answer). The step began its allowance before its deadline, or later where a renewal's window cut it
    short (within_renewal_window)."""
    if step not in policy.reminded_deadlines:
        return []
    began = policy.allowed_for(step).before(due)
    if (since := case.step_since(step)) is not None:
        began = max(began, since)
    schedule = schedule_before(policy.deadline_reminders, due)
    return [Alarm(kind="reminder", step=step, offset=offset, at=at) for offset, at in schedule.items() if at > began]


def _visit(case: CertificationCase) -> Visit | None:
    if case.audit_date is None:
        return None
    return Visit(audit_date=case.audit_date, **case.visit, held_on=case.audit_held_on)


def label_view(policy: Policy, label: Label, now: datetime) -> LabelView:
    """The label as its workflow sees it at `now`, with its alarms earliest first: every one pending but the
    expiry reminders gone stale (reminders_to_send). A withdrawn label with an appeal pending is not final:
    its workflow waits for the panel (which may put it back in force)."""
    alarms: list[Alarm] = []
    if reminds_of_expiry(label.state, label.renewal_case_id is not None):
        due = reminders_to_send(reminder_schedule(policy, label), label.reminders_sent, label.valid_until, now)
        alarms += [Alarm(kind="reminder", offset=offset, at=remind_at) for offset, remind_at in due.items()]
    if label.allows("expire"):  # a suspended label is expired by its restoration, not by a timer
        alarms.append(Alarm(kind="expiry", at=label.valid_until))
    if label.state is LabelState.SUSPENDED and label.suspended_until is not None:
        alarms.append(Alarm(kind="suspension_limit", at=label.suspended_until))
    if label.state is LabelState.EXPIRED and label.renewal_case_id is None:
        alarms.append(Alarm(kind="renewal_window_close", at=label.renewable_until))
    # Every other field of the view is the label's attribute of the same name.
    copied = {name: getattr(label, name) for name in LabelView.model_fields if hasattr(label, name)}
    alarms = sorted(alarms, key=lambda alarm: alarm.at)
    identity = {"label_id": label.id, "recent_keys": label.recent_command_keys}
    final = label.settled
    appeal = {"appeal_due": label.appeal_due(policy)}
    return LabelView.model_validate({**copied, **identity, **appeal, "alarms": alarms, "final": final})


def reminder_schedule(policy: Policy, label: Label) -> dict[str, datetime]:
    return expiry_reminder_schedule(policy.expiry_reminders, label.valid_until, label.decided_at)
