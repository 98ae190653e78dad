"""Who may call which route: every route of the OpenAPI document, for every kind of caller, on their own
record and on another's, against one table.

Each route's row says, per caller, what the answer must be: OK (past authorisation: any answer but
401, 403 or 404; a 409 or 422 for a step out of turn counts), 401 (no token), 403 (the caller's role
may not take this step) or 404 (the record is not the caller's to see, answered as an unknown id is).
OWN is "OK on their own record, 404 on another's". A route missing from the table fails the test.

The records: two clusters, "own" being the one the contact speaks for; a case of each, awarded, each
audited by its own expert (the "own" case by the expert caller, who is affiliated with the other
cluster and so never proposed there); their labels. On an account's route, "own" is the caller's own
account: a caller opened for that one call, so whatever the call changes ends with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from tests.e2e.driver import Secretariat, cluster_body, expert_body
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine

MACHINE, ADMIN, OFFICER, DECIDER, APPEALS, EXPERT, CONTACT, NOBODY = (
    "machine admin",
    "admin",
    "officer",
    "decider",
    "appeals",
    "expert",
    "cluster contact",
    "no token",
)
CALLERS = (MACHINE, ADMIN, OFFICER, DECIDER, APPEALS, EXPERT, CONTACT, NOBODY)
OK, UNAUTHENTICATED, REFUSED, HIDDEN = "ok", "401", "403", "404"
OWN = "ok/404"  # their own record: allowed; another's: answers as an unknown id


def only(*allowed: str) -> dict[str, str]:
    """A step only these callers take: everyone else signed in is refused, before any record is looked at."""
    return {caller: OK if caller in allowed else REFUSED for caller in CALLERS} | {NOBODY: UNAUTHENTICATED}


PUBLIC = dict.fromkeys(CALLERS, OK)
SIGNED_IN = only(*CALLERS)
OFFICERS = only(MACHINE, OFFICER)
ADMINS = only(MACHINE, ADMIN)
STAFF = only(MACHINE, ADMIN, OFFICER, DECIDER, APPEALS)
RECORD = {
    **STAFF,
    EXPERT: OWN,
    CONTACT: OWN,
}  # a case, label or cluster: the secretariat's, an expert's or contact's own
EXPERTS_OWN = {**STAFF, EXPERT: OWN, CONTACT: HIDDEN}  # an expert's record and workload
ACCOUNT = {**dict.fromkeys(CALLERS, OWN), MACHINE: OK, ADMIN: OK, NOBODY: UNAUTHENTICATED}  # the owner, or an admin

TABLE: dict[str, dict[str, str]] = {
    # registrations and accounts
    "POST /clusters": OFFICERS,
    "GET /clusters/{cluster_id}": RECORD,
    "POST /clusters/{cluster_id}/waivers": OFFICERS,
    "PUT /clusters/{cluster_id}/profile": {**OFFICERS, CONTACT: OWN},
    "POST /clusters/{cluster_id}/review/closure": OFFICERS,
    "POST /experts": OFFICERS,
    "GET /experts/{expert_id}": EXPERTS_OWN,
    "POST /experts/{expert_id}/revocation": OFFICERS,
    "POST /experts/{expert_id}/certification/renewal": OFFICERS,
    "POST /experts/{expert_id}/qualifications": OFFICERS,
    "POST /experts/{expert_id}/affiliations": OFFICERS,
    "POST /accounts": ADMINS,
    "GET /accounts": ADMINS,
    "POST /clusters/{cluster_id}/contacts": OFFICERS,
    "GET /me": SIGNED_IN,
    "GET /accounts/{account_id}": ACCOUNT,
    "POST /accounts/{account_id}/roles": {**ADMINS, ADMIN: "403/ok"},  # never to their own account
    "DELETE /accounts/{account_id}/roles/{role}": ADMINS,
    "POST /accounts/{account_id}/deactivation": ADMINS,
    "POST /accounts/{account_id}/erasure": ADMINS,
    "GET /accounts/{account_id}/history": ACCOUNT,
    "POST /accounts/{account_id}/language": ACCOUNT,
    "GET /accounts/{account_id}/tokens": ACCOUNT,
    # A new secret goes to the account's owner alone: an administrator is refused one for another's account.
    "POST /accounts/{account_id}/tokens": {**ACCOUNT, MACHINE: REFUSED, ADMIN: "ok/403"},
    "DELETE /accounts/{account_id}/tokens/{token_id}": ACCOUNT,
    "POST /accounts/{account_id}/tokens/{token_id}/rotation": {**ACCOUNT, MACHINE: REFUSED, ADMIN: "ok/403"},
    # cases
    "POST /applications": {**OFFICERS, CONTACT: OWN},
    "GET /cases": SIGNED_IN,
    "GET /cases/{case_id}": RECORD,
    "GET /cases/{case_id}/history": RECORD,
    "GET /cases/{case_id}/benchmark": RECORD,
    "GET /cases/{case_id}/report": RECORD,
    "GET /cases/{case_id}/report.pdf": RECORD,
    "GET /indicators": SIGNED_IN,
    "GET /baseline": SIGNED_IN,
    "POST /cases/{case_id}/screening": OFFICERS,
    "POST /cases/{case_id}/assignment": {**only(), EXPERT: OWN},
    "POST /cases/{case_id}/agreement": {**OFFICERS, CONTACT: OWN},
    "POST /cases/{case_id}/audit-date": OFFICERS,
    # A team expert records the holding, or an officer for them; any other expert is refused alike.
    "POST /cases/{case_id}/audit-held": {**OFFICERS, EXPERT: "ok/403"},
    "POST /cases/{case_id}/assessment": {**only(), EXPERT: OWN},
    # Any expert off the team is refused alike, on a case they cannot see as on an unknown id: nothing leaks.
    "POST /cases/{case_id}/assessment/signature": {**only(), EXPERT: "ok/403"},
    "POST /cases/{case_id}/decision": only(DECIDER),
    "POST /cases/{case_id}/withdrawal": OFFICERS,
    "POST /cases/{case_id}/appeal": {**OFFICERS, CONTACT: OWN},
    "POST /cases/{case_id}/appeal/decision": only(APPEALS),
    "POST /cases/{case_id}/resume": OFFICERS,
    # evidence: read by whoever sees the case (an expert on its team), attached by them too, of the
    # secretariat by officers only; the table's cases are decided, so an allowed upload is a 409
    "GET /cases/{case_id}/evidence": RECORD,
    "GET /cases/{case_id}/evidence/{sha256}": RECORD,
    "POST /cases/{case_id}/evidence": {**OFFICERS, EXPERT: OWN, CONTACT: OWN},
    # labels and overviews
    "GET /labels/{label_ref}": RECORD,
    "GET /labels/{label_ref}/history": RECORD,
    "GET /clusters/{cluster_id}/history": RECORD,
    "POST /labels/{label_ref}/renewal": {**OFFICERS, CONTACT: OWN},
    "POST /labels/{label_ref}/resume": OFFICERS,
    "POST /labels/{label_ref}/suspension": OFFICERS,
    "POST /labels/{label_ref}/restoration": OFFICERS,
    "POST /labels/{label_ref}/withdrawal": OFFICERS,
    "POST /labels/{label_ref}/appeal": {**OFFICERS, CONTACT: OWN},
    "POST /labels/{label_ref}/appeal/decision": only(APPEALS),
    "GET /expiring": STAFF,
    "GET /experts/{expert_id}/workload": EXPERTS_OWN,
    "GET /dashboard": STAFF,
    "GET /statistics": STAFF,
    "GET /statistics.csv": STAFF,
    "GET /notifications": only(MACHINE, ADMIN, OFFICER),
    "POST /notifications/{notification_id}/retry": OFFICERS,
    # partners' webhooks
    "POST /webhooks": ADMINS,
    "GET /webhooks": ADMINS,
    "GET /webhooks/{webhook_id}/deliveries": ADMINS,
    "POST /webhooks/{webhook_id}/enable": ADMINS,  # an enabled one: 409, past authorisation
    "DELETE /webhooks/{webhook_id}": ADMINS,
    # each person's inbox: a message addressed to them, or (another's) one to the other cluster. The
    # secretariat's inbox holds the messages to the secretariat only: a cluster's is no more theirs to open.
    "GET /inbox": SIGNED_IN,
    "POST /inbox/{notification_id}/read": {
        **dict.fromkeys(CALLERS, OWN),
        **dict.fromkeys((MACHINE, ADMIN, OFFICER, DECIDER, APPEALS), HIDDEN),
        NOBODY: UNAUTHENTICATED,
    },
    # complaints: lodged by anyone, read and handled by the officers alone
    "POST /complaints": PUBLIC,
    "GET /complaints": OFFICERS,
    "GET /complaints/{complaint_id}": OFFICERS,
    "POST /complaints/{complaint_id}/acknowledgement": OFFICERS,
    "POST /complaints/{complaint_id}/investigation": OFFICERS,
    "POST /complaints/{complaint_id}/closure": OFFICERS,
    "POST /complaints/{complaint_id}/resume": OFFICERS,
    # invoices: the secretariat's, and each cluster contact's own; never an expert's
    "GET /invoices": {**STAFF, CONTACT: OK},
    "GET /invoices/{invoice_id}": {**STAFF, EXPERT: HIDDEN, CONTACT: OWN},
    "POST /invoices/{invoice_id}/payment": OFFICERS,
    # public
    "GET /registry": PUBLIC,
    "GET /registry.csv": PUBLIC,
    "GET /labels/{label_ref}/verify": PUBLIC,
    "GET /health": PUBLIC,
    "GET /labels/{label_ref}/badge.svg": PUBLIC,
    "GET /labels/{label_ref}/certificate.pdf": PUBLIC,
}


@dataclass(frozen=True)
class Target:
    """The records one call names, by the route's placeholders."""

    cluster_id: str
    case_id: str
    label_ref: str
    expert_id: str
    account_id: str = ""
    token_id: str = ""
    notification_id: str = ""
    webhook_id: str = ""
    complaint_id: str = ""
    invoice_id: str = ""
    role: str = "appeals"
    sha256: str = ""  # a file attached to the case


