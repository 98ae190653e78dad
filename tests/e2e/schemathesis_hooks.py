"""Schemathesis hooks for tests/e2e/test_schema.py (loaded through SCHEMATHESIS_HOOKS).

A client sends a new Idempotency-Key with each new request: a key stands for one request, and the same
key with another request is refused with 422 (interfaces/web/idempotency.py, tested on its own in
tests/e2e/test_idempotency.py). Schemathesis draws keys like any string, so two different requests
would share "0"; this gives each request it sends a key of its own, as a well-behaved client does.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

HEADER = "Idempotency-Key"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # Only requests meant to be valid: editing a negative case (one sent without its Authorization on
    # purpose) makes schemathesis check it again as a valid one and send the header after all.
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if case.headers and HEADER in case.headers and not negative:
        case.headers[HEADER] = uuid.uuid4().hex
