"""What the pages' sign-in keeps beside the event store: password hashes, session hashes, one-time
link hashes and the staff's second-factor secrets; never any of it in the log."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.password_links import PasswordLinks, open_password_links
from clusterlabel.interfaces.web.passwords import Passwords, open_passwords
from clusterlabel.interfaces.web.second_factors import SecondFactors, open_second_factors
from clusterlabel.interfaces.web.sessions import Sessions, open_sessions
from clusterlabel.interfaces.web.side_tables import AccountSideStore


@dataclass(frozen=True)
class Credentials:
    passwords: Passwords
    sessions: Sessions
    links: PasswordLinks
    second_factors: SecondFactors
    # Staff signing in with a password must also give a one-time code (Settings.totp_required_for_staff).
    totp_for_staff: bool = False

    def close(self) -> None:
        for store in self._stores():
            store.close()

    def forget_account(self, account_id: UUID) -> None:
        """Delete the account's password hash, sessions, one-time links and second factor (its erasure)."""
        for store in self._stores():
            store.forget_account(account_id)

    def _stores(self) -> tuple[AccountSideStore, ...]:
        return (self.passwords, self.sessions, self.links, self.second_factors)


def open_credentials(settings: Settings) -> Credentials:
    """The pages' sign-in: password, session and one-time link hashes and second-factor secrets, beside
    the event store (never in the log)."""
    return Credentials(
        open_passwords(settings),
        open_sessions(settings),
        open_password_links(settings),
        open_second_factors(settings),
        totp_for_staff=settings.totp_required_for_staff(),
    )
