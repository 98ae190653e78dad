"""The secretariat's digest as a worker runs it: what it reports, read from the read models, and its
schedule, created as a worker starts (workflows/digest_schedule.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import Client

from clusterlabel.activities.digest import DigestSource
from clusterlabel.domain.digest import DigestFacts, ExpiringLabel, FailedMessage, OverdueCase, OverdueInvoice
from clusterlabel.domain.invoice import InvoiceState
from clusterlabel.domain.notification import DeliveryStatus
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.settings import Settings
from clusterlabel.projections.case_status import CaseStatus
from clusterlabel.projections.expiry_calendar import CalendarEntry
from clusterlabel.projections.queries import ReadModels
from clusterlabel.workflows.digest_schedule import ensure_digest_schedule

log = get_logger(__name__)
MOST_FAILED = 500


def digest_source(models: ReadModels) -> DigestSource:
    """What the digest reports, as the read models have it (the worker's copy of them: read only)."""

    def facts(now: datetime, horizon: timedelta) -> DigestFacts:
        calendar = models.calendar(now, horizon)
        failed = models.messages(status=DeliveryStatus.FAILED, limit=MOST_FAILED)
        unpaid = models.invoices(state=InvoiceState.UNPAID, limit=MOST_FAILED)  # the one due first first
        return DigestFacts(
            overdue=[_overdue(case) for case in calendar.overdue_cases if case.due_at is not None],
            expiring=[_expiring(entry) for entry in calendar.expiring],
            failed=[
                FailedMessage(notification_id=entry.id, kind=entry.kind, recipient=entry.recipient) for entry in failed
            ],
            unpaid=[
                OverdueInvoice.model_validate(entry, from_attributes=True) for entry in unpaid if entry.is_overdue(now)
            ],
        )

    return facts


def _overdue(case: CaseStatus) -> OverdueCase:
    assert case.due_at is not None
    deadline = case.current_deadline or "a deadline"
    return OverdueCase(
        case_id=case.case_id, cluster_name=case.cluster_name or "", deadline=deadline, due_at=case.due_at
    )


def _expiring(entry: CalendarEntry) -> ExpiringLabel:
    return ExpiringLabel(
        label_id=entry.label_id, label_code=entry.label_code, cluster_name=entry.cluster_name, valid_until=entry.due
    )


async def start_digest(client: Client, settings: Settings) -> None:
    """Create (or update) the digest's schedule as a worker starts. A failure is logged, not fatal: the
    next worker to start tries again."""
    try:
        await ensure_digest_schedule(client, settings.task_queue, settings.digest_every, settings.digest_at)
    except Exception as error:
        log.error("digest not scheduled", error=str(error) or type(error).__name__)
        return
    log.info("digest scheduled", every=str(settings.digest_every), at=str(settings.digest_at))
