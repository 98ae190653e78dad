"""The webhooks' signing secrets, beside the event store (never in the log, which is kept for ever and
read by every view and backup): the API writes one when a webhook is registered, the workers read it to
sign each delivery, and it is forgotten when the webhook is deleted.

Kept as they are, not hashed: a signature needs the secret itself (as the second-factor secrets do).
The format is the Standard Webhooks specification's: `whsec_` and the base64 of 32 random bytes.
"""

from __future__ import annotations

import base64
import secrets
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.side_tables import SideStore, instant_text, open_side_table

COLUMNS = "webhook_id TEXT PRIMARY KEY, secret TEXT NOT NULL, issued_at TEXT NOT NULL"
SECRET_BYTES = 32


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def open_webhook_secrets(settings: Settings) -> WebhookSecretStore:
    """The secrets that sign the partners' webhooks, beside the event store (never in the log)."""
    return WebhookSecretStore(open_side_table(settings, "webhook_secrets", COLUMNS))


class WebhookSecretStore(SideStore):
    def issue(self, webhook_id: UUID) -> str:
        """A new secret for the webhook (shown once), replacing any it had: a retried registration
        answers with a new secret, and the first one stops signing."""
        secret = new_secret()
        self._table.count(
            "INSERT INTO {} (webhook_id, secret, issued_at) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT (webhook_id) DO UPDATE SET secret = excluded.secret, issued_at = excluded.issued_at",
            (str(webhook_id), secret, instant_text(side_tables.wall_clock())),
        )
        return secret

    def secret_of(self, webhook_id: UUID) -> str | None:
        row = self._table.one("SELECT secret FROM {} WHERE webhook_id = {p}", (str(webhook_id),))
        return str(row[0]) if row else None

    def forget(self, webhook_id: UUID) -> None:
        self._table.count("DELETE FROM {} WHERE webhook_id = {p}", (str(webhook_id),))
