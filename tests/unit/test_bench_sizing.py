"""The bench's sizing table: an operator reads the machine for a yearly number of cases off the cost
of one lifecycle (`cost.cpu_seconds_per_lifecycle`, `cost.bytes_per_lifecycle`)."""

from __future__ import annotations

from clusterlabel.tools.bench.sizing import sizing_rows, sizing_table


def test_a_hundred_thousand_cases_a_year_at_half_a_cpu_second_and_100_kb_each() -> None:
    row = next(row for row in sizing_rows(0.5, 100_000) if row["cases_a_year"] == 100_000)
    assert round(row["cpu_hours_a_year"], 1) == 13.9  # 50,000 CPU seconds
    assert round(row["storage_gb_a_year"], 1) == 10.0
    # 50,000 s over 2,000 working hours is 0.007 cores; ten times that at the peak, at most half busy: the minimum.
    assert row["cores"] == 2
    assert row["disk_gb"] == 100  # five years, twice over


def test_a_costlier_lifecycle_asks_for_more_cores_and_disk() -> None:
    cheap, costly = (
        next(row for row in sizing_rows(cpu, stored) if row["cases_a_year"] == 1_000_000)
        for cpu, stored in ((0.5, 100_000), (5.0, 400_000))
    )
    assert costly["cores"] > cheap["cores"] >= 2
    assert costly["disk_gb"] == 4 * cheap["disk_gb"]


def test_the_table_names_the_store_and_run_it_comes_from() -> None:
    stored = {"events": 15_000.0, "views": 15_000.0, "temporal": 70_000.0}
    results = {
        "store": "sqlite",
        "mode": "full",
        "cost": {"cpu_seconds_per_lifecycle": 0.5, "bytes_per_lifecycle": 1e5, "bytes_by_store": stored},
    }
    text = sizing_table(results)
    assert text.startswith("sizing (sqlite, full run): 0.500 CPU seconds and 100.0 kB stored per lifecycle")
    assert "| 100,000 | 13.9 | 0.07 | 10.00 GB | 2 cores, 100 GB disk |" in text
    assert "storage counts Temporal's database, 70% of it, in full" in text
