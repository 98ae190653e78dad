"""How often a request waits for a worker thread: each hop wakes a thread on the other core and then the
event loop, and on a 2-core VM that is most of a history read's latency (`make bench`, history.p99_ms).

A history is authenticated and read on one worker thread; a role check runs on the event loop, so a
route behind one hops no more often than a route any signed-in caller may take."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest

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
from tests.lifecycle import Clock, Lifecycle
from tests.stores import sqlite_env

Get = Callable[..., tuple[httpx.Response, int]]


@pytest.fixture
def get(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Get]:
    """GET a path with the machine administrator's token (or `token`): the answer, and the worker-thread
    hops it took. A label is issued, so that its case, label and cluster have histories."""
    app = CertificationApp(env=sqlite_env(tmp_path), clock=Clock())
    case_id, label_id = Lifecycle(app).labelled()
    models = open_read_models(sqlite_env(tmp_path), app)
    models.catch_up()
    tokens, keys = SQLiteTokenStore(tmp_path / "tokens.sqlite"), sqlite_idempotency_keys(tmp_path / "keys.sqlite")
    people = People(SQLiteSideFile(tmp_path / "people.sqlite", "people", PEOPLE_COLUMNS))
    account_tokens = AccountTokens(SQLiteSideFile(tmp_path / "account_tokens.sqlite", "account_tokens", TOKEN_COLUMNS))
    admin = tokens.rotate_admin_token()
    api = create_app(Services(app, models, tokens, "hops-tests", keys, people, account_tokens), pages=False)
    hops = 0
    run_sync = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await run_sync(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)

    def get_once(path: str, token: str | None = admin) -> tuple[httpx.Response, int]:
        async def request() -> httpx.Response:
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test") as client:
                return await client.get(path.format(case=case_id, label=label_id, cluster=cluster_id), headers=headers)

        nonlocal hops
        hops = 0
        answer = asyncio.run(request())
        return answer, hops

    cluster_id = app.get_case(case_id).cluster_id
    yield get_once
    for closing in (models, tokens, keys, people, account_tokens, app):
        closing.close()


@pytest.mark.parametrize("path", ["/cases/{case}/history", "/labels/{label}/history", "/clusters/{cluster}/history"])
def test_a_history_is_authenticated_and_read_in_one_worker_thread_hop(get: Get, path: str) -> None:
    answer, hops = get(path)
    assert answer.status_code == 200, answer.text
    assert answer.json()["events"], "the history holds the issued label's events"
    assert hops == 1


def test_a_history_asked_without_a_valid_token_is_refused_as_before_in_the_same_hop(get: Get) -> None:
    for token in (None, "not-a-token"):
        answer, hops = get("/cases/{case}/history", token=token)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
        assert hops == 1


def test_a_role_check_costs_no_hop_of_its_own(get: Get) -> None:
    """GET /dashboard is for the secretariat alone: one hop to authenticate, one to count the cases; the
    check of the caller's role adds none."""
    answer, hops = get("/dashboard")
    assert answer.status_code == 200, answer.text
    assert hops == 2
