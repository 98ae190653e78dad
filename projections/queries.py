"""The read side's one entry point for the HTTP API and the CLI: typed queries, catch-up, rebuild.

No SQL leaves projections/: callers get pydantic models, plain dicts and mappings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar, cast
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from pydantic import BaseModel

from clusterlabel.domain.account import Role
from clusterlabel.domain.notification import DeliveryStatus
from clusterlabel.domain.webhook_delivery import WebhookDeliveryStatus
from clusterlabel.projections.accounts import AccountsView
from clusterlabel.projections.audit_history import AuditEntry, AuditHistoryView, state_as_of
from clusterlabel.projections.benchmarking import Benchmark, BenchmarkingView
from clusterlabel.projections.case_status import CaseStatus, CaseStatusView, ClusterName
from clusterlabel.projections.chain_head import AnchorCheck, ChainHead, chain_head, check_anchor
from clusterlabel.projections.complaints import ComplaintEntry, ComplaintsView
from clusterlabel.projections.event_chain import EventChainView, VerifyReport, verify
from clusterlabel.projections.event_log import EventLog
from clusterlabel.projections.expiry_calendar import CalendarEntry, ExpiryCalendarView
from clusterlabel.projections.invoices import InvoiceEntry, InvoicesView
from clusterlabel.projections.notifications import MessageEntry, NotificationsView
from clusterlabel.projections.parallel import ViewSource, split
from clusterlabel.projections.parked import ParkedView
from clusterlabel.projections.registry import RegistryEntry, RegistryView, Verification
from clusterlabel.projections.runner import Progress, ViewRunner
from clusterlabel.projections.statistics import StatisticsRow, StatisticsView
from clusterlabel.projections.view import View
from clusterlabel.projections.webhooks import WebhooksView
from clusterlabel.projections.workload import WorkloadView

log = structlog.get_logger(__name__)


class ChainTampered(Exception):
    """A rebuild of the chain was refused: the stored chain does not check out against the events."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(f"the chain finds {len(report.tampering())} problem(s) in the event log")
        self.report = report


class Calendar(BaseModel):
    expiring: list[CalendarEntry]
    renewal_windows_closing: list[CalendarEntry]
    overdue_cases: list[CaseStatus]


VT = TypeVar("VT", bound=View)


class ViewOf(Generic[VT]):
    """A ReadModels attribute that is its view of this class (by the class's name), typed as it."""

    def __init__(self, kind: type[VT]) -> None:
        self.kind = kind

    def __get__(self, models: ReadModels, owner: type[ReadModels]) -> VT:
        return models.view(self.kind)


# (where the views live, groups of view names, their positions, the log head, progress) → events read
InProcesses = Callable[[ViewSource, Sequence[Sequence[str]], Callable[[], dict[str, int]], int, Progress | None], int]


