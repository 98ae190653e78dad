"""Activities scheduled by workflow code from before commands were data still run: each old activity
name, with the input the old code sent it (or today's CommandRun), becomes today's command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from clusterlabel.activities.legacy import (
    ADDED_SINCE_COMMANDS_AS_DATA,
    COMMAND_OF_ACTIVITY,
    LEGACY_ACTIVITY,
    legacy_result,
    legacy_run,
)
from clusterlabel.activities.models import command_run
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import COMMANDS, Screen, SubmitAssessment, decode_command

SUBJECT = uuid4()
EXPERT = uuid4()
AT = "2026-03-10T09:00:00Z"

# What the old workflow code sent each activity, besides the subject's id, actor, command_key and at.
OLD_FIELDS: dict[str, dict[str, Any]] = {
    "screen": {"accepted": False, "reason": "incomplete"},
    "propose_expert": {"expert_id": str(EXPERT)},
    "respond_to_proposal": {"expert_id": str(EXPERT), "accept": False, "reason": "busy"},
    "time_out_proposal": {"expert_id": str(EXPERT)},
    "escalate": {"reason": "the audit deadline has passed"},
    "send_case_reminder": {"step": "audit", "offset": "P7D", "due": AT},
    "record_agreement": {"agreed": True},
    "schedule_audit": {"audit_date": AT},
    "submit_assessment": {"expert_id": str(EXPERT), "scores": {"B-STR-01": 4}, "evidence": {}, "report": "Done."},
    "record_decision": {"outcome": "award", "level": "bronze", "rationale": "Met.", "decided_by": "board"},
    "lodge_appeal": {"grounds": "Evidence ignored."},
    "decide_appeal": {"upheld": True, "rationale": "Valid.", "decided_by": "appeals"},
    "withdraw_case": {"reason": "merger"},
    "issue_label": {},
    "close_case": {},
    "send_expiry_reminder": {"offset": "P90D"},
    "expire_label": {},
    "close_renewal_window": {},
    "suspend_label": {"reason": "complaint"},
    "restore_label": {},
    "withdraw_label": {"reason": "misuse"},
    "start_renewal": {"improvement_areas": []},
}


LABEL_ACTIVITIES = {
    "send_expiry_reminder",
    "expire_label",
    "close_renewal_window",
    "suspend_label",
    "restore_label",
    "withdraw_label",
    "start_renewal",
}


def old_input(activity: str) -> dict[str, Any]:
    subject = "label_id" if activity in LABEL_ACTIVITIES else "case_id"
    envelope = {"actor": "system:workflow", "command_key": f"case:{SUBJECT}:{activity}", "at": AT}
    return {subject: str(SUBJECT), **envelope, **OLD_FIELDS[activity]}


def test_every_command_has_the_activity_name_the_old_code_used_and_back() -> None:
    # Only the steps on cases and labels ever ran as activities; the registrations never had a workflow.
    stepped = {name for name, kind in COMMANDS.items() if kind.subject in ("case", "label")}
    assert set(LEGACY_ACTIVITY) == stepped - ADDED_SINCE_COMMANDS_AS_DATA
    assert set(OLD_FIELDS) == set(COMMAND_OF_ACTIVITY)


@pytest.mark.parametrize("activity", sorted(OLD_FIELDS))
def test_an_old_activity_input_becomes_todays_command_with_its_envelope(activity: str) -> None:
    run = legacy_run(activity, old_input(activity))
    command = decode_command(run.name, run.command)

    assert run.name == COMMAND_OF_ACTIVITY[activity]
    assert run.subject_id == SUBJECT
    assert run.envelope.key == f"case:{SUBJECT}:{activity}"
    assert run.envelope.at == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert run.command == OLD_FIELDS[activity]
    assert command.subject == ("label" if activity in LABEL_ACTIVITIES else "case")


def test_an_old_assessment_input_becomes_scored_indicators() -> None:
    command = decode_command(*_named(legacy_run("submit_assessment", old_input("submit_assessment"))))

    assert isinstance(command, SubmitAssessment)
    assert [(item.code, item.score) for item in command.indicators] == [("B-STR-01", 4)]
    assert command.expert_id == EXPERT


def test_todays_command_run_under_an_old_name_passes_through_unchanged() -> None:
    run = command_run(SUBJECT, Screen(accepted=True, reason="ok"), Envelope(actor="a", key="k", at=datetime.now(UTC)))

    assert legacy_run("screen", run.model_dump(mode="json")) == run


def test_old_results_give_up_the_view_inside_them() -> None:
    view = {"case_id": str(SUBJECT), "state": "awarded"}

    assert legacy_result({"label_id": str(uuid4()), "case": view}) == view  # issue_label
    assert legacy_result({"case_id": str(uuid4()), "label": view}) == view  # start_renewal
    assert legacy_result(None) is None  # send_case_reminder answered nothing
    assert legacy_result(view) == view


def _named(run: Any) -> tuple[str, dict[str, Any]]:
    return run.name, run.command
