"""A partner's webhook: an endpoint that is told when a label changes, and which label changes it wants.

registered (enabled) → disabled after the policy's number of failed deliveries in a row (the secretariat
is told), → enabled again by an administrator; deleted at any time. The directory of webhooks (one
record, like the expert roster) is what a label's handler reads to find who wants to hear of a change.

The secret that signs the deliveries is no fact of the log: it is kept beside it (see
interfaces/web/webhook_secrets.py), and the events name the webhook only by its id and URL.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import event
from pydantic import AfterValidator, Field

from clusterlabel.domain.base import RecordedAggregate, StepNotAllowed, derived_id
from clusterlabel.domain.notices import SECRETARIAT, Notice
from clusterlabel.domain.text import Text

EventKind = Literal[
    "label.issued",
    "label.suspended",
    "label.restored",
    "label.withdrawn",
    "label.expired",
    "label.lapsed",
    "label.superseded",
]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
# The kind a partner is told of, for each label event (by class name) that changes a label's state.
KIND_OF_LABEL_EVENT: dict[str, str] = {
    "Issued": "label.issued",
    "Suspended": "label.suspended",
    "Restored": "label.restored",
    "LabelAppealUpheld": "label.restored",  # back in force: an appeal reversed its suspension or withdrawal
    "Withdrawn": "label.withdrawn",
    "Expired": "label.expired",
    "RenewalWindowClosed": "label.lapsed",
    "Superseded": "label.superseded",
}
MAX_URL = 2_000
LOOPBACK_NAMES = frozenset({"localhost"})


def endpoint_problem(url: str) -> str | None:
    """Why the URL cannot receive webhooks, or None. HTTPS only, except plain HTTP to this machine (local
    use and tests); no user or password in it, since the URL is recorded in the log."""
    if any(ord(character) < 0x21 or 0x7F <= ord(character) <= 0x9F for character in url):
        return "the URL must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError as error:
        return f"not a URL: {error}"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "the URL must be https://host/…"
    if parts.username is not None or parts.password is not None:
        return "the URL must not carry a user or password (the secret signs each delivery)"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "plain http:// is accepted only for loopback addresses (127.0.0.0/8, ::1, localhost); use https://"
    if is_private_address(parts.hostname):
        return f"{parts.hostname} is not a public address: deliveries go to the internet, or to this machine"
    return None


def is_private_address(host: str) -> bool:
    """An address (not a name) that is neither public nor this machine's: 10.x, 169.254.x, fd00::…"""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not (address.is_global or address.is_loopback)


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked_endpoint(url: str) -> str:
    problem = endpoint_problem(url)
    if problem is not None:
        raise ValueError(problem)
    return url


# One line of text (control characters refused and declared as the usual pattern), then the endpoint's rules.
# What the schema declares of an endpoint: https:// to a host name or address, or plain http:// to this
# machine; a port, a path. (What the check below refuses beyond it — a port out of range — answers 422.)
ENDPOINT_PATTERN = (
    r"^(https://[A-Za-z0-9.-]+|http://(localhost|127(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}|\[::1\]))"
    r"(:[1-9][0-9]{0,3})?(/[^\x00-\x20\x7f-\x9f]*)?$"
)
EndpointUrl = Annotated[
    Text,
    Field(min_length=1, max_length=MAX_URL, json_schema_extra={"pattern": ENDPOINT_PATTERN}),
    AfterValidator(_checked_endpoint),
]


