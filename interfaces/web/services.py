"""What the HTTP layer works with: the application, the read models, the tokens and the Temporal client.

The engine builds one Services when it starts and hands it to create_app(); routes reach it through
the `services` dependency. The Temporal client arrives once the server is reachable: until then steps
answer 503, while /health says what is still starting.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import Request

from activities.application import CertificationApp
from interfaces.settings import DEFAULT_PUBLIC_URL
from interfaces.web.errors import ApiError
from interfaces.web.tokens import TokenStore
from projections.queries import ReadModels

if TYPE_CHECKING:
    from temporalio.client import Client

FRESH_TIMEOUT_SECONDS = 5.0
FRESH_POLL_SECONDS = 0.02


async def _nothing_checked() -> dict[str, str]:
    return {}


@dataclass
class Services:
    app: CertificationApp
    models: ReadModels
    tokens: TokenStore
    task_queue: str
    client: Client | None = None
    # Name -> "ok" or what is wrong, for /health; the engine supplies the real checks.
    readiness: Callable[[], Awaitable[dict[str, str]]] = field(default=_nothing_checked)
    # Settings.public_url: links the public follows (badge, certificate) start with it.
    public_url: str = DEFAULT_PUBLIC_URL

    def now(self) -> datetime:
        return self.app.clock()

    def temporal(self) -> Client:
        if self.client is None:
            raise ApiError(503, "the workflow engine is still starting; try again shortly", {"Retry-After": "2"})
        return self.client

    def wrote(self) -> None:
        """Events were just stored: let the projection runner catch up now."""
        self.models.runner.wake()

    def fresh(self, timeout: float = FRESH_TIMEOUT_SECONDS) -> bool:
        """Wait (blocking) until every view has read the log as far as it reaches now; False on timeout.

        Only the runner writes the views; this waits for it instead of catching up from the request
        thread, so that SQLite never sees two writers.
        """
        runner = self.models.runner
        target = runner.head()
        deadline = time.monotonic() + timeout
        while min(runner.positions().values(), default=target) < target:
            if time.monotonic() > deadline:
                return False
            runner.wake()
            time.sleep(FRESH_POLL_SECONDS)
        return True


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
