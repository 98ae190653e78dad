"""Whose messages each person's inbox holds: the deciders and the appeals panel read, besides the
secretariat's, the messages addressed to their own role, which an officer does not."""

from __future__ import annotations

from uuid import uuid4

from clusterlabel.domain.account import Role
from clusterlabel.domain.notices import APPEALS_PANEL, DECIDERS, SECRETARIAT
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.inbox import recipients_of


def test_a_decider_and_a_panel_member_read_their_roles_messages_and_an_officer_the_secretariats() -> None:
    def reads(*roles: Role) -> list[str]:
        return recipients_of(Principal(roles=frozenset(roles), account_id=uuid4()))

    assert reads(Role.OFFICER) == [SECRETARIAT]
    assert reads(Role.DECIDER) == [SECRETARIAT, DECIDERS]
    assert reads(Role.APPEALS) == [SECRETARIAT, APPEALS_PANEL]
    assert reads(Role.OFFICER, Role.DECIDER, Role.APPEALS) == [SECRETARIAT, DECIDERS, APPEALS_PANEL]
