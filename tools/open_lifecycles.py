"""What a simulation leaves running when its storylines are done, and who carries it on.

The storylines end before their lifecycles do: a label awarded in the last seconds still has its expiry
and the close of its renewal window ahead, on the timers of its workflow. The simulation waits for them,
within a bound, and names whatever it leaves open. Its workflows run on the task queue `serve` uses for
the same folder (interfaces/settings.py), and `serve --data-dir` on the folder restarts the embedded
Temporal server from its state there, so the next `serve` carries the open ones on where they stand.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Callable

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import OpenRecords, open_records
from clusterlabel.interfaces.settings import Settings

# Seconds to wait, by default, for the last lifecycles to end by themselves: the compressed policy ends
# a label's life (validity, then renewal window) within half a minute of its award.
FINISH_WITHIN = 120.0
POLL_SECONDS = 0.5


def still_going(records: OpenRecords) -> int:
    return len(records.case_ids) + len(records.label_ids)


async def wait_for_ends(
    app: CertificationApp, within: float, progress: Callable[[int], None] = lambda _: None
) -> OpenRecords:
    """The records still open once every one has ended, or once `within` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        records = await asyncio.to_thread(open_records, app)
        if not still_going(records) or time.monotonic() >= deadline:
            return records
        progress(still_going(records))
        await asyncio.sleep(POLL_SECONDS)


def command_on_folder(original: Settings, simulation: Settings, *words: str) -> str:
    """A `clusterlabel` command on the simulation's folder, with what the user's environment must not
    override: a PostgreSQL URL (the simulation's store is the SQLite file in the folder) and, on an
    external Temporal cluster, the address and the simulation's own task queue."""
    environment = ["CLUSTERLABEL_DATABASE_URL="] if original.database_url else []
    line = ["clusterlabel", *words, "--data-dir", str(simulation.data_dir)]
    if words[0] == "serve" and simulation.temporal_address is not None:
        line += ["--temporal", simulation.temporal_address]
        environment.append(f"CLUSTERLABEL_TASK_QUEUE={simulation.task_queue}")
    return shlex.join([*environment, *line])


def closing_lines(app: CertificationApp, records: OpenRecords, original: Settings, simulation: Settings) -> list[str]:
    """What the simulation leaves open, one line a record, and how to carry it on and browse it."""
    serve = command_on_folder(original, simulation, "serve")
    if not still_going(records):
        lines = [f"every lifecycle the simulation started has ended; `{serve}` serves its records"]
    else:
        lines = [
            f"left open: {len(records.label_ids)} labels, {len(records.case_ids)} cases; `{serve}` carries them on"
        ]
    for label_id in records.label_ids:
        label = app.get_label(label_id)
        lines.append(
            f"  label {label.label_code} {label.state.value}, renewal window closes"
            f" {label.renewable_until:%Y-%m-%d %H:%M:%S} UTC"
        )
    lines += [f"  case {case_id} {app.get_case(case_id).state.value}" for case_id in records.case_ids]
    if not original.admin_token:
        token = command_on_folder(original, simulation, "admin-token")
        lines.append(f"the secretariat's token for its pages and API: `{token}`")
    return lines
