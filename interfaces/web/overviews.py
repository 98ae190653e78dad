"""The secretariat's overviews: labels expiring and renewal windows closing, an expert's workload, and
the dashboard's counts (read from the views; the steps on labels are in interfaces/web/labels.py)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.durations import BOUNDED_DURATION, Duration, InvalidDuration
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.access import visible_expert
from clusterlabel.interfaces.web.auth import Caller, Staff
from clusterlabel.interfaces.web.common import ERRORS, case_summary
from clusterlabel.interfaces.web.errors import invalid
from clusterlabel.interfaces.web.schemas import DashboardOut, ExpiringOut, WorkloadOut
from clusterlabel.interfaces.web.services import Services, Svc

router = APIRouter(tags=["labels"], responses=ERRORS)


@router.get("/expiring", summary="Labels expiring, renewal windows closing, overdue cases")
def expiring(
    svc: Svc,
    who: Staff,
    within: Annotated[
        # Declared, not enforced by FastAPI: Duration.parse answers with the clearer message.
        str, Query(max_length=40, examples=["P90D"], json_schema_extra={"pattern": BOUNDED_DURATION})
    ] = "P90D",
) -> ExpiringOut:
    try:
        span = Duration.parse(within)
        now = svc.now()
        delta = span.after(now) - now
    except (InvalidDuration, ValueError, OverflowError) as error:
        raise invalid(str(error), ("query", "within")) from None
    svc.fresh()
    calendar = svc.models.calendar(now, delta)
    return ExpiringOut(
        within=str(span),
        expiring=[entry.model_dump() for entry in calendar.expiring],
        renewal_windows_closing=[entry.model_dump() for entry in calendar.renewal_windows_closing],
        overdue_cases=[case_summary(status, who) for status in calendar.overdue_cases],
    )


@router.get("/experts/{expert_id}/workload", summary="An expert's open assignments")
def workload(expert_id: UUID, svc: Svc, who: Caller) -> WorkloadOut:
    visible_expert(svc, expert_id, who)
    svc.fresh()
    cases = svc.models.cases(svc.now(), expert_id=expert_id, limit=1_000_000)
    return WorkloadOut(
        expert_id=expert_id,
        open_assignments=svc.models.expert_workload().get(expert_id, 0),
        cases=[case_summary(status, who) for status in cases],
    )


@router.get("/dashboard", summary="Counts for the secretariat's dashboard")
async def dashboard(svc: Svc, who: Staff) -> DashboardOut:
    counts = await run_in_threadpool(_dashboard_counts, svc)
    status = await svc.reconciliation()
    reconciliation = None if status is None else status.model_dump()
    return DashboardOut(**counts, reconciliation=reconciliation)


def _dashboard_counts(svc: Services) -> dict[str, Any]:
    svc.fresh()
    now = svc.now()
    labels = {status.value: 0 for status in LabelState}
    for entry in svc.models.public_registry(now, limit=1_000_000):
        labels[entry.status] = labels.get(entry.status, 0) + 1
    parked = [view.model_dump() for view in svc.models.parked()]
    counts = {**svc.models.dashboard(now), **svc.models.complaint_counts(now)}
    return {**counts, "labels": labels, "projection_lag": svc.models.lag(), "parked_views": parked}
