"""The public registry and verification pages as a reader gets them: a validity's last day (not the
instant after it), a verdict for every label reference, a refusal naming the allowed filters, and every
label reachable a page at a time. The engine's Services and pages over SQLite, without Temporal."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.label_import import import_labels
from clusterlabel.domain.cluster import EligibilityCriterion
from clusterlabel.domain.commands import SuspendLabel, WithdrawLabel
from clusterlabel.domain.label import Label, label_id_for
from clusterlabel.domain.label_import import read_label_import
from clusterlabel.domain.record_commands import UpdateClusterProfile, WaiveEligibilityCriterion
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import sessions
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.web.credentials import open_credentials
from clusterlabel.interfaces.web.naming import readable, readable_last_day
from clusterlabel.interfaces.web.public_pages import REGISTRY_PAGE
from clusterlabel.interfaces.web.ratelimit import PublicRateLimit
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from tests.builders import cluster_profile, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle
from tests.stores import sqlite_env, sqlite_services

IMPORTED = REGISTRY_PAGE + 30  # German labels, more than a page holds, beside the engine's one Lithuanian label
IMPORT_HEADER = "cluster_name,country,level,label_code,awarded_on,valid_until,source,website\n"


@dataclass
class Site:
    api: FastAPI
    app: CertificationApp
    label: Label  # the engine's one label
    admin: dict[str, str]  # a signed-in secretariat's cookie
    views: ReadModels
    life: Lifecycle  # the engine's label's cluster and experts

    def get(self, path: str, cookies: dict[str, str] | None = None, **params: str) -> httpx.Response:
        """`path` with `params` as its query, or as given (a page's own link) without any."""

        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.api)
            async with httpx.AsyncClient(transport=transport, base_url="http://test", cookies=cookies) as client:
                return await client.get(path, params=params or None)

        return asyncio.run(get())


def imported_rows(count: int = IMPORTED) -> str:
    rows = [
        f"German Cluster {n:03d},DE,{'gold' if n % 2 else 'bronze'},ESCA-{n:04d},2025-05-02,2027-05-31,ESCA export,"
        f"https://cluster-{n}.example.de"
        for n in range(count)
    ]
    return IMPORT_HEADER + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with opened_site(tmp_path_factory.mktemp("public-pages")) as opened:
        yield opened


@contextmanager
def opened_site(directory: Path, imported: int = IMPORTED) -> Iterator[Site]:
    app = CertificationApp(env=sqlite_env(directory), clock=Clock())
    life = Lifecycle(app)
    _, label_id = life.labelled()
    import_labels(app, read_label_import(imported_rows(imported)), "secretariat")
    models = open_read_models(sqlite_env(directory), app)
    models.catch_up()
    svc = sqlite_services(directory, app, models, "public-pages-tests")
    svc.credentials = open_credentials(Settings(data_dir=directory))
    svc.public_limit = PublicRateLimit("10000/minute")
    admin = {sessions.COOKIE: svc.sign_in().sessions.start(sessions.MACHINE_ADMIN)}
    try:
        yield Site(create_app(svc), app, app.get_label(label_id), admin, models, life)
    finally:
        svc.close_stores()
        models.close()
        app.close()


def codes_on(page: httpx.Response) -> list[str]:
    return re.findall(r'href="/ui/verify\?label=([^"]+)"', page.text)


def link(page: httpx.Response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page.text)
    return html.unescape(found.group(1)) if found else None


def test_the_public_pages_print_a_validitys_last_day_not_the_instant_after_it(site: Site) -> None:
    label = site.label
    last_day, instant_after = readable_last_day(label.valid_until), readable(label.valid_until)
    assert label.valid_until.hour == 0 and last_day not in instant_after  # ends at midnight: a day earlier

    registry = site.get("/ui/registry", country="LT")
    entry = site.get("/ui/verify", label=label.label_code)
    verified = site.get("/ui/verify", label=label.label_code, code=label.verification_code)
    page = site.get(f"/ui/labels/{label.label_code}", cookies=site.admin)

    for answer in (registry, entry, verified, page):
        assert answer.status_code == 200, answer.text
        assert last_day in answer.text and instant_after not in answer.text
    renewable = readable_last_day(label.renewable_until)
    assert f"<th>Renewable until</th><td>{renewable}</td>" in page.text
    assert readable(label.renewable_until) not in page.text


