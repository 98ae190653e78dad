"""Evidence documents over HTTP, as the people of a case use them: a cluster contact attaches a file,
the case's expert downloads the very same bytes, another cluster sees nothing, and every refusal (too
large, not a document, empty, a decided case) records nothing and stores nothing.

The engine's own Services and HTTP application on SQLite, without Temporal: evidence is handled
directly, no workflow takes part. Files are kept in the data directory (the object store is tested
in test_file_stores.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from clusterlabel.domain.account import Role
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import ProposeExpert, ReleaseExpert
from clusterlabel.domain.record_commands import OpenAccount, RevokeExpertCertification
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from tests import evidence_files
from tests.builders import key, send
from tests.lifecycle import Lifecycle

OFFICER = "evidence-tests-admin-token"
ORIGIN = "http://evidence.test"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MAX_BYTES = 64 * 1024


@dataclass
class Office:
    engine: Engine
    http: Http
    case_id: UUID  # being audited: its cluster's contact and its expert attach files
    other_case_id: UUID  # another cluster's, also being audited
    decided_case_id: UUID  # awarded: takes no more evidence
    proposed_case_id: UUID  # waiting for its proposed expert's answer
    contact: dict[str, str]
    expert: dict[str, str]
    other_contact: dict[str, str]
    decider: dict[str, str]
    proposed_expert: dict[str, str]

    def events(self) -> int:
        return self.engine.app.recorder.max_notification_id() or 0

    def stored_files(self) -> list[Path]:
        return sorted(path for path in self.engine.settings.files_dir().rglob("*") if path.is_file())

    def upload(self, case_id: UUID, who: dict[str, str], content: bytes, name: str = "minutes.pdf") -> httpx.Response:
        return self.http.post(f"/cases/{case_id}/evidence", headers=who, files={"file": (name, content)})


class Http:
    """Requests to the application in this process, one at a time (httpx over ASGI, no socket); the cookies
    it is given it sends back, as a browser does."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.cookies = httpx.Cookies()

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN, cookies=self.cookies) as client:
                answer = await client.request(method, path, **options)
                self.cookies = client.cookies
                return answer

        return asyncio.run(send())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def account(engine: Engine, name: str, command: OpenAccount) -> dict[str, str]:
    envelope = Envelope(actor="secretariat", key=key("account"), at=engine.app.clock())
    email = f"{name.lower().replace(' ', '.')}@evidence.example"
    return bearer(engine.services.accounts.open(name, email, command, envelope).token)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("evidence"), admin_token=OFFICER, evidence_max_bytes=MAX_BYTES)
    engine = Engine(settings, with_worker=False, poll_interval=0.05)
    engine.start_projections()
    ours, theirs, decided = Lifecycle(engine.app, "LT"), Lifecycle(engine.app, "FR"), Lifecycle(engine.app, "PL")
    case_id, other_case_id = ours.auditing(), theirs.auditing()
    decided_case_id = decided.awarded()
    waiting = Lifecycle(engine.app, "EE")
    proposed_case_id = waiting.screened()
    proposed_expert_id = waiting.expert("DE", "Paul Proposed")
    send(engine.app, proposed_case_id, ProposeExpert(expert_id=proposed_expert_id), actor="system")
    expert_id = engine.app.get_case(case_id).expert_ids[0]
    office = Office(
        engine=engine,
        http=Http(create_app(engine.services)),
        case_id=case_id,
        other_case_id=other_case_id,
        decided_case_id=decided_case_id,
        proposed_case_id=proposed_case_id,
        contact=account(engine, "Clara Contact", OpenAccount(roles=[Role.CLUSTER], cluster_id=ours.cluster_id)),
        expert=account(engine, "Anna Berg", OpenAccount(roles=[Role.EXPERT], expert_id=expert_id)),
        other_contact=account(engine, "Otto Other", OpenAccount(roles=[Role.CLUSTER], cluster_id=theirs.cluster_id)),
        decider=account(engine, "Dora Decider", OpenAccount(roles=[Role.DECIDER])),
        proposed_expert=account(
            engine, "Paul Proposed", OpenAccount(roles=[Role.EXPERT], expert_id=proposed_expert_id)
        ),
    )
    yield office
    asyncio.run(engine.stop())


