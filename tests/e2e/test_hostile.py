"""Hostile input and hostile callers: every bad value is a 4xx naming it and records nothing; the public
surface leaks nothing, cannot be framed or sniffed, and keeps answering while the views lag."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.driver import Secretariat, cluster_body, expert_body
from tests.e2e.engine import ADMIN_TOKEN, RunningEngine, running_engine
from tests.e2e.page_session import token_of
from tests.e2e.pages_client import Pages, with_token

PUBLIC_URL = "https://labels.example.eu"
OUT_OF_RANGE = [
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+14:00",
    "1900-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z",
]
NOT_AN_INSTANT = ["2030-01-01T00:00:00", "2030-02-30T10:00:00Z", "tomorrow", "+020000-01-01T00:00:00Z", "1e400"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    from tests.e2e.engine import HOUR_POLICY

    env = {"CLUSTERLABEL_PUBLIC_URL": PUBLIC_URL}
    with running_engine(tmp_path_factory.mktemp("hostile") / "data", HOUR_POLICY, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def auditing(secretariat: Secretariat) -> dict[str, Any]:
    """A case in audit, its expert, and the expert's page session."""
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    ((expert_id, expert),) = secretariat.staff(case_id)
    return {"case_id": case_id, "expert_id": expert_id, "expert": expert}


def refused(answer: httpx.Response, field: str) -> str:
    """The answer is a 422 whose problems name `field`; its messages."""
    assert answer.status_code == 422, (answer.request.url, answer.status_code, answer.text)
    problems = answer.json()["detail"]
    assert any(field in problem["loc"] for problem in problems), problems
    return "; ".join(problem["msg"] for problem in problems)


# ---- 16: instants --------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", OUT_OF_RANGE + NOT_AN_INSTANT)
def test_an_as_of_that_is_naive_or_out_of_range_is_422(
    secretariat: Secretariat, auditing: dict[str, Any], as_of: str
) -> None:
    message = refused(secretariat.api.get(f"/cases/{auditing['case_id']}", params={"as_of": as_of}), "as_of")
    assert message
    refused(secretariat.api.get("/labels/ECEI-B-0000-0000-0000", params={"as_of": as_of}), "as_of")


@pytest.mark.parametrize("audit_date", OUT_OF_RANGE + NOT_AN_INSTANT)
def test_a_naive_or_out_of_range_audit_date_is_422_and_records_nothing(
    secretariat: Secretariat, auditing: dict[str, Any], audit_date: str
) -> None:
    case_id = auditing["case_id"]
    before = secretariat.history(case_id)
    refused(secretariat.api.post(f"/cases/{case_id}/audit-date", json={"audit_date": audit_date}), "audit_date")
    assert secretariat.history(case_id) == before


def test_an_aware_audit_date_in_range_is_kept_in_utc_and_every_history_still_reads(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any]
) -> None:
    case_id = auditing["case_id"]
    # Before the audit deadline (an hour after the agreement), written in Chicago's winter time.
    soon = (datetime.now(UTC) + timedelta(minutes=20)).replace(microsecond=0)
    written = soon.astimezone(timezone(timedelta(hours=-5))).isoformat()
    body = {"audit_date": written, "place": "the cluster office"}
    secretariat.expect(secretariat.api.post(f"/cases/{case_id}/audit-date", json=body), 200)
    scheduled = [event for event in secretariat.history(case_id) if event["type"] == "AuditScheduled"]
    assert scheduled[-1]["data"]["audit_date"].startswith(soon.strftime("%Y-%m-%dT%H:%M:%S"))
    cluster_id = secretariat.case(case_id)["cluster_id"]
    secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}/history"), 200)
    with_token(engine, ADMIN_TOKEN).read(f"/ui/cases/{case_id}")


