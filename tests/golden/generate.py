"""Write the golden records that are missing; never rewrite one that exists.

    cd <checkout> && PYTHONPATH=. .venv/bin/python -m tests.golden.generate

Runs the story (tests/golden/story.py) through CertificationApp on a fresh SQLite file and
writes each named aggregate's stored history to tests/golden/events/<name>.json, unless that
file is already there. A golden record is what the store held on the day it was written:
after a change to an event, the old record must still decode (through an upcast if need be),
so it is kept, not regenerated. A new event type gets a new history: extend the story with
an aggregate (under a new name) that records it, and run this again.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.notification import Notification as Message
from clusterlabel.domain.policy import default_policy
from tests.golden.records import GOLDEN_DIR, history_json
from tests.golden.story import Story
from tests.lifecycle import Clock

# The commands queue messages on the side (offers, escalations, reminders): the story names the one
# it records and the others, of the same event types, are left out.
MESSAGE_TOPIC = get_topic(Message)


def stored_histories(directory: Path) -> tuple[dict[str, UUID], dict[UUID, list[Notification]]]:
    """The story's aggregate names, and every stored event of the story grouped by aggregate."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / "golden.sqlite")}
    clock = Clock()
    app = CertificationApp(env=env, policy=default_policy(), clock=clock)
    names = Story(app, clock).tell()
    histories: dict[UUID, list[Notification]] = defaultdict(list)
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        histories[notification.originator_id].append(notification)
    app.close()
    unnamed = {i for i in set(histories) - set(names.values()) if _originator_topic(histories[i][0]) != MESSAGE_TOPIC}
    if unnamed:
        raise RuntimeError(f"the story stored events of aggregates it does not name: {sorted(map(str, unnamed))}")
    return names, histories


def write_missing(target: Path = GOLDEN_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        names, histories = stored_histories(Path(directory))
    written = []
    for name, originator_id in sorted(names.items()):
        path = target / f"{name}.json"
        if path.exists():
            continue
        records = histories[originator_id]
        aggregate_topic = _originator_topic(records[0])
        path.write_text(history_json(aggregate_topic, originator_id, records), encoding="utf-8")
        written.append(path)
    return written


def _originator_topic(first: Notification) -> str:
    return str(json.loads(first.state)["originator_topic"])


def main() -> int:
    written = write_missing()
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"every history of the story is already in {GOLDEN_DIR}; nothing written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
