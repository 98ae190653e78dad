"""Per-client rate limits: on the public reads (registry, verification, badge and their pages), on
complaints lodged, and on failed sign-ins.

Anyone may call the public reads, so one client must not be able to take the whole thread pool; and one
address must not try passwords against many accounts (each account's own lockout stops guessing at one
account, not a spray of one common password over every address it knows). A client is the
address of the connection's peer: behind a load balancer configure it to pass the real address
(uvicorn's --proxy-headers) or limit there instead. Counts are kept in this process's memory, so
several API processes each allow the limit.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from clusterlabel.interfaces.settings import DEFAULT_PUBLIC_RATE_LIMIT, DEFAULT_SIGNIN_FAILURE_LIMIT
from clusterlabel.interfaces.web.errors import ApiError


class PublicRateLimit:
    def __init__(self, limit: str = DEFAULT_PUBLIC_RATE_LIMIT) -> None:
        self.item: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> None:
        """Count one request by `client`; ApiError 429 with Retry-After once it is over the limit."""
        if self._limiter.hit(self.item, "public", client):
            return
        reset_at, _ = self._limiter.get_window_stats(self.item, "public", client)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(
            429,
            f"too many requests from your address (at most {self.item}); try again in {retry_after} s",
            {"Retry-After": str(retry_after)},
        )


class SignInFailures:
    """Failed sign-ins per client address: over the limit, the address may not try again until the window
    moves on, whatever account it names. A successful sign-in counts for nothing."""

    def __init__(self, limit: str = DEFAULT_SIGNIN_FAILURE_LIMIT) -> None:
        self.item: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait_for(self, client: str) -> int | None:
        """None when `client` may try to sign in; else the seconds until it may."""
        if self._limiter.test(self.item, "signin", client):
            return None
        reset_at, _ = self._limiter.get_window_stats(self.item, "signin", client)
        return max(1, math.ceil(reset_at - time.time()))

    def failed(self, client: str) -> None:
        self._limiter.hit(self.item, "signin", client)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def public_read(request: Request) -> None:
    """FastAPI dependency: the public read counts against its client's limit."""
    request.app.state.services.public_limit.check(client_of(request))


def complaint_write(request: Request) -> None:
    """FastAPI dependency: a complaint lodged counts against its client's public limit and, tighter, its
    complaint limit (each one is a record the secretariat must answer)."""
    request.app.state.services.complaint_limit.check(client_of(request))
    public_read(request)


# As a route takes them (`_: PublicRead`): the request counts against its client's limits before it runs.
PublicRead = Annotated[None, Depends(public_read)]
PublicWrite = Annotated[None, Depends(complaint_write)]
