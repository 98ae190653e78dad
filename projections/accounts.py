"""Who holds which account: its roles, the expert or cluster it speaks for, whether it is active.

What delivery asks when it addresses a message (interfaces/mail.py): the accounts of an expert, the
contacts of a cluster, the officers. The accounts' people (names, addresses) live beside the event
store, not here: this view names accounts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from clusterlabel.domain.account import Role, links_without
from clusterlabel.projections.view import Change, RowCache, RowPerAggregateView
from clusterlabel.projections.view_store import Row


class AccountsView(RowPerAggregateView, key="account_id", started_by="Opened"):
    name = "accounts"
    cost = 0.1
    view_tables = ("accounts",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {accounts} (account_id TEXT PRIMARY KEY, roles TEXT NOT NULL, "
        "expert_id TEXT, cluster_id TEXT, active INTEGER NOT NULL, opened_for_expert TEXT)",
        "CREATE INDEX IF NOT EXISTS accounts_by_expert ON {accounts} (expert_id)",
        "CREATE INDEX IF NOT EXISTS accounts_by_cluster ON {accounts} (cluster_id)",
    )
    handlers: ClassVar[dict[str, str]] = {
        f"Account.{name}": f"_{name}" for name in ("Opened", "RoleGranted", "RoleRevoked", "Deactivated")
    }

    def _Opened(self, cursor: Any, batch: RowCache, change: Change) -> None:
        row = {"account_id": change.key, "roles": "", "active": 1, "opened_for_expert": change["expert_id"]}
        row.update(expert_id=change["expert_id"], cluster_id=change["cluster_id"])
        batch.put(_with_roles(row, change["roles"]))

    def _RoleGranted(self, cursor: Any, batch: RowCache, change: Change) -> None:
        row = batch.get(cursor, change.key)
        if row is not None:
            batch.put(_with_roles(row, [*_roles(row), change["role"]]))

    def _RoleRevoked(self, cursor: Any, batch: RowCache, change: Change) -> None:
        row = batch.get(cursor, change.key)
        if row is not None:
            row["expert_id"], row["cluster_id"] = links_without(
                Role(change["role"]), row["expert_id"], row["cluster_id"]
            )
            batch.put(_with_roles(row, [role for role in _roles(row) if role != change["role"]]))

    def _Deactivated(self, cursor: Any, batch: RowCache, change: Change) -> None:
        row = batch.get(cursor, change.key)
        if row is not None:
            batch.put({**row, "active": 0})

    # ---- queries -------------------------------------------------------------------------

    def of_expert(self, expert_id: UUID) -> list[UUID]:
        """The active accounts that speak for the expert."""
        return self._ids("expert_id = ?", (str(expert_id),))

    def ever_opened_for(self, expert_id: UUID) -> bool:
        """Whether an account was ever opened for the expert, deactivated or stripped of the role since."""
        return bool(self.fetch("SELECT 1 FROM {accounts} WHERE opened_for_expert = ? LIMIT 1", (str(expert_id),)))

    def experts_locked_out(self) -> set[UUID]:
        """The experts none of whose accounts still speaks for them (each deactivated, or its expert role
        revoked): they can no longer sign in to answer an offer, nor be written to. (An expert never given
        an account may still hold a token from before accounts.)"""
        rows = self.fetch(
            "SELECT opened_for_expert FROM {accounts} WHERE opened_for_expert IS NOT NULL GROUP BY opened_for_expert "
            "HAVING MAX(CASE WHEN active = 1 AND expert_id = opened_for_expert THEN 1 ELSE 0 END) = 0",
            (),
        )
        return {UUID(row["opened_for_expert"]) for row in rows}

    def contacts(self, cluster_id: UUID) -> list[UUID]:
        """The active accounts of the cluster's contacts."""
        return self._ids("cluster_id = ?", (str(cluster_id),))

    def holding(self, role: Role) -> list[UUID]:
        """The active accounts that hold the role."""
        return self._ids("roles LIKE ?", (f"%,{role.value},%",))

    def _ids(self, where: str, params: tuple[str, ...]) -> list[UUID]:
        rows = self.fetch(
            f"SELECT account_id FROM {{accounts}} WHERE active = 1 AND {where} ORDER BY account_id", params
        )
        return [UUID(row["account_id"]) for row in rows]


def _roles(row: Row) -> list[str]:
    return [role for role in row["roles"].split(",") if role]


def _with_roles(row: Row, roles: Sequence[str]) -> Row:
    # ",officer,decider,": every role between commas, so that one LIKE finds a role and no other.
    return {**row, "roles": "," + ",".join(sorted(set(roles))) + ","}