class Webhook(RecordedAggregate):
    """One partner's endpoint and the kinds of label change it wants; its id derives from the key."""

    id_kind = "webhook"

    @event("Registered")
    def __init__(self, url: str, events: list[str], actor: str, command_key: str) -> None:
        self.url = url
        self.events = list(events)
        self.enabled = True
        self.deleted = False
        self.failures_in_a_row = 0
        self.disabled_because: str | None = None

    def wants(self, kind: str) -> bool:
        return self.enabled and not self.deleted and kind in self.events

    # ---- what became of its deliveries ------------------------------------------------------

    def delivery_failed(
        self, delivery_id: UUID, reason: str, limit: int, at: datetime, actor: str, command_key: str
    ) -> bool:
        """Count a failed delivery; at the policy's limit in a row the webhook is disabled (True then)."""
        if self.deleted:
            return False
        self._delivery_failed(delivery_id=delivery_id, reason=reason, at=at, actor=actor, command_key=command_key)
        if not self.enabled or self.failures_in_a_row < limit:
            return False
        why = f"{self.failures_in_a_row} deliveries failed in a row; the last: {reason}"
        self._disabled(reason=why, at=at, actor=actor, command_key=command_key)
        return True

    @event("DeliveryFailed")
    def _delivery_failed(self, delivery_id: UUID, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.failures_in_a_row += 1

    def delivery_succeeded(self, delivery_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        """A delivery went through: the failures in a row start again from none (recorded only then)."""
        if self.failures_in_a_row and not self.deleted:
            self._delivery_succeeded(delivery_id=delivery_id, at=at, actor=actor, command_key=command_key)

    @event("DeliverySucceeded")
    def _delivery_succeeded(self, delivery_id: UUID, at: datetime, actor: str, command_key: str) -> None:
        self.failures_in_a_row = 0

    @event("Disabled")
    def _disabled(self, reason: str, at: datetime, actor: str, command_key: str) -> None:
        self.enabled = False
        self.disabled_because = reason

    # ---- an administrator's steps -----------------------------------------------------------

    def enable(self, at: datetime, actor: str, command_key: str) -> None:
        """Deliver again after it was disabled; the count of failures starts afresh."""
        self._check_not_deleted("be enabled")
        if self.enabled:
            raise StepNotAllowed(f"webhook {self.id} is enabled already")
        self._enabled(at=at, actor=actor, command_key=command_key)

    @event("Enabled")
    def _enabled(self, at: datetime, actor: str, command_key: str) -> None:
        self.enabled = True
        self.failures_in_a_row = 0
        self.disabled_because = None

    def delete(self, at: datetime, actor: str, command_key: str) -> None:
        self._check_not_deleted("be deleted again")
        self._deleted(at=at, actor=actor, command_key=command_key)

    @event("Deleted")
    def _deleted(self, at: datetime, actor: str, command_key: str) -> None:
        self.deleted = True
        self.enabled = False

    def _check_not_deleted(self, what: str) -> None:
        if self.deleted:
            raise StepNotAllowed(f"webhook {self.id} was deleted and cannot {what}")


WEBHOOK_DIRECTORY_ID = derived_id("webhook-directory")


class WebhookDirectory(RecordedAggregate):
    """Every webhook not deleted, so that a label's handler finds those who want to hear of a change."""

    @classmethod
    def create_id(cls, command_key: str = "") -> UUID:
        """One directory, whichever registration opens it."""
        return WEBHOOK_DIRECTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.webhook_ids: list[UUID] = []

    def add(self, webhook_id: UUID, actor: str, command_key: str) -> None:
        if webhook_id not in self.webhook_ids:
            self._added(webhook_id=webhook_id, actor=actor, command_key=command_key)

    @event("WebhookAdded")
    def _added(self, webhook_id: UUID, actor: str, command_key: str) -> None:
        self.webhook_ids.append(webhook_id)

    def remove(self, webhook_id: UUID, actor: str, command_key: str) -> None:
        if webhook_id in self.webhook_ids:
            self._removed(webhook_id=webhook_id, actor=actor, command_key=command_key)

    @event("WebhookRemoved")
    def _removed(self, webhook_id: UUID, actor: str, command_key: str) -> None:
        self.webhook_ids.remove(webhook_id)


def webhook_disabled(webhook: Webhook) -> list[Notice]:
    """The secretariat learns that a partner's endpoint stopped receiving, and how to resume it."""
    subject = f"Webhook {webhook.id} was disabled"
    body = (
        f"The webhook {webhook.id} to {webhook.url} was disabled: {webhook.disabled_because}. "
        f"No more label changes are sent to it until an administrator enables it again "
        f"(POST /webhooks/{webhook.id}/enable)."
    )
    return [Notice(SECRETARIAT, "webhook_disabled", subject, body)]
