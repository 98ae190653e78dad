"""A case's history, as the secretariat asks for it: GET /cases/{id}/history with many cases stored.

The FastAPI app from interfaces.web.app is created in this process over the caught-up views and
called through httpx's ASGI transport (the whole ASGI stack, authentication and serialisation, but no
socket), once per sampled case, one request at a time. Each request is timed as the server takes it,
from the app's call to the last byte of its answer (what the API's request-duration metric counts),
and as the client sees it, httpx's own work on the request and the answer included.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from clusterlabel.activities.application import CertificationApp
from clusterlabel.interfaces.web.account_tokens import COLUMNS as TOKEN_COLUMNS
from clusterlabel.interfaces.web.account_tokens import AccountTokens
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.web.idempotency_keys import sqlite_idempotency_keys
from clusterlabel.interfaces.web.people import COLUMNS as PEOPLE_COLUMNS
from clusterlabel.interfaces.web.people import People
from clusterlabel.interfaces.web.services import Services
from clusterlabel.interfaces.web.side_tables import SQLiteSideFile
from clusterlabel.interfaces.web.tokens import SQLiteTokenStore
from clusterlabel.projections.factory import open_read_models
from clusterlabel.tools.bench.lag import Latencies, percentile

SOURCE = (
    "GET /cases/{id}/history (interfaces.web.app.create_app in process, httpx ASGI transport), timed from the "
    "app's call to the end of its answer; client_p99_ms with httpx's own work"
)


@dataclass
class HistoryFigures(Latencies):
    cases_in_store: int
    requests: int
    events_per_history: float
    latencies_ms: list[float]
    client_ms: list[float]  # the same requests as httpx saw them
    source: str = SOURCE

    @property
    def client_p99_ms(self) -> float:
        return percentile(self.client_ms, 0.99)


class Stopwatch:
    """The app, timed: how long its last request took, from its call to the end of its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last_ms = (time.perf_counter() - started) * 1000


async def bench_history(
    env: Mapping[str, str], views_dir: Path, case_ids: list[UUID], requests: int, seed: int = 7
) -> HistoryFigures:
    app = CertificationApp(env=env)
    chosen = random.Random(seed).choices(case_ids, k=requests)
    with open_read_models(env, app, views_dir=views_dir) as models:
        models.catch_up()
        cases_in_store = sum(models.dashboard(app.clock())["states"].values())
        tokens = SQLiteTokenStore(views_dir.parent / "bench-tokens.sqlite")
        keys = sqlite_idempotency_keys(views_dir.parent / "bench-keys.sqlite")  # reads only: never consulted
        people = People(SQLiteSideFile(views_dir.parent / "bench-people.sqlite", "people", PEOPLE_COLUMNS))
        account_tokens = AccountTokens(
            SQLiteSideFile(views_dir.parent / "bench-account-tokens.sqlite", "account_tokens", TOKEN_COLUMNS)
        )
        try:
            token = tokens.rotate_admin_token()
            services = Services(app, models, tokens, "bench", keys, people, account_tokens)
            served = Stopwatch(create_app(services, pages=False))
            transport = httpx.ASGITransport(app=served)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as http:
                await _get(http, chosen[0])  # warm up: routes, dependencies, connections
                latencies, client, events = [], [], 0
                for case_id in chosen:
                    started = time.perf_counter()
                    body = await _get(http, case_id)
                    client.append((time.perf_counter() - started) * 1000)
                    latencies.append(served.last_ms)
                    events += len(body["events"])
        finally:
            for store in (tokens, keys, people, account_tokens):
                store.close()
    return HistoryFigures(cases_in_store, len(chosen), events / len(chosen), latencies, client)


async def _get(http: httpx.AsyncClient, case_id: UUID) -> dict[str, list[object]]:
    answer = await http.get(f"/cases/{case_id}/history")
    if answer.status_code != 200 or not answer.json()["events"]:
        raise RuntimeError(f"GET /cases/{case_id}/history: {answer.status_code} {answer.text[:200]}")
    return answer.json()
