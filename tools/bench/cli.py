"""`clusterlabel bench` / `python -m clusterlabel.tools.bench`: one run, real servers, figures against baselines.

Parts, in order: append (whole lifecycles through CertificationApp against bare aggregates; that store
is then topped up to the history size, bulk-written as tools/bench/bulk.py says), projection (every
view from zero against read-and-decode), history (GET /cases/{id}/history over that store), lifecycle
(CaseWorkflow on the dev server against a bare mirror and against the limit, the mirror with local
activities; the projection lag sampled meanwhile; then the same lifecycles again on the full history
store, against those on an empty one; what each lifecycle cost), open cases (a separate worker
process). Given `--postgres-url` and a server answering there, the same parts but open cases run again
on PostgreSQL, their figures under `postgres`; a full run then soaks there (tools/bench/soak.py), as
`--soak MINUTES` does alone. Everything runs in a fresh temporary directory; every server and process started is stopped on the
way out, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from clusterlabel.interfaces.logs import configure_logging

if TYPE_CHECKING:
    from clusterlabel.tools.bench.store import BenchStores, StoreFigures

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    append_lifecycles: int
    history_cases: int
    history_requests: int
    lifecycles: int
    concurrency: int
    open_cases: int
    soak_minutes: float = 0.0  # after the rest, on PostgreSQL (--postgres-url or --database-url)


FULL = Sizes(
    append_lifecycles=2_000,
    history_cases=100_000,
    history_requests=1_000,
    lifecycles=200,
    concurrency=8,
    open_cases=10_000,
    soak_minutes=10.0,
)
QUICK = Sizes(
    append_lifecycles=300, history_cases=1_000, history_requests=300, lifecycles=20, concurrency=4, open_cases=1_000
)
# For the test: every part runs, in seconds.
TINY = Sizes(append_lifecycles=10, history_cases=20, history_requests=10, lifecycles=3, concurrency=2, open_cases=10)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="clusterlabel bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts: a run under two minutes")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test's sizes
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"), help="where the JSON goes")
    parser.add_argument(
        "--work-dir", type=Path, help="keep the stores and server logs here (default: a temp dir, removed)"
    )
    parser.add_argument("--lifecycles", type=int, help="override: lifecycles through the workflows")
    parser.add_argument("--open-cases", type=int, help="override: cases held open at once")
    parser.add_argument("--history-cases", type=int, help="override: cases in the store for the history figure")
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="only the soak: lifecycles without pause for MINUTES on PostgreSQL (--postgres-url or "
        "--database-url), two workers, the API and a projection runner in processes of their own "
        "(a full run ends with a 10-minute one)",
    )
    parser.add_argument(
        "--database-url",
        help="measure on this PostgreSQL database (a fresh schema per store, dropped after) instead of SQLite",
    )
    parser.add_argument(
        "--postgres-url",
        help="measure on SQLite, then again on this PostgreSQL database (under `postgres`); "
        "skipped with a note when no server answers there",
    )
    return parser.parse_args(list(argv))


def sizes_for(args: argparse.Namespace) -> tuple[str, Sizes]:
    mode, sizes = ("tiny", TINY) if args.tiny else ("quick", QUICK) if args.quick else ("full", FULL)
    overrides = {
        "lifecycles": args.lifecycles,
        "open_cases": args.open_cases,
        "history_cases": args.history_cases,
    }
    return mode, replace(sizes, **{name: value for name, value in overrides.items() if value is not None})


def _postgres_env(url: str | None) -> dict[str, str] | None:
    from clusterlabel.interfaces.event_store_env import parse_postgres_url

    return None if url is None else {"PERSISTENCE_MODULE": "eventsourcing.postgres", **parse_postgres_url(url)}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    mode, sizes = sizes_for(args)
    configure_logging("console", "WARNING")
    previous = _sigterm_interrupts()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="clusterlabel-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    soak_url = args.postgres_url or args.database_url
    try:
        if args.soak is not None:
            from clusterlabel.tools.bench.soak import soak_only

            results = soak_only(work_dir / "soak", soak_url, args.soak)
        else:
            results = asyncio.run(run(work_dir, mode, sizes, _postgres_env(args.database_url)))
            if args.postgres_url:
                results = _with_postgres(results, work_dir / "postgres", mode, sizes, args.postgres_url)
            if sizes.soak_minutes and soak_url and (args.database_url or "postgres" in results):
                from clusterlabel.tools.bench.soak import NOTE, bench_soak

                env = _postgres_env(soak_url)
                assert env is not None
                results["soak"] = _part(
                    "soak", lambda: bench_soak(work_dir / "soak", env, soak_url, sizes.soak_minutes)
                )
                results["notes"] = [*results["notes"], NOTE]
    except KeyboardInterrupt:
        print("\nbench interrupted; servers and workers stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if args.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    from clusterlabel.tools.bench.report import table, write
    from clusterlabel.tools.bench.sizing import sizing_table

    write(results, args.out)
    print(table(results))
    for measured in (results, results.get("postgres")):
        if measured is not None and "cost" in measured:
            print("\n" + sizing_table(measured))
    print(f"\nwritten to {args.out}")
    return 0


def _with_postgres(results: dict[str, Any], directory: Path, mode: str, sizes: Sizes, url: str) -> dict[str, Any]:
    """`results` with the same figures measured on PostgreSQL under `postgres`, or a note why not."""
    from clusterlabel.tools.bench.store import postgres_unreachable

    env = _postgres_env(url)
    assert env is not None
    why = postgres_unreachable(env)
    if why is not None:
        return {**results, "notes": [*results["notes"], f"postgres: not measured, no server answers ({why})"]}
    directory.mkdir(parents=True, exist_ok=True)
    # Open cases are left out: that figure is the worker's memory, the same whatever the store. The tiny
    # run (the test's) measures the lifecycles on a full store on SQLite only, to stay fast.
    measured = asyncio.run(run(directory, mode, sizes, env, open_cases=False, scaling=mode != "tiny"))
    return {**results, "postgres": measured}


async def run(
    directory: Path,
    mode: str,
    sizes: Sizes,
    postgres: dict[str, str] | None = None,
    open_cases: bool = True,
    scaling: bool = True,
) -> dict[str, Any]:
    """Every part, on SQLite files in `directory` or (given its env) on fresh PostgreSQL schemas."""
    from clusterlabel.tools.bench.store import BenchStores  # here: `--help` stays fast

    stores = BenchStores(directory, postgres)
    try:
        return await _measure(stores, mode, sizes, open_cases, scaling)
    finally:
        stores.close()


async def _measure(
    stores: BenchStores, mode: str, sizes: Sizes, with_open_cases: bool = True, with_scaling: bool = True
) -> dict[str, Any]:
    from clusterlabel.tools.bench.bulk import bulk_fill
    from clusterlabel.tools.bench.history import bench_history
    from clusterlabel.tools.bench.lifecycle import bench_lifecycle
    from clusterlabel.tools.bench.open_cases import bench_open_cases
    from clusterlabel.tools.bench.store import bench_append, bench_projection

    directory = stores.directory
    begun = time.perf_counter()
    append, env, case_ids = _part("append", lambda: bench_append(stores, sizes.append_lifecycles))
    case_ids = _part("fill", lambda: bulk_fill(env, case_ids, sizes.history_cases))
    views = directory / "views-history"
    projection = _part("projection", lambda: bench_projection(env, views, single_process=mode != "full"))
    _part("settle", lambda: stores.settle(env))
    history = await _apart("history", bench_history(env, views, case_ids, sizes.history_requests))
    full_store = (env, views) if with_scaling else None
    life = await _apart("lifecycle", bench_lifecycle(stores, sizes.lifecycles, sizes.concurrency, full_store))
    figures = {
        "store": stores.kind,
        "cpu_count": os.cpu_count() or 1,
        "mode": mode,
        "lifecycle": {
            "per_second": life.per_second,
            "baseline_per_second": life.baseline_per_second,
            "ratio": life.ratio,
            "limit_per_second": life.per_second_in(life.limit_seconds),
            "ratio_to_limit": life.ratio_to(life.limit_seconds),
            "lifecycles": life.lifecycles,
            "concurrency": life.concurrency,
            "shape_per_lifecycle": life.shape,
            "cpu_seconds_per_lifecycle": life.cpu,
        },
        "cost": life.cost,
        "append": {
            "events_per_second": append.per_second,
            "baseline_events_per_second": append.baseline_per_second,
            "ratio": append.ratio,
            "events": append.events,
            "lifecycles": sizes.append_lifecycles,
        },
        "projection": {
            "events_per_second": projection.per_second,
            "baseline_events_per_second": projection.baseline_per_second,
            "ratio": projection.ratio,
            "events": projection.events,
            "processes": int(projection.extra["processes"]),
            **_single_process(projection),
            "lag_p99_ms": life.lag.p99_ms,
            "lag_p50_ms": life.lag.p50_ms,
            "lag_max_ms": max(life.lag.latencies_ms, default=0.0),
            "lag_samples": len(life.lag.latencies_ms),
            "lag_sampling_interval_ms": life.lag.interval_ms,
        },
        "history": {
            "cases_in_store": history.cases_in_store,
            "p50_ms": history.p50_ms,
            "p99_ms": history.p99_ms,
            "client_p99_ms": history.client_p99_ms,
            "requests": history.requests,
            "events_per_history": history.events_per_history,
            "source": history.source,
        },
        "notes": [
            f"history: {history.source}",
            (
                "lifecycle: worker, projection runner and driver in one process (as `serve`); baseline: bare "
                "workflows with the same activities, updates, timers and child workflows per lifecycle, "
                "no-op bodies, a fresh dev server each; limit: the same with every activity a no-op local "
                "activity, the most the server allows our design; logging at WARNING"
            ),
            (
                f"projection: catch-up as `projections rebuild` runs it, views split among {int(projection.extra['processes'])} "
                "processes; in one process (as `serve`): "
                + (
                    f"{projection.extra['single_process_events_per_second']:,.0f} events/s"
                    if "single_process_events_per_second" in projection.extra
                    else "not measured in a full run (time)"
                )
            ),
            f"projection lag: head vs slowest view, sampled every {life.lag.interval_ms:.0f} ms",
            (
                f"scaling: the lifecycles run again on the history store ({history.cases_in_store:,} cases, its "
                "views caught up), a fresh dev server, against the same on an empty store"
                if with_scaling
                else "scaling: not measured on this store in a tiny run"
            ),
            (
                "cost: per completed lifecycle of the lifecycle part, until its views caught up; CPU of the bench "
                "process (worker, views, driver) and the Temporal server; bytes of events, views and Temporal's "
                "database" + ("" if stores.kind == "sqlite" else "; the PostgreSQL server's CPU not counted")
            ),
        ],
    }
    if life.ratio_full_vs_empty is not None:
        figures["scaling"] = {
            "lifecycle_ratio_full_vs_empty": life.ratio_full_vs_empty,
            "cases_in_store": history.cases_in_store,
            "full_store_per_second": life.per_second * life.ratio_full_vs_empty,
        }
    if with_open_cases:
        open_cases = await _apart("open cases", bench_open_cases(stores, sizes.open_cases))
        figures["open_cases"] = {
            "count": open_cases.count,
            "worker_rss_mb": open_cases.worker_rss_mb,
            "server_rss_mb": open_cases.server_rss_mb,
            "worker_peak_rss_mb": open_cases.worker_peak_rss_mb,
            "server_idle_rss_mb": open_cases.server_idle_rss_mb,
            "seconds_to_open": open_cases.open_seconds,
        }
    figures["seconds"] = round(time.perf_counter() - begun, 1)
    return figures


def _single_process(projection: StoreFigures) -> dict[str, float]:
    """The catch-up in one process, where it was measured."""
    if "single_process_events_per_second" not in projection.extra:
        return {}
    per_second = projection.extra["single_process_events_per_second"]
    return {
        "single_process_events_per_second": per_second,
        "single_process_ratio": per_second / projection.baseline_per_second,
    }


def _part(name: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    print(f"bench: {name} ...", end="", file=sys.stderr, flush=True)
    result = work()
    print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return result


async def _apart(name: str, work: Any) -> Any:
    started = time.perf_counter()
    print(f"bench: {name} ...", end="", file=sys.stderr, flush=True)
    result = await work
    print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return result


def _sigterm_interrupts() -> Any:
    """SIGTERM stops the bench as Ctrl-C does, so the same clean-up runs."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
