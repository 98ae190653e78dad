"""`clusterlabel accounts`: open, list, change, deactivate and erase accounts from the command line.

The command acts as the machine administrator (actor "secretariat", auth.MACHINE_ADMIN_ACTOR) with
no token at all: whoever may run it on the server's data may already read every record, and a fresh
install makes its first administrator this way. Every change goes through AccountBook, the code path
the HTTP routes take. Bad input (an unknown role, a taken address, an unknown id) is refused with
exit 2, and nothing is recorded.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from clusterlabel.domain.account import Account
from clusterlabel.domain.base import DomainError
from clusterlabel.domain.command_base import AccountCommand, Envelope, command_key
from clusterlabel.domain.record_commands import DeactivateAccount, GrantRole, RevokeRole
from clusterlabel.interfaces.bootstrap import build_app, open_account_tokens, open_people, open_token_store
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.account_book import AccountBook
from clusterlabel.interfaces.web.account_schemas import AccountIn
from clusterlabel.interfaces.web.auth import MACHINE_ADMIN_ACTOR
from clusterlabel.interfaces.web.credentials import open_credentials
from clusterlabel.interfaces.web.password_links import issue_password_link
from clusterlabel.interfaces.web.people import EmailTaken

EXIT_OK, EXIT_REFUSED = 0, 2
PAGE = 500  # People.account_ids reads the list a page at a time
Run = Callable[[AccountBook, argparse.Namespace], int]


def accounts_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `accounts <step>` over the settings' accounts; a refusal is one line on stderr and exit 2."""
    try:
        with _book(settings) as book:
            if args.accounts_step == "reset-link":
                return _reset_link(settings, book, args.account_id)
            return STEPS[args.accounts_step](book, args)
    except (DomainError, EmailTaken) as error:
        return _refused(str(error))
    except ValidationError as error:
        return _refused("; ".join(_problem(item) for item in error.errors()))


def _refused(reason: str) -> int:
    print(f"clusterlabel: {reason}", file=sys.stderr)
    return EXIT_REFUSED


@contextmanager
def _book(settings: Settings) -> Iterator[AccountBook]:
    """The accounts, with the stores beside the log; whatever was opened is closed, even if one fails to open."""
    with ExitStack() as opened:
        app = build_app(settings)
        opened.callback(app.close)
        people = open_people(settings)
        opened.callback(people.close)
        tokens = open_account_tokens(settings)
        opened.callback(tokens.close)
        credentials = open_credentials(settings)
        opened.callback(credentials.close)
        legacy_tokens = open_token_store(settings)
        opened.callback(legacy_tokens.close)
        yield AccountBook(app, people, tokens, credentials, legacy_tokens)


def _problem(item: Any) -> str:
    where = ".".join(str(part) for part in item["loc"])
    return f"{where}: {item['msg']}" if where else str(item["msg"])


def _envelope(step: str) -> Envelope:
    """A new command each time the command line runs: a fresh key, under the machine administrator."""
    return Envelope(actor=MACHINE_ADMIN_ACTOR, key=command_key("cli", "account", step, uuid.uuid4().hex))


def _create(book: AccountBook, args: argparse.Namespace) -> int:
    body = AccountIn(
        name=args.name, email=args.email, roles=args.role, expert_id=args.expert_id, cluster_id=args.cluster_id
    )
    opened = book.open(body.name, body.email, body.command(), _envelope("open"))
    print(f"account_id  {opened.account_id}")
    print(f"token       {opened.token}")
    print("the token is shown this once: only its hash is kept", file=sys.stderr)
    if body.expert_id is not None and body.cluster_id is not None:
        print(_not_released(body.expert_id, body.cluster_id), file=sys.stderr)
    return EXIT_OK


def _not_released(expert_id: UUID, cluster_id: UUID) -> str:
    """The command line reaches no workflow: the cluster's open cases keep the expert until the API releases them
    (as POST /accounts does itself)."""
    return (
        f"expert {expert_id} now speaks for cluster {cluster_id} and is never proposed for its cases; any of its "
        "open cases they are on or proposed for keeps them until the affiliation is recorded through the API, "
        f'which releases them: POST /experts/{expert_id}/affiliations {{"cluster_id": "{cluster_id}"}}'
    )


def _list(book: AccountBook, args: argparse.Namespace) -> int:
    print("\t".join(("account_id", "name", "email", "roles", "active")))
    offset = 0
    while page := book.people.account_ids(PAGE, offset):
        for account_id in page:
            print(_line(book, book.load(account_id)))
        offset += PAGE
    return EXIT_OK


def _line(book: AccountBook, account: Account) -> str:
    name, email = book.shown_as(account.id)
    roles = ",".join(sorted(account.roles)) or "-"
    return "\t".join((str(account.id), name, email or "-", roles, "yes" if account.active else "no"))


def _changed(book: AccountBook, account_id: UUID, command: AccountCommand, step: str) -> int:
    print(_line(book, book.change(account_id, command, _envelope(step))))
    return EXIT_OK


def _grant(book: AccountBook, args: argparse.Namespace) -> int:
    return _changed(book, args.account_id, GrantRole(role=args.role), "grant")


def _revoke(book: AccountBook, args: argparse.Namespace) -> int:
    return _changed(book, args.account_id, RevokeRole(role=args.role), "revoke")


def _deactivate(book: AccountBook, args: argparse.Namespace) -> int:
    return _changed(book, args.account_id, DeactivateAccount(reason=args.reason), "deactivate")


def _erase(book: AccountBook, args: argparse.Namespace) -> int:
    print(_line(book, book.erase(args.account_id, _envelope("erase"))))
    return EXIT_OK


def _reset_link(settings: Settings, book: AccountBook, account_id: UUID) -> int:
    """Until messages go out by e-mail, the administrator hands the person this link themselves."""
    account = book.load(account_id)  # NotFound for an unknown id
    if not account.active:
        return _refused(f"account {account_id} is deactivated: it signs in no more")
    assert book.credentials is not None  # _book opens them
    print(issue_password_link(book.credentials.links, account_id, settings.public_url))
    print("the link works once, for 24 hours; it sets the account's password", file=sys.stderr)
    return EXIT_OK


STEPS: dict[str, Run] = {
    "create": _create,
    "list": _list,
    "grant": _grant,
    "revoke": _revoke,
    "deactivate": _deactivate,
    "erase": _erase,
}
