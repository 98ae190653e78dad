"""Partners' webhooks: which endpoints are accepted, which label changes are queued for which webhook
(once, in the change's own save), how failures in a row disable a webhook and tell the secretariat, and
that each delivery is signed so that the specification's reference verifier accepts it."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from clusterlabel.activities import webhook_delivery
from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import waiting_messages, waiting_webhook_deliveries
from clusterlabel.activities.webhook_delivery import (
    PostWebhook,
    WebhookActivities,
    WebhookOutcome,
    WebhookPost,
    pinned,
)
from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.commands import (
    CloseRenewalWindow,
    ExpireLabel,
    IssueLabel,
    RecordAgreement,
    RestoreLabel,
    Screen,
    StartRenewal,
    SuspendLabel,
    WithdrawLabel,
)
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.policy import default_policy
from clusterlabel.domain.webhook import Webhook
from clusterlabel.domain.webhook_commands import (
    DeleteWebhook,
    EnableWebhook,
    RecordWebhookDelivered,
    RecordWebhookFailure,
    RegisterWebhook,
)
from clusterlabel.domain.webhook_delivery import WebhookDelivery, message_id
from tests.builders import register, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, memory_app

ADMIN = "account:admin"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ALL_KINDS = ["label.issued", "label.suspended", "label.restored", "label.withdrawn"]


def webhook(app: CertificationApp, events: list[str], url: str = "https://partner.example.org/hook") -> UUID:
    return register(app, RegisterWebhook(url=url, events=events), actor=ADMIN)


def deliveries(app: CertificationApp) -> list[WebhookDelivery]:
    return [app.load(delivery_id, WebhookDelivery) for delivery_id in waiting_webhook_deliveries(app)]


def labelled(app: CertificationApp) -> UUID:
    return Lifecycle(app).labelled()[1]


@pytest.mark.parametrize(
    "url",
    [
        "https://partner.example.org/hooks",
        "http://127.0.0.1:8080/in",
        "http://127.9.9.9/",
        "http://[::1]:9/",
        "http://localhost/x",
    ],
)
def test_an_https_endpoint_or_plain_http_to_this_machine_is_accepted(url: str) -> None:
    assert RegisterWebhook(url=url, events=["label.issued"]).url == url


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://partner.example.org/hooks", "loopback"),
        ("http://10.0.0.8/hooks", "loopback"),
        ("ftp://partner.example.org/", "https://"),
        ("https://user:pw@partner.example.org/", "password"),
        ("https://partner.example.org/a b", "spaces"),
        ("not a url", "spaces"),
        ("https://10.0.0.8/hooks", "not a public address"),
        ("https://169.254.169.254/latest", "not a public address"),
        ("https://[fd00::1]/hooks", "not a public address"),
    ],
)
def test_another_endpoint_is_refused_saying_why(url: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        RegisterWebhook(url=url, events=["label.issued"])


def test_an_unknown_kind_of_change_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"label\.issued"):
        RegisterWebhook(url="https://partner.example.org/", events=["label.renamed"])


def test_issuing_a_label_queues_one_delivery_to_each_webhook_that_wants_it_in_the_same_save() -> None:
    app = memory_app()
    wanted, other = webhook(app, ["label.issued"]), webhook(app, ["label.withdrawn"])
    label_id = labelled(app)
    label = app.get_label(label_id)

    [delivery] = deliveries(app)

    assert (delivery.webhook_id, delivery.kind, delivery.label_id) == (wanted, "label.issued", label_id)
    assert delivery.payload()["data"] == {
        "label_id": str(label_id),
        "label_code": label.label_code,
        "cluster_id": str(label.cluster_id),
        "status": "active",
        "label_version": label.version,
    }
    assert other not in {d.webhook_id for d in deliveries(app)}


def test_a_retried_issue_queues_no_second_delivery() -> None:
    app = memory_app()
    webhook(app, ["label.issued"])
    life = Lifecycle(app)
    case_id = life.awarded()
    send(app, case_id, IssueLabel(), actor="system", command_key="issue-once")
    send(app, case_id, IssueLabel(), actor="system", command_key="issue-once")

    assert len(deliveries(app)) == 1


def test_suspension_restoration_and_withdrawal_each_queue_their_kind_with_the_status_after() -> None:
    app = memory_app()
    webhook(app, ALL_KINDS)
    label_id = labelled(app)
    send(app, label_id, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    send(app, label_id, RestoreLabel(), actor=SECRETARIAT)
    send(app, label_id, WithdrawLabel(reason="misuse"), actor=SECRETARIAT)

    told = [(d.kind, d.label_status) for d in deliveries(app)]

    assert told == [
        ("label.issued", "active"),
        ("label.suspended", "suspended"),
        ("label.restored", "active"),
        ("label.withdrawn", "withdrawn"),
    ]


def test_a_label_restored_past_its_validity_is_told_as_expired() -> None:
    """The restoration expires it (a suspension outlasts the validity): a partner listening for expiries
    hears of it, and nobody is told the label was restored to force."""
    clock = Clock()
    app = memory_app(clock=clock)
    webhook(app, ["label.expired", "label.restored"])
    label_id = labelled(app)
    clock.now = app.get_label(label_id).valid_until - timedelta(days=10)
    send(app, label_id, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    clock.now += timedelta(days=20)
    send(app, label_id, RestoreLabel(), actor=SECRETARIAT)

    assert [(d.kind, d.label_status) for d in deliveries(app)] == [("label.expired", "expired")]


def test_a_label_restored_past_its_renewal_window_is_told_as_expired_with_its_status_lapsed_then_lapsed() -> None:
    clock = Clock()
    app = memory_app(clock=clock)
    webhook(app, ["label.expired", "label.restored", "label.lapsed"])
    label_id = labelled(app)
    send(app, label_id, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    clock.now = app.get_label(label_id).renewable_until + timedelta(days=20)
    send(app, label_id, RestoreLabel(), actor=SECRETARIAT)
    send(app, label_id, CloseRenewalWindow(), actor="system")  # as its workflow does at once

    assert [(d.kind, d.label_status) for d in deliveries(app)] == [
        ("label.expired", "lapsed"),
        ("label.lapsed", "lapsed"),
    ]


def test_expiry_lapse_and_a_renewal_superseding_a_label_are_each_told_to_a_webhook_that_wants_them() -> None:
    clock = Clock()
    app = memory_app(clock=clock)
    webhook(app, ["label.expired", "label.lapsed", "label.superseded", "label.issued"])
    life = Lifecycle(app)
    life.expert()  # rotation: the renewal needs a different expert
    _, renewed = life.labelled()
    _, lapsing = Lifecycle(app, country="SE").labelled()
    for label_id in (renewed, lapsing):
        clock.now = app.get_label(label_id).valid_until
        send(app, label_id, ExpireLabel(), actor="system")
    renewal = send(app, renewed, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    assert renewal is not None
    send(app, renewal, Screen(accepted=True, reason="ok"), actor=SECRETARIAT)
    life.staff(renewal)
    send(app, renewal, RecordAgreement(agreed=True), actor=SECRETARIAT)
    life.assess(renewal)
    life.decide(renewal)
    new_label = send(app, renewal, IssueLabel(), actor="system").label_id
    clock.now = app.get_label(lapsing).renewable_until
    send(app, lapsing, CloseRenewalWindow(), actor="system")

    told = [(d.kind, d.label_id, d.label_status) for d in deliveries(app)]

    assert told[2:] == [
        ("label.expired", renewed, "expired"),
        ("label.expired", lapsing, "expired"),
        ("label.issued", new_label, "active"),
        ("label.superseded", renewed, "superseded"),
        ("label.lapsed", lapsing, "lapsed"),
    ]


def fail(app: CertificationApp, delivery: WebhookDelivery) -> None:
    send(app, delivery.id, RecordWebhookFailure(reason="HTTP 500: down", attempts=3), actor="system:webhooks")


def test_failed_deliveries_in_a_row_disable_the_webhook_at_the_limit_and_tell_the_secretariat() -> None:
    app = memory_app(policy=default_policy().with_overrides({"webhook_disable_after": 2}))
    hook = webhook(app, ALL_KINDS)
    label_id = labelled(app)
    send(app, label_id, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    issued, suspended = deliveries(app)

    fail(app, issued)
    assert app.load(hook, Webhook).enabled
    fail(app, suspended)

    stored = app.load(hook, Webhook)
    assert not stored.enabled and "2 deliveries failed in a row" in (stored.disabled_because or "")
    messages = [app.load(message_id, Notification) for message_id in waiting_messages(app)]
    [notice] = [message for message in messages if message.kind == "webhook_disabled"]
    assert notice.recipient == "secretariat" and str(hook) in notice.body


def test_a_delivery_that_goes_through_starts_the_count_of_failures_afresh() -> None:
    app = memory_app(policy=default_policy().with_overrides({"webhook_disable_after": 2}))
    hook = webhook(app, ALL_KINDS)
    label_id = labelled(app)
    send(app, label_id, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    send(app, label_id, RestoreLabel(), actor=SECRETARIAT)
    issued, suspended, restored = deliveries(app)

    fail(app, issued)
    send(app, suspended.id, RecordWebhookDelivered(status_code=200, attempts=1), actor="system:webhooks")
    fail(app, restored)

    assert app.load(hook, Webhook).enabled


def test_a_disabled_webhook_is_told_nothing_until_it_is_enabled_again() -> None:
    app = memory_app(policy=default_policy().with_overrides({"webhook_disable_after": 1}))
    hook = webhook(app, ALL_KINDS)
    label_id = labelled(app)
    fail(app, deliveries(app)[0])
    send(app, label_id, SuspendLabel(reason="complaint"), actor=SECRETARIAT)
    assert deliveries(app) == []

    send(app, hook, EnableWebhook(), actor=ADMIN)
    send(app, label_id, RestoreLabel(), actor=SECRETARIAT)

    assert [d.kind for d in deliveries(app)] == ["label.restored"]
    with pytest.raises(StepNotAllowed, match="enabled already"):
        send(app, hook, EnableWebhook(), actor=ADMIN)


def test_a_deleted_webhook_is_told_nothing_more() -> None:
    app = memory_app()
    hook = webhook(app, ALL_KINDS)
    send(app, hook, DeleteWebhook(), actor=ADMIN)

    labelled(app)

    assert deliveries(app) == []


def test_a_registration_sent_again_under_the_key_of_a_deleted_webhook_is_refused() -> None:
    """Its answer would carry a new secret for a webhook that is told nothing."""
    app = memory_app()
    envelope = {"actor": ADMIN, "command_key": "register-partner"}
    command = RegisterWebhook(url="https://partner.example.org/hook", events=ALL_KINDS)
    hook = register(app, command, **envelope)
    send(app, hook, DeleteWebhook(), actor=ADMIN)

    with pytest.raises(StepNotAllowed, match=f"webhook {hook} was deleted: register the endpoint again"):
        register(app, command, **envelope)


# ---- the post itself -----------------------------------------------------------------------------


class Secrets:
    def secret_of(self, webhook_id: UUID) -> str | None:
        return SECRET


class Endpoint:
    """Records what it was sent, and answers as told."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, url: str, body: str, headers: dict[str, str]) -> int:
        self.received.append((url, body, headers))
        return self.status