def test_a_contact_attaches_a_pdf_and_the_cases_expert_downloads_the_same_bytes(office: Office) -> None:
    content = evidence_files.pdf("Annual report 2025")
    answer = office.upload(office.case_id, office.contact, content, "../Jahresbericht 2025.pdf")
    assert answer.status_code == 201, answer.text
    record = answer.json()
    sha256 = hashlib.sha256(content).hexdigest()
    assert record["sha256"] == sha256 and record["size"] == len(content)
    assert (record["name"], record["media_type"]) == ("Jahresbericht 2025.pdf", "application/pdf")
    assert record["uploaded_by"].startswith("account:")

    listed = office.http.get(f"/cases/{office.case_id}/evidence", headers=office.expert)
    assert [item["sha256"] for item in listed.json()] == [sha256]
    download = office.http.get(f"/cases/{office.case_id}/evidence/{sha256}", headers=office.expert)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Jahresbericht 2025.pdf"')

    history = office.http.get(f"/cases/{office.case_id}/history", headers=bearer(OFFICER)).json()["events"]
    (attached,) = [event for event in history if event["type"] == "EvidenceAttached"]
    assert attached["data"]["sha256"] == sha256 and attached["data"]["file_name"] == "Jahresbericht 2025.pdf"
    assert attached["actor"] == record["uploaded_by"]


def test_the_same_file_attached_again_is_recorded_once_and_another_case_records_it_once_more(office: Office) -> None:
    content = evidence_files.docx()
    first = office.upload(office.case_id, office.expert, content, "self-assessment.docx")
    assert first.status_code == 201, first.text
    events, files = office.events(), office.stored_files()

    again = office.upload(office.case_id, office.contact, content, "renamed.docx")
    assert again.status_code == 201 and again.json() == first.json()  # its first name and uploader stay
    assert office.events() == events

    elsewhere = office.upload(office.other_case_id, office.other_contact, content, "copy.docx")
    assert elsewhere.status_code == 201 and elsewhere.json()["name"] == "copy.docx"
    assert office.events() == events + 1 and office.stored_files() == files  # the bytes are stored once


def test_an_upload_retried_under_its_idempotency_key_is_answered_as_the_first_time(office: Office) -> None:
    """A client draws a new multipart boundary for each try: the retry is still the same request."""
    content, keyed = evidence_files.jpeg(), {**office.contact, "Idempotency-Key": key("upload")}
    first = office.upload(office.case_id, keyed, content, "photo.jpg")
    events = office.events()
    retried = office.upload(office.case_id, keyed, content, "photo.jpg")
    assert first.status_code == 201 and (retried.status_code, retried.json()) == (201, first.json())
    assert office.events() == events
    other = office.upload(office.case_id, keyed, evidence_files.png("olive"), "photo.jpg")
    assert other.status_code == 422 and other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert office.events() == events


def test_another_clusters_contact_gets_the_answer_of_an_unknown_case(office: Office) -> None:
    content = evidence_files.png()
    sha256 = office.upload(office.case_id, office.contact, content, "site.png").json()["sha256"]
    events = office.events()
    for path in (f"/cases/{office.case_id}/evidence", f"/cases/{office.case_id}/evidence/{sha256}"):
        answer = office.http.get(path, headers=office.other_contact)
        assert (answer.status_code, answer.json()) == (404, {"detail": f"no case with id {office.case_id}"})
    refused = office.upload(office.case_id, office.other_contact, evidence_files.jpeg())
    assert refused.status_code == 404 and office.events() == events
    # A file of their own case is not theirs to fetch through another's either: only this case's files.
    own = office.upload(office.other_case_id, office.other_contact, evidence_files.xlsx()).json()["sha256"]
    assert office.http.get(f"/cases/{office.case_id}/evidence/{own}", headers=office.contact).status_code == 404


