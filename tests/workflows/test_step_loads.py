"""One path back: an HTTP step loads its aggregate twice (once to authorise, once to apply) and answers
with the view its workflow update returned."""

from __future__ import annotations

import asyncio
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from tests.e2e.driver import cluster_body, expert_body
from tests.workflows.harness import compressed_policy, run

TOKEN = "step-loads-admin-token"


# The reconciler, which the engine runs as it starts, reads open cases from the store to check each has its
# workflow: on a slow machine its run can overlap the step, and its loads are not the step's.
BACKGROUND = ("open_records.py",)


def counting_loads(engine: Engine) -> Counter[UUID]:
    """Count every load of an aggregate from the event store, by aggregate id, but the reconciler's."""
    loads: Counter[UUID] = Counter()
    original: Callable[..., Any] = engine.app.repository.get

    def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if not any(frame.filename.endswith(BACKGROUND) for frame in traceback.extract_stack()):
            loads[aggregate_id] += 1
        return original(aggregate_id, *args, **kwargs)

    engine.app.repository.get = get  # type: ignore[method-assign]
    return loads


async def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await check()) is None:
        assert asyncio.get_running_loop().time() < deadline, "the case never got there"
        await asyncio.sleep(0.1)
    return found


def test_a_step_over_http_loads_its_case_twice_and_answers_the_updated_view(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, admin_token=TOKEN, task_queue="step-loads")
        engine = Engine(settings, policy=compressed_policy(), with_projections=False)
        await engine.start_temporal()
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
                cluster = (await api.post("/clusters", json=cluster_body())).json()["cluster_id"]
                expert = (await api.post("/experts", json=expert_body())).json()
                case_id = (await api.post("/applications", json={"cluster_id": cluster, "level": "bronze"})).json()[
                    "case_id"
                ]
                await api.post(f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})

                async def proposed() -> Any:
                    return (await api.get(f"/cases/{case_id}")).json()["proposed_expert_id"]

                await until(proposed)
                expert_headers = {"Authorization": f"Bearer {expert['token']}"}
                await api.post(f"/cases/{case_id}/assignment", json={"accept": True}, headers=expert_headers)

                loads = counting_loads(engine)
                answer = await api.post(f"/cases/{case_id}/agreement", json={"agreed": True})
                assert answer.status_code == 200, answer.text
                assert answer.json()["state"] == "auditing"
                assert loads[UUID(case_id)] == 2, f"the step loaded the case {loads[UUID(case_id)]} times"
                assert answer.json()["version"] == engine.app.get_case(UUID(case_id)).version
        finally:
            await engine.stop()

    run(scenario())
