"""The outbox over HTTP, on an engine in this process: a message the mail server never took is listed
failed (on GET /notifications, the dashboard and /health), an officer's retry sends it once the server is
back, and only the secretariat reads the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from tests.e2e.driver import cluster_body, expert_body
from tests.mailserver import MailServer, free_port
from tests.workflows.harness import compressed_policy, run

TOKEN = "notifications-admin-token"


async def until(check: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, "it never got there"
        await asyncio.sleep(0.1)
    return found


def test_a_message_that_failed_is_listed_counted_and_sent_once_an_officer_retries_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()  # nothing listens there yet: every try fails
        settings = Settings(
            data_dir=tmp_path,
            admin_token=TOKEN,
            task_queue="notifications-api",
            smtp_url=f"smtp://127.0.0.1:{port}",
            secretariat_email="secretariat@esca.example",
        )
        engine = Engine(settings, policy=compressed_policy(delivery_attempts=2, delivery_backoff="PT1S"))
        engine.start_projections()
        await engine.start_temporal()
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as api:
                expert = (await api.post("/experts", json=expert_body(name="Anna Berg"))).json()
                cluster = (await api.post("/clusters", json=cluster_body())).json()["cluster_id"]
                case_id = (await api.post("/applications", json={"cluster_id": cluster, "level": "bronze"})).json()[
                    "case_id"
                ]
                await api.post(f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})

                async def failed() -> list[dict[str, Any]]:
                    return list((await api.get("/notifications", params={"status": "failed"})).json())

                (offer,) = await until(failed)
                assert (offer["recipient"], offer["kind"], offer["attempts"]) == (
                    f"expert:{expert['expert_id']}",
                    "offer",
                    2,
                )
                assert (await api.get("/dashboard")).json()["failed_deliveries"] == 1
                assert (await api.get("/health")).json()["failed_deliveries"] == 1
                as_expert = {"Authorization": f"Bearer {expert['token']}"}
                assert (await api.get("/notifications", headers=as_expert)).status_code == 403

                with MailServer(port=port) as server:
                    retried = await api.post(f"/notifications/{offer['id']}/retry")
                    assert (retried.status_code, retried.json()["status"]) == (200, "queued")

                    async def sent() -> list[dict[str, Any]]:
                        answer = await api.get("/notifications", params={"status": "sent", "case_id": case_id})
                        return list(answer.json())

                    (delivered,) = await until(sent)
                    (received,) = server.received
                assert delivered["attempts"] == 3 and delivered["sent_at"] is not None
                assert received.message_id == f"<{offer['id']}@clusterlabel>" and case_id in received.body
                assert (await api.post(f"/notifications/{offer['id']}/retry")).status_code == 409
                assert (await api.post(f"/notifications/{case_id}/retry")).status_code == 404
                assert (await api.get("/dashboard")).json()["failed_deliveries"] == 0
        finally:
            await engine.stop()

    run(scenario())
