"""`clusterlabel reconcile`: run the reconciler once, here, and print what it started and what it found.

The same reconciliation the worker's Temporal Schedule runs every `CLUSTERLABEL_RECONCILE_EVERY`
(workflows/reconciler.py), without waiting for a worker: a workflow it starts runs once a worker
polls the task queue. Exit 0 when every open record's workflow runs, 1 when some need an operator,
3 when Temporal cannot be reached (nothing was checked).
"""

from __future__ import annotations

import asyncio
import sys

from clusterlabel.interfaces.bootstrap import build_app, connect_temporal
from clusterlabel.interfaces.logs import configure_logging
from clusterlabel.interfaces.settings import Settings
from clusterlabel.workflows.reconcile import ReconcileReport
from clusterlabel.workflows.reconciler import Reconciler

EXIT_OK, EXIT_PROBLEMS, EXIT_UNAVAILABLE = 0, 1, 3


async def reconcile_once(settings: Settings) -> ReconcileReport:
    app = build_app(settings)
    client, server = await connect_temporal(settings)
    try:
        return await Reconciler(client, app, settings.task_queue).reconcile()
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


def describe(report: ReconcileReport) -> list[str]:
    lines = [f"started  {workflow_id}" for workflow_id in report.started]
    lines += [f"reloaded  {workflow_id}" for workflow_id in report.reloaded]
    lines += [f"{problem.kind:>10}  {problem.workflow_id}: {problem.detail}" for problem in report.problems]
    lines.append(
        f"{report.open_cases} open cases, {report.labels_in_force} labels in force and "
        f"{report.messages_queued} queued messages checked: "
        f"{len(report.started)} workflows started, {len(report.problems)} need an operator"
    )
    return lines


def run_reconcile(settings: Settings) -> int:
    configure_logging(settings.log_format, "WARNING")  # the printed lines say it; the log adds the ids
    try:
        report = asyncio.run(reconcile_once(settings))
    except Exception as error:  # Temporal away, or the embedded server already run by `serve`
        print(f"clusterlabel: cannot reconcile: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print("\n".join(describe(report)))
    return EXIT_PROBLEMS if report.problems else EXIT_OK
