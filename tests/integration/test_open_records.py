"""What the reconciler reads from the event store: every case its cluster has not closed, every label in
force and every message still queued, on SQLite and PostgreSQL alike, including records stored under the
old topic names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import cluster_ids, open_records, queued_after, still_open, waiting_messages
from clusterlabel.domain.commands import WithdrawCase, WithdrawLabel
from clusterlabel.domain.record_commands import RecordDeliveryFailure, RecordSent, RetryDelivery
from tests.builders import send
from tests.golden.records import RECORDS, golden_id
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, memory_app
from tests.stores import postgres_schema, sqlite_env


class OpenRecordsContract:
    """Subclasses provide the `env` fixture."""

    def test_open_cases_include_awarded_and_withdrawn_ones_not_yet_closed_and_labels_only_in_force(
        self, env: dict[str, str]
    ) -> None:
        app = CertificationApp(env=env, clock=Clock())
        _, label_in_force = Lifecycle(app).labelled()
        awarded = Lifecycle(app).awarded()  # its workflow has yet to issue the label and close it
        withdrawn = Lifecycle(app).apply()
        send(app, withdrawn, WithdrawCase(reason="changed plans"), actor=SECRETARIAT)  # still to be closed
        _, label_withdrawn = Lifecycle(app).labelled()
        send(app, label_withdrawn, WithdrawLabel(reason="complaint upheld"), actor=SECRETARIAT)

        records = open_records(app)
        assert (records.case_ids, records.label_ids) == ([awarded, withdrawn], [label_in_force])
        assert still_open(app, "case", awarded) and still_open(app, "label", label_in_force)
        assert not still_open(app, "label", label_withdrawn)

    def test_messages_are_open_while_queued_and_again_once_queued_again_after_failing(
        self, env: dict[str, str]
    ) -> None:
        app = CertificationApp(env=env, clock=Clock())
        Lifecycle(
            app
        ).labelled()  # an offer to the expert; the team to agree to, the invoice and the label, to the cluster
        offer, to_agree, invoice, issued = waiting_messages(app)
        position = app.recorder.max_notification_id() or 0
        send(app, offer, sent(), actor="system:delivery")
        send(app, to_agree, sent(), actor="system:delivery")
        send(app, invoice, sent(), actor="system:delivery")
        send(app, issued, RecordDeliveryFailure(reason="no address", attempts=3), actor="system:delivery")
        assert open_records(app).message_ids == [] and not still_open(app, "message", offer)

        send(app, issued, RetryDelivery(), actor=SECRETARIAT)

        assert open_records(app).message_ids == [issued] and still_open(app, "message", issued)
        assert queued_after(app, 0)[0] == [offer, to_agree, invoice, issued, issued]  # queued, then queued again
        assert queued_after(app, position) == ([issued], app.recorder.max_notification_id())


def sent() -> RecordSent:
    return RecordSent(channel="email", recipients=["secretariat"], message_id="<m@clusterlabel>", attempts=1)


class TestOpenRecordsOnSQLite(OpenRecordsContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestOpenRecordsOnPostgres(OpenRecordsContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()


def test_clusters_stored_under_the_old_topic_names_are_found() -> None:
    app = memory_app()
    app.recorder.insert_events(RECORDS)

    registered = {record.originator_id for record in RECORDS if record.topic.endswith(":Cluster.Registered")}
    assert {golden_id("cluster-baltic"), golden_id("cluster-nordic")} <= registered  # the oldest, on old topics
    assert set(cluster_ids(app)) == registered


def test_messages_delivered_under_the_old_topic_names_are_not_waiting() -> None:
    app = memory_app()
    app.recorder.insert_events(RECORDS)

    last = {record.originator_id: record.topic for record in RECORDS if ":Notification." in record.topic}
    delivered = {message for message, topic in last.items() if topic.endswith(".Delivered")}
    assert delivered and not delivered & set(waiting_messages(app))
    assert set(waiting_messages(app)) == {m for m, topic in last.items() if topic.endswith((".Queued", ".Requeued"))}