@pytest.mark.parametrize(
    ("content", "status", "says"),
    [
        (b"%PDF-" + b"0" * MAX_BYTES, 413, "larger than 64 KiB"),
        (b"#!/bin/sh\necho not a report\n", 415, "not a PDF"),
        (b"", 422, "the file is empty"),
    ],
    ids=["too-large", "a-script-named-pdf", "empty"],
)
def test_a_refused_file_records_nothing_and_stores_nothing(
    office: Office, content: bytes, status: int, says: str
) -> None:
    events, files = office.events(), office.stored_files()
    answer = office.upload(office.case_id, office.contact, content, "report.pdf")
    assert answer.status_code == status, answer.text
    assert says in str(answer.json()["detail"])
    assert (office.events(), office.stored_files()) == (events, files)


def test_a_body_far_over_the_limit_is_refused_before_it_is_read_whole(office: Office) -> None:
    content = b"%PDF-" + b"0" * (MAX_BYTES * 4)
    events = office.events()
    answer = office.upload(office.case_id, office.contact, content)
    assert answer.status_code == 413 and answer.json()["detail"].startswith("the upload is larger than")
    assert office.events() == events


def test_a_decided_case_takes_no_more_evidence(office: Office) -> None:
    events, files = office.events(), office.stored_files()
    answer = office.upload(office.decided_case_id, bearer(OFFICER), evidence_files.pdf("Late addendum"))
    assert answer.status_code == 409
    assert answer.json()["detail"] == "cannot attach evidence: the case is already awarded"
    assert (office.events(), office.stored_files()) == (events, files)


def test_the_secretariat_reads_every_cases_evidence_but_only_officers_attach_it(office: Office) -> None:
    assert office.http.get(f"/cases/{office.case_id}/evidence", headers=office.decider).status_code == 200
    refused = office.upload(office.case_id, office.decider, evidence_files.pdf("A decider's note"))
    assert refused.status_code == 403
    attached = office.upload(office.case_id, bearer(OFFICER), evidence_files.pdf("Received by post"), "post.pdf")
    assert attached.status_code == 201 and attached.json()["uploaded_by"] == "secretariat"


def test_an_expert_only_proposed_for_the_case_sees_the_case_but_not_its_evidence(office: Office) -> None:
    case_id, who = office.proposed_case_id, office.proposed_expert
    assert office.http.get(f"/cases/{case_id}", headers=who).status_code == 200
    sha256 = office.upload(case_id, bearer(OFFICER), evidence_files.pdf("Questionnaire"), "q.pdf").json()["sha256"]
    for answer in (
        office.http.get(f"/cases/{case_id}/evidence", headers=who),
        office.http.get(f"/cases/{case_id}/evidence/{sha256}", headers=who),
        office.upload(case_id, who, evidence_files.jpeg()),
    ):
        assert answer.status_code == 403
        assert answer.json()["detail"] == "only the experts on the case's team read its evidence"
    # Nor through the case's history: it shows that a file came, not which.
    history = office.http.get(f"/cases/{case_id}/history", headers=who).json()["events"]
    (attached,) = [event for event in history if event["type"] == "EvidenceAttached"]
    assert attached["data"] == {} and sha256 not in str(history) and "q.pdf" not in str(history)


def test_an_expert_whose_certification_was_revoked_attaches_nothing_but_still_reads(office: Office) -> None:
    """After the assessment a revoked expert stays on the team, their work on record: they read, never add."""
    life = Lifecycle(office.engine.app, "SI")
    expert_id = life.expert("DE", "Aaron Revoked")  # free and first by name: proposed before the others' experts
    case_id = life.deciding()
    assert office.engine.app.get_case(case_id).expert_ids == [expert_id]
    who = account(office.engine, "Rita Revoked", OpenAccount(roles=[Role.EXPERT], expert_id=expert_id))
    send(office.engine.app, expert_id, RevokeExpertCertification(reason="missed the training"), actor="secretariat")
    events = office.events()
    refused = office.upload(case_id, who, evidence_files.pdf("Afterthought"))
    assert refused.status_code == 403 and "certification was revoked" in refused.json()["detail"]
    assert office.events() == events
    assert office.http.get(f"/cases/{case_id}/evidence", headers=who).status_code == 200


