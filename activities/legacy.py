"""The activity names and inputs workflows used before commands were data, kept for the runs that use them.

A workflow run that started before the change keeps scheduling the old names (workflow.patched decides,
so its history replays as it ran). The new code sends those names today's CommandRun; an activity
scheduled by the old code and still being retried carries the old input, whose fields are the command's
own plus the subject's id, actor, command_key and at.
"""

from __future__ import annotations

from typing import Any

from clusterlabel.activities.models import CommandRun

# Today's command → the activity that ran it before.
LEGACY_ACTIVITY = {
    "Screen": "screen",
    "ProposeExpert": "propose_expert",
    "AnswerProposal": "respond_to_proposal",
    "TimeOutProposal": "time_out_proposal",
    "Escalate": "escalate",
    "RemindDeadline": "send_case_reminder",
    "RecordAgreement": "record_agreement",
    "ScheduleAudit": "schedule_audit",
    "SubmitAssessment": "submit_assessment",
    "RecordDecision": "record_decision",
    "LodgeAppeal": "lodge_appeal",
    "DecideAppeal": "decide_appeal",
    "WithdrawCase": "withdraw_case",
    "IssueLabel": "issue_label",
    "CloseCase": "close_case",
    "RemindExpiry": "send_expiry_reminder",
    "ExpireLabel": "expire_label",
    "CloseRenewalWindow": "close_renewal_window",
    "SuspendLabel": "suspend_label",
    "RestoreLabel": "restore_label",
    "WithdrawLabel": "withdraw_label",
    "StartRenewal": "start_renewal",
}
# Steps added after commands became data never ran under an old name: even a run recorded before
# then takes them through today's activity (see workflows/common.run_command).
ADDED_SINCE_COMMANDS_AS_DATA = frozenset(
    {
        "ReleaseExpert",
        "SignAssessment",
        "FreezeReport",
        "AttachEvidence",
        "ImportLabel",
        "RecordAuditHeld",
        "LodgeLabelAppeal",
        "DecideLabelAppeal",
        "OpenAppealWindow",
    }
)
COMMAND_OF_ACTIVITY = {activity: command for command, activity in LEGACY_ACTIVITY.items()}
_ENVELOPE_FIELDS = ("case_id", "label_id", "actor", "command_key", "at", "workflow_id")


def legacy_run(activity_name: str, raw: dict[str, Any]) -> CommandRun:
    """The command run behind an old activity name, from today's input or from the old one."""
    if "command" in raw and "envelope" in raw:
        return CommandRun.model_validate(raw)
    fields = {name: value for name, value in raw.items() if name not in _ENVELOPE_FIELDS}
    return CommandRun(
        subject_id=raw.get("case_id") or raw["label_id"],
        name=COMMAND_OF_ACTIVITY[activity_name],
        command=fields,
        envelope={"actor": raw["actor"], "key": raw["command_key"], "at": raw["at"]},
    )


def legacy_result(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The view inside an old activity's result: issue_label answered {label_id, case}, start_renewal
    {case_id, label}, send_case_reminder nothing (None: the view is unchanged)."""
    if result is None:
        return None
    if "case" in result and isinstance(result["case"], dict):
        return result["case"]
    if "label" in result and isinstance(result["label"], dict):
        return result["label"]
    return result