def test_a_delivery_is_signed_so_that_the_reference_verifier_accepts_it_and_keeps_its_id_across_tries() -> None:
    app = memory_app()
    webhook(app, ["label.issued"], url="https://partner.example.org/in")
    labelled(app)
    [delivery] = deliveries(app)
    endpoint = Endpoint()
    activities = WebhookActivities(app, WebhookPost(Secrets(), post=endpoint))

    first = activities.post_webhook(PostWebhook(delivery_id=delivery.id))
    activities.post_webhook(PostWebhook(delivery_id=delivery.id))

    assert first.status == "delivered"
    (url, body, headers), (_, _, again) = endpoint.received
    assert url == "https://partner.example.org/in"
    assert Verifier(SECRET).verify(body, headers) == json.loads(body)
    assert json.loads(body)["type"] == "label.issued"
    assert headers["webhook-id"] == again["webhook-id"] == message_id(delivery.id)
    with pytest.raises(WebhookVerificationError):
        Verifier("whsec_" + "A" * 32).verify(body, headers)


def test_the_timestamp_is_written_to_the_microsecond_even_on_a_whole_second() -> None:
    """Written as text, "09:00:00Z" sorts after "09:00:00.5Z": a receiver that orders by the text would
    misorder two changes in one second."""
    app = memory_app()
    webhook(app, ["label.issued"])
    labelled(app)
    [delivery] = deliveries(app)
    assert delivery.occurred_at.microsecond == 0  # the test clock stands on a whole second

    assert delivery.payload()["timestamp"] == delivery.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def test_a_recorded_delivery_is_not_posted_again() -> None:
    app = memory_app()
    webhook(app, ["label.issued"])
    labelled(app)
    [delivery] = deliveries(app)
    endpoint = Endpoint()
    activities = WebhookActivities(app, WebhookPost(Secrets(), post=endpoint))
    outcome = activities.post_webhook(PostWebhook(delivery_id=delivery.id))
    activities.record_webhook_delivery(outcome)
    activities.record_webhook_delivery(outcome)  # a retried record records nothing twice

    assert activities.post_webhook(PostWebhook(delivery_id=delivery.id)) == WebhookOutcome(
        delivery_id=delivery.id, status="skipped"
    )
    assert len(endpoint.received) == 1
    assert app.load(delivery.id, WebhookDelivery).status.value == "delivered"


