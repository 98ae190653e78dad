"""A superseded label's badge and verification after a renewal: an embed of the old label's badge draws the
label now in its place and links to it, and the old label's verification says since when it was superseded
and by which label. The engine's Services and pages over SQLite, without Temporal."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast
from uuid import UUID, uuid4

import httpx

from clusterlabel.domain.commands import CloseCase, IssueLabel, WithdrawLabel
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import last_valid_day
from clusterlabel.interfaces.web.badge import MOST_HOPS, standing_in_for
from clusterlabel.interfaces.web.naming import readable, readable_last_day
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.registry import RegistryEntry
from tests.builders import T0, send
from tests.integration.test_public_registry_pages import Site, opened_site
from tests.lifecycle import SECRETARIAT


def renewed(site: Site, label: Label) -> Label:
    """The label renewed two months before it expires: its renewal's label, which supersedes it."""
    site.app.clock.now = label.valid_until - timedelta(days=60)  # type: ignore[attr-defined]
    for country in ("LT", "DE"):  # certified through the renewal's audit (the builders' experts lapse in year 3)
        site.life.expert(country, certified_until=label.valid_until + timedelta(days=365))
    renewal = site.life.renewal_agreed(label.id)
    site.life.assess(renewal)
    site.life.decide(renewal)
    new_label = send(site.app, renewal, IssueLabel(), actor="system").label_id
    send(site.app, renewal, CloseCase(), actor="system")
    assert new_label is not None and site.app.get_label(label.id).superseded_by == new_label
    site.views.catch_up()
    return site.app.get_label(new_label)


def badge_of(site: Site, label: Label) -> tuple[str, str]:
    """The badge's title (what it reads) and the page its link opens."""
    svg = site.get(f"/labels/{label.label_code}/badge.svg")
    assert svg.status_code == 200 and svg.headers["cache-control"] == "no-cache, max-age=60"
    assert "x-view-age" in svg.headers
    title = re.search(r"<title>([^<]*)</title>", svg.text)
    href = re.search(r' href="([^"]*)"', svg.text)
    assert title is not None and href is not None
    return html.unescape(title.group(1)), html.unescape(href.group(1))


def verdict_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    return " ".join(page.text.split('id="verdict"', 1)[-1].split("</div>", 1)[0].split())


def test_a_renewed_labels_badge_shows_the_label_that_replaced_it_and_links_to_its_page(tmp_path: Path) -> None:
    """An embed of the first label's badge survives the renewal: it reads as the label now in force."""
    with opened_site(tmp_path, imported=1) as site:
        old = site.label
        assert badge_of(site, old)[0] == f"ECEI Bronze: valid until {last_valid_day(old.valid_until):%Y-%m-%d}"
        new = renewed(site, old)
        title, href = badge_of(site, old)
    assert new.label_code != old.label_code and new.valid_until > old.valid_until
    assert title == f"ECEI Bronze: valid until {last_valid_day(new.valid_until):%Y-%m-%d}"
    assert href.endswith(f"/ui/verify?label={new.label_code}")


def test_a_badge_follows_every_renewal_to_the_newest_label_and_draws_its_status(tmp_path: Path) -> None:
    """A withdrawn newest label is drawn withdrawn, not as the superseded label embedded, nor as valid."""
    with opened_site(tmp_path, imported=1) as site:
        first = site.label
        newest = renewed(site, renewed(site, first))
        valid = badge_of(site, first)
        send(site.app, newest.id, WithdrawLabel(reason="The cluster misused the label."), actor=SECRETARIAT)
        site.views.catch_up()
        withdrawn = badge_of(site, first)
    assert valid[0] == f"ECEI Bronze: valid until {last_valid_day(newest.valid_until):%Y-%m-%d}"
    assert withdrawn[0] == "ECEI Bronze: withdrawn"
    assert valid[1] == withdrawn[1] and withdrawn[1].endswith(f"/ui/verify?label={newest.label_code}")


def test_a_superseded_labels_verification_names_its_status_since_when_and_links_the_label_that_replaced_it(
    tmp_path: Path,
) -> None:
    with opened_site(tmp_path, imported=1) as site:
        old = site.label
        new = renewed(site, old)
        listed = verdict_of(site.get("/ui/verify", label=old.label_code))
        verified = verdict_of(site.get("/ui/verify", label=old.label_code, code=old.verification_code))
        since = readable(site.app.get_label(old.id).state_since)
    link = f'Superseded by <a href="/ui/verify?label={new.label_code}">{new.label_code}</a>.'
    assert f"superseded since {since}" in listed and link in listed
    assert "valid until" not in listed and readable_last_day(old.valid_until) not in listed
    assert f"is superseded since {since}" in verified and link in verified


@dataclass
class Listing:
    """A registry holding only the entries given, read as the badge reads the engine's (svc.models.label)."""

    entries: dict[UUID, RegistryEntry]

    @property
    def models(self) -> Listing:
        return self

    def label(self, label_id: UUID, now: datetime) -> RegistryEntry | None:
        return self.entries.get(label_id)

    def now(self) -> datetime:
        return T0


def successions(hops: int) -> tuple[Listing, list[UUID]]:
    """A label renewed `hops` times: its entry first, the one in force last."""
    ids = [uuid4() for _ in range(hops + 1)]
    after = [*ids[1:], None]
    entries = [
        RegistryEntry(
            label_id=one,
            label_code=f"ECEI-B-{n:04d}-0000-0000",
            cluster_id=ids[0],
            cluster_name="Baltic Marine Cluster",
            country="LT",
            level="bronze",
            catalogue_version="bronze-2020",
            valid_from=T0,
            valid_until=T0 + timedelta(days=730),
            renewable_until=T0 + timedelta(days=1095),
            status="superseded" if following else "active",
            since=T0,
            supersedes=None,
            superseded_by=following,
        )
        for n, (one, following) in enumerate(zip(ids, after, strict=True))
    ]
    return Listing({entry.label_id: entry for entry in entries}), ids


def test_a_chain_of_successors_that_ends_nowhere_circles_or_runs_on_leaves_the_label_as_it_is() -> None:
    """The badge draws such a label superseded, as before successors were followed; a chain of MOST_HOPS hops
    still reaches the label in force."""
    within, ids = successions(MOST_HOPS)
    assert standing_in_for(cast(Services, within), within.entries[ids[0]]).label_id == ids[-1]

    too_long, ids = successions(MOST_HOPS + 1)
    broken, broken_ids = successions(2)
    del broken.entries[broken_ids[-1]]
    circle, circle_ids = successions(2)
    circle.entries[circle_ids[-1]] = circle.entries[circle_ids[-2]].model_copy(
        update={"label_id": circle_ids[-1], "superseded_by": circle_ids[0]}
    )
    for listing, first in ((too_long, ids[0]), (broken, broken_ids[0]), (circle, circle_ids[0])):
        start = listing.entries[first]
        assert standing_in_for(cast(Services, listing), start) is start
