"""How often a request waits for a worker thread: each hop wakes a thread on the other core and then the
event loop, and on a 2-core VM that is most of a history read's latency (`make bench`, history.p99_ms).

A history is authenticated and read on one worker thread; a role check runs on the event loop, so a
route behind one hops no more often than a route any signed-in caller may take. Neither changes who is
answered what, but for one order: a token that is not valid, with a malformed id in the path, hears the
422 of the id before the 401 of the token (auth.read_as_caller)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.projections.factory import open_read_models
from tests.lifecycle import Clock, Lifecycle
from tests.stores import sqlite_env, sqlite_services

HISTORIES = [
    "/cases/{case}/history",
    "/labels/{label}/history",
    "/clusters/{cluster}/history",
    "/accounts/{account}/history",
]


@dataclass
class Api:
    """The API in process, the hops of its last request counted. Two clusters each hold a label; `contact`
    is the token of the first cluster's contact (its account: `ids["account"]`)."""

    app: Any
    admin: str
    ids: dict[str, str]
    others: dict[str, str]  # the second cluster's records
    contact: str = ""
    hops: int = 0

    def request(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t") as client:
                return await client.request(method, path.format(**self.ids), headers=headers, **kwargs)

        self.hops = 0
        return asyncio.run(send())

    def get(self, path: str, token: str | None) -> httpx.Response:
        return self.request("GET", path, token)


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    app = CertificationApp(env=sqlite_env(tmp_path), clock=Clock())
    ours, theirs = Lifecycle(app), Lifecycle(app, country="EE")
    (case, label), (other_case, other_label) = ours.labelled(), theirs.labelled()
    models = open_read_models(sqlite_env(tmp_path), app)
    services = sqlite_services(tmp_path, app, models, "hops-tests")
    ids = {"case": str(case), "label": str(label), "cluster": str(ours.cluster_id)}
    others = {"case": str(other_case), "label": str(other_label), "cluster": str(theirs.cluster_id), "account": ""}
    served = Api(create_app(services, pages=False), services.tokens.rotate_admin_token(), ids, others)
    opened = served.request(
        "POST", "/clusters/{cluster}/contacts", served.admin, json={"name": "Ona", "email": "ona@cluster.example.lt"}
    )
    assert opened.status_code == 201, opened.text
    served.ids["account"], served.contact = opened.json()["account_id"], opened.json()["token"]
    theirs_opened = served.request(
        "POST",
        f"/clusters/{others['cluster']}/contacts",
        served.admin,
        json={"name": "Eva", "email": "eva@x.example.ee"},
    )
    assert theirs_opened.status_code == 201, theirs_opened.text
    others["account"] = theirs_opened.json()["account_id"]
    models.catch_up()

    run_sync = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        served.hops += 1
        return await run_sync(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    yield served
    services.close_stores()
    models.close()
    app.close()


@pytest.mark.parametrize("path", HISTORIES)
def test_a_history_is_authenticated_and_read_in_one_worker_thread_hop(api: Api, path: str) -> None:
    for token in (api.admin, api.contact):
        answer = api.get(path, token)
        assert answer.status_code == 200, answer.text
        assert answer.json()["events"]
        assert api.hops == 1


@pytest.mark.parametrize("path", HISTORIES)
def test_a_history_of_another_clusters_record_is_unknown_to_a_contact(api: Api, path: str) -> None:
    theirs = path.format(**api.others)
    assert api.get(theirs, api.admin).status_code == 200
    answer = api.get(theirs, api.contact)
    assert answer.status_code == 404, answer.text
    assert api.hops == 1


@pytest.mark.parametrize("path", HISTORIES)
def test_a_history_asked_without_a_valid_token_is_refused_401(api: Api, path: str) -> None:
    for token in (None, "not-a-token"):
        answer = api.get(path, token)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer", answer.text
        assert api.hops == (0 if token is None else 1)  # no token: refused before any hop
    malformed = path.replace("{case}", "x").replace("{label}", "x").replace("{cluster}", "x").replace("{account}", "x")
    assert api.get(malformed, None).status_code == 401  # no token: refused before the id is read
    assert api.hops == 0


def test_a_label_code_is_read_after_the_caller_is_known(api: Api) -> None:
    """An unknown label code answers 404 to a caller, and 401 to anyone without a valid token."""
    assert api.get("/labels/x/history", api.admin).status_code == 404
    assert api.get("/labels/x/history", "not-a-token").status_code == 401


def test_a_role_check_costs_no_hop_of_its_own_and_still_refuses(api: Api) -> None:
    """GET /dashboard is for the secretariat alone: one hop to authenticate, one to count the cases; the
    check of the caller's role adds none, and a cluster's contact is refused after the first."""
    answer = api.get("/dashboard", api.admin)
    assert answer.status_code == 200, answer.text
    assert api.hops == 2
    refused = api.get("/dashboard", api.contact)
    assert refused.status_code == 403, refused.text
    assert api.hops == 1