class ReadModels:
    """Queries over the views of one application, and the runner that keeps them current."""

    def __init__(
        self,
        app: Application[Any],
        views: Mapping[str, View],
        runner: ViewRunner,
        source: ViewSource | None = None,
        in_processes: InProcesses | None = None,
    ) -> None:
        self.app = app
        self.views = dict(views)
        self.runner = runner
        self.source = source
        self.in_processes = in_processes  # how the factory catches groups of views up in processes
        self.log = EventLog(app.recorder, runner.stored)

    # The views the HTTP layer reads beside these queries (interfaces/web); any other by view(kind).
    audit = ViewOf(AuditHistoryView)
    notifications = ViewOf(NotificationsView)
    webhooks = ViewOf(WebhooksView)

    def view(self, kind: type[VT]) -> VT:
        """The view of this class that these models keep: a view has one name, its class's."""
        return cast(VT, self.views[kind.name])

    # ---- keeping current ---------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None, processes: int = 1) -> int:
        """Bring every view up to the log head; with processes > 1, groups of views in parallel
        (when another process can open the same stores: not so for in-memory ones)."""
        if (
            processes > 1
            and len(self.views) > 1
            and self.source is not None
            and self.source.shared
            and self.in_processes
        ):
            groups = split(list(self.views.values()), processes)
            return self.in_processes(self.source, groups, self.runner.positions, self.runner.head(), progress)
        return self.runner.run_until_caught_up(progress)

    def lag(self) -> dict[str, int]:
        return self.runner.lag()

    def parked(self) -> list[ParkedView]:
        """Views stopped on an event they cannot apply (projections/parked.py); rebuilding one un-parks it."""
        return self.runner.parked()

    def start(self) -> None:
        self.runner.start()

    def stop(self) -> None:
        self.runner.stop()

    def rebuild(
        self, progress: Progress | None = None, processes: int = 1, accept_tampering: bool = False, rekey: bool = False
    ) -> int:
        """Drop every view (of these models) and rebuild it from the whole log, un-parking it; the events read.

        The chain is the evidence of tampering, so it is verified first, and a rebuild that would make a new
        chain over a tampered log raises ChainTampered, unless `accept_tampering` (logged as an error)."""
        self.check_before_rebuild(accept_tampering, rekey)
        self.rebuild_tables()
        return self.catch_up(progress, processes)

    def check_before_rebuild(self, accept_tampering: bool = False, rekey: bool = False) -> VerifyReport | None:
        """Verify the chain when it is among the views to rebuild; unkeyed links pass only when `rekey`."""
        if EventChainView.name not in self.views:
            return None
        report = self.verify()
        found = report.tampering(rekey)
        if found and not accept_tampering:
            raise ChainTampered(report)
        if found:
            log.error(
                "chain.rebuilt_over_tampering",
                problems=len(found),
                first=found[0].model_dump(mode="json"),
                note="the new chain vouches for the log as it is now; the evidence of these problems is gone",
            )
        return report

    def rebuild_tables(self) -> None:
        """Empty every view and forget its position (and where it was parked): the next catch-up starts from zero."""
        for view in self.views.values():
            view.reset(self.runner.application_name)
        self.runner.forget_reached()

    def close(self) -> None:
        self.runner.stop()
        for view in self.views.values():
            view.datastore.close()  # type: ignore[attr-defined]

    def __enter__(self) -> ReadModels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- case status -------------------------------------------------------------------------

    def case(self, case_id: UUID, now: datetime) -> CaseStatus | None:
        return self.view(CaseStatusView).case(case_id, now)

    def cases(self, now: datetime, **filters: Any) -> list[CaseStatus]:
        """Cases filtered as CaseStatusView.cases takes them (state, cluster, expert, overdue, ...)."""
        return self.view(CaseStatusView).cases(now, **filters)

    def clusters(self, **filters: Any) -> list[ClusterName]:
        """Registered clusters by name, filtered as CaseStatusView.clusters takes them (text, country, ...)."""
        return self.view(CaseStatusView).clusters(**filters)

    def dashboard(self, now: datetime) -> dict[str, Any]:
        """Counts per case state, plus how many are overdue, how many need attention, and how many messages
        could not be delivered."""
        cases = self.view(CaseStatusView)
        return {
            "states": cases.state_counts(),
            "overdue": cases.overdue_count(now),
            "needs_attention": len(cases.cases(now, needs_attention=True, limit=1_000_000)),
            "failed_deliveries": self.failed_messages(),
        }

    # ---- audit ---------------------------------------------------------------------------------

    def history(self, aggregate_id: UUID, *more: UUID) -> list[AuditEntry]:
        """Every event of one case, label, expert or notification (and of `more` such records), in log order."""
        return self.audit.history([aggregate_id, *more], self.log)

    def cluster_history(self, cluster_id: UUID, only: Collection[UUID] | None = None) -> list[AuditEntry]:
        """The cluster's events and those of its cases and labels; given `only`, those records' events alone."""
        return self.audit.cluster_history(cluster_id, self.log, only)

    def as_of(self, aggregate_id: UUID, instant: datetime) -> dict[str, Any] | None:
        """A case or label (any aggregate) as it stood at `instant`; None before it existed."""
        try:
            return state_as_of(self.app.repository, self.audit, aggregate_id, instant)
        except AggregateNotFoundError:
            return None

    def verify(self) -> VerifyReport:
        """Re-read the event table and report every event altered, removed or reordered."""
        return verify(self.app.recorder, self.view(EventChainView), self.runner.application_name)

    def chain_head(self, now: datetime) -> ChainHead | None:
        """The chain's head, to anchor outside the database (`clusterlabel verify --head`)."""
        return chain_head(self.view(EventChainView), now)

    def check_anchor(self, anchored: ChainHead) -> AnchorCheck:
        """Whether the chain still extends a head anchored earlier (`clusterlabel verify --against`)."""
        return check_anchor(self.view(EventChainView), anchored)

    # ---- registry and calendar -----------------------------------------------------------------

    def public_registry(self, now: datetime, **filters: Any) -> list[RegistryEntry]:
        return self.view(RegistryView).entries(now, **filters)

    def label(self, label_id: UUID, now: datetime) -> RegistryEntry | None:
        return self.view(RegistryView).label(label_id, now)

    def verify_label(self, label_code: str, verification_code: str, now: datetime) -> Verification:
        return self.view(RegistryView).verify(label_code, verification_code, now)

    def calendar(self, now: datetime, within: timedelta) -> Calendar:
        labels = self.view(ExpiryCalendarView)
        return Calendar(
            expiring=labels.expiring(now, within),
            renewal_windows_closing=labels.renewal_windows_closing(now, within),
            overdue_cases=self.view(CaseStatusView).cases(now, overdue=True, limit=1_000_000),
        )

    # ---- experts and benchmarking ----------------------------------------------------------------

    def expert_workload(self) -> dict[UUID, int]:
        """Open assignments per expert, as CertificationApp.eligible_experts(workload=...) takes."""
        return self.view(WorkloadView).workload()

    def benchmark(self, case_id: UUID, minimum: int = 1) -> Benchmark | None:
        """The case against the narrowest peer group of at least `minimum` (the policy's peer_group_minimum)."""
        return self.view(BenchmarkingView).benchmark(case_id, minimum)

    # ---- accounts and the outbox ----------------------------------------------------------------

    def accounts_of_expert(self, expert_id: UUID) -> list[UUID]:
        return self.view(AccountsView).of_expert(expert_id)

    def expert_had_an_account(self, expert_id: UUID) -> bool:
        return self.view(AccountsView).ever_opened_for(expert_id)

    def experts_locked_out(self) -> set[UUID]:
        """Experts none of whose accounts is active, as CertificationApp.eligible_experts(locked_out=...) takes."""
        return self.view(AccountsView).experts_locked_out()

    def cluster_contacts(self, cluster_id: UUID) -> list[UUID]:
        return self.view(AccountsView).contacts(cluster_id)

    def accounts_holding(self, role: Role) -> list[UUID]:
        return self.view(AccountsView).holding(role)

    def messages(self, **filters: Any) -> list[MessageEntry]:
        """Messages of the outbox, filtered as NotificationsView.messages takes them (status, case_id, paging)."""
        return self.notifications.messages(**filters)

    def complaints(self, **filters: Any) -> list[ComplaintEntry]:
        """Complaints, filtered as ComplaintsView.complaints takes them (state, paging)."""
        return self.view(ComplaintsView).complaints(**filters)

    def complaint_counts(self, now: datetime) -> dict[str, Any]:
        return self.view(ComplaintsView).counts(now)

    def statistics(self, now: datetime, by: Sequence[str]) -> list[StatisticsRow]:
        return self.view(StatisticsView).counts(now, by)

    def invoices(self, **filters: Any) -> list[InvoiceEntry]:
        """Invoices, filtered as InvoicesView.invoices takes them (state, cluster_id, paging)."""
        return self.view(InvoicesView).invoices(**filters)

    def overdue_invoices(self, now: datetime) -> int:
        return self.view(InvoicesView).overdue_count(now)

    def failed_messages(self) -> int:
        return self.notifications.count(DeliveryStatus.FAILED)

    def outbox(self, status: Literal["queued", "failed"]) -> dict[str, int]:
        """How many messages and webhook deliveries are queued (the outbox's depth) or failed, by kind."""
        return {
            "message": self.notifications.count(DeliveryStatus(status)),
            "webhook": self.webhooks.count_deliveries(WebhookDeliveryStatus(status)),
        }

    def dump(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Every row of every view (to compare an incremental build with a rebuild)."""
        return {name: view.dump() for name, view in self.views.items()}
