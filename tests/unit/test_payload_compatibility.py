"""Payloads stored in workflow histories for years still decode when the models change compatibly: a
field another release added is ignored, and a field with a default that a payload lacks takes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from clusterlabel.activities.models import (
    Alarm,
    CaseRef,
    CaseView,
    ChooseExpertInput,
    CommandRun,
    ExpertChoice,
    LabelView,
)
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import RecordDecision, Screen, decode_command
from clusterlabel.workflows.messages import CaseWorkflowInput, ExpertsChanged, LabelWorkflowInput, RenewalEnded, Step
from clusterlabel.workflows.payloads import DATA_CONVERTER, RecordedPayloadConverter

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
ID = uuid4()

TODAY: list[tuple[type[BaseModel] | Any, dict[str, Any]]] = [
    (
        CaseView,
        {"case_id": ID, "cluster_id": ID, "level": "bronze", "kind": "initial", "state": "screening", "version": 1},
    ),
    (
        LabelView,
        {
            "label_id": ID,
            "label_code": "ECEI-B-AAAA-AAAA-AAAA",
            "case_id": ID,
            "cluster_id": ID,
            "level": "bronze",
            "state": "active",
            "version": 1,
            "valid_until": NOW,
            "renewable_until": NOW,
        },
    ),
    (Alarm, {"kind": "deadline", "at": NOW, "step": "audit"}),
    (CaseRef, {"case_id": ID, "at": NOW}),
    (ChooseExpertInput, {"case_id": ID, "at": NOW}),
    (ExpertChoice, {"expert_id": ID, "candidates": 1}),
    (
        CommandRun,
        {"subject_id": ID, "name": "Screen", "command": {"accepted": True}, "envelope": {"actor": "a", "key": "k"}},
    ),
    (Step[Screen], {"command": {"accepted": True}, "envelope": {"actor": "a", "key": "k"}}),
    (CaseWorkflowInput, {"case_id": ID}),
    (LabelWorkflowInput, {"label_id": ID}),
    (RenewalEnded, {"case_id": ID, "outcome": "abandoned"}),
    (ExpertsChanged, {"reason": "registered"}),
    (Envelope, {"actor": "a", "key": "k", "at": NOW}),
]


@pytest.mark.parametrize(("model", "payload"), TODAY, ids=lambda item: getattr(item, "__name__", ""))
def test_a_payload_with_a_field_a_later_release_added_still_decodes(model: Any, payload: dict[str, Any]) -> None:
    decoded = model.model_validate_json(model.model_validate(payload).model_dump_json()[:-1] + ', "added_later": 1}')

    assert decoded == model.model_validate(payload)


@pytest.mark.parametrize(("model", "payload"), TODAY, ids=lambda item: getattr(item, "__name__", ""))
def test_a_payload_without_a_field_that_has_a_default_still_decodes(model: Any, payload: dict[str, Any]) -> None:
    full = model.model_validate(payload).model_dump(mode="json")
    optional = [name for name, field in model.model_fields.items() if not field.is_required()]

    for name in optional:
        decoded = model.model_validate({key: value for key, value in full.items() if key != name})
        assert getattr(decoded, name) == model.model_fields[name].get_default(call_default_factory=True)


# A rationale pasted from a PDF before free text refused control characters (a form feed), as a
# workflow history keeps it in the step's update argument.
RECORDED_DECISION = (
    b'{"command": {"outcome": "refuse", "level": null, "rationale": "Weak.\\fSee annex.", "decided_by": "board"},'
    b' "envelope": {"actor": "secretariat", "key": "case:1:record_decision:k"}}'
)


def test_a_step_recorded_before_a_boundary_rule_still_decodes_from_its_history() -> None:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=RECORDED_DECISION)

    step = DATA_CONVERTER.payload_converter.from_payloads([payload], [Step[RecordDecision]])[0]

    assert step.command.rationale == "Weak.\fSee annex."
    with pytest.raises(ValidationError, match="control characters"):  # new input still meets the rule
        RecordDecision.model_validate({"outcome": "refuse", "rationale": "Weak.\fSee annex.", "decided_by": "b"})


def test_the_converter_built_for_each_workflow_activation_reads_as_recorded_and_shares_its_parts() -> None:
    # What the worker does for every activation and completion: a data converter of the same class, anew.
    built = DataConverter(payload_converter_class=RecordedPayloadConverter)
    payload = Payload(metadata={"encoding": b"json/plain"}, data=RECORDED_DECISION)

    step = built.payload_converter.from_payloads([payload], [Step[RecordDecision]])[0]

    assert step.command.rationale == "Weak.\fSee annex."
    # Nothing is built again for it (pydantic's JSON converter costs ~9 µs to build, twice an activation).
    assert RecordedPayloadConverter().converters[b"json/plain"] is RecordedPayloadConverter().converters[b"json/plain"]


def test_an_activity_retried_with_a_command_recorded_before_a_boundary_rule_still_decodes_it() -> None:
    command = decode_command("RecordDecision", {"outcome": "refuse", "rationale": "Weak.\fAnnex.", "decided_by": "b"})

    assert command.rationale == "Weak.\fAnnex."
