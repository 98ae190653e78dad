"""The outbox as the secretariat reads it in the browser (/ui/notifications): a real SMTP server refuses the
proposed experts' addresses, so their offers fail after two tries; an officer reads why and to whom, filters
by status, and sends a failed one again once the address takes mail; an administrator reads the same list
without the button; a cluster's contact and an expert are refused as on every secretariat page."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ARTIFACTS, HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, sign_in, token_of
from tests.e2e.pages_client import Pages
from tests.mailserver import MailServer

OUTBOX = "/ui/notifications"
REFUSED = "mailbox unavailable"  # what the test server answers a refused address (tests/mailserver.py)
# Two quick tries, a second apart: a refused address fails its message within seconds.
POLICY = {**HOUR_POLICY, "delivery_attempts": 2, "delivery_backoff": "PT1S"}
EXPERTS = {"Anna Berg": "anna.berg@experts.example.org", "Bruno Weiss": "bruno.weiss@experts.example.org"}


@dataclass
class Scene:
    server: MailServer
    case_ids: list[str]
    offers: list[dict[str, str]]  # the failed offer of each case, as GET /notifications lists it
    names: list[str]  # the name of the expert each offer went to
    rejection: dict[str, str]  # a message sent: the rejection of an application, to its cluster's contact


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    with MailServer() as running:
        running.handler.refused.update(EXPERTS.values())
        yield running


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, server: MailServer) -> Iterator[RunningEngine]:
    env = {"CLUSTERLABEL_SMTP_URL": server.url(), "CLUSTERLABEL_SECRETARIAT_EMAIL": "secretariat@esca.example"}
    with running_engine(tmp_path_factory.mktemp("outbox") / "data", POLICY, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def secretariat(engine: RunningEngine) -> Secretariat:
    secretariat = Secretariat(engine)
    for name, email in EXPERTS.items():
        secretariat.expert(name=name, email=email)
    return secretariat


@pytest.fixture(scope="module")
def scene(secretariat: Secretariat, server: MailServer) -> Scene:
    """An application rejected (its cluster told so, by a message sent), then two screened cases, each with
    its offer to a proposed expert failed (their addresses are refused)."""
    rejected = secretariat.cluster(name="Alpine Tourism Cluster")
    secretariat.contact_email(rejected, "Alma Contact")
    rejected_case = secretariat.apply(rejected)
    secretariat.screen(rejected_case, accepted=False, reason="no English website")
    rejection = listed_as(secretariat, rejected_case, "case_refused", "sent")
    case_ids, offers, names = [], [], []
    for cluster in ("Baltic Marine Cluster", "Rhine Chemistry Network"):
        cluster_id = secretariat.cluster(name=cluster)
        secretariat.contact_email(cluster_id, "Clara Contact")
        case_id = secretariat.apply(cluster_id)
        secretariat.screen(case_id)
        expert_id, _ = secretariat.proposed_expert(case_id)
        offers.append(listed_as(secretariat, case_id, "offer", "failed"))
        names.append(secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["name"])
        case_ids.append(case_id)
    return Scene(server, case_ids, offers, names, rejection)


def listed_as(secretariat: Secretariat, case_id: str, kind: str, status: str) -> dict[str, str]:
    """The case's message of `kind`, once GET /notifications lists it with `status`."""

    def found() -> dict[str, str] | None:
        listed = secretariat.expect(secretariat.api.get("/notifications", params={"case_id": case_id}), 200)
        return next((m for m in listed if m["kind"] == kind and m["status"] == status), None)

    return eventually(found, 60, f"the {kind} of case {case_id} {status}")


def row(page: str, message_id: str) -> str | None:
    """The text of the message's row on the page, as a reader reads it (tags dropped); None when not listed."""
    found = re.search(rf'<tr id="message-{message_id}">(.*?)</tr>', page, re.S)
    return None if found is None else text_of(found.group(1))


