"""The `clusterlabel` command: run the engine, a worker, and the secretariat's maintenance tasks."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clusterlabel.interfaces.accounts_options import add_accounts_parser
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.verify_options import add_verify_options


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command line's options on top."""
    overrides: dict[str, Any] = {
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "policy_file": getattr(args, "policy", None) if getattr(args, "takes_policy", True) else None,
        "temporal_address": getattr(args, "temporal", None),
        "http_port": getattr(args, "port", None),
    }
    return Settings(**{name: value for name, value in overrides.items() if value is not None})


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.engine import serve

    return serve(settings, with_worker=not args.no_worker, with_projections=not args.no_projections)


def _unknown_views(names: Sequence[str] | None) -> bool:
    from clusterlabel.projections.factory import view_classes_named

    try:
        view_classes_named(names)
    except ValueError as error:
        print(f"clusterlabel: {error}", file=sys.stderr)
        return True
    return False


def _run_projections(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.projection_runner import run_projections

    if _unknown_views(args.views):
        return 2
    return run_projections(settings, args.views)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.worker import run_worker

    asyncio.run(run_worker(settings))
    return 0


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.verify_cli import verify_command

    return verify_command(settings, head=args.head, against=args.against)


def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.reconcile_cli import run_reconcile

    return run_reconcile(settings)


def _rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.bootstrap import build_app, open_views
    from clusterlabel.interfaces.verify_cli import refused_over_tampering
    from clusterlabel.projections.parallel import default_processes

    def progress(view: str, position: int, head: int) -> None:
        width = 40
        filled = width * position // max(head, 1)
        bar = "#" * filled + "." * (width - filled)
        print(f"\r{view:>16} [{bar}] {position}/{head} events", end="", file=sys.stderr, flush=True)

    if _unknown_views(args.views):
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


def _status(settings: Settings, args: argparse.Namespace) -> int:
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


def _history(settings: Settings, case_id: str) -> int:
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


def _tool(module: str) -> Any:
    """A development tool, which the production image leaves out."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is not None and error.name.startswith("clusterlabel.tools"):
            raise SystemExit(f"clusterlabel: {module} is a development tool; run it from a source checkout") from None
        raise


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    tool = _tool("clusterlabel.tools.simulate")
    finish_within = tool.FINISH_WITHIN if args.finish_within is None else args.finish_within
    return int(tool.simulate(settings, args.clusters, args.policy, finish_within))


def _bench(settings: Settings, args: argparse.Namespace) -> int:
    bench = _tool("clusterlabel.tools.bench.cli").main

    on_postgres = ["--database-url", settings.database_url] if settings.database_url else []
    return bench((["--quick"] if args.quick else []) + ["--out", str(args.out)] + on_postgres)


def _admin_token(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.bootstrap import open_credentials, open_tokens
    from clusterlabel.interfaces.web.sessions import MACHINE_ADMIN

    with closing(open_tokens(settings)) as store:
        token = store.rotate_admin_token()
    # Pages signed in with the old token stay signed in no longer.
    with closing(open_credentials(settings)) as credentials:
        credentials.sessions.end_subject(MACHINE_ADMIN)
    print(token)
    if settings.admin_token:
        print("note: CLUSTERLABEL_ADMIN_TOKEN is set and takes precedence over this token", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _seconds(text: str) -> float:
    seconds = float(text)
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, not {text}")
    return seconds


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="where state lives (default ./.clusterlabel)")
    common.add_argument("--database-url", help="postgresql://user:pass@host:5432/db instead of the SQLite file")
    parser = argparse.ArgumentParser(prog="clusterlabel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the whole engine on this machine")
    serve.add_argument("--port", type=int, help="HTTP port (default 8000)")
    serve.add_argument("--policy", type=Path, help="TOML file overriding policy keys")
    serve.add_argument("--temporal", help="address of an existing Temporal cluster instead of the embedded server")
    serve.add_argument(
        "--no-worker", action="store_true", help="serve the API only; `clusterlabel worker` processes run the workflows"
    )
    serve.add_argument(
        "--no-projections",
        action="store_true",
        help="read the views only; `clusterlabel projections run` keeps them current",
    )
    serve.set_defaults(run=_serve, uses_temporal=True)

    worker = commands.add_parser("worker", parents=[common], help="run a Temporal worker")
    worker.add_argument("--policy", type=Path)
    worker.add_argument("--temporal")
    worker.set_defaults(run=_worker, uses_temporal=True)

    status = commands.add_parser("status", parents=[common], help="cases per state, labels per status, what is due")
    status.set_defaults(run=_status)

    history = commands.add_parser("history", parents=[common], help="every event of a case (or label), oldest first")
    history.add_argument("case_id")
    history.set_defaults(run=lambda settings, args: _history(settings, args.case_id))

    simulate = commands.add_parser(
        "simulate", parents=[common], help="whole lifecycles on the real engine, time compressed"
    )
    simulate.add_argument("--clusters", type=int, default=12, help="how many clusters go through a lifecycle")
    simulate.add_argument("--policy", type=Path, help="TOML overriding the compressed policy")
    simulate.add_argument("--temporal", help="an existing Temporal cluster instead of the embedded server")
    simulate.add_argument(
        "--finish-within",
        type=_seconds,
        metavar="SECONDS",
        help="how long to wait, once the storylines are done, for their lifecycles to end (default 120;"
        " 0 leaves them open at once); what is left open is listed, and `serve --data-dir` on the"
        " simulation's folder carries it on",
    )
    simulate.set_defaults(
        run=_simulate,
        takes_policy=False,
        uses_temporal=True,
    )

    admin_token = commands.add_parser(
        "admin-token", parents=[common], help="issue a new secretariat token (the old one stops working)"
    )
    admin_token.set_defaults(run=_admin_token)
    add_accounts_parser(commands, common)

    verify = commands.add_parser("verify", parents=[common], help="check the event log for tampering (exit 1 if any)")
    add_verify_options(verify)
    verify.set_defaults(run=_verify)

    reconcile = commands.add_parser(
        "reconcile",
        parents=[common],
        help="start the workflow of every open record that has none; list those that need an operator",
    )
    reconcile.add_argument("--temporal", help="address of the Temporal cluster instead of the embedded server")
    reconcile.set_defaults(run=_reconcile, uses_temporal=True)

    bench = commands.add_parser(
        "bench", parents=[common], help="throughput and memory on real servers, against bare baselines"
    )
    bench.add_argument("--quick", action="store_true", help="smaller counts: a run under two minutes")
    bench.add_argument("--out", type=Path, default=Path("bench-results.json"), help="where the JSON goes")
    bench.set_defaults(run=_bench, uses_temporal=True)

    projections = commands.add_parser("projections", help="maintain the read models")
    projection_commands = projections.add_subparsers(dest="projection_command", required=True)
    rebuild = projection_commands.add_parser("rebuild", parents=[common], help="rebuild every view from the log")
    rebuild.add_argument(
        "--processes", type=_positive, help="split the views among this many processes (default: one per core)"
    )
    rebuild.add_argument(
        "--views", type=_names, help="only these views, comma-separated (a parked view is un-parked by its rebuild)"
    )
    rebuild.add_argument(
        "--accept-tampering",
        action="store_true",
        help="rebuild the event chain even though it finds the log tampered with (logged as an error)",
    )
    rebuild.add_argument(
        "--rekey", action="store_true", help="put the key on chain links made before it (once, after upgrading)"
    )
    rebuild.set_defaults(run=_rebuild)
    follow = projection_commands.add_parser("run", parents=[common], help="keep every view current until stopped")
    follow.add_argument(
        "--views", type=_names, help="only these views, comma-separated (run several runners, each on some)"
    )
    follow.set_defaults(run=_run_projections)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as error:
        print(f"clusterlabel: invalid settings:\n{error}", file=sys.stderr)
        return 2
    try:
        code = args.run(settings, args)
    except KeyboardInterrupt:
        code = 130
    if getattr(args, "uses_temporal", False):
        # Everything has stopped; skipping interpreter teardown avoids the Temporal SDK's
        # occasional abort at exit (sdk-python #300), so the exit code is the command's own.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
