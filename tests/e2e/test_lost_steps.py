"""A step whose command was recorded but whose workflow update was lost (the Temporal server stopped after the
command was written and before the step reached the workflow's history: the scaled-out fault scenario found
it) is retried by its caller under the same Idempotency-Key: the answer comes from the record, and the
record's workflow loads it again, so that it takes the next step from where the record stands.

The lost update is reproduced by writing the step's command straight to the event store under the key the
API gives the request, as the lost update's activity did before the server went away.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.domain import commands
from clusterlabel.domain.command_base import Command, Envelope, command_key
from clusterlabel.domain.complaint_commands import AcknowledgeComplaint
from clusterlabel.interfaces.settings import Settings
from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine

APPEAL = {"grounds": "The complaint concerned another cluster of the same name."}


def recorded_behind_the_workflow(engine: RunningEngine, kind: str, record_id: str, step: str, command: Command) -> str:
    """Record the step's command as its lost update did; the Idempotency-Key the caller then retries with."""
    idempotency_key = uuid.uuid4().hex
    app = CertificationApp(env=Settings(data_dir=engine.data_dir).eventsourcing_env())
    try:
        envelope = Envelope(actor="admin", key=command_key(kind, UUID(record_id), step, idempotency_key))
        handle(app, UUID(record_id), command, envelope)
    finally:
        app.close()
    return idempotency_key


def loaded(secretariat: Secretariat, path: str, body: dict[str, Any]) -> None:
    """The record's workflow has loaded the record: it refused a step out of turn (the domain refuses it
    under the workflow's lock, once the workflow has its view)."""
    answer = secretariat.api.post(path, json=body)
    assert answer.status_code == 409, answer.text


def retried(secretariat: Secretariat, path: str, idempotency_key: str, body: dict[str, Any]) -> Any:
    answer = secretariat.api.post(path, json=body, headers={"Idempotency-Key": idempotency_key})
    return secretariat.expect(answer, 200)


def test_a_label_suspended_behind_its_workflow_takes_the_appeal_once_the_suspension_is_retried(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster()))
    loaded(secretariat, f"/labels/{label_id}/restoration", {})
    reason = "complaint under review"
    key = recorded_behind_the_workflow(engine, "label", label_id, "suspend", commands.SuspendLabel(reason=reason))

    assert retried(secretariat, f"/labels/{label_id}/suspension", key, {"reason": reason})["state"] == "suspended"
    # The label's workflow took the suspension in: it takes the appeal against it (it refused it before, as
    # "active, not suspended or withdrawn").
    lodged = secretariat.expect(secretariat.api.post(f"/labels/{label_id}/appeal", json=APPEAL), 200)
    assert lodged["state"] == "suspended" and lodged["appeal"]["against"] == "suspended"


def test_a_case_screened_behind_its_workflow_gets_its_expert_proposed_once_the_screening_is_retried(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    loaded(secretariat, f"/cases/{case_id}/agreement", {"agreed": True})
    screening = {"accepted": True, "reason": "complete"}
    key = recorded_behind_the_workflow(engine, "case", case_id, "screen", commands.Screen(**screening))

    assert retried(secretariat, f"/cases/{case_id}/screening", key, screening)["state"] == "assigning"
    # The case's workflow moved on from screening: it proposes an expert (it waited for a screening before).
    secretariat.wait_for(case_id, "an expert proposal", lambda case: case["proposed_expert_id"], timeout=30)


def test_a_renewal_opened_behind_its_label_workflow_gets_its_case_workflow_once_the_renewal_is_retried(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster()))
    loaded(secretariat, f"/labels/{label_id}/restoration", {})
    key = recorded_behind_the_workflow(engine, "label", label_id, "renewal", commands.StartRenewal())

    answer = secretariat.api.post(f"/labels/{label_id}/renewal", headers={"Idempotency-Key": key})
    renewal = secretariat.expect(answer, 201)["case_id"]
    # The renewal's case has its workflow: it takes the screening (it answered 503 before, for good: the
    # lost update would have started the case's workflow after opening the case).
    screened = secretariat.expect(secretariat.api.post(f"/cases/{renewal}/screening", json={"accepted": True}), 200)
    assert screened["state"] == "assigning"


def test_a_complaint_acknowledged_behind_its_workflow_takes_the_investigation_once_the_acknowledgement_is_retried(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    label = secretariat.label(secretariat.award(secretariat.apply(secretariat.cluster())))
    complaint = {"about": label["label_code"], "text": "Shown by another cluster.", "contact_email": "c@example.org"}
    complaint_id = secretariat.expect(engine.client(None).post("/complaints", json=complaint), 201)["complaint_id"]
    loaded(secretariat, f"/complaints/{complaint_id}/investigation", {})
    key = recorded_behind_the_workflow(engine, "complaint", complaint_id, "acknowledge", AcknowledgeComplaint())

    assert retried(secretariat, f"/complaints/{complaint_id}/acknowledgement", key, {})["state"] == "acknowledged"
    # The complaint's workflow took the acknowledgement in: it takes the investigation (it refused it before,
    # as "received, not acknowledged").
    investigating = secretariat.expect(secretariat.api.post(f"/complaints/{complaint_id}/investigation"), 200)
    assert investigating["state"] == "investigating"