def cells(page: str, message_id: str) -> dict[str, str]:
    """The message's row by its columns' headings (When, To, Kind, Status, Tries, Why it failed, About)."""
    headings = [text_of(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)]
    found = re.search(rf'<tr id="message-{message_id}">(.*?)</tr>', page, re.S)
    assert found, f"message {message_id} is not listed"
    shown = [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]
    return dict(zip(headings, shown, strict=True))


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def main_of(page: str) -> str:
    """What a page shows below its header, without the form tokens that differ from one answer to the next."""
    shown = page[page.index("<main>") :]
    return re.sub(r'name="(csrf_token|form_key)" value="[^"]*"', "", shown)


def test_an_officer_reads_each_failed_message_with_its_recipient_s_name_and_why_it_failed(
    officer: Pages, scene: Scene
) -> None:
    page = officer.read(OUTBOX + "?status=failed").text

    for offer, name in zip(scene.offers, scene.names, strict=True):
        shown = cells(page, offer["id"])
        assert (shown["To"], shown["Kind"], shown["Status"], shown["Tries"]) == (name, "offer", "failed", "2")
        assert REFUSED in shown["Why it failed"] and shown["About"] == "case" and shown[""] == "Send again"
    assert f'href="/ui/cases/{scene.case_ids[0]}"' in page and "expert:" not in page  # names, never the log's ids
    assert page.index(scene.offers[1]["id"]) < page.index(scene.offers[0]["id"])  # the latest first


def test_the_status_filter_lists_that_status_alone_and_an_unknown_status_is_refused_with_the_choices(
    officer: Pages, scene: Scene
) -> None:
    sent = officer.read(OUTBOX + "?status=sent").text
    rejection = cells(sent, scene.rejection["id"])
    assert (rejection["To"], rejection["Kind"]) == ("contacts of Alpine Tourism Cluster", "case refused")
    assert rejection["Status"].startswith("sent ") and rejection["Status"].endswith(" UTC")  # sent, and when
    assert row(sent, scene.offers[0]["id"]) is None and "Send again" not in sent
    listed = re.findall(r'<tr id="message-([0-9a-f-]+)">', sent)
    assert listed and {cells(sent, message_id)["Status"].split()[0] for message_id in listed} == {"sent"}

    one_case = officer.read(f"{OUTBOX}?status=failed&case_id={scene.case_ids[1]}").text
    assert row(one_case, scene.offers[1]["id"]) and row(one_case, scene.offers[0]["id"]) is None

    for query, says in [("status=faild", "no status 'faild': choose queued, sent, failed"), ("case_id=42", "case")]:
        refused = officer.get(f"{OUTBOX}?{query}")
        assert refused.status_code == 422, refused.text[:300]
        assert says in html.unescape(refused.text) and REFUSED not in refused.text


def test_a_cluster_s_contact_and_an_expert_are_refused_as_on_the_dashboard_and_see_nothing_of_the_outbox(
    engine: RunningEngine, secretariat: Secretariat, scene: Scene
) -> None:
    contact = pages_as(engine, token_of(secretariat.contact(secretariat.cluster(), "Carl Contact")))
    expert = pages_as(engine, token_of(secretariat.expert(name="Eva Expert")[1]))
    for reader in (contact, expert):
        outbox, dashboard = reader.get(OUTBOX + "?status=failed"), reader.get("/ui/dashboard")
        assert outbox.status_code == dashboard.status_code == 403
        assert main_of(outbox.text) == main_of(dashboard.text)  # told no more than the dashboard tells them
        assert REFUSED not in outbox.text and scene.names[0] not in outbox.text
        assert f'href="{OUTBOX}"' not in outbox.text  # nor offered a way there

    decider = pages_as(engine, token_of(secretariat.member("Dora Decider", "decider")))
    refused = decider.get(OUTBOX)
    assert refused.status_code == 403 and "only an administrator or an officer may read the outbox" in refused.text
    assert REFUSED not in refused.text and f'href="{OUTBOX}"' not in refused.text


