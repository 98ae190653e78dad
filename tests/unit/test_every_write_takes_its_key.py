"""Every write route takes the Idempotency-Key through its dependency: that dependency is where a key
reused for another request is refused (interfaces/web/idempotency.py only marks it), so a write route
without it would carry out a request its key does not stand for."""

from __future__ import annotations

from types import SimpleNamespace

from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.web.common import idempotency_key
from clusterlabel.interfaces.web.errors import every_route

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_write_route_of_the_api_refuses_a_key_that_stands_for_another_request() -> None:
    app = create_app(
        SimpleNamespace(idempotency_keys=None, public_url="http://localhost", models=None, metrics_token=None),
        pages=False,
    )  # type: ignore[arg-type]
    writes = [route for route in every_route(app.router.routes) if (getattr(route, "methods", None) or set()) & WRITES]
    without_key = [
        route.path  # type: ignore[attr-defined]
        for route in writes
        if idempotency_key not in {dependency.call for dependency in route.dependant.dependencies}  # type: ignore[attr-defined]
    ]
    assert len(writes) > 40 and without_key == []
