"""The activities of a webhook's delivery: post one label change to the partner's endpoint, signed as the
Standard Webhooks specification says, and record what became of it.

`post_webhook` records nothing (like `send_message`): Temporal retries it with the policy's backoff, and
`record_webhook_delivery` records the outcome as a separate step, so a store that is briefly away never
makes a change go out twice. Every try carries the same `webhook-id` (from the delivery's id, which
derives from the label's event and the webhook) and a fresh `webhook-timestamp`, which receivers
check against their clock.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from itertools import zip_longest
from typing import Literal, Protocol
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import structlog
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.exceptions import ApplicationError

from clusterlabel.activities.certification import BoundActivities, unit_of_work
from clusterlabel.activities.handlers import handle
from clusterlabel.domain.command_base import Command, Envelope, command_key
from clusterlabel.domain.webhook import Webhook, is_loopback
from clusterlabel.domain.webhook_commands import DropWebhookDelivery, RecordWebhookDelivered, RecordWebhookFailure
from clusterlabel.domain.webhook_delivery import WebhookDelivery, message_id

WEBHOOK_ACTOR = "system:webhooks"
FAILURE_TYPE = "WebhookDeliveryFailed"  # the ApplicationError type of a failed try (Temporal retries it)
SECRET_PREFIX = "whsec_"
POST_TIMEOUT_SECONDS = 15.0
# An address that never answers is given up on in this, and at most this many addresses are tried in one
# try: a try fits well inside the minute Temporal gives it (workflows/webhook_delivery.py), since a try timed
# out is tried again while its thread may still post.
CONNECT_TIMEOUT_SECONDS = 5.0
MOST_ADDRESSES = 3
log = structlog.stdlib.get_logger(__name__)


class WebhookSecrets(Protocol):
    """Where the webhooks' signing secrets are kept (beside the event store, never in it)."""

    def secret_of(self, webhook_id: UUID) -> str | None: ...


class PostWebhook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    delivery_id: UUID


class WebhookOutcome(BaseModel):
    """What one delivery came to; `skipped` when it was no longer queued (recorded before this run)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    delivery_id: UUID
    status: Literal["delivered", "failed", "dropped", "skipped"]
    attempts: int = 0
    status_code: int | None = None
    reason: str = ""


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header: HMAC-SHA256 over `id.timestamp.body` under the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def http_post(url: str, body: str, headers: dict[str, str]) -> int:
    """POST and answer the status; redirects are not followed (the endpoint registered is the one told).
    Only the status is kept of a refusal, never the answer's text: a delivery must not become a way to
    read what some other server says. The post goes to an address checked, each in turn until one takes
    the connection, not to the name resolved again (which a name with a short time to live could point
    elsewhere meanwhile), unless the process posts through a proxy, which resolves the name itself."""
    addresses, content = _alternating(checked_addresses(url))[:MOST_ADDRESSES], body.encode()
    if not addresses or _through_a_proxy(url):
        return _posted(url, content, headers, {})
    for address in addresses[:-1]:
        with contextlib.suppress(httpx.ConnectError, httpx.ConnectTimeout):  # refused or unanswered: the next
            return _posted_to(address, url, content, headers)
    return _posted_to(addresses[-1], url, content, headers)


def _alternating(addresses: list[str]) -> list[str]:
    """IPv6 and IPv4 addresses taken in turn, each family in the order resolved: a network without IPv6 (its
    addresses all silent) still reaches an IPv4 one among the few a try has time for."""
    families = [[a for a in addresses if ":" in a], [a for a in addresses if ":" not in a]]
    return [address for pair in zip_longest(*families) for address in pair if address is not None]


def _posted_to(address: str, url: str, content: bytes, headers: dict[str, str]) -> int:
    target, host, extensions = pinned(url, address)
    return _posted(target, content, {**headers, **host}, extensions)


def _posted(target: str, content: bytes, headers: dict[str, str], extensions: dict[str, str]) -> int:
    timeout = httpx.Timeout(POST_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        answer = client.post(target, content=content, headers=headers, extensions=extensions)
    if not answer.is_success:
        raise DeliveryRefused(f"HTTP {answer.status_code}")
    return answer.status_code


def _through_a_proxy(url: str) -> bool:
    """Whether httpx would post `url` through a proxy the environment names (HTTPS_PROXY, ALL_PROXY…)."""
    proxies, parts = urllib.request.getproxies(), urlsplit(url)
    named = proxies.get(parts.scheme) or proxies.get("all")
    return bool(named) and not urllib.request.proxy_bypass(parts.hostname or "")


def checked_addresses(url: str) -> list[str]:
    """The endpoint's addresses, all of them public: refuse an endpoint whose name leads into a private
    network (10.x, 169.254.x, a name that resolves to this machine…), since a partner's endpoint is on the
    internet; none for one registered as a loopback address (domain/webhook.py allows that for local use
    and tests), posted to as it is."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_loopback(host):
        return []
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise DeliveryRefused(f"the endpoint's name does not resolve: {error.strerror or error}") from None
    addresses = list(dict.fromkeys(str(address) for *_, (address, *_) in found))
    private = [address for address in addresses if not ipaddress.ip_address(address).is_global]
    if private or not addresses:
        found_private = private[0] if private else "none at all"
        raise DeliveryRefused(f"the endpoint {host} resolves to an address that is not public ({found_private})")
    return addresses


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with `address` in place of its host, the Host header naming the host, and the TLS server
    name (so that the certificate is checked against the name, as for the URL itself)."""
    parts = urlsplit(url)
    shown = f"[{address}]" if ":" in address else address
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}, {"sni_hostname": parts.hostname or ""}


class DeliveryRefused(Exception):
    """The endpoint answered, but not with 2xx."""


@dataclass(frozen=True)
class WebhookPost:
    """What a webhook's delivery needs beyond the event store: the secrets and the way out."""

    secrets: WebhookSecrets
    post: Callable[[str, str, dict[str, str]], int] = http_post
    clock: Callable[[], float] = time.time


