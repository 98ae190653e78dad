"""The certification worker in a process of its own, so that its memory can be read from /proc.

    CLUSTERLABEL_BENCH_STORE_ENV='{...}' python -m clusterlabel.tools.bench.worker_process ADDRESS NAMESPACE TASK_QUEUE

Built by interfaces.worker.build_worker exactly as `clusterlabel worker` builds it, on the event store
the bench filled (its env as JSON in CLUSTERLABEL_BENCH_STORE_ENV), with the default policy. Prints
READY once it polls; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from clusterlabel.activities.application import CertificationApp
from clusterlabel.interfaces.logs import configure_logging
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.worker import build_worker

READY = "READY"
STORE_ENV = "CLUSTERLABEL_BENCH_STORE_ENV"


async def serve(address: str, namespace: str, task_queue: str, store_env: dict[str, str]) -> None:
    app = CertificationApp(env=store_env)
    client = await connect_client(address, namespace)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with build_worker(client, app, task_queue):
        print(READY, flush=True)
        await stop.wait()


def main(argv: list[str]) -> int:
    address, namespace, task_queue = argv
    configure_logging("json", "WARNING")
    asyncio.run(serve(address, namespace, task_queue, json.loads(os.environ[STORE_ENV])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
