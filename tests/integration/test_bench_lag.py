"""The bench's projection lag (tools/bench/lag.py): an event's lag runs from the sample that first sees it
stored to the sample that sees the slowest view past it, not the first view."""

from __future__ import annotations

import time
from pathlib import Path

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.runner import ViewRunner
from clusterlabel.tools.bench.lag import LagSampler
from tests.builders import cluster_profile, register
from tests.stores import sqlite_env

INTERVAL = 0.005


def test_an_events_lag_lasts_until_the_slowest_view_has_read_it(tmp_path: Path) -> None:
    app = CertificationApp(env=sqlite_env(tmp_path))
    with open_read_models(sqlite_env(tmp_path), app, views_dir=tmp_path / "views") as models:
        models.catch_up()
        slowest = models.runner.views[len(models.runner.views) // 2]
        others = ViewRunner(app, [view for view in models.runner.views if view is not slowest])
        sampler = LagSampler(models.runner, interval=INTERVAL).start()
        time.sleep(0.05)
        register(app, RegisterCluster(profile=cluster_profile()))
        stored = time.perf_counter()
        time.sleep(0.2)
        others.run_until_caught_up()  # every view but one has read the event
        time.sleep(0.3)
        last_begun = time.perf_counter()
        models.runner.run_until_caught_up()  # and now the last one
        deadline = time.monotonic() + 10
        while not sampler.lags_ms and time.monotonic() < deadline:
            time.sleep(INTERVAL)
        sampler.stop()
        ended = time.perf_counter()

    lags = sampler.figures().latencies_ms
    assert len(lags) == 1, lags
    # At least until the last view began to catch up (the first view's would be ~0.2 s), at most until the end.
    assert last_begun - stored - 0.05 <= lags[0] / 1000 <= ended - stored + INTERVAL, lags
