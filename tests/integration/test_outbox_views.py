"""The read side of delivery, on SQLite and PostgreSQL alike: whose accounts a message reaches (the accounts
view follows openings, grants, revocations and deactivations), and the outbox as the secretariat lists it
(status, tries, when sent; filtered by status and case, paged)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import waiting_messages
from clusterlabel.domain.account import Role
from clusterlabel.domain.notices import APPEALS_PANEL, DECIDERS
from clusterlabel.domain.notification import DeliveryStatus
from clusterlabel.domain.record_commands import (
    DeactivateAccount,
    GrantRole,
    OpenAccount,
    RecordDeliveryFailure,
    RecordSent,
    RetryDelivery,
    RevokeRole,
)
from clusterlabel.interfaces.mail import Directory
from clusterlabel.interfaces.web.people import COLUMNS, People
from clusterlabel.interfaces.web.side_tables import SQLiteSideFile
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from tests.builders import register, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle
from tests.stores import postgres_schema, sqlite_env

VIEWS = ["accounts", "notifications"]
DELIVERY = "system:delivery"


def views(env: dict[str, str], app: CertificationApp) -> ReadModels:
    models = open_read_models(env, app, only=VIEWS)
    models.catch_up()
    return models


def account(app: CertificationApp, *roles: Role, **links: UUID) -> UUID:
    return register(app, OpenAccount(roles=list(roles), **links), actor=SECRETARIAT)


class OutboxViewsContract:
    """Subclasses provide the `env` fixture."""

    def test_the_accounts_view_names_an_experts_accounts_a_clusters_contacts_and_the_officers_that_are_active(
        self, env: dict[str, str]
    ) -> None:
        app = CertificationApp(env=env, clock=Clock())
        life = Lifecycle(app)
        expert_id, second_expert_id = life.expert(), life.expert("FR")
        expert_account = account(app, Role.EXPERT, expert_id=expert_id)
        contact = account(app, Role.CLUSTER, cluster_id=life.cluster_id)
        # A contact who is an expert too, and then no longer speaks for the cluster.
        former_contact = account(app, Role.CLUSTER, Role.EXPERT, cluster_id=life.cluster_id, expert_id=second_expert_id)
        officer, left = account(app, Role.OFFICER), account(app, Role.OFFICER, Role.DECIDER)
        send(app, officer, GrantRole(role=Role.DECIDER), actor=SECRETARIAT)
        send(app, former_contact, RevokeRole(role=Role.CLUSTER), actor=SECRETARIAT)
        send(app, left, DeactivateAccount(), actor=SECRETARIAT)

        with views(env, app) as models:
            assert models.accounts_of_expert(expert_id) == [expert_account]
            assert models.accounts_of_expert(second_expert_id) == [former_contact]
            assert models.cluster_contacts(life.cluster_id) == [contact]
            assert models.accounts_holding(Role.OFFICER) == [officer]
            assert models.accounts_holding(Role.DECIDER) == [officer]

    def test_the_outbox_lists_each_message_with_its_status_tries_and_when_it_went_out(
        self, env: dict[str, str]
    ) -> None:
        app = CertificationApp(env=env, clock=Clock())
        case_id, _ = Lifecycle(app).labelled()
        Lifecycle(app).labelled()
        # Each case: the offer, the request to agree to the complete team, the invoice, the label issued.
        offer, asked, invoice, issued, other_offer, _, _, _ = waiting_messages(app)
        sent = RecordSent(channel="email", recipients=["secretariat"], message_id="<m@clusterlabel>", attempts=2)
        send(app, offer, sent, actor=DELIVERY)
        send(app, issued, RecordDeliveryFailure(reason="no address: nobody", attempts=4), actor=DELIVERY)
        send(app, other_offer, RecordDeliveryFailure(reason="421 try later", attempts=4), actor=DELIVERY)
        send(app, other_offer, RetryDelivery(), actor=SECRETARIAT)

        with views(env, app) as models:
            everything = models.messages(limit=10)
            statuses = ["queued", "queued", "queued", "queued", "failed", "queued", "queued", "sent"]
            assert [entry.status for entry in everything] == statuses  # latest first
            by_id = {entry.id: entry for entry in everything}
            assert (by_id[offer].attempts, by_id[offer].channel) == (2, "email") and by_id[offer].sent_at is not None
            assert (by_id[issued].reason, by_id[issued].sent_at) == ("no address: nobody", None)
            assert (by_id[other_offer].attempts, by_id[other_offer].reason) == (4, "421 try later")
            assert [entry.id for entry in models.messages(status=DeliveryStatus.FAILED)] == [issued]
            assert {entry.id for entry in models.messages(case_id=case_id)} == {offer, asked, invoice, issued}
            assert [entry.id for entry in models.messages(limit=4, offset=4)] == [issued, invoice, asked, offer]
            assert models.failed_messages() == 1

    def test_a_message_to_the_deciders_or_the_appeals_panel_reaches_the_secretariat_and_their_accounts_once(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        """A decision's reminder goes to the people who decide, not only to the officers who chase them; the
        secretariat is mailed as ever, and nobody twice (an officer who also decides)."""
        app = CertificationApp(env=env, clock=Clock())
        decider, officer = account(app, Role.DECIDER), account(app, Role.OFFICER, Role.DECIDER)
        people = People(SQLiteSideFile(tmp_path / "people.sqlite", "people", COLUMNS))
        people.add(decider, "Dora Decider", "dora@board.example.org")
        people.add(officer, "Olga Officer", "olga@secretariat.example.org")

        with views(env, app) as models:

            def mailed(recipient: str, team: str | None = None) -> list[str]:
                return sorted(address.email for address in Directory(models, people, team).of(recipient))

            assert mailed(DECIDERS) == ["dora@board.example.org", "olga@secretariat.example.org"]
            assert mailed(APPEALS_PANEL) == ["olga@secretariat.example.org"]  # nobody holds `appeals`
            team = "team@secretariat.example.org"
            assert mailed(DECIDERS, team) == ["dora@board.example.org", "olga@secretariat.example.org", team]
        people.close()


class TestOutboxViewsOnSQLite(OutboxViewsContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestOutboxViewsOnPostgreSQL(OutboxViewsContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()
