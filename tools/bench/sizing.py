"""The sizing table an operator reads: cases a year → the machine, from the cost of one lifecycle.

Two figures of the run go in (`cost.cpu_seconds_per_lifecycle`, `cost.bytes_per_lifecycle`), and
four assumptions, stated beside the table: a year's steps are taken in its working hours, the busiest
hour carries PEAK times that hour's average, a machine is sized to be at most half busy then (with
never fewer cores than MIN_CORES, the bench's own machine), and its disk holds YEARS years of history
twice over (backups, the write-ahead logs, vacuum and compaction).
"""

from __future__ import annotations

import math
from typing import Any

CASES_A_YEAR = (1_000, 10_000, 100_000, 1_000_000)
WORKING_HOURS_A_YEAR = 250 * 8
PEAK = 10.0
BUSY_AT_MOST = 0.5
MIN_CORES = 2
YEARS = 5
DISK_HEADROOM = 2.0
GB = 1e9


def sizing_rows(cpu_seconds: float, stored_bytes: float) -> list[dict[str, Any]]:
    """One row per yearly volume: CPU hours and storage a year, the busiest hour's cores, the machine."""
    rows = []
    for cases in CASES_A_YEAR:
        average_cores = cases * cpu_seconds / (WORKING_HOURS_A_YEAR * 3600)
        peak_cores = average_cores * PEAK
        storage_gb = cases * stored_bytes / GB
        rows.append(
            {
                "cases_a_year": cases,
                "cpu_hours_a_year": cases * cpu_seconds / 3600,
                "peak_cores": peak_cores,
                "storage_gb_a_year": storage_gb,
                "cores": max(MIN_CORES, math.ceil(peak_cores / BUSY_AT_MOST)),
                "disk_gb": max(1, math.ceil(storage_gb * YEARS * DISK_HEADROOM)),
            }
        )
    return rows


def sizing_table(results: dict[str, Any]) -> str:
    """The table in Markdown, as the README shows it, for the store of `results`."""
    cost = results["cost"]
    lines = [
        f"sizing ({results['store']}, {results['mode']} run): "
        f"{cost['cpu_seconds_per_lifecycle']:.3f} CPU seconds and "
        f"{cost['bytes_per_lifecycle'] / 1e3:,.1f} kB stored per lifecycle",
        "",
        "| cases a year | CPU hours a year | cores busy in the busiest hour | storage a year | machine |",
        "|---|---|---|---|---|",
    ]
    for row in sizing_rows(cost["cpu_seconds_per_lifecycle"], cost["bytes_per_lifecycle"]):
        lines.append(
            f"| {row['cases_a_year']:,} | {row['cpu_hours_a_year']:,.1f} | {row['peak_cores']:.2f} "
            f"| {row['storage_gb_a_year']:,.2f} GB | {row['cores']} cores, {row['disk_gb']:,} GB disk |"
        )
    temporal = cost.get("bytes_by_store", {}).get("temporal", 0.0)
    share = temporal / cost["bytes_per_lifecycle"] if cost["bytes_per_lifecycle"] else 0.0
    lines += [
        "",
        f"(storage counts Temporal's database, {share:.0%} of it, in full: a closed workflow's history is "
        "kept only as long as the namespace's retention, so the table errs high;",
        f" a year's steps in {WORKING_HOURS_A_YEAR:,} working hours, the busiest hour {PEAK:.0f} times the average, "
        f"cores at most {BUSY_AT_MOST:.0%} busy then, disk for {YEARS} years of history, {DISK_HEADROOM:.0f} times over)",
    ]
    return "\n".join(lines)
