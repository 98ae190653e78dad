"""Refusals as HTTP answers: every error is {"detail": ...}, never a 500 for anything a client sent.

A domain error is mapped here, once, by its class (InvalidInput 422, StepNotAllowed and
ConcurrencyConflict 409, ImpartialityViolation 403, NotFound 404), whichever way it arrived: raised in
this process, or carried out of a workflow update (DomainError.from_details rebuilds it). 422 details
are lists of {loc, msg, type}, the shape FastAPI uses for its own validation errors, so that one schema
describes every 422; a problem's place in the command becomes its place in the body.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from clusterlabel.activities.documents.pdf import RendererBusy
from clusterlabel.domain.base import (
    ConcurrencyConflict,
    DomainError,
    ImpartialityViolation,
    InvalidInput,
    NotFound,
    StepNotAllowed,
)
from clusterlabel.interfaces.web.headers import security_headers
from clusterlabel.interfaces.web.http_middleware import HttpMiddleware

log = structlog.stdlib.get_logger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 422,
    StepNotAllowed: 409,
    ConcurrencyConflict: 409,
    ImpartialityViolation: 403,
    NotFound: 404,
}
MAX_BODY_BYTES = 256 * 1024
STORE_AWAY = "the event store did not answer; try again (with the same Idempotency-Key)"
RETRY_AFTER_SECONDS = "5"
NOT_TAKEN = "the workflow engine did not take the step; try again (with the same Idempotency-Key)"


class ApiError(Exception):
    """A refusal with its status; `detail` is a sentence, or a list of problems for a 422."""

    def __init__(self, status: int, detail: str | list[dict[str, Any]], headers: dict[str, str] | None = None) -> None:
        super().__init__(detail if isinstance(detail, str) else json.dumps(detail))
        self.status = status
        self.detail = detail
        self.headers = headers


def problems(
    messages: Sequence[str], loc: Sequence[str | int] = ("body",), kind: str = "invalid_input"
) -> list[dict[str, Any]]:
    return [{"loc": list(loc), "msg": message, "type": kind} for message in messages]


def invalid(message: str | Sequence[str], loc: Sequence[str | int] = ("body",)) -> ApiError:
    messages = [message] if isinstance(message, str) else list(message)
    return ApiError(422, problems(messages, loc))


def from_domain(error: DomainError, loc: Sequence[str | int] = ("body",)) -> ApiError:
    status = STATUS_BY_ERROR.get(type(error), 409)
    if status == 422:
        return ApiError(422, [{"loc": [*loc, *p.loc], "msg": p.msg, "type": p.type} for p in error.problems])
    return ApiError(status, error.message)


def refusal_of(error: WorkflowUpdateFailedError) -> DomainError | None:
    """The domain's refusal carried by a failed update, as the domain's own error; None for any other failure."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        return DomainError.from_details(cause.details[0])
    return None


def closed(error: BaseException) -> bool:
    """The workflow is not there, or has ended: it takes no more steps."""
    return isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND


def not_ready(error: BaseException) -> bool:
    """The workflow is running but takes no update for now: its workflow task failed or timed out several times
    in a row (a worker killed holding it, the server away), and the server refuses updates until one succeeds."""
    return isinstance(error, RPCError) and error.status == RPCStatusCode.FAILED_PRECONDITION


def from_temporal(error: BaseException, closed_detail: str) -> Exception:
    """A failed workflow update or call: the domain's refusal, a closed workflow (409), or the engine is away or
    failed the update itself (503: interfaces/web/steps.py sends such an update again first)."""
    if isinstance(error, WorkflowUpdateFailedError):
        refused = refusal_of(error)
        if refused is None:  # not the domain's refusal: the cause is for the log, not the caller
            cause = error.cause
            kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            log.warning("workflow update failed", error=str(cause), cause=kind)
            return ApiError(503, NOT_TAKEN, {"Retry-After": RETRY_AFTER_SECONDS})
        return refused
    if closed(error):
        return ApiError(409, closed_detail)
    if isinstance(error, (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError)):
        log.warning("workflow engine did not answer", error=str(error))
        return ApiError(503, "the workflow engine did not answer; try again (with the same Idempotency-Key)")
    raise error


def store_away(error: BaseException | None) -> bool:
    """The database is down or out of reach (refused, cut off, no pooled connection to give, the SQLite file
    locked), here or in what the error was raised from: the same request may be sent again."""
    for _ in range(5):
        if error is None:
            return False
        if isinstance(error, (OperationalError, InterfaceError, psycopg.OperationalError)) or (
            isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


def _clean_validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Without the echoed input: it may be large, and it may hold a token or personal data.
    cleaned = []
    for error in errors:
        loc = [part if isinstance(part, (str, int)) else str(part) for part in error.get("loc", ())]
        cleaned.append(
            {"loc": loc, "msg": str(error.get("msg", "invalid")), "type": str(error.get("type", "value_error"))}
        )
    return cleaned


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path. Starlette's own 405 names only the first
    route whose path matched (GET /accounts and POST /accounts are two routes)."""
    methods: set[str] = set()
    for route in every_route(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def every_route(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes, those of included routers among them (FastAPI keeps an included router whole)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from every_route(included.routes) if included is not None else (route,)


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status, headers=error.headers)

    @api.exception_handler(DomainError)
    async def _domain_error(request: Request, error: DomainError) -> JSONResponse:
        mapped = from_domain(error)
        return JSONResponse({"detail": mapped.detail}, status_code=mapped.status)

    @api.exception_handler(RendererBusy)
    async def _renderer_busy(request: Request, error: RendererBusy) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})

    @api.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _clean_validation_errors(error.errors())}, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:
            # FastAPI's answer to a body it cannot even decode (not UTF-8, not JSON): invalid input like any other.
            problem = problems([str(error.detail) + ": send a UTF-8 JSON object"], ("body",), "body_unreadable")
            return JSONResponse({"detail": problem}, status_code=422)
        detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
        headers = getattr(error, "headers", None)
        if error.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=headers)

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # Sent from outside every middleware (Starlette's ServerErrorMiddleware): add the headers here.
        headers = security_headers(request.url.path)
        if store_away(error):  # an outage, not a bug: the caller may send it again (a 5xx keeps the key's claim)
            log.warning("event store did not answer", path=request.url.path, error=f"{type(error).__name__}: {error}")
            return JSONResponse(
                {"detail": STORE_AWAY}, status_code=503, headers={**headers, "Retry-After": RETRY_AFTER_SECONDS}
            )
        log.exception("unexpected error", path=request.url.path)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500, headers=headers)


class BodySizeLimit(HttpMiddleware):
    """Refuse request bodies over `max_bytes` with 413, whether or not they declare their length; a POST to
    a path that `uploads` matches (file uploads) may be as large as its own limit instead."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        uploads: tuple[re.Pattern[str], Callable[[], int]] | None = None,
        what: str = "the request body",
    ) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes
        self.uploads = uploads
        self.what = what

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.uploads is not None and scope["method"] == "POST" and self.uploads[0].match(scope["path"]):
            await BodySizeLimit(self.app, self.uploads[1](), what="the upload")(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False
            if too_large:
                await self._refuse(send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised while the route reads its body: the exception handlers turn it into a 413.
                    raise StarletteHTTPException(413, self._detail())
            return message

        await self.app(scope, limited, send)

    def _detail(self) -> str:
        return f"{self.what} is larger than {self.max_bytes // 1024} KiB"

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": self._detail()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
