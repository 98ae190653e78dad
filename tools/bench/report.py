"""The bench's results: one JSON document, and the table printed from it with each target checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Results = dict[str, Any]
GIB_MB = 1024.0
OPEN_CASES_TARGET = 50_000
HISTORY_CASES_TARGET = 100_000


@dataclass(frozen=True)
class Target:
    label: str
    check: Callable[[Results], bool | None]  # None: not measured at the size the target names


TARGETS = [
    Target("lifecycle.ratio >= 0.8", lambda r: r["lifecycle"]["ratio"] >= 0.8),
    Target("lifecycle.ratio_to_limit >= 0.8", lambda r: r["lifecycle"]["ratio_to_limit"] >= 0.8),
    Target("append.ratio >= 0.8", lambda r: r["append"]["ratio"] >= 0.8),
    Target(
        "projection.ratio >= 0.5 (SQLite), >= 0.3 (PostgreSQL)",
        lambda r: r["projection"]["ratio"] >= (0.5 if r["store"] == "sqlite" else 0.3),
    ),
    Target(
        "projection.events_per_second >= 50,000 (SQLite), >= 30,000 (PostgreSQL)",
        lambda r: r["projection"]["events_per_second"] >= (50_000 if r["store"] == "sqlite" else 30_000),
    ),
    Target(
        "history.p99_ms <= 5 (SQLite), <= 10 (PostgreSQL), 100,000 cases stored",
        lambda r: (
            None
            if r["history"]["cases_in_store"] < HISTORY_CASES_TARGET
            else r["history"]["p99_ms"] <= (5 if r["store"] == "sqlite" else 10)
        ),
    ),
    Target(
        "scaling.lifecycle_ratio_full_vs_empty >= 0.9 (100,000 cases stored)",
        lambda r: (
            None
            if "scaling" not in r or r["scaling"]["cases_in_store"] < HISTORY_CASES_TARGET
            else r["scaling"]["lifecycle_ratio_full_vs_empty"] >= 0.9
        ),
    ),
    Target(
        "50,000 open cases, worker RSS < 1 GiB",
        lambda r: (
            None
            if "open_cases" not in r or r["open_cases"]["count"] < OPEN_CASES_TARGET
            else r["open_cases"]["worker_rss_mb"] < GIB_MB
        ),
    ),
]


def write(results: Results, path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def table(results: Results) -> str:
    """The figures and targets of one store, then (when measured) those of PostgreSQL beside it, then the soak."""
    text = _one_store(results) if "lifecycle" in results else ""
    if "postgres" in results:
        text += "\n\n" + _one_store(results["postgres"])
    if "soak" in results:
        text += "\n\n" + _soak(results["soak"])
    if "lifecycle" not in results:
        text += "\n\n" + "\n".join(results.get("notes", []))
    return text.strip()


def _soak(soak: Results) -> str:
    """The soak's figures and its target: throughput each minute, errors, lag, memory growth."""
    per_minute = ", ".join(str(count) for count in soak["per_minute"])
    growth = ", ".join(f"{name} {pct:+.1f} %" for name, pct in soak["rss_growth_pct_by_process"].items())
    verdict = "✓" if soak["errors"] == 0 else "✗"
    return "\n".join(
        [
            f"soak on PostgreSQL — {soak['minutes']:g} minutes, {soak['lifecycles']:,} lifecycles "
            f"({soak['per_second']:.2f}/s)",
            f"  lifecycles each minute: {per_minute}",
            f"  errors: {soak['errors']}",
            f"  projection lag p99: {soak['lag_p99_ms']:,.0f} ms (p50 {soak['lag_p50_ms']:,.0f} ms)",
            f"  memory growth after the warm-up: {growth} (largest {soak['rss_growth_pct']:+.1f} %)",
            "  memory at the end of each minute (MiB):",
            *(
                f"    {name}: {', '.join(f'{size:,.0f}' for size in sizes)}"
                for name, sizes in soak.get("rss_mb_each_minute", {}).items()
            ),
            "",
            "targets:",
            f"  {verdict} soak.errors == 0",
        ]
    )


def _one_store(results: Results) -> str:
    lines = [
        f"clusterlabel bench — store {results['store']}, {results['cpu_count']} cores, {results['mode']} run",
        "",
        f"{'part':<11}{'figure':<42}{'ours':>12}{'baseline':>12}{'ratio':>8}",
    ]
    for part, name, ours, baseline, ratio in _rows(results):
        lines.append(f"{part:<11}{name:<42}{_number(ours):>12}{_number(baseline):>12}{_number(ratio, 2):>8}")
    lines += ["", "targets:"]
    for target in TARGETS:
        verdict = target.check(results)
        mark = "-" if verdict is None else ("✓" if verdict else "✗")
        note = " (not measured at this size)" if verdict is None else ""
        lines.append(f"  {mark} {target.label}{note}")
    lines += ["", *results.get("notes", [])]
    return "\n".join(lines)


Row = tuple[str, str, float, float | None, float | None]


def _rows(results: Results) -> list[Row]:
    life, append, projection, history = (
        results["lifecycle"],
        results["append"],
        results["projection"],
        results["history"],
    )
    rows: list[Row] = [
        ("lifecycle", "Bronze lifecycles/s", life["per_second"], life["baseline_per_second"], life["ratio"]),
        (
            "lifecycle",
            "the same against the limit",
            life["per_second"],
            life["limit_per_second"],
            life["ratio_to_limit"],
        ),
        ("append", "events/s", append["events_per_second"], append["baseline_events_per_second"], append["ratio"]),
        (
            "projection",
            f"catch-up events/s ({projection['processes']} processes)",
            projection["events_per_second"],
            projection["baseline_events_per_second"],
            projection["ratio"],
        ),
        ("projection", "lag p99 under lifecycle load (ms)", projection["lag_p99_ms"], None, None),
        ("history", f"p50 ms ({history['cases_in_store']:,} cases stored)", history["p50_ms"], None, None),
        ("history", f"p99 ms ({history['cases_in_store']:,} cases stored)", history["p99_ms"], None, None),
        ("history", "p99 ms as the client saw it (httpx's work too)", history["client_p99_ms"], None, None),
    ]
    if "single_process_events_per_second" in projection:  # not in a full run; beside the catch-up's row
        rows.insert(
            4,
            (
                "projection",
                "catch-up events/s in one process",
                projection["single_process_events_per_second"],
                projection["baseline_events_per_second"],
                projection["single_process_ratio"],
            ),
        )
    if "scaling" in results:
        scaling = results["scaling"]
        rows.append(
            (
                "scaling",
                f"lifecycles/s, {scaling['cases_in_store']:,} cases stored",
                scaling["full_store_per_second"],
                life["per_second"],
                scaling["lifecycle_ratio_full_vs_empty"],
            )
        )
    if "cost" in results:
        cost = results["cost"]
        rows += [
            ("cost", "CPU seconds per lifecycle", cost["cpu_seconds_per_lifecycle"], None, None),
            ("cost", "bytes stored per lifecycle", cost["bytes_per_lifecycle"], None, None),
        ]
    if "open_cases" in results:
        open_cases = results["open_cases"]
        rows += [
            ("open cases", f"worker RSS MiB ({open_cases['count']:,} open)", open_cases["worker_rss_mb"], None, None),
            ("open cases", f"server RSS MiB ({open_cases['count']:,} open)", open_cases["server_rss_mb"], None, None),
        ]
    return rows


def _number(value: float | None, decimals: int | None = None) -> str:
    if value is None:
        return ""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