def test_a_delivery_is_posted_to_the_address_its_endpoints_name_was_checked_at() -> None:
    """Resolving the name again to connect could meet another answer (DNS rebinding): the post goes to the
    address checked, naming the host in its Host header and as the TLS server name."""
    target, headers, extensions = pinned("https://partner.example.org:8443/hooks?x=1", "93.184.216.34")
    assert target == "https://93.184.216.34:8443/hooks?x=1"
    assert (headers, extensions) == ({"Host": "partner.example.org:8443"}, {"sni_hostname": "partner.example.org"})
    assert pinned("https://partner.example.org/in", "2606:2800:220:1::")[0] == "https://[2606:2800:220:1::]/in"


@pytest.mark.parametrize("unreachable", [httpx.ConnectError, httpx.ConnectTimeout])
def test_a_delivery_goes_on_to_the_next_address_when_one_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, unreachable: type[httpx.TransportError]
) -> None:
    """A partner's name with two addresses, one of them down: whether the connection is refused or never
    answered (a dropped SYN times out), the post is made to the other address, not failed."""
    tried: list[str] = []

    def post_to(address: str, url: str, content: bytes, headers: dict[str, str]) -> int:
        tried.append(address)
        if address == "93.184.216.34":
            raise unreachable("the first address does not answer")
        return 204

    monkeypatch.setattr(webhook_delivery, "checked_addresses", lambda url: ["93.184.216.34", "93.184.216.35"])
    monkeypatch.setattr(webhook_delivery, "_posted_to", post_to)
    posted_directly(monkeypatch)

    assert webhook_delivery.http_post("https://partner.example.org/hooks", "{}", {}) == 204
    assert tried == ["93.184.216.34", "93.184.216.35"]