def test_an_administrator_reads_the_outbox_but_is_offered_no_send_again_and_cannot_send_it(
    admin: Pages, scene: Scene
) -> None:
    page = admin.read(OUTBOX + "?status=failed").text
    shown = row(page, scene.offers[0]["id"])
    assert shown and scene.names[0] in shown and REFUSED in shown
    assert "Send again" not in page and f'href="{OUTBOX}"' in page  # the list and its link in the header

    answer = admin.post(f"{OUTBOX}/{scene.offers[0]['id']}/retry", {"form_key": "a1"})
    kind, text = admin.flash_after(answer)
    assert (kind, text) == ("error", "only an officer of the secretariat may do this")
    assert "failed" in (row(admin.read(OUTBOX).text, scene.offers[0]["id"]) or "")


def test_the_dashboard_s_undelivered_card_leads_an_officer_to_the_failed_messages(
    officer: Pages, admin: Pages, scene: Scene
) -> None:
    for reader in (officer, admin):
        dashboard = reader.read("/ui/dashboard").text
        card = re.search(r'<a class="card" id="undelivered" href="([^"]+)">(.*?)</a>', dashboard, re.S)
        assert card, "the card of the messages not delivered is no link"
        assert card.group(1) == html.escape(OUTBOX + "?status=failed") and "messages not delivered" in card.group(2)
        assert re.search(r'<div class="n overdue">(\d+)</div>', card.group(2))
        assert f'<a href="{OUTBOX}" id="outbox-link">Outbox</a>' in dashboard
        assert row(reader.read(html.unescape(card.group(1))).text, scene.offers[0]["id"])


@pytest.mark.skipif(
    not chromium.available() and os.environ.get("CI") != "true",
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
def test_in_a_browser_the_officer_sees_the_failed_messages_in_a_table_with_a_send_again_button(
    engine: RunningEngine, secretariat: Secretariat, scene: Scene
) -> None:
    with chromium.headless_chromium() as browser:
        sign_in(browser, engine, token_of(secretariat.member("Olga Officer", "officer")), OUTBOX)
        browser.go(f"{engine.url}{OUTBOX}?status=failed")
        assert browser.text("h1") == "Outbox"
        first = f"#message-{scene.offers[0]['id']}"
        assert scene.names[0] in browser.text(first) and REFUSED in browser.text(first)
        button = f"{first} button"
        assert browser.text(button) == "Send again"
        box = browser.run("return document.querySelector(arguments[0]).getBoundingClientRect().toJSON()", button)
        assert box["width"] > 0 and box["right"] <= browser.run("return window.innerWidth")  # on screen, not cut off
        browser.screenshot(ARTIFACTS / "outbox.png")


def test_an_officer_s_send_again_queues_the_failed_message_and_it_goes_out_once_its_address_takes_mail(
    officer: Pages, scene: Scene
) -> None:
    # Last in the module: it mends the second offer (the tests before read both offers failed).
    offer, name = scene.offers[1], scene.names[1]
    scene.server.handler.refused.clear()
    failed = officer.read(OUTBOX + "?status=failed").text  # the page the button is on, and its form's token
    assert f'name="back" value="{OUTBOX}?status=failed"' in failed  # back to the list as it was filtered

    answer = officer.post(
        f"{OUTBOX}/{offer['id']}/retry", {"form_key": "send-again-1", "back": f"{OUTBOX}?status=failed"}
    )
    assert answer.headers["location"] == OUTBOX + "?status=failed"
    assert officer.flash_after(answer) == ("ok", "message queued again")

    def sent() -> dict[str, str] | None:
        shown = cells(officer.read(OUTBOX).text, offer["id"])
        return shown if shown["Status"].startswith("sent ") else None

    shown = eventually(sent, 30, "the offer sent")
    assert (shown["To"], shown["Tries"], shown["Why it failed"], shown[""]) == (name, "3", "", "")  # 2 failed, 1 sent
    assert row(officer.read(OUTBOX + "?status=failed").text, offer["id"]) is None
