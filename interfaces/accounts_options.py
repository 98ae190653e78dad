"""The subcommands and options of `clusterlabel accounts`, apart from interfaces/accounts_cli.py (which
runs them) so that the CLI's parser gets them without loading the application."""

from __future__ import annotations

import argparse
from typing import Any
from uuid import UUID

from clusterlabel.domain.account import Role

ROLES = [role.value for role in Role]


def add_accounts_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`accounts create|list|grant|revoke|deactivate|erase|reset-link`, each with the common options (`commands` is the
    CLI's subparsers)."""
    accounts = commands.add_parser("accounts", help="open, list and change accounts, as the machine administrator")
    steps = accounts.add_subparsers(dest="accounts_step", required=True)

    create = steps.add_parser("create", parents=[common], help="open an account; prints its id and first API token")
    create.add_argument("--name", required=True, help="the person's name (kept beside the log, erasable)")
    create.add_argument("--email", required=True, help="the person's e-mail address; one account per address")
    create.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    create.add_argument("--expert-id", type=UUID, help="with --role expert: the expert record it speaks for")
    create.add_argument("--cluster-id", type=UUID, help="with --role cluster: the cluster it speaks for")

    steps.add_parser("list", parents=[common], help="every account: id, name, e-mail, roles, active")

    for name, what in (("grant", "grant a role to an account"), ("revoke", "revoke a role of an account")):
        step = steps.add_parser(name, parents=[common], help=what)
        step.add_argument("account_id", type=UUID)
        step.add_argument("role", choices=ROLES)

    deactivate = steps.add_parser(
        "deactivate", parents=[common], help="deactivate an account; its API tokens stop working at once"
    )
    deactivate.add_argument("account_id", type=UUID)
    deactivate.add_argument("--reason", default="deactivated by the machine administrator")

    erase = steps.add_parser(
        "erase",
        parents=[common],
        help="erase the person's name and e-mail address (deactivating the account); its acts stay in the log",
    )
    erase.add_argument("account_id", type=UUID)

    link = steps.add_parser(
        "reset-link",
        parents=[common],
        help="print a one-time link (24 h) for the person to set their password: first sign-in or reset",
    )
    link.add_argument("account_id", type=UUID)
    accounts.set_defaults(run=_run)


def _run(settings: Any, args: argparse.Namespace) -> int:
    from clusterlabel.interfaces.accounts_cli import accounts_command

    return int(accounts_command(settings, args))