@dataclass(eq=False)
class WebhookActivities(BoundActivities):
    way_out: WebhookPost

    @activity.defn(no_thread_cancel_exception=True)
    def post_webhook(self, input: PostWebhook) -> WebhookOutcome:
        """Post the change unless it is no longer queued or its webhook stopped listening; a failed try
        raises, naming its attempt."""
        with unit_of_work(webhook_delivery_id=input.delivery_id):
            delivery = self.app.load(input.delivery_id, WebhookDelivery)
            if not delivery.waiting:
                return WebhookOutcome(delivery_id=delivery.id, status="skipped")
            webhook = self.app.load(delivery.webhook_id, Webhook)
            if not webhook.wants(delivery.kind):
                why = "the webhook was deleted" if webhook.deleted else "the webhook is disabled"
                return WebhookOutcome(delivery_id=delivery.id, status="dropped", reason=why)
            attempt = activity.info().attempt if activity.in_activity() else 1
            try:
                status_code = self._post(delivery, webhook)
            except (DeliveryRefused, httpx.HTTPError, NoSecret) as error:
                raise ApplicationError(str(error) or type(error).__name__, attempt, type=FAILURE_TYPE) from error
            log.info("webhook delivered", webhook_id=str(webhook.id), status_code=status_code, attempt=attempt)
            return WebhookOutcome(
                delivery_id=delivery.id, status="delivered", attempts=attempt, status_code=status_code
            )

    def _post(self, delivery: WebhookDelivery, webhook: Webhook) -> int:
        secret = self.way_out.secrets.secret_of(webhook.id)
        if secret is None:
            raise NoSecret(f"no secret is kept for webhook {webhook.id}")
        body = json.dumps(delivery.payload(), separators=(",", ":"))
        msg_id, timestamp = message_id(delivery.id), int(self.way_out.clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }
        return self.way_out.post(webhook.url, body, headers)

    @activity.defn(no_thread_cancel_exception=True)
    def record_webhook_delivery(self, outcome: WebhookOutcome) -> WebhookOutcome:
        """Record the delivery delivered, failed or dropped (once: a retry records nothing twice)."""
        with unit_of_work(webhook_delivery_id=outcome.delivery_id):
            if outcome.status == "skipped":
                return outcome
            envelope = Envelope(
                actor=WEBHOOK_ACTOR, key=command_key("webhook_delivery", outcome.delivery_id, outcome.status)
            )
            delivery = self.app.load(outcome.delivery_id, WebhookDelivery)
            if not (delivery.waiting or delivery.has_applied(envelope.key)):
                return WebhookOutcome(delivery_id=delivery.id, status="skipped")
            handle(self.app, delivery.id, _command(outcome), envelope)
            return outcome


class NoSecret(Exception):
    """The webhook's secret is not (or no longer) kept: nothing can be signed."""


def _command(outcome: WebhookOutcome) -> Command:
    if outcome.status == "delivered":
        return RecordWebhookDelivered(status_code=outcome.status_code or 200, attempts=max(outcome.attempts, 1))
    if outcome.status == "dropped":
        return DropWebhookDelivery(reason=outcome.reason or "the webhook stopped listening")
    log.warning("webhook not delivered", attempts=outcome.attempts, reason=outcome.reason)
    return RecordWebhookFailure(reason=outcome.reason or "no reason given", attempts=max(outcome.attempts, 1))
