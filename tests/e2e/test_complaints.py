"""Complaints through the HTTP API of the real engine, with a real SMTP server (aiosmtpd): anyone lodges one
about a label or a cluster of the public registry without signing in; an officer sees it received, then
acknowledged, investigating and closed; the complainant receives the acknowledgement and the outcome by
e-mail; everybody else is refused, and input that names nothing in the registry records nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, token_of
from tests.e2e.pages_client import Pages
from tests.mailserver import MailServer, Received

FINDING = "Founded: the cluster advertised a service it no longer runs. The label is to be suspended."


@dataclass
class Office:
    engine: RunningEngine
    server: MailServer
    secretariat: Secretariat
    officer: httpx.Client
    public: httpx.Client
    cluster_id: str
    label_id: str
    label_code: str

    def lodge(
        self, about: str, email: str, text: str = "The label is shown on a cluster it was not awarded to."
    ) -> Any:
        return self.public.post("/complaints", json={"about": about, "text": text, "contact_email": email})

    def complaints(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.secretariat.expect(self.officer.get("/complaints", params=filters), 200))

    def state_of(self, complaint_id: str) -> str:
        return next(item["state"] for item in self.complaints() if item["complaint_id"] == complaint_id)

    def step(self, complaint_id: str, step: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.officer.post(f"/complaints/{complaint_id}/{step}", json=body)
        return dict(self.secretariat.expect(answer, 200))


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    with MailServer() as server:
        env = {"CLUSTERLABEL_SMTP_URL": server.url(), "CLUSTERLABEL_SECRETARIAT_EMAIL": "office@esca.example"}
        with running_engine(tmp_path_factory.mktemp("complaints") / "data", HOUR_POLICY, env=env) as engine:
            secretariat = Secretariat(engine)
            secretariat.expert()
            cluster_id = secretariat.cluster()
            label_id = secretariat.award(secretariat.apply(cluster_id))
            label_code = secretariat.label(label_id)["label_code"]
            public = engine.client(None)
            # The public registry answers from its view as it stands: wait, as a reader refreshing would.
            eventually(lambda: public.get("/registry", params={"country": "LT"}).text.count(label_code), 30, "registry")
            officer = secretariat.member("Complaints Officer", "officer")
            yield Office(engine, server, secretariat, officer, public, cluster_id, label_id, label_code)


def mail_to(server: MailServer, to: str, text: str) -> Received:
    def found() -> Received | None:
        # Compared word by word: the mail's layout wraps long lines.
        words = " ".join(text.split())
        return next((mail for mail in server.received if to in mail.to and words in mail.words), None)

    return eventually(found, 30, f"a message to {to} holding {text!r}")


def complainant() -> str:
    return f"concerned.citizen-{uuid.uuid4().hex[:6]}@example.net"


def test_anyone_lodges_a_complaint_without_a_token_and_an_officer_sees_it_received(office: Office) -> None:
    answer = office.lodge(office.label_code.lower(), complainant())
    complaint_id = office.secretariat.expect(answer, 201)["complaint_id"]

    listed = next(item for item in office.complaints() if item["complaint_id"] == complaint_id)
    assert (listed["state"], listed["about"]) == ("received", office.label_code)  # as the registry spells it
    assert (listed["label_id"], listed["cluster_id"]) == (office.label_id, office.cluster_id)
    assert listed["due"] is not None and listed["overdue"] is False
    assert [item["complaint_id"] for item in office.complaints(state="received")].count(complaint_id) == 1
    assert complaint_id not in [item["complaint_id"] for item in office.complaints(state="closed")]


def test_a_complaint_goes_through_its_steps_and_the_complainant_is_mailed_its_receipt_and_outcome(
    office: Office,
) -> None:
    email = complainant()
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, email), 201)["complaint_id"]

    lodged = mail_to(office.server, "office@esca.example", f"complaint {complaint_id}")
    assert f"/ui/complaints/{complaint_id}" in lodged.body  # where the officer acknowledges it
    assert office.step(complaint_id, "acknowledgement")["state"] == "acknowledged"
    assert office.state_of(complaint_id) == "acknowledged"
    assert "has been received" in mail_to(office.server, email, complaint_id).words
    assert office.step(complaint_id, "investigation")["state"] == "investigating"
    assert office.state_of(complaint_id) == "investigating"
    closed = office.step(complaint_id, "closure", {"outcome": "suspend", "finding": FINDING})
    assert (closed["state"], closed["outcome"], closed["due"]) == ("closed", "suspend", None)
    assert office.state_of(complaint_id) == "closed"

    outcome = mail_to(office.server, email, FINDING)
    assert "upheld; the label is to be suspended" in outcome.words and complaint_id in outcome.words
    assert "/ui/" not in outcome.body  # no link to a page that asks the complainant, without an account, to sign in
    detail = office.secretariat.expect(office.officer.get(f"/complaints/{complaint_id}"), 200)
    assert [event["type"] for event in detail["events"]] == [
        "Lodged",
        "Acknowledged",
        "InvestigationStarted",
        "Closed",
    ]
    assert email not in str(detail["events"])  # the address stays beside the log
    label = office.secretariat.label(office.label_id)
    assert label["state"] == "suspended"  # the outcome suspend suspended the label it names


def test_the_outcome_suspend_on_a_label_that_is_not_active_is_409_and_leaves_the_complaint_open(
    office: Office,
) -> None:
    if office.secretariat.label(office.label_id)["state"] == "active":
        reason = {"reason": "under review"}
        office.secretariat.expect(office.officer.post(f"/labels/{office.label_id}/suspension", json=reason), 200)
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, complainant()), 201)["complaint_id"]
    office.step(complaint_id, "acknowledgement")
    office.step(complaint_id, "investigation")

    answer = office.officer.post(f"/complaints/{complaint_id}/closure", json={"outcome": "suspend", "finding": "x"})
    assert answer.status_code == 409 and "cannot suspend" in answer.text and "suspended" in answer.text
    assert office.state_of(complaint_id) == "investigating"


def test_a_complaint_may_name_a_cluster_of_the_registry_by_its_id(office: Office) -> None:
    complaint_id = office.secretariat.expect(office.lodge(office.cluster_id, complainant()), 201)["complaint_id"]

    listed = next(item for item in office.complaints() if item["complaint_id"] == complaint_id)
    assert (listed["cluster_id"], listed["label_id"]) == (office.cluster_id, None)


@pytest.mark.parametrize(
    ("about", "text", "email", "field"),
    [
        ("the cluster down the road", "Vague.", "a@example.net", "about"),
        ("LABEL", "A NUL \x00 in the text.", "a@example.net", "text"),
        ("LABEL", "No address.", "not an address", "contact_email"),
        ("LABEL", "", "a@example.net", "text"),
    ],
)
def test_a_malformed_complaint_is_422_and_records_nothing(
    office: Office, about: str, text: str, email: str, field: str
) -> None:
    before = len(office.complaints())
    answer = office.lodge(office.label_code if about == "LABEL" else about, email, text)

    assert answer.status_code == 422, answer.text
    assert field in [problem["loc"][-1] for problem in answer.json()["detail"]]
    assert len(office.complaints()) == before


@pytest.mark.parametrize("about", ["ECEI-B-ZZZZ-ZZZZ-ZZZZ", str(uuid.uuid4())], ids=["label", "cluster"])
def test_a_complaint_about_a_label_or_cluster_the_registry_does_not_show_is_404_and_records_nothing(
    office: Office, about: str
) -> None:
    before = len(office.complaints())
    answer = office.lodge(about, complainant(), "No such thing.")

    assert answer.status_code == 404 and "names no label or cluster of the public registry" in answer.text
    assert len(office.complaints()) == before


def test_a_step_out_of_turn_is_409_and_changes_nothing(office: Office) -> None:
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, complainant()), 201)["complaint_id"]

    answer = office.officer.post(f"/complaints/{complaint_id}/closure", json={"outcome": "upheld", "finding": "x"})
    assert answer.status_code == 409 and "the complaint is received, not investigating" in answer.text
    assert office.state_of(complaint_id) == "received"


def test_only_officers_read_and_handle_complaints(office: Office) -> None:
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, complainant()), 201)["complaint_id"]
    decider = office.secretariat.member("Complaints Decider", "decider")
    contact = office.secretariat.contact(office.cluster_id, "Clara Complained-About")

    for caller in (decider, contact):
        assert caller.get("/complaints").status_code == 403
        assert caller.get(f"/complaints/{complaint_id}").status_code == 403
        assert caller.post(f"/complaints/{complaint_id}/acknowledgement").status_code == 403
    assert office.public.get("/complaints").status_code == 401
    assert office.public.post(f"/complaints/{complaint_id}/acknowledgement").status_code == 401
    assert office.officer.get(f"/complaints/{uuid.uuid4()}").status_code == 404
    assert office.state_of(complaint_id) == "received"


# ---- the pages -----------------------------------------------------------------------------------------


def test_an_officer_sees_complaints_on_the_dashboard_and_closes_one_from_its_page(office: Office) -> None:
    email = complainant()
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, email), 201)["complaint_id"]
    counts = office.secretariat.expect(office.officer.get("/dashboard"), 200)
    assert counts["complaints"]["received"] >= 1 and counts["overdue_complaints"] == 0
    pages = pages_as(office.engine, token_of(office.officer))
    assert "complaints received" in pages.get("/ui/dashboard").text
    assert complaint_id in pages.get("/ui/complaints", params={"state": "received"}).text

    page = pages.get(f"/ui/complaints/{complaint_id}").text
    assert "The label is shown on a cluster it was not awarded to." in page and 'id="acknowledge"' in page
    for form in ("acknowledgement", "investigation"):
        pages.read(f"/ui/complaints/{complaint_id}")
        answer = pages.post(f"/ui/complaints/{complaint_id}/{form}", data={"form_key": uuid.uuid4().hex})
        assert pages.flash_after(answer)[0] == "ok"
    pages.read(f"/ui/complaints/{complaint_id}")
    closing = {"outcome": "dismissed", "finding": "Unfounded: the label was valid on that day."}
    answer = pages.post(f"/ui/complaints/{complaint_id}/closure", data=closing)
    assert pages.flash_after(answer) == ("ok", "complaint closed")
    assert office.state_of(complaint_id) == "closed"
    closed = pages.get(f"/ui/complaints/{complaint_id}").text
    assert "dismissed: Unfounded" in closed and "Investigation started" in closed and 'id="close"' not in closed
    assert "has been dismissed" in mail_to(office.server, email, "Unfounded").words


def test_the_complaint_pages_are_the_officers_alone(office: Office) -> None:
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, complainant()), 201)["complaint_id"]
    decider = pages_as(office.engine, token_of(office.secretariat.member("Complaints Decider", "decider")))

    assert decider.get("/ui/complaints").status_code == 403
    assert decider.get(f"/ui/complaints/{complaint_id}").status_code == 403
    decider.read("/ui/dashboard")
    refused = decider.post(f"/ui/complaints/{complaint_id}/acknowledgement", data={})
    assert decider.flash_after(refused)[0] == "error"
    assert office.state_of(complaint_id) == "received"


def test_the_public_lodges_a_complaint_with_the_form_and_a_refused_one_comes_back_filled_in(office: Office) -> None:
    visitor = Pages(office.engine)
    visitor.read("/ui/complaint")
    refused = visitor.post(
        "/ui/complaint", data={"about": "ECEI-B-ZZZZ-ZZZZ-ZZZZ", "text": "Fake.", "contact_email": "v@example.net"}
    )
    assert refused.status_code == 422 and "names no label or cluster of the public registry" in refused.text
    assert "v@example.net" in refused.text  # the form as they filled it in, to correct

    email = complainant()
    answer = visitor.post("/ui/complaint", data={"about": office.label_code, "text": "Fake.", "contact_email": email})
    assert answer.status_code == 200, answer.text
    reference = re.search(r'<code id="reference">([^<]+)</code>', answer.text)
    assert reference is not None and office.state_of(reference.group(1)) == "received"


def test_an_officer_may_nudge_a_complaints_workflow_and_a_closed_ones_answers_409(office: Office) -> None:
    complaint_id = office.secretariat.expect(office.lodge(office.label_code, complainant()), 201)["complaint_id"]
    assert office.step(complaint_id, "resume")["state"] == "received"

    for step, body in (("acknowledgement", None), ("investigation", None)):
        office.step(complaint_id, step, body)
    office.step(complaint_id, "closure", {"outcome": "dismissed", "finding": "Unfounded."})
    ended = eventually(
        lambda: (lambda a: a if a.status_code == 409 else None)(
            office.officer.post(f"/complaints/{complaint_id}/resume")
        ),
        30,
        "the closed complaint's workflow to end",
    )
    assert "is closed" in ended.text


def test_a_suspend_outcome_by_an_officer_who_decided_the_label_is_403_and_suspends_nothing(office: Office) -> None:
    """The label's suspension is taken before the closing: the impartiality of the closing is checked before
    it, so that the refusal records nothing. A retried closing (same key) answers as the first did."""
    secretariat = office.secretariat
    judge = secretariat.member("Deciding Officer", "decider", "officer")
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.to_decision(case_id)
    secretariat.decide(case_id, decided_by="Deciding Officer")
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    code = secretariat.label(label_id)["label_code"]
    eventually(lambda: office.public.get("/registry", params={"country": "LT"}).text.count(code), 30, "registry")
    complaint_id = secretariat.expect(office.lodge(code, complainant()), 201)["complaint_id"]
    office.step(complaint_id, "acknowledgement")
    office.step(complaint_id, "investigation")
    suspend = {"outcome": "suspend", "finding": FINDING}

    answer = judge.post(f"/complaints/{complaint_id}/closure", json=suspend)
    assert answer.status_code == 403 and "decided on the certification this complaint is about" in answer.text, (
        answer.text
    )
    assert secretariat.label(label_id)["state"] == "active"
    assert office.state_of(complaint_id) == "investigating"

    key = {"Idempotency-Key": f"close-{complaint_id}"}
    first = secretariat.expect(
        office.officer.post(f"/complaints/{complaint_id}/closure", json=suspend, headers=key), 200
    )
    again = secretariat.expect(
        office.officer.post(f"/complaints/{complaint_id}/closure", json=suspend, headers=key), 200
    )
    assert first["state"] == again["state"] == "closed"
    assert secretariat.label(label_id)["state"] == "suspended"