@pytest.mark.parametrize("certified_until", OUT_OF_RANGE + NOT_AN_INSTANT)
def test_an_expert_certified_until_a_naive_or_out_of_range_date_is_422(
    secretariat: Secretariat, certified_until: str
) -> None:
    name = f"Hostile {certified_until}"[:200]
    refused(
        secretariat.api.post("/experts", json=expert_body(name=name, certified_until=certified_until)),
        "certified_until",
    )


# ---- control characters in free text -------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Baltic\x00Maritime", "Baltic\x1b[2JMaritime", "Baltic\nMaritime", "Baltic\x85Maritime"]
)
def test_a_cluster_name_with_a_control_character_is_422_naming_it_and_records_nothing(
    secretariat: Secretariat, name: str
) -> None:
    key = {"Idempotency-Key": f"control-{ord(name[6]):x}"}
    message = refused(secretariat.api.post("/clusters", json=cluster_body(name=name), headers=key), "name")
    assert "name must not contain control characters" in message
    # Nothing was recorded under that key: the same key now registers a good profile afresh.
    secretariat.expect(secretariat.api.post("/clusters", json=cluster_body(name="Baltic Maritime"), headers=key), 201)


def test_a_nul_in_a_rationale_is_422_and_a_multi_line_rationale_is_not(
    secretariat: Secretariat, auditing: dict[str, Any]
) -> None:
    case_id = auditing["case_id"]
    before = secretariat.history(case_id)
    body = {"outcome": "award", "rationale": "Strong.\x00"}
    decider = secretariat.member("Board Member", "decider")
    message = refused(decider.post(f"/cases/{case_id}/decision", json=body), "rationale")
    assert "only line breaks and tabs are allowed" in message
    assert secretariat.history(case_id) == before


def test_a_control_character_typed_into_a_form_is_a_form_error_and_records_nothing(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any]
) -> None:
    case_id = auditing["case_id"]
    before = secretariat.history(case_id)
    pages = with_token(engine, ADMIN_TOKEN)
    pages.read(f"/ui/cases/{case_id}")
    page = pages.post(f"/ui/cases/{case_id}/withdrawal", {"reason": "moved\x00away"})
    assert "control characters" in pages.shown_again(page, 422)
    assert 'value="movedaway"' in page.text  # shown again as typed, but for the control character
    assert secretariat.history(case_id) == before


def test_a_malformed_form_from_one_who_may_not_take_the_step_is_refused_for_the_role_as_the_api_refuses_it(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any]
) -> None:
    case_id = auditing["case_id"]
    before = secretariat.history(case_id)
    malformed = {"outcome": "no such outcome", "rationale": ""}
    api = auditing["expert"].post(f"/cases/{case_id}/decision", json=malformed)
    assert api.status_code == 403, api.text
    pages = with_token(engine, token_of(auditing["expert"]))
    pages.read(f"/ui/cases/{case_id}")

    page = pages.post(f"/ui/cases/{case_id}/decision", malformed)

    assert api.json()["detail"] in pages.shown_again(page, 403)
    assert secretariat.history(case_id) == before


def test_behind_an_https_public_url_the_cookies_are_secure_and_a_post_from_that_origin_passes(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any]
) -> None:
    case_id = auditing["case_id"]
    pages = Pages(engine)
    pages.get("/ui/login")
    assert "; secure" in pages.set_cookies["clusterlabel_presession"].lower()
    pages.post("/ui/login", {"token": ADMIN_TOKEN})
    for cookie in ("clusterlabel_presession", "clusterlabel_session"):  # the first one set, the second cleared
        assert "; secure" in pages.set_cookies[cookie].lower(), pages.set_cookies[cookie]
    pages.read(f"/ui/cases/{case_id}")
    pages.origin = PUBLIC_URL  # the proxy's origin, not the one the engine sees
    answer = pages.post(f"/ui/cases/{case_id}/withdrawal", {"reason": ""})
    assert "reason" in pages.shown_again(answer, 422)  # the form's own refusal
    assert secretariat.case(case_id)["state"] == "auditing"


