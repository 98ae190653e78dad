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

from clusterlabel.interfaces import import_cli, views_cli
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


def _run_projections(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.projection_runner import run_projections

    if views_cli.unknown_views(args.views):
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
    also_postgres = ["--postgres-url", args.postgres_url] if args.postgres_url else []
    soak = [] if args.soak is None else ["--soak", str(args.soak)]
    return bench((["--quick"] if args.quick else []) + ["--out", str(args.out)] + on_postgres + also_postgres + soak)


def _admin_token(settings: Settings, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.bootstrap import open_credentials, open_token_store
    from clusterlabel.interfaces.web.sessions import MACHINE_ADMIN

    with closing(open_token_store(settings)) as store:
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
    status.set_defaults(run=views_cli.status)

    history = commands.add_parser("history", parents=[common], help="every event of a case (or label), oldest first")
    history.add_argument("case_id")
    history.set_defaults(run=lambda settings, args: views_cli.history(settings, args.case_id))

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

    import_cli.add_parser(commands, common)

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
    bench.add_argument(
        "--postgres-url",
        help="after SQLite, every figure again on this PostgreSQL database (under `postgres`; a note if it does not answer)",
    )
    bench.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="only the soak: lifecycles without pause for MINUTES on PostgreSQL, scaled out in processes "
        "(a full run ends with a 10-minute one)",
    )
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
    rebuild.set_defaults(run=views_cli.rebuild)
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