def test_an_unknown_label_reference_gets_the_verdict_a_wrong_code_gets_with_or_without_a_code(site: Site) -> None:
    without_code = site.get("/ui/verify", label="nope-0001")
    wrong_code = site.get("/ui/verify", label="nope-0001", code="NOTTHECODE")

    for page in (without_code, wrong_code):
        assert page.status_code == 200
        verdict = page.text.split('id="verdict"', 1)[-1]
        assert '<span class="pill unknown">unknown</span>' in verdict and "No label NOPE-0001" in verdict


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"level": "platinum"}, "level 'platinum' is not one of bronze, silver, gold"),
        ({"status": "valid"}, "is not one of active, suspended, expired, lapsed, superseded, withdrawn"),
        ({"country": "DEU"}, "country 'DEU' is not a country's two-letter code"),
        ({"country": "ß"}, "country 'ß' is not"),  # upper-cased it would read "SS"
    ],
)
def test_a_filter_the_downloads_would_refuse_is_refused_naming_what_to_choose(
    site: Site, filters: dict[str, str], named: str
) -> None:
    page = site.get("/ui/registry", **filters)

    assert page.status_code == 422
    assert escape(named) in page.text
    assert "/registry.csv" not in page.text and "No labels match." not in page.text


def test_a_level_in_any_case_lists_that_level_and_its_downloads_hold_the_same_labels(site: Site) -> None:
    page = site.get("/ui/registry", level="Gold", country="de")

    assert page.status_code == 200
    assert len(codes_on(page)) == IMPORTED // 2
    assert 'href="/registry.csv?country=DE&amp;level=gold"' in page.text
    download = site.get("/registry.csv", country="DE", level="gold")
    assert download.status_code == 200 and len(download.text.splitlines()) == 1 + IMPORTED // 2


def test_the_registry_shows_every_label_a_page_at_a_time_keeping_the_filters(site: Site) -> None:
    first = site.get("/ui/registry", country="DE")
    following = link(first, "next")
    assert len(codes_on(first)) == REGISTRY_PAGE and link(first, "prev") is None
    assert following is not None and "country=DE" in following

    second = site.get(following)
    assert link(second, "next") is None and link(second, "prev") is not None
    shown = codes_on(first) + codes_on(second)
    assert sorted(shown) == [f"ESCA-{n:04d}" for n in range(IMPORTED)]  # each once, none left out

    unfiltered = site.get("/ui/registry")
    assert len(codes_on(unfiltered)) == REGISTRY_PAGE and site.label.label_code in codes_on(unfiltered)


def test_a_withdrawn_labels_page_prints_no_renewal_date(tmp_path: Path) -> None:
    with opened_site(tmp_path, imported=1) as site:
        withdrawn = site.app.get_label(label_id_for("ESCA-0000"))
        send(site.app, withdrawn.id, WithdrawLabel(reason="The cluster was dissolved."), actor=SECRETARIAT)
        page = site.get(f"/ui/labels/{withdrawn.label_code}", cookies=site.admin)
    assert page.status_code == 200 and '<span class="pill withdrawn">withdrawn</span>' in page.text
    assert "Renewable until" not in page.text and readable_last_day(withdrawn.renewable_until) not in page.text


