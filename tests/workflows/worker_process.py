"""A certification worker in a process of its own, so a crash test can SIGKILL it.

    python -m tests.workflows.worker_process ADDRESS TASK_QUEUE SQLITE_FILE POLICY_OVERRIDES_JSON

Prints READY once it polls. The event store is the SQLite file the test process reads. With
CLUSTERLABEL_KILL_AFTER in its environment it dies after the commands named there (tests/workflows/faults.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from clusterlabel.domain.policy import default_policy
from clusterlabel.interfaces.logs import configure_logging
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.worker import build_worker
from tests.workflows.faults import inject_kills_from
from tests.workflows.harness import sqlite_app


async def serve(address: str, task_queue: str, database: Path, overrides: dict[str, object]) -> None:
    app = sqlite_app(database, default_policy().with_overrides(overrides))
    client = await connect_client(address, "default")
    async with build_worker(client, app, task_queue):
        print("READY", flush=True)
        await asyncio.Event().wait()  # until killed


def main() -> None:
    address, task_queue, database, overrides = sys.argv[1:5]
    configure_logging("json", "WARNING")
    inject_kills_from(os.environ)
    asyncio.run(serve(address, task_queue, Path(database), json.loads(overrides)))


if __name__ == "__main__":
    main()