Body = Callable[[Target], Any]
BODIES: dict[str, Body] = {
    "POST /clusters": lambda _: cluster_body(),
    "POST /experts": lambda _: expert_body(),
    "POST /accounts": lambda _: person() | {"roles": ["officer"]},
    "POST /clusters/{cluster_id}/contacts": lambda _: person(),
    "POST /accounts/{account_id}/roles": lambda _: {"role": "appeals"},
    "POST /experts/{expert_id}/revocation": lambda _: {"reason": "the table's"},
    "POST /experts/{expert_id}/certification/renewal": lambda _: {"until": "2045-01-01T00:00:00Z"},
    "POST /experts/{expert_id}/qualifications": lambda _: {
        "level": "gold",
        "until": "2045-01-01T00:00:00Z",
        "training": "Gold team course",
    },
    "POST /experts/{expert_id}/affiliations": lambda target: {"cluster_id": target.cluster_id},
    "POST /accounts/{account_id}/tokens": lambda _: {"name": "for the table"},
    "POST /accounts/{account_id}/language": lambda _: {"language": "de"},
    "POST /applications": lambda target: {"cluster_id": target.cluster_id, "level": "bronze"},
    "POST /clusters/{cluster_id}/waivers": lambda _: {"criterion": "english_website", "reason": "the table's"},
    "PUT /clusters/{cluster_id}/profile": lambda _: cluster_body(),
    "POST /clusters/{cluster_id}/review/closure": lambda _: {"outcome": "labels_stand", "reason": "the table's"},
    "POST /cases/{case_id}/screening": lambda _: {"accepted": True},
    "POST /cases/{case_id}/assignment": lambda _: {"accept": True},
    "POST /cases/{case_id}/agreement": lambda _: {"agreed": True},
    "POST /cases/{case_id}/audit-date": lambda _: {"audit_date": "2040-01-01T10:00:00Z", "place": "the table"},
    "POST /cases/{case_id}/audit-held": lambda _: {},
    "POST /cases/{case_id}/assessment": lambda _: {"indicators": [{"code": "X", "score": 1}], "report": "tabled"},
    "POST /cases/{case_id}/assessment/signature": lambda _: {},
    "POST /cases/{case_id}/decision": lambda _: {"outcome": "award", "rationale": "All criteria met."},
    "POST /cases/{case_id}/withdrawal": lambda _: {"reason": "the table's"},
    "POST /cases/{case_id}/appeal": lambda _: {"grounds": "the table's"},
    "POST /cases/{case_id}/appeal/decision": lambda _: {"upheld": False, "rationale": "the table's"},
    "POST /labels/{label_ref}/suspension": lambda _: {"reason": "the table's"},
    "POST /labels/{label_ref}/withdrawal": lambda _: {"reason": "the table's"},
    "POST /labels/{label_ref}/appeal": lambda _: {"grounds": "the table's"},
    "POST /labels/{label_ref}/appeal/decision": lambda _: {"upheld": False, "rationale": "the table's"},
    "POST /webhooks": lambda _: webhook_body(),
    "POST /complaints": lambda target: complaint_body(target.cluster_id),
    "POST /complaints/{complaint_id}/closure": lambda _: {"outcome": "dismissed", "finding": "the table's"},
    "POST /invoices/{invoice_id}/payment": lambda _: {"paid_on": "2020-01-02", "reference": "the table's"},
}
# Multipart bodies: a file, for the routes that take one.
UPLOADS: dict[str, Body] = {"POST /cases/{case_id}/evidence": lambda _: {"file": ("table.pdf", TABLE_PDF)}}
TABLE_PDF = b"%PDF-1.4\n% the table's\n"
QUERIES = {"GET /labels/{label_ref}/verify": {"code": "ABC"}}
INBOX_READ = "POST /inbox/{notification_id}/read"


