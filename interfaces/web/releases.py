"""Taking an expert off open cases: their certification was revoked (interfaces/web/experts.py), or a
conflict of interest with a cluster was recorded (an affiliation; an account that speaks for the cluster).
Each release is a step of the case's workflow, so that the case proposes another expert."""

from __future__ import annotations

from uuid import UUID

from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.base import DomainError
from clusterlabel.domain.case_lifecycle import CASE_STEPS
from clusterlabel.domain.command_base import Envelope, command_key
from clusterlabel.domain.commands import ReleaseExpert
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web.access import EVERY_CASE
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.services import Services
from clusterlabel.interfaces.web.steps import take_step
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.starter import case_handle

log = get_logger(__name__)
RELEASABLE = {state.value for state in CASE_STEPS["release_expert"][0]}


async def release_from_open_cases(
    svc: Services, who: Principal, expert_id: UUID, reason: str, step_key: str, cluster_id: UUID | None = None
) -> list[UUID]:
    """Take the expert off every case (of `cluster_id`, if given) still before its assessment; a retried
    request (same key) releases none twice. A case that moved on meanwhile keeps the expert's submitted work."""
    await run_in_threadpool(svc.fresh)
    statuses = await run_in_threadpool(
        svc.models.cases, svc.now(), expert_id=expert_id, cluster_id=cluster_id, limit=EVERY_CASE
    )
    released = []
    for status in statuses:
        if status.state not in RELEASABLE:
            continue
        command = ReleaseExpert(expert_id=expert_id, reason=reason)
        envelope = Envelope(actor=who.actor, key=command_key("case", status.case_id, "release_expert", step_key))
        try:
            await take_step(
                svc,
                case_handle(svc.temporal(), status.case_id),
                CaseWorkflow.release_expert,
                command,
                envelope,
                still_open=lambda: True,
                closed_detail=lambda: "",
            )
        except (ApiError, DomainError) as refusal:
            if isinstance(refusal, ApiError) and refusal.status >= 500:
                raise  # the engine is away: the same request sent again (same key) releases the rest, once
            log.warning("expert not released from a case", case_id=str(status.case_id), reason=str(refusal))
            continue
        released.append(status.case_id)
    return released