def test_a_delivery_tries_three_addresses_at_most_so_that_a_try_ends_inside_its_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five silent addresses, 5 s each to give up on: tried all, the try would outlast the minute Temporal
    gives it, and be tried again while its thread went on posting."""
    tried: list[str] = []

    def post_to(address: str, url: str, content: bytes, headers: dict[str, str]) -> int:
        tried.append(address)
        raise httpx.ConnectTimeout("no answer")

    silent = [f"93.184.216.{n}" for n in range(1, 6)]
    monkeypatch.setattr(webhook_delivery, "checked_addresses", lambda url: silent)
    monkeypatch.setattr(webhook_delivery, "_posted_to", post_to)
    posted_directly(monkeypatch)

    with pytest.raises(httpx.ConnectTimeout):
        webhook_delivery.http_post("https://partner.example.org/hooks", "{}", {})
    assert tried == silent[:3]


def test_a_name_whose_first_addresses_are_ipv6_is_tried_on_ipv4_within_its_three(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a network without IPv6, a name resolving to three IPv6 addresses before its IPv4 one would never
    be reached: the families are taken in turn."""
    tried: list[str] = []

    def post_to(address: str, url: str, content: bytes, headers: dict[str, str]) -> int:
        tried.append(address)
        if ":" in address:
            raise httpx.ConnectError("network unreachable")
        return 204

    resolved = ["2606:2800:220:1::1", "2606:2800:220:1::2", "2606:2800:220:1::3", "93.184.216.34"]
    monkeypatch.setattr(webhook_delivery, "checked_addresses", lambda url: resolved)
    monkeypatch.setattr(webhook_delivery, "_posted_to", post_to)
    posted_directly(monkeypatch)

    assert webhook_delivery.http_post("https://partner.example.org/hooks", "{}", {}) == 204
    assert tried == ["2606:2800:220:1::1", "93.184.216.34"]


def posted_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy in the environment: the post goes to the addresses checked (a proxy resolves names itself)."""
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
