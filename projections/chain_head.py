"""The chain's head, to anchor outside the database, and the check that the chain still extends it.

Whoever can alter the database could also empty the chain and let it be rebuilt over a rewritten
log; a head kept elsewhere (a ticket, a transparency log, another system's store) tells. The head
is the last link: its place in the log, how many links lead to it and its keyed log hash. The
chain extends an anchored head when it holds that same link at that same place, after as many
links; with `verify` passing, every link after it follows from it under the key.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from clusterlabel.projections.event_chain import EventChainView


class ChainHead(BaseModel):
    """The chain's last link, as `clusterlabel verify --head` prints it (JSON, stable field names)."""

    model_config = ConfigDict(extra="forbid")

    position: int  # the notification id of the last event chained
    links: int  # how many links the chain has up to it
    log_head: str  # the keyed log hash at that link
    scheme: str  # how that link was made: hmac-sha256:<key id>
    exported_at: datetime


class AnchorCheck(BaseModel):
    ok: bool
    detail: str


def chain_head(chain: EventChainView, now: datetime) -> ChainHead | None:
    """The head of the chain as it stands (None while it is empty)."""
    last = chain.last_link()
    if last is None:
        return None
    position = int(last["notification_id"])
    return ChainHead(
        position=position,
        links=chain.links_through(position),
        log_head=last["log_hash"],
        scheme=last["scheme"],
        exported_at=now,
    )


def check_anchor(chain: EventChainView, anchored: ChainHead) -> AnchorCheck:
    """Whether the chain still holds the anchored head, at its place and after as many links."""
    link = chain.link_at(anchored.position)
    if link is None:
        return AnchorCheck(ok=False, detail=f"the chain has no link at position {anchored.position} any more")
    if link["scheme"] != anchored.scheme or not hmac.compare_digest(link["log_hash"], anchored.log_head):
        return AnchorCheck(
            ok=False,
            detail=f"the link at position {anchored.position} is not the anchored one: the chain was rewritten",
        )
    links = chain.links_through(anchored.position)
    if links != anchored.links:
        return AnchorCheck(
            ok=False,
            detail=f"{links} links lead to position {anchored.position}, the anchored head had {anchored.links}",
        )
    after = chain.links_through(2**62) - links
    return AnchorCheck(
        ok=True, detail=f"the chain extends the anchored head at position {anchored.position} by {after} links"
    )
