"""Operators see the machinery of a running `clusterlabel serve`: the embedded Temporal server's Web UI, its
address printed at start; the secretariat's pages linking each case and label to its workflow there (and
nobody else's); `GET /metrics` in Prometheus' format. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ARTIFACTS, RunningEngine, eventually
from tests.e2e.page_session import pages_as, sign_in, token_of

UI_LINE = re.compile(r"Temporal's Web UI[^\n]*?: (http://127\.0\.0\.1:(\d+))\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def temporal_ui(engine: RunningEngine) -> str:
    printed = eventually(lambda: UI_LINE.findall(engine.log_path.read_text()), 10, "the Web UI's address")
    assert len(printed) == 1, engine.log_tail()
    return str(printed[0][0])


@pytest.fixture(scope="module")
def labelled(secretariat: Secretariat) -> dict[str, str]:
    cluster_id = secretariat.cluster(name="Danube Logistics Cluster", country="AT")
    case_id = secretariat.apply(cluster_id)
    label_id = secretariat.award(case_id)
    return {"cluster_id": cluster_id, "case_id": case_id, "label_id": label_id}


def test_serve_prints_the_address_of_temporals_web_ui_and_the_ui_answers_there(temporal_ui: str) -> None:
    answer = httpx.get(temporal_ui, timeout=10, follow_redirects=True)

    assert answer.status_code == 200
    assert "<html" in answer.text.lower()


def test_metrics_answer_in_prometheus_text_format_with_the_views_lag_and_the_requests(
    engine: RunningEngine, labelled: dict[str, str]
) -> None:
    answer = httpx.get(f"{engine.url}/metrics", timeout=10)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert re.search(r"^# TYPE \w+ (counter|gauge|histogram)$", answer.text, re.MULTILINE)
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    lag = [name for name in families if "projection" in name and "lag" in name]
    requests = [name for name in families if "http_requests" in name]
    assert lag and requests
    lagging_views = {sample.labels["view"] for sample in families[lag[0]].samples}
    assert {"case_status", "registry", "notifications"} <= lagging_views
    applications = [
        sample
        for sample in families[requests[0]].samples
        if sample.labels.get("route") == "/applications" and sample.labels.get("status") == "201"
    ]
    assert applications and applications[0].value >= 1


def test_the_secretariat_follows_a_case_and_its_label_to_their_workflows_in_temporals_web_ui(
    engine: RunningEngine,
    secretariat: Secretariat,
    labelled: dict[str, str],
    temporal_ui: str,
    browser: chromium.Browser,
) -> None:
    case_workflow = f"{temporal_ui}/namespaces/default/workflows/case-{labelled['case_id']}"
    label_workflow = f"{temporal_ui}/namespaces/default/workflows/label-{labelled['label_id']}"
    sign_in(browser, engine, token_of(secretariat.member("Oskar Operator", "officer")), "/ui/dashboard")

    dashboard_links = browser.run("return [...document.querySelectorAll('a.workflow')].map(a => a.href)")
    assert case_workflow in dashboard_links
    browser.screenshot(ARTIFACTS / "dashboard-workflow-links.png")
    browser.go(f"{engine.url}/ui/labels/{labelled['label_id']}")
    assert label_workflow in browser.run("return [...document.querySelectorAll('a.workflow')].map(a => a.href)")

    browser.go(f"{engine.url}/ui/cases/{labelled['case_id']}")
    browser.screenshot(ARTIFACTS / "case-workflow-link.png")
    browser.click("a.workflow")
    eventually(lambda: browser.url.startswith(case_workflow), 15, "the Web UI to open the case's workflow")
    browser.text_with("body", f"case-{labelled['case_id']}", timeout=20)
    browser.screenshot(ARTIFACTS / "temporal-ui-case-workflow.png")


def test_a_cluster_contact_is_shown_no_link_into_the_workflows(
    engine: RunningEngine, secretariat: Secretariat, labelled: dict[str, str], temporal_ui: str
) -> None:
    contact = pages_as(engine, token_of(secretariat.contact(labelled["cluster_id"], "Dora Danube")))

    pages = [contact.read(f"/ui/cases/{labelled['case_id']}"), contact.read(f"/ui/labels/{labelled['label_id']}")]

    assert [page.status_code for page in pages] == [200, 200]
    assert all(temporal_ui not in page.text and "/workflows/" not in page.text for page in pages)


@pytest.fixture(scope="module")
def browser() -> Iterator[chromium.Browser]:
    if not chromium.available() and os.environ.get("CI") != "true":
        pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)")
    with chromium.headless_chromium() as running:
        yield running
