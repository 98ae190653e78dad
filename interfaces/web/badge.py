"""The embeddable badge: the label's level, valid-until and live status, linking to its verification page.

A superseded label's badge shows the label that replaced it (its renewal's, or a downgrade's), so that an
embed made once survives every renewal instead of turning red at the first.
"""

from __future__ import annotations

from html import escape

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.documents.certificate import verification_url
from clusterlabel.domain.label_lifecycle import LabelState, last_valid_day
from clusterlabel.interfaces.web.common import VIEW_AGE_HEADER, label_id_from
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.ratelimit import client_of
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.registry import RegistryEntry


def registry_entry(svc: Services, label_ref: str) -> RegistryEntry | None:
    """The label's public entry as the registry view stands (public reads never wait for it)."""
    try:
        label_id = label_id_from(label_ref)
    except ApiError:
        return None
    return svc.models.label(label_id, svc.now())


def successor_of(svc: Services, entry: RegistryEntry) -> RegistryEntry | None:
    """The label that superseded this one, as the registry lists it; None for one not superseded."""
    if entry.status != LabelState.SUPERSEDED.value or entry.superseded_by is None:
        return None
    return svc.models.label(entry.superseded_by, svc.now())


# Each renewal is a hop: five outlast any embed, and a longer chain is taken for a broken one.
MOST_HOPS = 5


def standing_in_for(svc: Services, entry: RegistryEntry) -> RegistryEntry:
    """The newest label of a superseded label's chain of successors, else the label itself: a chain that ends
    nowhere (a successor the registry does not list), runs in a circle or runs on past MOST_HOPS names none."""
    newest, seen = entry, {entry.label_id}
    while newest.status == LabelState.SUPERSEDED.value:
        following = successor_of(svc, newest)
        if following is None or following.label_id in seen or len(seen) > MOST_HOPS:
            return entry
        newest = following
        seen.add(newest.label_id)
    return newest


# ---- the badge ---------------------------------------------------------------------------

_BADGE_COLOURS = {"valid": "#1b7f3b", "suspended": "#b36b00", "expired": "#8a8f98"}
_LEVEL_COLOURS = {"bronze": "#8c5a2b", "silver": "#6e7b85", "gold": "#a67c00"}


async def badge(label_ref: str, request: Request) -> Response:
    """An SVG badge with the label's level, valid-until and live status, linking to its verification page.

    Never cached for long: a suspended, withdrawn or expired label must stop showing as valid at once. A
    superseded label's badge draws the label now in its place, and links to that label's page.
    """
    svc: Services = request.app.state.services
    svc.public_limit.check(client_of(request))
    entry = await run_in_threadpool(_drawn, svc, label_ref)
    if entry is None:
        status, level, until, code = "unknown", "", "", label_ref.strip().upper()[:40]
    else:
        status = "valid" if entry.status == LabelState.ACTIVE.value else entry.status
        level, until, code = entry.level, f"{last_valid_day(entry.valid_until):%Y-%m-%d}", entry.label_code
    verify_url = verification_url(svc.public_url, code)
    svg = _badge_svg(level, status, until, verify_url)
    headers = {"Cache-Control": "no-cache, max-age=60", VIEW_AGE_HEADER: f"{svc.view_age():.1f}"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


def _drawn(svc: Services, label_ref: str) -> RegistryEntry | None:
    """The entry the badge draws: the label's own, or the one standing in for it."""
    entry = registry_entry(svc, label_ref)
    return entry if entry is None else standing_in_for(svc, entry)


def _badge_svg(level: str, status: str, until: str, link: str) -> str:
    # html.escape quotes " and ' as well: every value below may end up inside an attribute.
    left = f"ECEI {level.capitalize()}".strip() if level else "ECEI label"
    right = f"valid until {until}" if status == "valid" else status
    left_width, right_width = 14 + 7 * len(left), 14 + 7 * len(right)
    width = left_width + right_width
    left_colour = _LEVEL_COLOURS.get(level, "#555")
    right_colour = _BADGE_COLOURS.get(status, "#b3261e")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" height="22" '
        f'role="img" aria-label="{escape(left)}: {escape(right)}">'
        f"<title>{escape(left)}: {escape(right)}</title>"
        f'<a xlink:href="{escape(link)}" href="{escape(link)}" target="_blank">'
        f'<rect width="{left_width}" height="22" rx="3" fill="{left_colour}"/>'
        f'<rect x="{left_width}" width="{right_width}" height="22" rx="3" fill="{right_colour}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="7" y="15">{escape(left)}</text><text x="{left_width + 7}" y="15">{escape(right)}</text></g></a></svg>'
    )