def test_the_case_page_lists_the_files_and_its_form_attaches_one(office: Office) -> None:
    """As a contact's browser does it: signed in, the page's form posts the file with its CSRF token."""
    office.upload(office.case_id, office.expert, evidence_files.pdf("Site visit"), "Site visit.pdf")
    page = Http(office.http.app)
    login = page.get("/ui/login")
    contact_token = office.contact["Authorization"].removeprefix("Bearer ")
    signed_in = page.post(
        "/ui/login", data={"token": contact_token, "csrf_token": csrf_of(login.text)}, headers={"Origin": ORIGIN}
    )
    assert signed_in.status_code == 303, signed_in.text
    case_page = f"/ui/cases/{office.case_id}"
    before = page.get(case_page)
    assert 'id="attach-evidence"' in before.text and "Site visit.pdf" in before.text

    content = evidence_files.png("navy")
    posted = page.post(
        f"{case_page}/evidence",
        data={"csrf_token": csrf_of(before.text)},
        files={"file": ("Cluster office.png", content, "application/octet-stream")},
        headers={"Origin": ORIGIN},
    )
    assert (posted.status_code, posted.headers["location"]) == (303, case_page)
    after = page.get(case_page).text
    assert "Cluster office.png attached" in after
    sha256 = hashlib.sha256(content).hexdigest()
    assert f'href="{case_page}/evidence/{sha256}"' in after and "Clara Contact" in after
    download = page.get(f"{case_page}/evidence/{sha256}")
    assert download.content == content and download.headers["content-type"] == "image/png"

    refused = page.post(
        f"{case_page}/evidence",
        data={"csrf_token": csrf_of(after)},
        files={"file": ("notes.pdf", b"plain text, not a PDF")},
        headers={"Origin": ORIGIN},
    )
    assert "the file&#39;s content is not a PDF" in page.get(refused.headers["location"]).text


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


def test_an_expert_released_from_the_team_still_reads_the_case_but_not_its_evidence(office: Office) -> None:
    """Auditors read the history of the cases they were on; the files are for the team on the case now."""
    life = Lifecycle(office.engine.app, "LV")
    case_id = life.auditing()
    expert_id = office.engine.app.get_case(case_id).expert_ids[0]
    who = account(office.engine, "Rita Released", OpenAccount(roles=[Role.EXPERT], expert_id=expert_id))
    sha256 = office.upload(case_id, bearer(OFFICER), evidence_files.pdf("Strategy"), "strategy.pdf").json()["sha256"]
    send(office.engine.app, case_id, ReleaseExpert(expert_id=expert_id, reason="revoked"), actor="secretariat")
    assert office.http.get(f"/cases/{case_id}", headers=who).status_code == 200
    history = office.http.get(f"/cases/{case_id}/history", headers=who)
    assert history.status_code == 200 and "ExpertReleased" in {event["type"] for event in history.json()["events"]}
    assert sha256 not in history.text
    assert office.http.get(f"/cases/{case_id}/evidence/{sha256}", headers=who).status_code == 403


def test_a_clusters_contact_who_is_also_an_expert_reads_their_own_cases_file_names(office: Office) -> None:
    life = Lifecycle(office.engine.app, "LV")
    case_id = life.auditing()
    roles = OpenAccount(roles=[Role.CLUSTER, Role.EXPERT], cluster_id=life.cluster_id, expert_id=life.expert("FI"))
    who = account(office.engine, "Ilse Both", roles)
    sha256 = office.upload(case_id, who, evidence_files.pdf("Members"), "members.pdf").json()["sha256"]
    history = office.http.get(f"/cases/{case_id}/history", headers=who).json()["events"]
    (attached,) = [event for event in history if event["type"] == "EvidenceAttached"]
    assert attached["data"]["sha256"] == sha256 and attached["data"]["file_name"] == "members.pdf"
    clusters = office.http.get(f"/clusters/{life.cluster_id}/history", headers=who).json()["events"]
    assert sha256 in str(clusters)
