"""The activities: the only code the workflows use to touch the event store and the outside world.

Two run commands (one for cases, one for labels) through the application's handler table and answer
with a view of the aggregate as saved; the others read a case or a label, or choose an expert.
eventsourcing is synchronous, so these are plain functions, run by the worker on a thread pool.
A domain refusal is final (a non-retryable ApplicationError carrying the error's details, rebuilt on
the other side by DomainError.from_details); a concurrency conflict is retried by Temporal.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import structlog
from temporalio import activity
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.legacy import legacy_run
from clusterlabel.activities.models import (
    CaseRef,
    CaseView,
    ChooseExpertInput,
    CommandRun,
    ExpertChoice,
    LabelRef,
    LabelView,
)
from clusterlabel.activities.views import case_view, label_view
from clusterlabel.domain.base import ConcurrencyConflict, DomainError
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.commands import decode_command
from clusterlabel.domain.label import Label
from clusterlabel.domain.policy import Policy

log = structlog.stdlib.get_logger(__name__)


@contextmanager
def unit_of_work(**ids: Any) -> Iterator[None]:
    """Bind the ids to every log line of the activity, and turn domain refusals into Temporal failures."""
    info = activity.info() if activity.in_activity() else None
    bound = {name: str(value) for name, value in ids.items() if value is not None}
    if info is not None:
        bound.update(workflow_id=info.workflow_id or "", activity=info.activity_type, attempt=str(info.attempt))
    with structlog.contextvars.bound_contextvars(**bound):
        try:
            yield
        except ConcurrencyConflict as error:
            log.warning("concurrency conflict, Temporal retries", error=error.message)
            raise ApplicationError(error.message, error.details(), type=type(error).__name__) from error
        except DomainError as error:
            log.info("command refused", error=error.message, error_type=type(error).__name__)
            raise ApplicationError(
                error.message, error.details(), type=type(error).__name__, non_retryable=True
            ) from error


# The records a command runs on, each with the log field naming its id, and the views of them.
Record = TypeVar("Record", CertificationCase, Label)
View = TypeVar("View", CaseView, LabelView)
Read = TypeVar("Read")
_LOGGED_AS: dict[type[Any], str] = {CertificationCase: "case_id", Label: "label_id"}

# How the SDK marks a function @activity.defn made an activity.
_ACTIVITY_MARK = "__temporal_activity_definition"


@dataclass(eq=False)  # compared by identity: a worker holds their bound methods
class BoundActivities:
    """Activity methods bound to one application, and to whatever else a subclass names as its fields."""

    app: CertificationApp

    def all(self) -> list[Callable[..., Any]]:
        """The bound activity functions, for Worker(activities=...): every method marked @activity.defn,
        so that a new activity reaches the worker without a second mention."""
        kind = type(self)
        return [getattr(self, name) for name in dir(kind) if hasattr(getattr(kind, name), _ACTIVITY_MARK)]


@dataclass(eq=False)
class CertificationActivities(BoundActivities):
    """Every activity of the certification workflows, bound to one application (one event store).

    None takes Temporal's cancellation as an exception raised into its thread: one landing inside
    eventsourcing's connection pool would keep its writer connection for good, and no command of this
    worker could write again. A cancelled (timed-out) command ends when its database call returns;
    the lock timeout keeps that under the activity's timeout, and its key makes a late commit harmless.
    """

    # Open assignments per expert (a read model), to balance proposals.
    workload: Callable[[], Mapping[UUID, int]] | None = None
    # Experts whose every account is deactivated (a read model): never proposed.
    locked_out: Callable[[], Collection[UUID]] | None = None

    @activity.defn(no_thread_cancel_exception=True)
    def load_case(self, input: CaseRef) -> CaseView:
        with unit_of_work(case_id=input.case_id):
            return case_view(self.app.policy, self.app.get_case(input.case_id), input.at)

    @activity.defn(no_thread_cancel_exception=True)
    def load_label(self, input: LabelRef) -> LabelView:
        with unit_of_work(label_id=input.label_id):
            return label_view(self.app.policy, self.app.get_label(input.label_id), input.at)

    @activity.defn(no_thread_cancel_exception=True)
    def run_case_command(self, run: CommandRun) -> CaseView:
        return self._run(run, CertificationCase, case_view)

    @activity.defn(no_thread_cancel_exception=True)
    def run_label_command(self, run: CommandRun) -> LabelView:
        return self._run(run, Label, label_view)

    @activity.defn(dynamic=True, no_thread_cancel_exception=True)
    def run_legacy_command(self, args: Sequence[RawValue]) -> CaseView | LabelView:
        """The activity names workflows used before commands were data (screen, expire_label, ...):
        runs started before that change still schedule them. Answers with the view of today's commands."""
        name = activity.info().activity_type
        raw = activity.payload_converter().from_payload(args[0].payload, dict)
        run = legacy_run(name, raw)
        if decode_command(run.name, run.command).subject == "label":
            return self.run_label_command(run)
        return self.run_case_command(run)

    def _run(self, run: CommandRun, kind: type[Record], view: Callable[[Policy, Record, datetime], View]) -> View:
        """Run the command on its record (a `kind`), and answer with the `view` of the record as saved."""
        with unit_of_work(**{_LOGGED_AS[kind]: run.subject_id}, command=run.name):
            record = self._handle(run)
            assert isinstance(record, kind)
            return view(self.app.policy, record, run.envelope.instant())

    def _handle(self, run: CommandRun) -> Any:
        command = decode_command(run.name, run.command)
        result = handle(self.app, run.subject_id, command, run.envelope)
        # The handlers log nothing themselves (the bench and scripts call them directly): one line here.
        log.info("command handled", command=run.name)
        return result

    @activity.defn(no_thread_cancel_exception=True)
    def choose_expert(self, input: ChooseExpertInput) -> ExpertChoice:
        """The next eligible expert for the case's open seat, or none."""
        with unit_of_work(case_id=input.case_id):
            eligible = self.app.eligible_experts(
                input.case_id,
                at=input.at,
                workload=self._read_side(self.workload, "workload"),
                locked_out=self._read_side(self.locked_out, "accounts") or (),
            )
            log.info("experts considered", eligible=len(eligible))
            return ExpertChoice(expert_id=eligible[0] if eligible else None, candidates=len(eligible))

    def _read_side(self, read: Callable[[], Read] | None, what: str) -> Read | None:
        """What the read side says (None without it); a proposal never waits on it or fails for it: it goes by
        the write side alone (in name order, to every eligible expert) while the views are unavailable."""
        if read is None:
            return None
        try:
            return read()
        except Exception:
            log.warning("expert proposals without a read model", read_model=what, exc_info=True)
            return None
