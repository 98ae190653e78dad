"""Whose messages each person's inbox holds: every member of the secretariat reads the secretariat's,
including those to it with its deciders or its appeals panel (one message each, read once); a cluster's
contact or an expert reads none of them."""

from __future__ import annotations

from uuid import uuid4

from clusterlabel.domain.account import Role
from clusterlabel.domain.notices import APPEALS_PANEL, DECIDERS, SECRETARIAT
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.inbox import recipients_of


def reads(*roles: Role, **links: object) -> list[str]:
    return recipients_of(Principal(roles=frozenset(roles), account_id=uuid4(), **links))  # type: ignore[arg-type]


def test_every_member_of_the_secretariat_reads_the_messages_to_it_and_to_its_deciders_and_panel() -> None:
    for role in (Role.OFFICER, Role.DECIDER, Role.APPEALS, Role.ADMIN):
        assert reads(role) == [SECRETARIAT, DECIDERS, APPEALS_PANEL], role


def test_a_clusters_contact_and_an_expert_read_none_of_the_secretariats() -> None:
    contact, expert = reads(Role.CLUSTER, cluster_id=uuid4()), reads(Role.EXPERT, expert_id=uuid4())

    assert not {SECRETARIAT, DECIDERS, APPEALS_PANEL} & {*contact, *expert}
