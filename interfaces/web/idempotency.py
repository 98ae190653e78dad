"""One Idempotency-Key, one request: a write repeated under its key is carried out once (the domain's
command keys see to that); a different request under a key already used is refused with 422.

The middleware remembers, with each key, a fingerprint of the request that first used it: the caller
(a hash of the Authorization header, never the credential), the method, the path and query, and the
body in a canonical form (JSON re-serialised with sorted keys, form posts by their fields in order of
name), so that whitespace and key order do not make a retry look like another request.

Claim, run, then settle. A request first claims its key for its fingerprint; a key that stands for
another fingerprint is marked, and the route answers 422 once it has checked the caller (401 and 403
come first), before any command runs. A 2xx answer keeps the key for that request
for good; a 4xx answer is a refusal that recorded nothing and releases the claim, so a refused request
does not burn its key; a 5xx or no answer at all leaves the claim in place, since the write may yet
have happened (a workflow update outlives a timeout): the same request may be retried, another may not.

Two different requests racing with one key: the store's single-statement claim lets exactly one hold
the key; the other answers 422 even though the first has not finished. Had the first been refused,
the key is free again and the second may be sent again. The same request racing with itself passes
twice and is carried out once by the domain, as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from urllib.parse import parse_qsl

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clusterlabel.interfaces.web.idempotency_keys import IdempotencyKeys

log = structlog.stdlib.get_logger(__name__)

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 100
KEY_PATTERN = r"^[A-Za-z0-9._:\-]+$"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REUSED = "this Idempotency-Key is taken by a different request; send a new key with a new request"
REUSED_MARK = "idempotency_key_reused"  # set in the request's state when its key stands for another request
_KEY = re.compile(KEY_PATTERN)


def key_of(scope: Scope) -> str | None:
    """The request's Idempotency-Key, if it is a write with a well-formed one (the route refuses a malformed one)."""
    if scope["type"] != "http" or scope["method"] not in WRITES:
        return None
    raw = _header(scope, b"idempotency-key")
    key = raw.decode("latin-1") if raw is not None else None
    return key if key and len(key) <= KEY_MAX_LENGTH and _KEY.match(key) else None


def fingerprint(scope: Scope, body: bytes) -> str:
    """A SHA-256 naming the request: the same for a retry, different for anything another request would change."""
    content_type = (_header(scope, b"content-type") or b"").decode("latin-1")
    request = {
        "caller": hashlib.sha256(_header(scope, b"authorization") or b"").hexdigest(),
        "method": scope["method"],
        "path": scope["path"],
        "query": sorted(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)),
        "body": canonical_body(content_type, body),
    }
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def canonical_body(content_type: str, body: bytes) -> str:
    """The body as its route reads it: parsed JSON or form fields, re-serialised; any other body as its hash."""
    kind = content_type.partition(";")[0].strip().lower()
    try:
        if kind == "application/json" or kind.endswith("+json"):
            return "json:" + json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        if kind == "application/x-www-form-urlencoded":
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            return "form:" + json.dumps(sorted(fields, key=lambda field: field[0]))  # a repeated field keeps its order
        if kind == "multipart/form-data":
            return "multipart:" + hashlib.sha256(_without_boundary(content_type, body)).hexdigest()
    except (ValueError, RecursionError):  # unreadable: the route refuses it, and nothing is kept
        pass
    return "bytes:" + hashlib.sha256(body).hexdigest()


def _without_boundary(content_type: str, body: bytes) -> bytes:
    """A multipart body without its boundary, which a client draws afresh for each try (an upload retried
    with its key is the same request)."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        boundary = value.strip('"')
        if name.lower() == "boundary" and boundary:
            return body.replace(boundary.encode("latin-1"), b"")
    raise ValueError("a multipart body without its boundary")


class OneRequestPerKey:
    """ASGI middleware: a write whose Idempotency-Key stands for another request answers 422 and runs nothing.

    Only writes carrying a key are held back until their body has arrived (at most the body size
    limit, which BodySizeLimit, outside this, enforces); every other request, and every answer, streams
    through untouched.
    """

    def __init__(self, app: ASGIApp, keys: IdempotencyKeys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = key_of(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        arrived, body, failure = await _read_body(receive)
        replay = _replaying(arrived, failure, receive)
        if body is None:  # too large, or the client left: the route answers as it would have
            await self.app(scope, replay, send)
            return
        request = fingerprint(scope, body)
        if not await run_in_threadpool(self.keys.claim, key, request):
            # The route refuses it (common.idempotency_key), after the caller's credentials and the
            # route itself were checked: a stranger learns nothing of which keys were used, and a
            # route that does not exist answers 404 or 405 as it would. The key stays its owner's.
            log.info("idempotency key reused for a different request", path=scope["path"])
            scope.setdefault("state", {})[REUSED_MARK] = True
            await self.app(scope, replay, send)
            return

        async def settled(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Before the answer leaves, so that a client retrying after it finds the key settled.
                await self._settle(key, request, message["status"])
            await send(message)

        await self.app(scope, replay, settled)

    async def _settle(self, key: str, request: str, status: int) -> None:
        try:
            if 200 <= status < 300:
                await run_in_threadpool(self.keys.succeeded, key, request)
            elif 400 <= status < 500:
                await run_in_threadpool(self.keys.release, key, request)
        except Exception:  # the write's answer still goes out; the claim stays, which refuses only other requests
            log.warning("idempotency key not settled", status=status, exc_info=True)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None, Exception | None]:
    """The messages that carried the body, and the body (None when it did not arrive whole: see the failure)."""
    arrived: list[Message] = []
    while True:
        try:
            message = await receive()
        except StarletteHTTPException as error:  # BodySizeLimit: over the limit
            return arrived, None, error
        arrived.append(message)
        if message["type"] != "http.request":  # the client disconnected
            return arrived, None, None
        if not message.get("more_body", False):
            return arrived, b"".join(part.get("body", b"") for part in arrived), None


def _replaying(arrived: list[Message], failure: Exception | None, receive: Receive) -> Receive:
    """A receive that hands the route what was read, then the failure that stopped the reading, then the client."""
    queue = deque(arrived)

    async def replay() -> Message:
        if queue:
            return queue.popleft()
        if failure is not None:
            raise failure
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> bytes | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    return next((value for header, value in headers if header.lower() == name), None)