def test_the_labels_list_prints_a_renewal_date_only_for_a_label_that_may_still_be_renewed(tmp_path: Path) -> None:
    with opened_site(tmp_path, imported=1) as site:
        withdrawn = site.app.get_label(label_id_for("ESCA-0000"))
        send(site.app, withdrawn.id, WithdrawLabel(reason="The cluster was dissolved."), actor=SECRETARIAT)
        site.views.catch_up()
        page = site.get("/ui/labels", cookies=site.admin)
    rows = {code: row for row in page.text.split("<tr>") for code in re.findall(r'/ui/labels/([^"]+)"', row)}
    assert page.status_code == 200 and set(rows) >= {withdrawn.label_code, site.label.label_code}
    assert "<td>—</td>" in rows[withdrawn.label_code]
    assert readable_last_day(withdrawn.renewable_until) not in rows[withdrawn.label_code]
    assert f"<td>{readable_last_day(site.label.renewable_until)}</td>" in rows[site.label.label_code]


def test_the_appeal_form_names_the_suspension_appealed_though_the_label_reads_expired(tmp_path: Path) -> None:
    with opened_site(tmp_path, imported=1) as site:
        site.app.clock.now = site.label.valid_until - timedelta(days=5)  # type: ignore[attr-defined]
        suspension = SuspendLabel(reason="A complaint names the cluster.")
        send(site.app, site.label.id, suspension, actor="secretariat:oliver")
        site.app.clock.now = site.label.valid_until + timedelta(days=3)  # type: ignore[attr-defined]
        page = " ".join(site.get(f"/ui/labels/{site.label.label_code}", cookies=site.admin).text.split())
    assert "expired since" in page
    assert "appeal against the label being suspended" in page and "being expired" not in page


def test_a_withdrawn_labels_page_says_its_appeal_window_closed_once_it_has(tmp_path: Path) -> None:
    with opened_site(tmp_path, imported=1) as site:
        withdrawal = WithdrawLabel(reason="The cluster misused the label.")
        send(site.app, site.label.id, withdrawal, actor="secretariat:oliver")
        due = site.app.get_label(site.label.id).appeal_due(site.app.policy)
        assert due is not None
        within = " ".join(site.get(f"/ui/labels/{site.label.label_code}", cookies=site.admin).text.split())
        site.app.clock.now = due + timedelta(days=90)  # type: ignore[attr-defined]
        after = " ".join(site.get(f"/ui/labels/{site.label.label_code}", cookies=site.admin).text.split())
    assert "May be appealed until" in within and 'id="lodge-appeal"' in within
    assert "May be appealed until" not in after and "Appeal window closed" in after
    assert 'id="lodge-appeal"' not in after


def test_a_clusters_page_judges_eligibility_as_an_application_is_judged_its_waivers_standing_in(
    tmp_path: Path,
) -> None:
    with opened_site(tmp_path, imported=1) as site:
        cluster_id = site.label.cluster_id
        unlisted = cluster_profile(eccp_listed=False)
        send(site.app, cluster_id, UpdateClusterProfile(profile=unlisted), actor=SECRETARIAT)
        before = site.get(f"/ui/clusters/{cluster_id}", cookies=site.admin).text
        waiver = WaiveEligibilityCriterion(criterion=EligibilityCriterion.ECCP_LISTING, reason="national programme")
        send(site.app, cluster_id, waiver, actor=SECRETARIAT)
        after = " ".join(site.get(f"/ui/clusters/{cluster_id}", cookies=site.admin).text.split())
    assert 'id="unmet"' in before and "not listed on the European Cluster Collaboration Platform" in before
    assert 'id="unmet"' not in after and "eccp listing: national programme" in after


def test_the_registrys_json_names_its_next_page_while_a_page_is_full(site: Site) -> None:
    first = site.get("/registry", level="gold", limit="10")
    assert len(first.json()) == 10 and 'rel="next"' in first.headers["link"]
    following = first.headers["link"].removeprefix("<").split(">")[0]
    second = site.get(following)
    assert second.json() and {e["label_id"] for e in second.json()}.isdisjoint({e["label_id"] for e in first.json()})
    last = site.get("/registry", level="gold", limit="1000")
    assert "link" not in last.headers  # every gold label fits: no next page
