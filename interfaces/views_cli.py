"""The read side's commands: `clusterlabel status` (what a secretariat checks first), `history` (one
record's events) and `projections rebuild` (the views from zero, un-parking them)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from clusterlabel.interfaces.settings import Settings


def unknown_views(names: Sequence[str] | None) -> bool:
    from clusterlabel.projections.factory import view_classes_named

    try:
        view_classes_named(names)
    except ValueError as error:
        print(f"clusterlabel: {error}", file=sys.stderr)
        return True
    return False


def rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.bootstrap import build_app, open_views
    from clusterlabel.interfaces.verify_cli import refused_over_tampering
    from clusterlabel.projections.parallel import default_processes

    def progress(view: str, position: int, head: int) -> None:
        width = 40
        filled = width * position // max(head, 1)
        bar = "#" * filled + "." * (width - filled)
        print(f"\r{view:>16} [{bar}] {position}/{head} events", end="", file=sys.stderr, flush=True)

    if unknown_views(args.views):
        return 2
    processes = args.processes or default_processes()
    app = build_app(settings)
    # Only the views named, when named: rebuilding a view also un-parks it (projections/parked.py).
    with open_views(settings, app, only=args.views) as models:
        if refused_over_tampering(models, settings, args.accept_tampering, args.rekey):
            return 1
        count = models.rebuild(progress=progress, processes=processes, accept_tampering=True)  # checked just now
        head = models.runner.head()
        parked = models.parked()
    which = "every view" if args.views is None else ", ".join(args.views)
    print(f"\nrebuilt {which} from {head} events ({count} read by {processes} process{'es' if processes > 1 else ''})")
    for view in parked:
        print(
            f"clusterlabel: {view.view} is parked again, on event {view.position} ({view.event_type} of"
            f" {view.originator_id} v{view.originator_version}): {view.error}",
            file=sys.stderr,
        )
    return 1 if parked else 0


def status(settings: Settings, args: argparse.Namespace) -> int:
    """What a secretariat checks first: cases per state, labels per status, what is due, projection lag."""
    from datetime import UTC, datetime, timedelta

    from clusterlabel.interfaces.bootstrap import build_app, open_views

    app = build_app(settings)
    now = datetime.now(UTC)
    with open_views(settings, app) as models:
        models.catch_up()
        counts = models.dashboard(now)
        labels: dict[str, int] = {}
        for entry in models.public_registry(now, limit=10_000_000):
            labels[entry.status] = labels.get(entry.status, 0) + 1
        calendar = models.calendar(now, timedelta(days=90))
        print(f"store: {settings.store()}  data dir: {settings.data_dir}  events: {models.runner.head()}")
        print("cases:  " + "  ".join(f"{state} {n}" for state, n in counts["states"].items()))
        print(f"        overdue {counts['overdue']}  needing attention {counts['needs_attention']}")
        print(f"messages not delivered: {counts['failed_deliveries']}")
        print("labels: " + ("  ".join(f"{status} {n}" for status, n in sorted(labels.items())) or "none"))
        print(
            f"due within 90 days: {len(calendar.expiring)} expiring, {len(calendar.renewal_windows_closing)} renewal windows closing"
        )
        for due in calendar.expiring[:20]:
            print(f"  {due.label_code}  {due.cluster_name}  {due.level}  valid until {due.due:%Y-%m-%d %H:%M}")
        for case in calendar.overdue_cases[:20]:
            print(
                f"  overdue: case {case.case_id} ({case.cluster_name}) {case.current_deadline} due {case.due_at:%Y-%m-%d %H:%M}"
            )
        print("projection lag: " + "  ".join(f"{name} {lag}" for name, lag in models.lag().items()))
    return 0


def history(settings: Settings, case_id: str) -> int:
    from uuid import UUID

    from clusterlabel.interfaces.bootstrap import build_app, open_views

    try:
        aggregate_id = UUID(case_id)
    except ValueError:
        print(f"clusterlabel: {case_id!r} is not a case id (a UUID)", file=sys.stderr)
        return 2
    app = build_app(settings)
    with open_views(settings, app) as models:
        models.catch_up()
        entries = models.history(aggregate_id)
    if not entries:
        print(f"clusterlabel: no events for {case_id}", file=sys.stderr)
        return 1
    for entry in entries:
        detail = ", ".join(
            f"{k}={v}"
            for k, v in entry.data.items()
            if k
            in ("accepted", "reason", "expert_id", "outcome", "level", "rationale", "label_id", "grounds", "upheld")
        )
        print(
            f"{entry.seq:>7}  {entry.effective_at:%Y-%m-%d %H:%M:%S}  {entry.event_type:<26} {entry.actor or '':<44} {detail}"
        )
    return 0
