"""What changes an account, kept together: its events (through `handle`), its person (people.py) and its
personal API tokens (account_tokens.py).

The HTTP routes (accounts.py, registrations.py) and the `clusterlabel accounts` command
(interfaces/accounts_cli.py) both open, change, deactivate and erase accounts here, so that a step taken
by a script and one taken by the command line are one code path: the address checked before anything
is recorded, the tokens ended with the account, the person erased with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.registrations import new_id
from clusterlabel.domain.account import STAFF_ROLES, Account
from clusterlabel.domain.base import StepNotAllowed, derived_id
from clusterlabel.domain.command_base import AccountCommand, Envelope
from clusterlabel.domain.record_commands import DeactivateAccount, EraseAccount, GrantRole, OpenAccount
from clusterlabel.interfaces.web.account_tokens import AccountTokens
from clusterlabel.interfaces.web.credentials import Credentials
from clusterlabel.interfaces.web.people import People
from clusterlabel.interfaces.web.tokens import TokenStore

FIRST_TOKEN = "issued with the account"


@dataclass(frozen=True)
class Opened:
    account_id: UUID
    token: str  # the account's first personal API token, shown once


@dataclass(frozen=True)
class AccountBook:
    app: CertificationApp
    people: People
    tokens: AccountTokens
    # The pages' sign-in, where this process keeps it: an erasure deletes the account's rows there too.
    credentials: Credentials | None = None
    # Experts' tokens from before accounts: the one of an expert given an account is retired.
    legacy_tokens: TokenStore | None = None

    def open(self, name: str, email: str, command: OpenAccount, envelope: Envelope) -> Opened:
        """Open the account (a retry under the same key finds it), record its person, and issue its first
        token. A taken address raises EmailTaken before anything is recorded; losing a race for it
        raises it after, leaving the account unnamed and without a token. A retry whose first attempt
        issued the token raises StepNotAllowed and changes nothing (_first_token)."""
        account_id = new_id(command, envelope)
        self.people.check_email_free(email, account_id)
        account = handle(self.app, account_id, command, envelope)
        assert isinstance(account, Account)
        self.people.add(account_id, name, email)
        # The expert the account was recorded for: a retry's body under the same key may name another.
        if account.expert_id is not None and self.legacy_tokens is not None:
            self.legacy_tokens.retire_expert_token(account.expert_id)
        return Opened(account_id, self._first_token(account))

    def _first_token(self, account: Account) -> str:
        """The account's first token, issued once: a retried opening (its Idempotency-Key again, a form sent
        twice) gets it only when its first attempt stopped before issuing it.

        Once issued, the account's tokens are its owner's alone, whether the first one was handed over and
        not yet used, rotated, revoked or lost with its answer: a retry issues no token and revokes none, and
        is refused (StepNotAllowed, 409). It cannot be answered as the first time: only the token's hash is
        kept. A caller whose first answer was lost revokes that token (DELETE /accounts/{id}/tokens/{id}).
        The token's id is derived from the account, so that of two retries racing only one is given it; a
        deactivated or erased account (its tokens deleted) gets none."""
        account_id: UUID = account.id
        if not account.active:
            raise StepNotAllowed(f"account {account_id} is deactivated: it gets no token")
        first_id = derived_id("account-token", account_id, "first")
        # An account opened before the id was derived has its first token under another id: any token counts.
        token = None if self.tokens.tokens_of(account_id) else self.tokens.issue_once(account_id, FIRST_TOKEN, first_id)
        if token is None:
            raise StepNotAllowed(
                f"account {account_id} is open and its first token was issued in the first answer to this request: "
                "the account's tokens are its owner's alone, so none is issued again and none revoked (if that "
                f"answer was lost, revoke its token: see GET /accounts/{account_id}/tokens)"
            )
        return token

    def shown_as(self, account_id: UUID) -> tuple[str, str | None]:
        """The name and address shown for an account: people.ERASED and None once its person is erased,
        the account itself when it has no person (an opening that lost the race for its address)."""
        person = self.people.get(account_id)
        return (person.name, person.email) if person else (f"account {account_id}", None)

    def load(self, account_id: UUID) -> Account:
        """The account (NotFound for an unknown id)."""
        return self.app.load(account_id, Account)

    def change(self, account_id: UUID, command: AccountCommand, envelope: Envelope) -> Account:
        """Grant, revoke or deactivate (NotFound for an unknown id); a deactivated account's tokens stop
        working at once. A first staff role ends the account's sessions of the pages: one begun without the
        staff's second factor must not carry the role (the person signs in again, and gives it)."""
        first_staff_role = (
            isinstance(command, GrantRole)
            and command.role in STAFF_ROLES
            and not self.app.load(account_id, Account).roles & STAFF_ROLES
        )
        account = handle(self.app, account_id, command, envelope)
        assert isinstance(account, Account)
        if isinstance(command, DeactivateAccount):
            self.tokens.revoke_all(account_id)
        if first_staff_role and self.credentials is not None:
            self.credentials.sessions.end_account(account_id)
        return account

    def erase(self, account_id: UUID, envelope: Envelope) -> Account:
        """Erase the person behind the account (GDPR Art. 17): the account is deactivated, its name and
        address are cleared beside the log (pages show people.ERASED instead), its API tokens (named by
        their owner), password hash, sessions, one-time links and second factor are deleted, and the log
        records only that an erasure happened. Every event, case and label stays as it was. An expert's
        name, which their registration event carries sealed, is shredded: the key of every expert record
        the account ever spoke for is destroyed (activities/personal_data.py).

        The event comes first: a retry after a failure further on records nothing twice and clears
        what is left."""
        account = handle(self.app, account_id, EraseAccount(), envelope)
        assert isinstance(account, Account)
        self.tokens.forget_account(account_id)
        self.people.erase(account_id)
        for expert_id in account.spoke_for:
            self.app.erase_personal_text(expert_id)
        if self.credentials is not None:
            self.credentials.forget_account(account_id)
        return account