def test_the_contract_declares_the_free_text_pattern(engine: RunningEngine) -> None:
    contract = httpx.get(f"{engine.url}/openapi.json").json()["components"]["schemas"]
    # A required name holds more than spaces: the pattern asks for one character that is not one.
    name = contract["ClusterProfile"]["properties"]["name"]["pattern"]
    assert name == "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    assert "pattern" in contract["DecisionIn"]["properties"]["rationale"]


# ---- 17: the assessment form -----------------------------------------------------------------


@pytest.mark.parametrize("score", ["²", "٣", "1" * 5000, "-" + "9" * 5000, "4.0", " ", "1_000", "0x10", "-1", "99"])
def test_a_hostile_score_in_the_assessment_form_is_a_form_error_and_records_nothing(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any], score: str
) -> None:
    case_id, expert_id = auditing["case_id"], auditing["expert_id"]
    page = with_token(engine, engine.experts[expert_id])
    page.read(f"/ui/cases/{case_id}/assessment")
    form = {f"score:{item['code']}": str(item["score"]) for item in secretariat.full_scores("bronze")}
    form["score:B-STR-01"] = score
    answer = page.post(f"/ui/cases/{case_id}/assessment", {**form, "report": "Hostile."})
    page.shown_again(answer, 422)  # the form again, as typed, with its draft button
    assert 'id="assessment"' in answer.text and 'id="save-draft"' in answer.text
    assert secretariat.case(case_id)["state"] == "auditing"
    assert all(event["type"] != "AssessmentSubmitted" for event in secretariat.history(case_id))


# ---- 19: what the public sees ------------------------------------------------------------------

SECURITY_HEADERS = {"content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"}


