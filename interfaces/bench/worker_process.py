"""The certification worker in a process of its own, so that its memory can be read from /proc.

    python -m interfaces.bench.worker_process ADDRESS NAMESPACE TASK_QUEUE SQLITE_FILE

Built by interfaces.worker.build_worker exactly as `clusterlabel worker` builds it, on the SQLite event
store the bench filled, with the default policy. Prints READY once it polls; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from activities.application import CertificationApp
from interfaces.logs import configure_logging
from interfaces.temporal_server import connect_client
from interfaces.worker import build_worker

READY = "READY"


async def serve(address: str, namespace: str, task_queue: str, database: str) -> None:
    app = CertificationApp(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": database, "SQLITE_LOCK_TIMEOUT": "30"}
    )
    client = await connect_client(address, namespace)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with build_worker(client, app, task_queue):
        print(READY, flush=True)
        await stop.wait()


def main(argv: list[str]) -> int:
    address, namespace, task_queue, database = argv
    configure_logging("json", "WARNING")
    asyncio.run(serve(address, namespace, task_queue, database))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
