"""A step asked again after its worker died having written it is let through by the workflow's update
validator (the domain then answers it with the record, as the first time); the same step under another
key is still refused out of turn before anything is recorded."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from clusterlabel.activities.views import label_view
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import SuspendLabel
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.messages import Step
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Lifecycle, memory_app

SUSPEND = SuspendLabel(reason="A complaint is investigated.")


def a_workflow_seeing_its_label_suspended_under(key: str) -> LabelWorkflow:
    """The label's workflow after its retried task loaded the label, the suspension already in it."""
    life = Lifecycle(memory_app())
    _, label_id = life.labelled()
    send(life.app, label_id, SUSPEND, actor=SECRETARIAT, command_key=key)
    workflow = LabelWorkflow()
    workflow._view = label_view(life.app.policy, life.app.get_label(label_id), life.app.clock())
    assert workflow._view.state == "suspended" and key in workflow._view.recent_keys
    return workflow


def test_the_step_the_record_holds_under_its_key_is_let_through() -> None:
    workflow = a_workflow_seeing_its_label_suspended_under("label-x/suspend")
    workflow._validate(Step(command=SUSPEND, envelope=Envelope(actor=SECRETARIAT, key="label-x/suspend")))


def test_the_same_step_under_another_key_is_refused_out_of_turn() -> None:
    workflow = a_workflow_seeing_its_label_suspended_under("label-x/suspend")
    with pytest.raises(ApplicationError, match="suspend"):
        workflow._validate(Step(command=SUSPEND, envelope=Envelope(actor=SECRETARIAT, key="label-x/suspend-again")))
