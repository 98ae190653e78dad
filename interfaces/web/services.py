"""What the HTTP layer works with: the application, the read models, the tokens, the idempotency keys and
the Temporal client.

The engine builds one Services when it starts and hands it to create_app(); routes reach it through
the `services` dependency. The Temporal client arrives once the server is reachable: until then steps
answer 503, while /health says what is still starting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Protocol, TypeVar

from fastapi import Depends, Request

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.documents.certificate import Party
from clusterlabel.activities.files import FileStore
from clusterlabel.interfaces.settings import (
    DEFAULT_COMPLAINT_RATE_LIMIT,
    DEFAULT_EVIDENCE_MAX_BYTES,
    DEFAULT_ISSUER_ADDRESS,
    DEFAULT_ISSUER_COUNTRY,
    DEFAULT_ISSUER_NAME,
    DEFAULT_PUBLIC_URL,
)
from clusterlabel.interfaces.web.account_book import AccountBook
from clusterlabel.interfaces.web.account_tokens import AccountTokens
from clusterlabel.interfaces.web.assessment_drafts import AssessmentDrafts
from clusterlabel.interfaces.web.complainants import Complainants
from clusterlabel.interfaces.web.credentials import Credentials
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.idempotency_keys import IdempotencyKeys
from clusterlabel.interfaces.web.inbox_reads import InboxReads
from clusterlabel.interfaces.web.people import People
from clusterlabel.interfaces.web.ratelimit import PublicRateLimit, SignInFailures
from clusterlabel.interfaces.web.tokens import TokenStore
from clusterlabel.interfaces.web.webhook_secrets import WebhookSecretStore
from clusterlabel.interfaces.web.workflow_links import WorkflowLinks
from clusterlabel.projections.queries import ReadModels
from clusterlabel.workflows.reconciler import ReconcileStatus, last_reconciliation

if TYPE_CHECKING:
    from temporalio.client import Client

T = TypeVar("T")
DEFAULT_ISSUER = Party(name=DEFAULT_ISSUER_NAME, address=DEFAULT_ISSUER_ADDRESS, country=DEFAULT_ISSUER_COUNTRY)
FRESH_TIMEOUT_SECONDS = 5.0
FRESH_POLL_SECONDS = 0.02
# Public reads ask the view's age often; the log head and a view's position are re-read at most this often.
VIEW_AGE_RECHECK_SECONDS = 0.5
PUBLIC_VIEW = "registry"
# The last reconciliation changes every few minutes; dashboards ask Temporal at most this often.
RECONCILIATION_RECHECK_SECONDS = 30.0
RECONCILIATION_TIMEOUT_SECONDS = 2.0


async def _nothing_checked() -> dict[str, str]:
    return {}


def _served(part: T | None, missing: str, headers: dict[str, str] | None = None) -> T:
    """A part of the services that only some processes have: 503 in one that lacks it."""
    if part is None:
        raise ApiError(503, missing, headers)
    return part


class _Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class Services:
    app: CertificationApp
    models: ReadModels
    tokens: TokenStore
    task_queue: str
    # Which request each Idempotency-Key stands for (interfaces.web.idempotency).
    idempotency_keys: IdempotencyKeys
    # The accounts' people (names, e-mail addresses) and personal API tokens, beside the event store.
    people: People
    account_tokens: AccountTokens
    client: Client | None = None
    # Name -> "ok" or what is wrong, for /health; the engine supplies the real checks.
    readiness: Callable[[], Awaitable[dict[str, str]]] = field(default=_nothing_checked)
    # Settings.public_url: links the public follows (badge, certificate) start with it.
    public_url: str = DEFAULT_PUBLIC_URL
    public_limit: PublicRateLimit = field(default_factory=PublicRateLimit)
    complaint_limit: PublicRateLimit = field(default_factory=lambda: PublicRateLimit(DEFAULT_COMPLAINT_RATE_LIMIT))
    signin_failures: SignInFailures = field(default_factory=SignInFailures)
    # Settings.issuer_*: the certification body every certificate names as its issuer.
    issuer: Party = DEFAULT_ISSUER
    # The pages' sign-in (passwords, sessions, one-time links, second factors); None where no page is served.
    credentials: Credentials | None = None
    # The secrets that sign the partners' webhooks; None where this process registers none.
    webhook_secrets: WebhookSecretStore | None = None
    # Which messages each person has opened in their inbox; None where no inbox is served.
    inbox_reads: InboxReads | None = None
    # The complainants' e-mail addresses, beside the event store; None where no complaint is taken.
    complainants: Complainants | None = None
    # Where Temporal's Web UI shows each workflow, once known (the embedded server's UI, or a cluster's).
    workflow_links: WorkflowLinks | None = None
    # CLUSTERLABEL_METRICS_TOKEN: /metrics asks for it when set (interfaces/web/metrics.py).
    metrics_token: str | None = field(default=None, repr=False)
    # The experts' drafts of their assessments; None where no assessment form is served.
    assessment_drafts: AssessmentDrafts | None = None
    # Where evidence documents are kept (activities/files.py), and the largest one a case takes.
    files: FileStore | None = None
    evidence_max_bytes: int = DEFAULT_EVIDENCE_MAX_BYTES
    _view_age: ViewAge = field(init=False)
    _reconciliation: tuple[float, ReconcileStatus] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._view_age = ViewAge(self.models)

    def now(self) -> datetime:
        return self.app.clock()

    def close_stores(self) -> None:
        """Close the stores beside the event store (the engine's, opened by bootstrap.open_services)."""
        stores: list[_Closable | None] = [
            self.tokens,
            self.idempotency_keys,
            self.people,
            self.complainants,
            self.account_tokens,
            self.credentials,
            self.webhook_secrets,
            self.inbox_reads,
            self.assessment_drafts,
        ]
        for store in stores:
            if store is not None:
                store.close()

    @property
    def accounts(self) -> AccountBook:
        """Opening and changing accounts, as the command line does it too."""
        return AccountBook(self.app, self.people, self.account_tokens, self.credentials, self.tokens)

    def sign_in(self) -> Credentials:
        return _served(self.credentials, "this process does not serve the pages' sign-in")

    def secrets_of_webhooks(self) -> WebhookSecretStore:
        return _served(self.webhook_secrets, "this process keeps no webhook secrets")

    def inbox(self) -> InboxReads:
        return _served(self.inbox_reads, "this process does not serve the inbox")

    def complaint_addresses(self) -> Complainants:
        return _served(self.complainants, "this process does not take complaints")

    def file_store(self) -> FileStore:
        return _served(self.files, "this process keeps no evidence documents")

    def temporal(self) -> Client:
        return _served(self.client, "the workflow engine is still starting; try again shortly", {"Retry-After": "2"})

    async def reconciliation(self) -> ReconcileStatus | None:
        """The last scheduled reconciliation, as Temporal has it (None while it is unreachable at start)."""
        if self.client is None:
            return None
        if (
            self._reconciliation is not None
            and time.monotonic() - self._reconciliation[0] < RECONCILIATION_RECHECK_SECONDS
        ):
            return self._reconciliation[1]
        try:
            status = await asyncio.wait_for(last_reconciliation(self.client), RECONCILIATION_TIMEOUT_SECONDS)
        except Exception as error:  # Temporal away: the dashboard says so and still answers
            status = ReconcileStatus(error=f"Temporal did not say: {error or type(error).__name__}")
        self._reconciliation = (time.monotonic(), status)
        return status

    def wrote(self) -> None:
        """Events were just stored: let the projection runner catch up now."""
        self.models.runner.wake()

    def view_age(self) -> float:
        """Seconds the public registry may be behind the log (0 when it was just seen caught up)."""
        return self._view_age.seconds()

    def fresh(self, timeout: float = FRESH_TIMEOUT_SECONDS) -> bool:
        """Wait (blocking) until every view not parked has read the log as far as it reaches now; False on timeout.

        Only the runner writes the views; this waits for it instead of catching up from the request
        thread, so that SQLite never sees two writers.
        """
        runner = self.models.runner
        target = runner.head()
        deadline = time.monotonic() + timeout
        while not runner.reached(target):  # a parked view waits for no one
            if time.monotonic() > deadline:
                return False
            runner.wake()
            time.sleep(FRESH_POLL_SECONDS)
        return True


class ViewAge:
    """How stale a view may be: seconds since it was last seen to have read the whole log.

    Public reads answer from the view as it stands instead of waiting for it (see Services.fresh),
    and say this age in their X-View-Age header. Observed, not exact: an upper bound, re-checked at
    most every VIEW_AGE_RECHECK_SECONDS, so a burst of reads costs two small queries, not thousands.
    """

    def __init__(self, models: ReadModels, view: str = PUBLIC_VIEW) -> None:
        self.models = models
        self.view = view
        self._checked_at = -math.inf
        self._caught_up_at = (
            time.monotonic()
        )  # counting from start: a view never seen caught up is as old as this process

    def seconds(self) -> float:
        now = time.monotonic()
        if now - self._checked_at >= VIEW_AGE_RECHECK_SECONDS:
            self._checked_at = now
            if self._caught_up():
                self._caught_up_at = now
        return 0.0 if self._caught_up_at >= self._checked_at else now - self._caught_up_at

    def _caught_up(self) -> bool:
        runner = self.models.runner
        return bool(self.models.views[self.view].position(runner.application_name) >= runner.head())


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain `def` dependency on a worker thread, and the hop costs more than the
    # lookup (auth.on_the_loop says the same of the role checks).
    return request.app.state.services


# The services, as every route takes them.
Svc = Annotated[Services, Depends(services)]
