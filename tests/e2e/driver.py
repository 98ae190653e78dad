"""A secretariat and its experts driving the HTTP API, step by step, as the tests' vocabulary."""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

import httpx

from tests.e2e.engine import RunningEngine, eventually

_names = itertools.count(1)
REPORT = "Strong management, documented services."  # every assessment's report, to look for in what is shown


def cluster_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Cluster {next(_names)}",
        "country": "LT",
        "sector": "maritime",
        "website": "https://cluster.example.lt",
        "members": 42,
        "member_types": ["business", "research", "public"],
        "staff_fte": 2.5,
        "eccp_listed": True,
    }
    body.update(changes)
    return body


def expert_body(**changes: Any) -> dict[str, Any]:
    number = next(_names)
    body: dict[str, Any] = {
        "name": f"Expert {number:03d}",
        "email": f"expert-{number:03d}-{uuid.uuid4().hex[:8]}@experts.example.org",
        "country": "DE",
        "languages": ["en", "de"],
        "certified_until": "2040-01-01T00:00:00Z",
        "affiliations": [],
    }
    body.update(changes)
    return body


class Secretariat:
    def __init__(self, engine: RunningEngine) -> None:
        self.engine = engine
        self.api = engine.client()

    def expect(self, response: httpx.Response, status: int) -> Any:
        assert response.status_code == status, (
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
        return response.json()

    # ---- registrations ------------------------------------------------------------------

    def cluster(self, **changes: Any) -> str:
        return self.expect(self.api.post("/clusters", json=cluster_body(**changes)), 201)["cluster_id"]

    def expert(self, **changes: Any) -> tuple[str, httpx.Client]:
        answer = self.expect(self.api.post("/experts", json=expert_body(**changes)), 201)
        self.engine.experts[answer["expert_id"]] = answer["token"]
        return answer["expert_id"], self.engine.client(answer["token"])

    def contact_email(self, cluster_id: str, name: str) -> str:
        """A contact person of the cluster, with an account; their e-mail address."""
        email = f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.')}-{uuid.uuid4().hex[:6]}@cluster.example.org"
        body = {"name": name, "email": email}
        self.expect(self.api.post(f"/clusters/{cluster_id}/contacts", json=body), 201)
        return email

    def member(self, name: str, *roles: str) -> httpx.Client:
        """A secretariat member signed in as themselves: their account is opened (by the machine
        administrator) on first use, once per name and engine."""
        if name not in self.engine.accounts:
            slug = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".")
            body = {"name": name, "email": f"{slug}@secretariat.example.org", "roles": list(roles)}
            answer = self.expect(self.api.post("/accounts", json=body), 201)
            self.engine.accounts[name] = (answer["account_id"], answer["token"])
        return self.engine.client(self.engine.accounts[name][1])

    def contact(self, cluster_id: str, name: str) -> httpx.Client:
        """A contact person of the cluster, signed in with their account's first token."""
        slug = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".")
        body = {"name": name, "email": f"{slug}.{uuid.uuid4().hex[:6]}@cluster.example.org"}
        answer = self.expect(self.api.post(f"/clusters/{cluster_id}/contacts", json=body), 201)
        return self.engine.client(answer["token"])

    def as_expert(self, expert_id: str) -> httpx.Client:
        return self.engine.client(self.engine.experts[expert_id])

    # ---- cases ---------------------------------------------------------------------------

    def apply(self, cluster_id: str, level: str = "bronze") -> str:
        return self.expect(self.api.post("/applications", json={"cluster_id": cluster_id, "level": level}), 201)[
            "case_id"
        ]

    def case(self, case_id: str) -> dict[str, Any]:
        return self.expect(self.api.get(f"/cases/{case_id}"), 200)

    def history(self, case_id: str) -> list[dict[str, Any]]:
        return self.expect(self.api.get(f"/cases/{case_id}/history"), 200)["events"]

    def wait_for(self, case_id: str, what: str, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        return eventually(lambda: (lambda case: case if predicate(case) else None)(self.case(case_id)), timeout, what)

    def screen(self, case_id: str, accepted: bool = True, reason: str = "") -> dict[str, Any]:
        return self.expect(
            self.api.post(f"/cases/{case_id}/screening", json={"accepted": accepted, "reason": reason}), 200
        )

    def proposed_expert(self, case_id: str) -> tuple[str, httpx.Client]:
        case = self.wait_for(case_id, "an expert proposal", lambda c: c["proposed_expert_id"])
        return case["proposed_expert_id"], self.as_expert(case["proposed_expert_id"])

    def staff(self, case_id: str, seats: int = 1) -> list[tuple[str, httpx.Client]]:
        team = []
        for _ in range(seats):
            expert_id, expert = self.proposed_expert(case_id)
            self.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)
            team.append((expert_id, expert))
        self.expect(self.api.post(f"/cases/{case_id}/agreement", json={"agreed": True}), 200)
        return team

    def full_scores(self, level: str) -> list[dict[str, Any]]:
        # A new assessment's indicators at the level: Silver's are the Bronze ones (a second Bronze benchmarking).
        indicators = self.expect(self.api.get("/indicators", params={"level": level}), 200)
        return [{"code": item["code"], "score": item["max_score"], "evidence": "documented"} for item in indicators]

    def assess(self, case_id: str, expert: httpx.Client, level: str = "bronze") -> dict[str, Any]:
        body = {"indicators": self.full_scores(level), "report": REPORT}
        return self.expect(expert.post(f"/cases/{case_id}/assessment", json=body), 200)

    def to_decision(
        self, case_id: str, level: str = "bronze", screened: bool = False
    ) -> list[tuple[str, httpx.Client]]:
        if not screened:
            self.screen(case_id)
        team = self.staff(case_id, 2 if level == "gold" else 1)
        self.assess(case_id, team[0][1], level)
        for _, other in team[1:]:  # a Gold team: the other expert signs the assessment
            self.sign(case_id, other)
        return team

    def sign(self, case_id: str, expert: httpx.Client) -> dict[str, Any]:
        return self.expect(expert.post(f"/cases/{case_id}/assessment/signature", json={}), 200)

    def decide(
        self, case_id: str, outcome: str = "award", decided_by: str = "Board Member", **extra: Any
    ) -> dict[str, Any]:
        body = {
            "outcome": outcome,
            "rationale": "All criteria met." if outcome == "award" else "Criteria not met.",
            **extra,
        }
        decider = self.member(decided_by, "decider")
        return self.expect(decider.post(f"/cases/{case_id}/decision", json=body), 200)

    def award(self, case_id: str, level: str = "bronze") -> str:
        """Drive a new case to its label; the label's id."""
        self.to_decision(case_id, level)
        self.decide(case_id)
        return self.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]

    def spare_webhook(self) -> str:
        """A partner's webhook to a closed port on this machine (nothing it is told leaves it); its id."""
        body = {"url": "https://127.0.0.1:9/hooks", "events": ["label.expired"]}
        return str(self.expect(self.api.post("/webhooks", json=body), 201)["webhook_id"])

    def label(self, label_id: str) -> dict[str, Any]:
        return self.expect(self.api.get(f"/labels/{label_id}"), 200)
