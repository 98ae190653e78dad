"""`clusterlabel simulate --clusters N`: whole lifecycles on the real engine, with time compressed.

The embedded Temporal server, the worker and the projections run exactly as under `serve`; a scripted
secretariat and its experts drive the HTTP API in process (no port opened). Each cluster gets one
storyline by its number: awarded then renewed, awarded then left to lapse, awarded then suspended and
restored, refused, rejected at screening, or staffed after an expert declined. State goes to a fresh
directory under the data dir, so a simulation never mixes with real records. When the storylines are
done it waits (within a bound) for the lifecycles they started to end, and names those it leaves open:
its workflows run on the task queue `serve` uses, so `serve --data-dir` on that directory carries them
on (tools/open_lifecycles.py).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from clusterlabel.domain.policy import Policy, default_policy
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.logs import configure_logging
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.tools.open_lifecycles import FINISH_WITHIN, closing_lines, wait_for_ends

COMPRESSED = {
    "label_validity": "PT20S",
    "renewal_window": "PT10S",
    "expiry_reminders": ["PT10S", "PT5S"],
    "screening_deadline": "PT10M",
    "expert_response_timeout": "PT10M",
    "audit_deadline": "PT10M",
    "decision_deadline": "PT10M",
    "deadline_reminders": ["PT5M"],
    "suspension_limit": "PT10M",
    "appeal_window": "PT5S",
}
STORIES = ("renewed", "lapsing", "suspended", "refused", "rejected", "declined-first")
COUNTRIES = ("DE", "FR", "LT", "ES", "IT", "SE", "PL", "AT", "NL", "FI")
CONCURRENCY = 8
WAIT_SECONDS = 60.0


@dataclass
class Tally:
    total: int
    done: int = 0
    failed: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def show(self, note: str = "") -> None:
        width = 32
        filled = width * self.done // max(self.total, 1)
        elapsed = time.monotonic() - self.started
        print(
            f"\r  [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} clusters  {elapsed:5.1f}s {note:<24}",
            end="",
            file=sys.stderr,
            flush=True,
        )


class Actors:
    """The secretariat and the experts, speaking HTTP to the app in process."""

    def __init__(self, http: httpx.AsyncClient, admin_token: str) -> None:
        self.http = http
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.experts: dict[str, dict[str, str]] = {}
        self.decider: dict[str, str] = {}  # a board member's account, opened by `open_decider`

    async def open_decider(self) -> None:
        body = {
            "name": "Simulated Board",
            "email": f"board-{uuid.uuid4().hex[:12]}@simulation.example.org",
            "roles": ["decider"],
        }
        answer = await self.call("POST", "/accounts", expect=201, json=body)
        self.decider = {"Authorization": f"Bearer {answer['token']}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        expert: str | None = None,
        decider: bool = False,
        expect: int = 200,
        **kwargs: Any,
    ) -> Any:
        headers = self.experts[expert] if expert else self.decider if decider else self.admin
        answer = await self.http.request(method, path, headers=headers, **kwargs)
        if answer.status_code != expect:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    async def renew(self, label_id: str) -> str:
        """Start the label's renewal case, once the round that issued the label is closed: the case
        workflow closes it just after the label is issued, and until then the API answers 409."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            answer = await self.http.post(f"/labels/{label_id}/renewal", headers=self.admin)
            if answer.status_code == 201:
                return answer.json()["case_id"]
            if answer.status_code != 409 or "open" not in answer.text or time.monotonic() > deadline:
                raise RuntimeError(f"POST /labels/{label_id}/renewal: {answer.status_code} {answer.text[:300]}")
            await asyncio.sleep(0.1)

    async def case_when(self, case_id: str, predicate: Any) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            case = await self.call("GET", f"/cases/{case_id}")
            if predicate(case):
                return case
            if time.monotonic() > deadline:
                raise RuntimeError(f"case {case_id} stuck in {case['state']}")
            await asyncio.sleep(0.1)

    async def label_when(self, label_id: str, states: set[str]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            label = await self.call("GET", f"/labels/{label_id}")
            if label["state"] in states:
                return label
            if time.monotonic() > deadline:
                raise RuntimeError(f"label {label_id} stuck in {label['state']}")
            await asyncio.sleep(0.25)


async def _staff(actors: Actors, case_id: str, seats: int, decline_first: bool) -> str:
    first = ""
    for seat in range(seats):
        case = await actors.case_when(case_id, lambda c: c["proposed_expert_id"])
        expert = case["proposed_expert_id"]
        if decline_first and seat == 0:
            await actors.call(
                "POST", f"/cases/{case_id}/assignment", expert=expert, json={"accept": False, "reason": "busy"}
            )
            case = await actors.case_when(
                case_id, lambda c, expert=expert: c["proposed_expert_id"] not in (None, expert)
            )
            expert = case["proposed_expert_id"]
        await actors.call("POST", f"/cases/{case_id}/assignment", expert=expert, json={"accept": True})
        first = first or expert
    await actors.call("POST", f"/cases/{case_id}/agreement", json={"agreed": True})
    return first


async def _through_decision(
    actors: Actors, case_id: str, indicators: list[dict[str, Any]], *, award: bool, decline_first: bool = False
) -> str | None:
    expert = await _staff(actors, case_id, 1, decline_first)
    await actors.call(
        "POST", f"/cases/{case_id}/assessment", expert=expert, json=_assessment(indicators, case_id, award=award)
    )
    outcome = "award" if award else "refuse"
    await actors.call(
        "POST",
        f"/cases/{case_id}/decision",
        decider=True,
        json={"outcome": outcome, "rationale": f"simulated {outcome}"},
    )
    if not award:
        return None
    return str((await actors.case_when(case_id, lambda c: c["label_id"]))["label_id"])


def _assessment(indicators: list[dict[str, Any]], case_id: str, *, award: bool) -> dict[str, Any]:
    """An expert's assessment as a cluster would read it in its report: scores that differ from cluster to
    cluster (so the peer comparison says something), a finding on each indicator, a recommendation where
    the cluster is weaker, and the overall strengths, improvements and a success story."""
    draw = random.Random(case_id)  # the same case always gets the same assessment
    level = 0.75 if award else 0.35
    items = []
    for indicator in indicators:
        fraction = min(1.0, max(0.0, level + draw.uniform(-0.25, 0.25)))
        item: dict[str, Any] = {"code": indicator["code"], "score": round(indicator["max_score"] * fraction)}
        title = indicator["title"]
        if fraction >= level:
            item["finding"] = f"{title}: in place, documented and used by the members."
        else:
            item["finding"] = f"{title}: started, but not yet part of the management's routine."
            item["recommendation"] = f"Set a yearly target for {title.lower()} and report on it to the board."
        items.append(item)
    return {
        "indicators": items,
        "report": "Benchmarking interview with the cluster manager and two board members.",
        "strengths": "A committed board, a clear strategy agreed with the members, services the members use.",
        "areas_for_improvement": "Financing beyond public programmes; measuring the members' satisfaction.",
        "success_stories": "A joint test bed, opened with three member companies and a university.",
    }


async def lifecycle(actors: Actors, number: int, indicators: list[dict[str, Any]]) -> str:
    story = STORIES[number % len(STORIES)]
    cluster = await actors.call(
        "POST",
        "/clusters",
        expect=201,
        json={
            "name": f"Simulated Cluster {number:04d}",
            "country": COUNTRIES[number % len(COUNTRIES)],
            "sector": "simulation",
            "website": f"https://cluster{number}.example.eu",
            "members": 20 + number % 30,
            "member_types": ["business", "research", "public"],
            "staff_fte": 1.5,
            "eccp_listed": True,
        },
    )
    case_id = (
        await actors.call(
            "POST", "/applications", expect=201, json={"cluster_id": cluster["cluster_id"], "level": "bronze"}
        )
    )["case_id"]
    if story == "rejected":
        await actors.call(
            "POST", f"/cases/{case_id}/screening", json={"accepted": False, "reason": "incomplete application"}
        )
        return story
    await actors.call("POST", f"/cases/{case_id}/screening", json={"accepted": True})
    label_id = await _through_decision(
        actors, case_id, indicators, award=story != "refused", decline_first=story == "declined-first"
    )
    if label_id is None:
        return story
    if story == "renewed":
        renewal = await actors.renew(label_id)
        await actors.call("POST", f"/cases/{renewal}/screening", json={"accepted": True})
        await _through_decision(actors, renewal, indicators, award=True)
        await actors.label_when(label_id, {"superseded"})
    elif story == "suspended":
        await actors.call("POST", f"/labels/{label_id}/suspension", json={"reason": "complaint under review"})
        await actors.call("POST", f"/labels/{label_id}/restoration")
    elif story == "lapsing":
        await actors.label_when(label_id, {"lapsed"})
    return story


async def run_simulation(
    settings: Settings,
    clusters: int,
    policy: Policy,
    *,
    finish_within: float = FINISH_WITHIN,
    original: Settings | None = None,
) -> int:
    """Run the storylines, wait up to `finish_within` seconds for their lifecycles to end, and print the
    summary with what is left open (`original`: the settings the user gave, before the simulation's own)."""
    configure_logging(settings.log_format, "WARNING")
    engine = Engine(settings, policy=policy, poll_interval=0.2)
    admin_token = settings.admin_token or engine.services.tokens.rotate_admin_token()
    engine.start_projections()
    tally = Tally(clusters)
    print(
        f"simulating {clusters} clusters in {settings.data_dir} (policy: labels valid {policy.label_validity}, "
        f"renewable {policy.renewal_window} after)",
        file=sys.stderr,
    )
    try:
        tally.show("starting Temporal")
        await engine.start_temporal()
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://simulation", timeout=60) as http:
            actors = Actors(http, admin_token)
            for index in range(max(3, clusters // 4 + 2)):
                body = {
                    "name": f"Expert {index:03d}",
                    "country": COUNTRIES[(index + 3) % len(COUNTRIES)],
                    "languages": ["en"],
                    "certified_until": "2099-01-01T00:00:00Z",
                    "affiliations": [],
                    "email": f"expert-{index:03d}-{uuid.uuid4().hex[:12]}@simulation.example.org",
                }
                answer = await actors.call("POST", "/experts", expect=201, json=body)
                actors.experts[answer["expert_id"]] = {"Authorization": f"Bearer {answer['token']}"}
            await actors.open_decider()
            indicators = await actors.call("GET", "/indicators", params={"level": "bronze"})
            stories: Counter[str] = Counter()
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(number: int) -> None:
                async with gate:
                    try:
                        stories[await lifecycle(actors, number, indicators)] += 1
                    except Exception as error:  # one broken storyline must not hide the others' results
                        tally.failed.append(f"cluster {number}: {error}")
                    tally.done += 1
                    tally.show()

            await asyncio.gather(*(one(number) for number in range(clusters)))
            elapsed = time.monotonic() - tally.started
            still_open = await wait_for_ends(
                engine.app, finish_within, lambda n: tally.show(f"{n} lifecycles still open")
            )
            print(file=sys.stderr)
            await asyncio.to_thread(engine.services.fresh, 30.0)
            dashboard = await actors.call("GET", "/dashboard")
            _summary(dashboard, stories, engine.models.runner.head(), elapsed, tally)
            print("\n".join(closing_lines(engine.app, still_open, original or settings, settings)))
    finally:
        await engine.stop()
    return 1 if tally.failed else 0


def _summary(dashboard: dict[str, Any], stories: Counter[str], events: int, elapsed: float, tally: Tally) -> None:
    rows = [("cases", state, n) for state, n in dashboard["states"].items()]
    rows += [("labels", status, n) for status, n in dashboard["labels"].items()]
    rows += [("storylines", story, n) for story, n in sorted(stories.items())]
    rows += [
        ("engine", "events stored", events),
        ("engine", "events per second", f"{events / max(elapsed, 1e-9):.1f}"),
        ("engine", "clusters per minute", f"{60 * tally.done / max(elapsed, 1e-9):.1f}"),
        ("engine", "wall time (s)", f"{elapsed:.1f}"),
        ("engine", "projection lag (events)", max(dashboard["projection_lag"].values(), default=0)),
    ]
    print(f"\n{'':<11}{'':<26}{'count':>8}")
    for group, name, value in rows:
        print(f"{group:<11}{name:<26}{value!s:>8}")
    for failure in tally.failed:
        print(f"FAILED {failure}", file=sys.stderr)


def simulate(
    settings: Settings, clusters: int, policy_file: Path | None = None, finish_within: float = FINISH_WITHIN
) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    sim_dir = settings.data_dir / "simulations" / stamp
    # The task queue `serve` uses, so that `serve --data-dir` on the folder (its embedded Temporal server
    # restarts from the state there) runs what the simulation leaves open. A shared external cluster
    # gets a queue of its own: the real workers polling there must not run the simulation's workflows
    # against their own store.
    queue = settings.task_queue if settings.temporal_address is None else f"simulation-{stamp}"
    sim_settings = settings.model_copy(update={"data_dir": sim_dir, "database_url": None, "task_queue": queue})
    policy = default_policy().with_overrides(COMPRESSED)
    if policy_file is not None:
        policy = Policy.from_toml(policy_file.read_text(encoding="utf-8"), base=policy)
    return asyncio.run(run_simulation(sim_settings, clusters, policy, finish_within=finish_within, original=settings))