def webhook_body() -> dict[str, Any]:
    # A closed port on this machine: the table's label steps send nothing off it.
    return {"url": "https://127.0.0.1:9/hooks", "events": ["label.expired"]}


def complaint_body(about: str) -> dict[str, str]:
    return {"about": about, "text": "the table's", "contact_email": f"table-{uuid.uuid4().hex[:10]}@example.net"}


def person() -> dict[str, str]:
    return {"name": "Tabled Person", "email": f"table-{uuid.uuid4().hex[:10]}@example.org"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    # The table reads the public routes often, and lodges complaints.
    unlimited = {"CLUSTERLABEL_PUBLIC_RATE_LIMIT": "1000/second", "CLUSTERLABEL_COMPLAINT_RATE_LIMIT": "1000/second"}
    with running_engine(tmp_path_factory.mktemp("engine") / "data", HOUR_POLICY, env=unlimited) as running:
        yield running


@pytest.fixture(scope="module")
def secretariat(engine: RunningEngine) -> Secretariat:
    """No experts but the table's own two, so that each case goes to the expert meant for it."""
    return Secretariat(engine)


class Callers:
    """A client for each kind of caller, and fresh ones for calls on the caller's own account."""

    def __init__(self, secretariat: Secretariat, records: dict[str, Target]) -> None:
        self.secretariat, self.records = secretariat, records
        self.owners: dict[str, httpx.Client] = {}  # each account opened here, signed in as its owner
        self.standing = {caller: self.opened(caller) for caller in CALLERS}

    def opened(self, caller: str) -> tuple[httpx.Client, str]:
        """A new account of the kind (its client and id); the machine administrator's and no token have none."""
        engine, admin = self.secretariat.engine, self.secretariat.api
        if caller in (MACHINE, NOBODY):
            return engine.client() if caller == MACHINE else engine.client(None), ""
        if caller == CONTACT:
            answer = admin.post(f"/clusters/{self.records['own'].cluster_id}/contacts", json=person())
        else:
            links = {"expert_id": self.records["own"].expert_id} if caller == EXPERT else {}
            answer = admin.post("/accounts", json=person() | {"roles": [caller], **links})
        created = self.secretariat.expect(answer, 201)
        self.owners[created["account_id"]] = engine.client(created["token"])
        return self.owners[created["account_id"]], created["account_id"]

    def message_for(self, caller: str, which: str) -> str:
        """A message in the caller's inbox (own: the expert's offer, the contact's label; the secretariat's
        try the own cluster's label), or one in the other cluster's (another's)."""
        recipient = f"cluster:{self.records[which].cluster_id}"
        if caller == EXPERT and which == "own":
            recipient = f"expert:{self.records['own'].expert_id}"
        listed = self.secretariat.expect(self.secretariat.api.get("/notifications", params={"limit": 500}), 200)
        return next(str(message["id"]) for message in listed if message["recipient"] == recipient)

    def spare_account(self) -> str:
        return self.opened(OFFICER)[1]

    def spare_expert(self) -> str:
        """An expert on no case: revoking the table's own experts would change what later rows see."""
        return self.secretariat.expert()[0]

    def spare_token(self, account_id: str) -> str:
        """A token the account's owner issued (only the owner issues one)."""
        answer = self.owners[account_id].post(f"/accounts/{account_id}/tokens", json={"name": "spare"})
        return str(self.secretariat.expect(answer, 201)["token_id"])


@pytest.fixture(scope="module")
def callers(secretariat: Secretariat) -> Callers:
    own_cluster, other_cluster = secretariat.cluster(), secretariat.cluster()
    # Each expert is barred from the other's cluster, so each case goes to its own expert.
    own_expert, _ = secretariat.expert(name="Eve Expert", affiliations=[other_cluster])
    other_expert, _ = secretariat.expert(name="Olaf Outsider", affiliations=[own_cluster])
    records = {}
    for which, cluster_id, expert_id in (("own", own_cluster, own_expert), ("other", other_cluster, other_expert)):
        case_id = secretariat.apply(cluster_id)
        attached = secretariat.api.post(
            f"/cases/{case_id}/evidence", files={"file": (f"{which}.pdf", TABLE_PDF + which.encode())}
        )
        sha256 = secretariat.expect(attached, 201)["sha256"]
        label_id = secretariat.award(case_id)
        assert secretariat.case(case_id)["expert_ids"] == [expert_id]
        (invoice,) = secretariat.expect(secretariat.api.get("/invoices", params={"cluster_id": cluster_id}), 200)
        records[which] = Target(
            cluster_id, case_id, label_id, expert_id, sha256=sha256, invoice_id=invoice["invoice_id"]
        )
    # Any message will do (the secretariat's list is not per cluster): retrying a sent one is a 409.
    message = secretariat.expect(secretariat.api.get("/notifications"), 200)[0]["id"]
    hook = secretariat.spare_webhook()
    # One complaint for every call (complaints belong to no cluster's contact): about a cluster the registry lists.
    lodged = eventually(
        lambda: (lambda answer: answer if answer.status_code == 201 else None)(
            secretariat.engine.client(None).post("/complaints", json=complaint_body(records["own"].cluster_id))
        ),
        30,
        "the registry to list the cluster",
    )
    complaint = lodged.json()["complaint_id"]
    records = {
        which: replace(target, notification_id=message, webhook_id=hook, complaint_id=complaint)
        for which, target in records.items()
    }
    return Callers(secretariat, records)


def outcome(status: int) -> str:
    return str(status) if status in (401, 403, 404) else OK


def call(callers: Callers, route: str, caller: str, which: str) -> int:
    """Make the route's call as the caller on their own record or another's; the status it answers."""
    method, template = route.split(" ", 1)
    client, target = callers.standing[caller][0], callers.records[which]
    if "{account_id}" in template:
        if which == "own":
            client, account_id = callers.opened(caller)
        else:
            account_id = callers.spare_account()
        token_id = callers.spare_token(account_id) if "{token_id}" in template else ""
        target = replace(target, account_id=account_id, token_id=token_id)
    if route.startswith("DELETE /webhooks/"):  # deleted once: each call deletes one of its own
        target = replace(target, webhook_id=callers.secretariat.spare_webhook())
    if route == INBOX_READ:
        target = replace(target, notification_id=callers.message_for(caller, which))
    if route.startswith("POST /experts/{expert_id}/"):  # changes the expert: the table's own must stay as they are
        target = replace(target, expert_id=callers.spare_expert())
    body = BODIES[route](target) if route in BODIES else None
    files = UPLOADS[route](target) if route in UPLOADS else None
    path = template.format(**vars(target))
    answer = client.request(method, path, json=body, files=files, params=QUERIES.get(route))
    assert answer.status_code < 500 or answer.status_code == 503, f"{route} as {caller}: {answer.text}"
    return answer.status_code


def names_a_record(route: str) -> bool:
    return "{" in route or route == "POST /applications"  # an application names its cluster in the body


def has_own(route: str, caller: str) -> bool:
    """Whether the caller has an own record of the route's kind (no account for the machine nor for no token)."""
    return not ("{account_id}" in route and caller in (MACHINE, NOBODY))


def test_the_table_has_a_row_for_every_route_of_the_openapi_document(engine: RunningEngine) -> None:
    document = httpx.get(f"{engine.url}/openapi.json").json()
    routes = {f"{method.upper()} {path}" for path, methods in document["paths"].items() for method in methods}

    assert sorted(routes - TABLE.keys()) == [], "routes missing from the table"
    assert sorted(TABLE.keys() - routes) == [], "rows for routes that no longer exist"
    assert [route for route, row in TABLE.items() if set(row) != set(CALLERS)] == []
    # A body the route cannot parse is a 422 before the route looks at the record: it would pass for allowed.
    needing = {route for route in routes if requires_body(document, route)}
    assert sorted(needing - BODIES.keys() - UPLOADS.keys()) == [], "routes whose calls would send no body"


def requires_body(document: dict[str, Any], route: str) -> bool:
    method, path = route.split(" ", 1)
    return bool(document["paths"][path][method.lower()].get("requestBody", {}).get("required"))


@pytest.mark.parametrize("route", TABLE)
def test_each_caller_gets_what_the_table_says(callers: Callers, route: str) -> None:
    wrong = []
    for caller, expected in TABLE[route].items():
        own, other = expected.split("/") if "/" in expected else (expected, expected)
        for which, wanted in (("own", own), ("other", other)):
            if (which == "own" and not has_own(route, caller)) or (which == "other" and not names_a_record(route)):
                continue
            got = outcome(call(callers, route, caller, which))
            if got != wanted:
                wrong.append(f"{caller} on {which if names_a_record(route) else 'it'}: {got}, not {wanted}")
    assert wrong == [], f"{route}: " + "; ".join(wrong)
