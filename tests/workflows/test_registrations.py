"""Registering an expert over HTTP while cases wait for one: the registration stands whatever the nudge
to the waiting cases does, and a person is registered once however the request is retried."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from structlog.testing import capture_logs

from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.web.app import create_app
from tests.e2e.driver import cluster_body, expert_body
from tests.workflows.harness import compressed_policy, run

TOKEN = "registrations-admin-token"


async def until(check: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, "the case never got there"
        await asyncio.sleep(0.1)
    return found


def test_an_expert_whose_nudge_to_the_waiting_cases_fails_is_registered_once_and_answered_201(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, admin_token=TOKEN, task_queue="registrations")
        engine = Engine(settings, policy=compressed_policy(), with_projections=False)
        client = await engine.start_temporal()
        assert engine.server is not None
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
                cluster = (await api.post("/clusters", json=cluster_body())).json()["cluster_id"]
                case_id = (await api.post("/applications", json={"cluster_id": cluster, "level": "bronze"})).json()[
                    "case_id"
                ]
                await api.post(f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})

                async def waiting() -> bool:
                    return bool((await api.get(f"/cases/{case_id}")).json()["needs_attention"])

                await until(waiting)  # no expert at all: escalated, waiting to be told

                # The nudge fails for real: the engine refuses the signal (this namespace does not exist).
                engine.services.client = await connect_client(engine.server.address, "no-such-namespace")
                body = expert_body(name="Nora Newcomer")
                with capture_logs() as logs:
                    first = await api.post("/experts", json=body, headers={"Idempotency-Key": "nora-1"})
                assert first.status_code == 201, first.text
                expert_id = first.json()["expert_id"]
                assert any(entry["log_level"] == "warning" and entry.get("expert_id") == expert_id for entry in logs)

                # Sent again: nothing recorded twice, and no second secret of her account (its tokens are hers).
                retried = await api.post("/experts", json=body, headers={"Idempotency-Key": "nora-1"})
                assert retried.status_code == 409 and "owner's alone" in retried.json()["detail"], retried.text
                token = {"Authorization": f"Bearer {first.json()['token']}"}
                assert (await api.get(f"/experts/{expert_id}", headers=token)).status_code == 200

                keyless = await api.post("/experts", json={**body, "name": "NORA  newcomer"})
                assert keyless.status_code == 409, keyless.text
                assert expert_id in keyless.json()["detail"]
                assert [str(known) for known in engine.app.expert_ids()] == [expert_id]

                # The waiting case learns of her at the next signal that reaches it: the next registration's.
                engine.services.client = client
                other = await api.post("/experts", json=expert_body(name="Zeno Second"))
                assert other.status_code == 201, other.text

                async def proposed() -> Any:
                    return (await api.get(f"/cases/{case_id}")).json()["proposed_expert_id"]

                assert await until(proposed) == expert_id  # the first by name: the nudge lost nobody
        finally:
            await engine.stop()

    run(scenario())
