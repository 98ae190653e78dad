"""Each person's inbox and a case's messages in its history, on the real engine (messages written to its
Maildir, as with no mail server configured).

The story: one expert, two clusters applying; the expert is offered both cases and declines both, so the
secretariat is told twice that nobody is left. The expert, two officers and a contact read their inboxes,
and the case's history shows what became of its messages to whoever may see them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ARTIFACTS, HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, sign_in, token_of

MESSAGE_EVENTS = {"MessageQueued", "MessageSent", "MessageFailed", "MessageRequeued"}
# The story screens each case at once; the last test leaves one unscreened past this deadline.
POLICY = {**HOUR_POLICY, "screening_deadline": "PT15S"}
DIGEST_EVERY_3_SECONDS = {"CLUSTERLABEL_DIGEST_EVERY": "PT3S", "CLUSTERLABEL_DIGEST_AT": "0"}


@dataclass
class Story:
    engine: RunningEngine
    secretariat: Secretariat
    expert_id: str
    expert: httpx.Client
    contact: httpx.Client
    cases: list[str]  # the first applied first
    declined: bool = False


def expect(client: httpx.Client, method: str, path: str, status: int = 200) -> Any:
    answer = client.request(method, path)
    assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def inbox(client: httpx.Client) -> dict[str, Any]:
    return dict(expect(client, "GET", "/inbox"))


def messages_of(client: httpx.Client, count: int) -> list[dict[str, Any]]:
    """The caller's messages once there are `count` of them (delivery and the views run behind the steps)."""
    return eventually(
        lambda: (lambda box: box["messages"] if box["total"] >= count else None)(inbox(client)),
        30,
        f"{count} messages in the inbox",
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with running_engine(tmp_path_factory.mktemp("inbox") / "data", POLICY, env=DIGEST_EVERY_3_SECONDS) as running:
        yield running


@pytest.fixture(scope="module")
def story(engine: RunningEngine) -> Story:
    secretariat = Secretariat(engine)
    expert_id, expert = secretariat.expert(name="Anna Berg")
    first, second = secretariat.cluster(name="Baltic Marine Cluster"), secretariat.cluster(name="Nordic Food Cluster")
    contact = secretariat.contact(first, "Clara Contact")
    cases = []
    for cluster_id in (first, second):
        case_id = secretariat.apply(cluster_id)
        secretariat.screen(case_id)
        secretariat.wait_for(case_id, "the offer", lambda case: case.get("proposed_expert_id") == expert_id)
        cases.append(case_id)
    return Story(engine, secretariat, expert_id, expert, contact, cases)


def decline_both(story: Story) -> None:
    """The expert declines both offers (once for the module): the secretariat is told nobody is left, twice."""
    if story.declined:
        return
    for case_id in story.cases:
        answer = story.expert.post(f"/cases/{case_id}/assignment", json={"accept": False, "reason": "booked"})
        assert answer.status_code == 200, answer.text
    story.declined = True


def test_an_expert_reads_their_offers_in_their_inbox_linked_where_they_answer_them(story: Story) -> None:
    offers = messages_of(story.expert, 2)

    assert {message["kind"] for message in offers} == {"offer"}
    assert {message["case_id"] for message in offers} == set(story.cases)
    for message in offers:
        assert message["case_id"] in message["body"]
        assert message["link"] == "/ui/assignments"  # as the offer's e-mail links it: where it is answered
        assert message["read"] is False


def test_opening_a_message_marks_it_read_and_the_unread_come_first(story: Story) -> None:
    latest = next(message for message in messages_of(story.expert, 2) if message["case_id"] == story.cases[1])

    opened = expect(story.expert, "POST", f"/inbox/{latest['id']}/read")
    expect(story.expert, "POST", f"/inbox/{latest['id']}/read")  # opening it again changes nothing

    box = inbox(story.expert)
    assert opened["read"] is True and opened["subject"] == latest["subject"]
    assert box["unread"] == 1 and box["total"] == 2
    assert [(message["case_id"], message["read"]) for message in box["messages"]] == [
        (story.cases[0], False),
        (story.cases[1], True),
    ]


def test_while_offered_an_expert_reads_their_offer_going_out_in_the_case_s_history(story: Story) -> None:
    events = message_events(story.expert, story.cases[0], 2)

    assert [event["type"] for event in events] == ["MessageQueued", "MessageSent"]
    assert {event["data"]["expert_id"] for event in events} == {story.expert_id}


def test_nobody_opens_or_sees_a_message_addressed_to_someone_else(story: Story) -> None:
    offer = messages_of(story.expert, 2)[0]
    officer = story.secretariat.member("Olga Officer", "officer")

    assert inbox(story.contact)["messages"] == []
    expect(story.contact, "POST", f"/inbox/{offer['id']}/read", 404)
    expect(officer, "POST", f"/inbox/{offer['id']}/read", 404)  # the expert's, not the secretariat's
    assert all(message["kind"] != "offer" for message in inbox(officer)["messages"])
    expect(story.expert, "POST", "/inbox/00000000-0000-4000-8000-000000000000/read", 404)
    expect(story.expert, "POST", "/inbox/not-an-id/read", 422)


def test_the_page_of_someone_else_s_message_answers_404_and_marks_nothing(story: Story) -> None:
    offer = messages_of(story.expert, 2)[0]
    contact_pages = pages_as(story.engine, token_of(story.contact))

    assert contact_pages.get(f"/ui/inbox/{offer['id']}").status_code == 404
    assert contact_pages.get("/ui/inbox/not-an-id").status_code == 404
    assert next(m for m in inbox(story.expert)["messages"] if m["id"] == offer["id"])["read"] == offer["read"]


def test_each_officer_keeps_their_own_read_state_of_the_secretariat_s_messages(story: Story) -> None:
    decline_both(story)
    olga = story.secretariat.member("Olga Officer", "officer")
    otto = story.secretariat.member("Otto Officer", "officer")
    escalations = messages_of(olga, 2)
    assert [message["kind"] for message in escalations] == ["escalation", "escalation"]

    expect(olga, "POST", f"/inbox/{escalations[0]['id']}/read")

    assert inbox(olga)["unread"] == 1
    assert inbox(otto)["unread"] == 2
    assert [message["read"] for message in inbox(olga)["messages"]] == [False, True]


def message_events(client: httpx.Client, case_id: str, count: int = 0, of: str = "cases") -> list[dict[str, Any]]:
    """The message events in the history of a case (or, `of="labels"`, of a label) once there are `count`."""

    def found() -> tuple[list[dict[str, Any]]] | None:
        events = expect(client, "GET", f"/{of}/{case_id}/history")["events"]
        shown = [event for event in events if event["type"] in MESSAGE_EVENTS]
        return (shown,) if len(shown) >= count else None

    return eventually(found, 30, f"{count} message events in the case's history")[0]


def test_a_case_s_history_shows_its_messages_going_out_without_their_text_or_addresses(story: Story) -> None:
    decline_both(story)
    case_id = story.cases[0]
    officer = story.secretariat.member("Olga Officer", "officer")

    # The offer and the escalation, each queued and then sent (to the Maildir).
    events = message_events(officer, case_id, 4)

    sent = [event for event in events if event["type"] == "MessageSent"]
    assert {event["data"]["message_kind"] for event in sent} == {"offer", "escalation"}
    offer_sent = next(event for event in sent if event["data"]["message_kind"] == "offer")
    assert offer_sent["data"]["to"] == "expert" and offer_sent["data"]["expert_id"] == story.expert_id
    assert offer_sent["data"]["channel"] == "maildir"
    for event in events:
        assert event["aggregate"] == "Notification"
        assert "@" not in str(event["data"]) and not {"body", "subject", "recipients", "reply"} & set(event["data"])
    seqs = [event["seq"] for event in expect(officer, "GET", f"/cases/{case_id}/history")["events"]]
    assert seqs == sorted(seqs)


def test_the_cluster_reads_none_of_the_expert_s_or_the_secretariat_s_messages_in_its_case_s_history(
    story: Story,
) -> None:
    decline_both(story)
    case_id = story.cases[0]
    officer = story.secretariat.member("Olga Officer", "officer")
    message_events(officer, case_id, 4)

    # The expert is no longer on the case once they declined: like the case, its history is not theirs.
    expect(story.expert, "GET", f"/cases/{case_id}/history", 404)
    assert message_events(story.contact, case_id) == []  # the offer and the escalation are not the cluster's


@pytest.mark.skipif(
    not chromium.available() and os.environ.get("CI") != "true",
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
def test_a_person_reads_their_inbox_in_the_browser_and_the_header_counts_what_is_unread(story: Story) -> None:
    reader = story.secretariat.member("Rita Reader", "officer")
    decline_both(story)
    escalations = messages_of(reader, 2)
    with chromium.headless_chromium() as browser:
        sign_in(browser, story.engine, token_of(reader), "/ui/inbox")
        assert browser.text_with("#unread-count", "2") == "2"
        assert browser.text("#inbox-summary") == "2 unread of 2"
        browser.screenshot(ARTIFACTS / "inbox.png")

        browser.click(f"tr[data-message='{escalations[0]['id']}'] a")
        browser.text_with("#message-subject", escalations[0]["subject"])
        href = browser.run("return document.querySelector('#message-link').getAttribute('href')")
        assert href == f"/ui/cases/{escalations[0]['case_id']}"
        assert browser.text("#unread-count") == "1"
        browser.screenshot(ARTIFACTS / "inbox-message.png")

        browser.click("#message-link")  # the case's timeline shows its messages going out
        browser.text_with("#timeline", "Message sent")
        assert "escalation to the secretariat by maildir" in browser.text("#timeline")
        browser.screenshot(ARTIFACTS / "case-messages.png")

        browser.click("#inbox-link")
        browser.text_with("#inbox-summary", "1 unread of 2")
        assert "new" in browser.text("#inbox tr.unread")
        assert browser.text("#inbox tr.read") != ""


def test_a_cluster_s_contact_reads_its_label_s_message_linked_to_the_label_and_sees_it_sent_in_the_histories(
    story: Story,
) -> None:
    cluster_id = story.secretariat.cluster(name="Alpine Wood Cluster", country="AT")
    contact = story.secretariat.contact(cluster_id, "Alma Contact")
    case_id = story.secretariat.apply(cluster_id)
    label_id = story.secretariat.award(case_id)
    code = story.secretariat.label(label_id)["label_code"]

    # The team's completion asked the cluster to agree to its experts, on the case's page; the agreement sent
    # the invoice; then the label.
    told = {message["kind"]: message for message in messages_of(contact, 3)}
    events = message_events(contact, case_id, 6)
    issued, asked, invoice = told["label_issued"], told["experts_to_agree"], told["invoice_issued"]
    label_events = [event for event in events if event["data"]["message_kind"] == "label_issued"]

    assert code in issued["body"] and asked["link"] == invoice["link"] == f"/ui/cases/{case_id}"
    assert "Bronze label audit on site" in invoice["body"] and "VAT" in invoice["body"]
    assert issued["link"] == f"/ui/labels/{code}" and issued["case_id"] == case_id
    assert [event["type"] for event in label_events] == ["MessageQueued", "MessageSent"]
    assert {event["data"]["to"] for event in events} == {"cluster"}
    assert {event["data"]["message_kind"] for event in events} == {"experts_to_agree", "invoice_issued", "label_issued"}
    assert all(code not in str(event["data"]) for event in events)  # the text stays in the inbox
    assert message_events(contact, label_id, 2, of="labels") == label_events  # the label's history shows it too


def test_the_secretariat_s_digest_reaches_each_officer_s_inbox_listing_a_case_past_its_deadline(story: Story) -> None:
    late = story.secretariat.apply(story.secretariat.cluster(name="Late Filers Cluster"))  # never screened
    officer = story.secretariat.member("Dora Digest", "officer")

    def digest() -> dict[str, Any] | None:
        listed = inbox(officer)["messages"]
        return next((m for m in listed if m["kind"] == "digest" and f"case {late}" in m["body"]), None)

    found = eventually(digest, 60, "a digest naming the late case")

    text = " ".join(found["body"].split())  # the mail's layout wraps long lines
    assert "Cases past a deadline" in text and "screening was due" in text
    assert found["subject"].startswith("Digest for ") and found["link"] is None
    sent = {"status": "sent", "limit": 500}
    assert eventually(
        lambda: found["id"] in {m["id"] for m in expect_list(story.secretariat, "/notifications", sent)},
        30,
        "the digest sent by mail too",
    )


def expect_list(secretariat: Secretariat, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return list(secretariat.expect(secretariat.api.get(path, params=params), 200))


def test_a_case_waiting_for_an_expert_proposes_one_once_an_officer_records_their_qualification(story: Story) -> None:
    """Both cases escalated for want of an expert; a Gold-only expert is no help until an officer records
    their Bronze qualification, which wakes the waiting cases as a registration does."""
    decline_both(story)
    expert_id, _ = story.secretariat.expert(name="Quentin Qualifying", levels=["gold"])
    bronze = {"level": "bronze", "until": "2031-06-30T00:00:00Z", "training": "Bronze assessor course"}
    story.secretariat.expect(story.secretariat.api.post(f"/experts/{expert_id}/qualifications", json=bronze), 200)
    for case_id in story.cases:
        story.secretariat.wait_for(case_id, "the new offer", lambda case: case.get("proposed_expert_id") == expert_id)