def test_every_page_and_api_answer_carries_the_security_headers(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    public = engine.client(None)
    answers = {
        "home page": public.get("/"),
        "registry page": public.get("/ui/registry"),
        "sign-in page": public.get("/ui/dashboard"),
        "registry": public.get("/registry"),
        "badge": public.get("/labels/ECEI-B-0000-0000-0000/badge.svg"),
        "stylesheet": public.get("/static/style.css"),
        "health": public.get("/health"),
        "contract": public.get("/openapi.json"),
        "401": public.get("/cases"),
        "404": public.get("/no/such/thing"),
        "422": secretariat.api.post("/clusters", json={}),
        "413": secretariat.api.post("/clusters", content=b"x" * 300_000, headers={"content-type": "application/json"}),
        "secretariat page": with_token(engine, ADMIN_TOKEN).get("/ui/dashboard"),
        "sign-in form": public.get("/ui/login"),
    }
    for what, answer in answers.items():
        assert set(answer.headers) >= SECURITY_HEADERS, (what, answer.status_code, dict(answer.headers))
        assert answer.headers["x-content-type-options"] == "nosniff", what
        assert answer.headers["x-frame-options"] == "DENY", what
        assert answer.headers["referrer-policy"] == "no-referrer", what
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp, (what, csp)


def test_the_badge_and_the_certificate_link_to_the_public_url_whatever_the_host_header(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    hostile_host = 'evil.example" onload="alert(1)'
    badge = httpx.get(f"{engine.url}/labels/ECEI-B-0000-0000-0000/badge.svg", headers={"Host": hostile_host})
    assert badge.status_code == 200, badge.text
    assert f'href="{PUBLIC_URL}/ui/verify?label=ECEI-B-0000-0000-0000"' in badge.text
    assert "evil" not in badge.text and "onload" not in badge.text
    label_id = secretariat.award(secretariat.apply(secretariat.cluster(name="Hostile Host Cluster")))
    certificate = with_token(engine, ADMIN_TOKEN).get(
        f"/ui/labels/{label_id}/certificate", headers={"Host": hostile_host}
    )
    assert certificate.status_code == 200, certificate.text
    assert f"{PUBLIC_URL}/ui/verify?label=" in certificate.text
    assert "evil" not in certificate.text


def test_a_badge_quotes_every_attribute_value() -> None:
    from clusterlabel.interfaces.web.badge import _badge_svg

    svg = _badge_svg("gold", "valid", "2030-01-01", "https://labels.example.eu/ui/verify?label=\"x' onload='alert(1)")
    assert "onload='" not in svg and '"x' not in svg
    assert "&quot;x&#x27; onload=&#x27;alert(1)" in svg


def test_health_tells_the_public_what_is_not_ready_but_not_where_or_why(tmp_path: Path) -> None:
    from tests.e2e.engine import HOUR_POLICY, free_port

    nowhere = f"127.0.0.1:{free_port()}"  # a Temporal cluster that never answers
    with running_engine(tmp_path / "data", HOUR_POLICY, args=["--temporal", nowhere], healthy=False) as unready:
        answer = httpx.get(f"{unready.url}/health")
        assert answer.status_code == 503, answer.text
        assert answer.json()["checks"]["temporal"] == "not ready"
        assert "temporal" in answer.json()["detail"]
        for secret in (nowhere, nowhere.split(":")[1], "connect", "rror"):
            assert secret not in answer.text, (secret, answer.text)
        assert set(answer.headers) >= SECURITY_HEADERS


# ---- 14: public reads under load -------------------------------------------------------------

PUBLIC_LIMIT = 20
SIGNIN_FAILURES = 3
COMPLAINTS = 2


@pytest.fixture(scope="module")
def lagging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    """An engine whose views never catch up (no projection runner), limiting public reads to 20 a minute,
    complaints to 2 an hour and failed sign-ins to 3 a minute."""
    from tests.e2e.engine import HOUR_POLICY

    env = {
        "CLUSTERLABEL_PUBLIC_RATE_LIMIT": f"{PUBLIC_LIMIT}/minute",
        "CLUSTERLABEL_SIGNIN_FAILURE_LIMIT": f"{SIGNIN_FAILURES}/minute",
        "CLUSTERLABEL_COMPLAINT_RATE_LIMIT": f"{COMPLAINTS}/hour",
    }
    with running_engine(
        tmp_path_factory.mktemp("lagging") / "data", HOUR_POLICY, env=env, args=["--no-projections"]
    ) as running:
        Secretariat(running).cluster()  # the log is now ahead of every view
        yield running


def from_address(engine: RunningEngine, address: str) -> httpx.Client:
    """A public client connecting from another loopback address: a client of its own to the rate limit."""
    return httpx.Client(base_url=engine.url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_public_reads_answer_at_once_from_the_view_as_it_stands_while_the_projections_lag(
    lagging: RunningEngine,
) -> None:
    public = from_address(lagging, "127.0.0.4")
    for path in [
        "/registry",
        "/registry?status=expired&country=LT&limit=5",
        "/labels/ECEI-B-0000-0000-0000/verify?code=ABC",
        "/labels/ECEI-B-0000-0000-0000/badge.svg",
        "/ui/registry",
        "/ui/verify?label=ECEI-B-0000-0000-0000",
    ]:
        answer = public.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.elapsed.total_seconds() < 1.5, (path, answer.elapsed)
        assert float(answer.headers["x-view-age"]) > 0, path  # the view is behind, and says so


def test_the_openapi_document_describes_the_view_age_and_the_rate_limit(lagging: RunningEngine) -> None:
    contract = httpx.get(f"{lagging.url}/openapi.json").json()
    for path in ["/registry", "/registry.csv", "/labels/{label_ref}/verify", "/labels/{label_ref}/badge.svg"]:
        answers = contract["paths"][path]["get"]["responses"]
        assert "X-View-Age" in answers["200"]["headers"], path
        assert "Retry-After" in answers["429"]["headers"], path
    assert "X-View-Age" in contract["info"]["description"]


def test_a_client_over_the_public_rate_limit_gets_429_with_retry_after_and_others_are_served(
    lagging: RunningEngine,
) -> None:
    greedy = from_address(lagging, "127.0.0.2")
    answers = [greedy.get("/registry") for _ in range(PUBLIC_LIMIT + 5)]
    assert [a.status_code for a in answers[:PUBLIC_LIMIT]] == [200] * PUBLIC_LIMIT
    refused = answers[-1]
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "too many requests" in refused.json()["detail"]
    for path in [
        "/labels/ECEI-B-0000-0000-0000/badge.svg",
        "/ui/registry",
        "/labels/ECEI-B-0000-0000-0000/verify?code=X",
    ]:
        limited = greedy.get(path)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1, (path, limited.text)
        assert set(limited.headers) >= SECURITY_HEADERS, path
    complaint = {"about": "ECEI-B-0000-0000-0000", "text": "Greedy.", "contact_email": "greedy@example.net"}
    lodged = greedy.post("/complaints", json=complaint)  # a public write counts against the same limit
    assert lodged.status_code == 429 and int(lodged.headers["retry-after"]) >= 1, lodged.text
    assert from_address(lagging, "127.0.0.3").get("/registry").status_code == 200
    assert lagging.client().get("/cases").status_code == 200  # the secretariat's own reads are not limited


def test_an_address_lodging_complaints_past_their_limit_gets_429_and_is_still_served_its_reads(
    lagging: RunningEngine,
) -> None:
    flooding = from_address(lagging, "127.0.0.6")
    complaint = {"about": "ECEI-B-0000-0000-0000", "text": "Once more.", "contact_email": "flood@example.net"}
    # The label is unknown, so each is refused (404): a refused complaint counts too, and records nothing.
    answers = [flooding.post("/complaints", json=complaint) for _ in range(COMPLAINTS + 1)]
    assert [answer.status_code for answer in answers[:COMPLAINTS]] == [404] * COMPLAINTS, answers[0].text
    refused = answers[-1]
    assert refused.status_code == 429 and "at most 2 per 1 hour" in refused.json()["detail"], refused.text
    assert 60 < int(refused.headers["retry-after"]) <= 3600
    page = pages_from(lagging, "127.0.0.6")
    page.read("/ui/complaint")
    form = {"about": complaint["about"], "text": "By form.", "contact_email": "flood@example.net"}
    assert page.post("/ui/complaint", form).status_code == 429  # the public's form shares the limit
    assert flooding.get("/registry").status_code == 200  # its reads have their own limit
    other = from_address(lagging, "127.0.0.7").post("/complaints", json=complaint)
    assert other.status_code == 404, other.text  # another address is heard


def test_a_message_put_in_a_pages_address_is_never_shown(engine: RunningEngine) -> None:
    for path in ("/ui/login?error=Call+0800+to+verify+your+account", "/ui/login?done=Call+0800+to+verify"):
        assert "Call 0800" not in Pages(engine).get(path).text


def pages_from(engine: RunningEngine, address: str) -> Pages:
    pages = Pages(engine)
    pages.http = from_address(engine, address)
    return pages


def test_an_address_that_fails_to_sign_in_too_often_waits_whichever_account_it_names(lagging: RunningEngine) -> None:
    sprayer = pages_from(lagging, "127.0.0.6")
    for attempt in range(SIGNIN_FAILURES):  # one common password against several addresses
        assert sprayer.sign_in(f"contact{attempt}@cluster.example", "Summer2026!").status_code == 401

    paused = sprayer.sign_in_with_token(ADMIN_TOKEN)  # even the right secret waits

    assert paused.status_code == 429 and 1 <= int(paused.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins from your network address" in paused.text
    assert sprayer.session is None
    assert pages_from(lagging, "127.0.0.7").sign_in_with_token(ADMIN_TOKEN).status_code == 303
