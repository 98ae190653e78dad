"""The FastAPI application: JSON API, health, pages; assembled around one Services."""

from __future__ import annotations

import asyncio
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from clusterlabel.interfaces.web import (
    accounts,
    cases,
    certificates,
    complaints,
    evidence,
    experts,
    exports,
    inbox,
    invoices,
    labels,
    notifications,
    openapi_links,
    overviews,
    registrations,
    registry,
    report,
    webhooks,
)
from clusterlabel.interfaces.web.errors import MAX_BODY_BYTES, BodySizeLimit, install_error_handlers
from clusterlabel.interfaces.web.headers import SecurityHeaders
from clusterlabel.interfaces.web.idempotency import OneRequestPerKey
from clusterlabel.interfaces.web.metrics import METRICS_PATH, CountRequests, api_registry, metrics_endpoint
from clusterlabel.interfaces.web.schemas import ErrorMessage, Health
from clusterlabel.interfaces.web.services import Services, services

DESCRIPTION = """The secretariat's API for the ECEI cluster management labels.

Authenticate with `Authorization: Bearer <token>`: the secretariat's token, or the token an expert
received at registration. The registry and label verification are public. Every error is
`{"detail": ...}`; a 422 lists each problem with the field it concerns. Labels in URLs: their UUID or
their code (ECEI-B-XXXX-XXXX-XXXX).

Repeat a write with the same `Idempotency-Key` header and it is carried out once, answered as the
first time. A key stands for one request: its caller (token), method, path and body, compared as parsed
JSON, so whitespace and key order do not count. Sent with a different request, the key is refused with
422 (`loc` `["header", "Idempotency-Key"]`) and nothing is recorded; use a new key for a new request.
A key is taken once a request under it succeeds (or while it runs, or when its outcome is unknown);
a request refused with a 4xx leaves the key free. Keys are kept for good, shared by every API process.

The public reads (the registry, verification and the badge) answer at once from the read model as it
stands, even while it catches up with the event log: their `X-View-Age` header says how many seconds
the answer may be behind (0 when the view had read every event). They are limited per client address
(`CLUSTERLABEL_PUBLIC_RATE_LIMIT`, 120 a minute by default), and complaints lodged, tighter
(`CLUSTERLABEL_COMPLAINT_RATE_LIMIT`, 30 an hour); over it the answer is 429 with a `Retry-After`
header in seconds.
"""
log = structlog.stdlib.get_logger(__name__)


def create_app(svc: Services, *, max_body_bytes: int = MAX_BODY_BYTES, pages: bool = True) -> FastAPI:
    # FastAPI's own OpenTelemetry spans are the request's: a server span named by route template (following
    # a caller's `traceparent`), and spans for its dependencies and endpoint; the route's Temporal calls
    # carry the trace on (interfaces/temporal_client.py). No-ops until a tracer provider is configured.
    api = FastAPI(title="clusterlabel", version="0.1.0", description=DESCRIPTION, telemetry={"tracing": True})
    api.state.services = svc
    install_error_handlers(api)
    # Inside the size limit: a keyed write's body is read whole only once it is known to fit.
    api.add_middleware(OneRequestPerKey, keys=svc.idempotency_keys)
    if pages:
        from clusterlabel.interfaces.web.form_guard import PageFormGuard

        # Inside the size limit too: it reads a form's body to find its CSRF token.
        api.add_middleware(PageFormGuard, public_url=svc.public_url)
    # Evidence uploads are the one body as large as a file: limited to the largest file and its framing.
    uploads = (evidence.UPLOAD_PATH, lambda: svc.evidence_max_bytes + evidence.MULTIPART_FRAMING_BYTES)
    api.add_middleware(BodySizeLimit, max_bytes=max_body_bytes, uploads=uploads)
    api.add_middleware(SecurityHeaders)  # a 413 carries the headers too
    metrics_registry, http_metrics = api_registry(svc.models)
    api.add_middleware(CountRequests, metrics=http_metrics)  # added last, so outermost: every answer counts
    api.add_route(
        METRICS_PATH, metrics_endpoint(metrics_registry, svc.metrics_token), methods=["GET"], include_in_schema=False
    )
    # In this order: the OpenAPI document lists the paths as they were included.
    for router in (
        registrations.router,
        experts.router,
        accounts.router,
        cases.router,
        report.router,
        evidence.router,
        labels.router,
        registry.public,
        overviews.router,
        certificates.public,
        exports.public,
        exports.router,
        notifications.router,
        webhooks.router,
        inbox.router,
        complaints.router,
        complaints.public,
        invoices.router,
    ):
        api.include_router(router)
    openapi_links.install(api)
    api.add_api_route(
        "/health",
        health,
        methods=["GET"],
        response_model=Health,
        responses={503: {"model": ErrorMessage, "description": "not ready: says what is not"}},
        tags=["public"],
        summary="200 when Temporal, the worker and the projections are ready; else 503. Lists parked views "
        "and counts the messages that could not be delivered",
    )
    if pages:
        from clusterlabel.interfaces.web import (
            account_pages,
            case_pages,
            complaint_pages,
            evidence_pages,
            expert_pages,
            forms,
            inbox_pages,
            label_pages,
            office_forms,
            office_lists,
            office_pages,
            outbox_pages,
            portal,
            public_pages,
            report_pages,
            signin,
            signin_code,
            statistics_pages,
        )
        from clusterlabel.interfaces.web import pages as page_routes

        # The page modules build on pages.py (its rendering and sign-in), so they are installed here, after it.
        for module in (
            page_routes,
            case_pages,
            expert_pages,
            signin,
            signin_code,
            evidence_pages,  # before forms, whose catch-all would take its post
            forms,
            office_pages,
            office_lists,
            complaint_pages,
            label_pages,
            public_pages,
            account_pages,
            portal,
            office_forms,
            inbox_pages,
            outbox_pages,
            report_pages,
            statistics_pages,
        ):
            module.install(api)
    return api


async def health(svc: Annotated[Services, Depends(services)]) -> JSONResponse:
    """Public, so it names what is not ready and no more: addresses and error texts go to the log.

    A parked view is named, and no more (its event and error are on the secretariat's dashboard). It
    does not make the service unready: every other view is current, and a restart would not mend it."""
    checks = await svc.readiness()
    parked = await asyncio.to_thread(_parked_views, svc)
    failed = await asyncio.to_thread(_failed_deliveries, svc)
    not_ready = sorted(name for name, state in checks.items() if state != "ok")
    public = {name: "ok" if state == "ok" else "not ready" for name, state in checks.items()}
    if not_ready:
        log.info("health: not ready", checks=checks)
        detail = "not ready: " + ", ".join(not_ready) + " (the server's log says why)"
        body = {"detail": detail, "status": "starting", "checks": public, "parked_views": parked}
        return JSONResponse({**body, "failed_deliveries": failed}, status_code=503)
    return JSONResponse({"status": "ok", "checks": public, "parked_views": parked, "failed_deliveries": failed})


def _failed_deliveries(svc: Services) -> int:
    try:
        return svc.models.failed_messages()
    except Exception:  # as for the parked views: health still answers
        log.warning("health: cannot count the failed deliveries", exc_info=True)
        return 0


def _parked_views(svc: Services) -> list[str]:
    try:
        return [parked.view for parked in svc.models.parked()]
    except Exception:  # the views' store is away: the projections check says so; health still answers
        log.warning("health: cannot read the parked views", exc_info=True)
        return []
