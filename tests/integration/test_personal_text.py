"""An expert's name in the append-only log, erasable without rewriting an event (crypto-shredding):
stored sealed under the expert's own key beside the events, read back by every process on the store,
and read as "erased person" once the key is destroyed; SQLite and PostgreSQL alike."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import Mapper

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.personal_data import ERASED
from clusterlabel.domain.base import Level, StepNotAllowed
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import Escalate
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.record_commands import RegisterExpert
from clusterlabel.projections.stored_fields import StoredFields
from tests.builders import expert_profile, key, register
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle
from tests.stores import postgres_schema, sqlite_env

NAME = "Erika Erasable"


def stored_bytes(app: CertificationApp) -> bytes:
    """Every stored event's state, as the event table holds it."""
    return b"".join(bytes(n.state) for n in app.recorder.select_notifications(start=1, limit=100_000))


def registration_as_read(app: CertificationApp, expert_id: object) -> dict[str, object]:
    """The registration event as histories read it (projections/stored_fields.py)."""
    registered = app.recorder.select_events(expert_id, limit=1)[0]
    return StoredFields(app.mapper).plain(registered)


class PersonalTextContract:
    """What every store must do; subclasses provide the `env` fixture."""

    def open_app(self, env: dict[str, str]) -> CertificationApp:
        return CertificationApp(env=env, clock=Clock())

    def test_an_experts_name_is_stored_sealed_and_every_process_reads_it_back(self, env: dict[str, str]) -> None:
        life = Lifecycle(self.open_app(env))
        expert_id = life.expert(name=NAME)

        other_process = self.open_app(env)

        assert NAME.encode() not in stored_bytes(life.app)
        assert other_process.get_expert(expert_id).name == NAME
        assert registration_as_read(other_process, expert_id)["profile"]["name"] == NAME  # type: ignore[index]

    def test_erasing_the_expert_reads_erased_person_wherever_the_name_stood_and_keeps_their_case(
        self, env: dict[str, str]
    ) -> None:
        life = Lifecycle(self.open_app(env))
        expert_id = life.expert(name=NAME)
        case_id, label_id = life.labelled(Level.BRONZE, fraction=1.0)
        before = life.app.get_case(case_id)
        assert before.expert_ids == [expert_id]

        life.app.erase_personal_text(expert_id)
        later = self.open_app(env)

        expert = later.get_expert(expert_id)
        assert expert.name == ERASED
        assert registration_as_read(later, expert_id)["profile"]["name"] == ERASED  # type: ignore[index]
        with pytest.raises(StepNotAllowed) as refused:
            expert.check_certified(expert.certified_until + timedelta(days=1), "audit")
        refusal = str(refused.value)
        assert refusal.startswith(f"{ERASED}'s expert certification ended") and NAME not in refusal
        assert NAME.encode() not in stored_bytes(later)
        case = later.get_case(case_id)
        assert (case.state, case.expert_ids, case.scores) == (before.state, before.expert_ids, before.scores)
        assert later.get_label(label_id).label_code == life.app.get_label(label_id).label_code

    def test_an_expert_registered_before_names_were_sealed_reads_erased_once_erased_though_the_bytes_remain(
        self, env: dict[str, str]
    ) -> None:
        app = self.open_app(env)
        old = Expert(expert_profile(name=NAME).model_dump(mode="json"), SECRETARIAT, key("expert"))
        plain = Mapper[object](app.mapper.transcoder)  # how the store was written before sealing
        app.recorder.insert_events([plain.to_stored_event(event) for event in old.collect_events()])
        assert app.get_expert(old.id).name == NAME

        app.erase_personal_text(old.id)
        later = self.open_app(env)

        assert later.get_expert(old.id).name == ERASED
        assert registration_as_read(later, old.id)["profile"]["name"] == ERASED  # type: ignore[index]
        assert NAME.encode() in stored_bytes(later), "no stored event is rewritten: the old bytes remain"

    def test_a_repeated_registration_is_refused_by_the_sealed_name_and_an_erased_one_by_nothing_of_theirs(
        self, env: dict[str, str]
    ) -> None:
        app = self.open_app(env)
        command = RegisterExpert(profile=expert_profile(name=NAME))
        first = register(app, command, actor=SECRETARIAT, command_key=key("expert"))

        with pytest.raises(StepNotAllowed, match=f"already registered: expert {first}"):
            register(self.open_app(env), command, actor=SECRETARIAT, command_key=key("expert"))
        app.erase_personal_text(first)
        again = register(self.open_app(env), command, actor=SECRETARIAT, command_key=key("expert"))

        assert again != first and self.open_app(env).get_expert(again).name == NAME

    def test_an_escalation_quoting_a_refusal_that_names_an_expert_records_the_experts_id_instead(
        self, env: dict[str, str]
    ) -> None:
        """The case workflow asks for help with the refusal's own words (workflows/record.py), and a
        refusal names the expert it concerns: the log must not keep that name where no erasure reaches."""
        life = Lifecycle(self.open_app(env))
        expert_id = life.expert(name=NAME)
        life.expert(name="Erik Other")
        case_id = life.screened()
        quoted = f"proposing an expert was refused 3 times: {NAME} cannot be proposed: {NAME} audited the cluster"
        envelope = Envelope(actor="system:workflow", key=key("help"))

        handle(life.app, case_id, Escalate(reason=quoted), envelope)

        attention = life.app.get_case(case_id).attention[-1]
        assert attention == (
            f"proposing an expert was refused 3 times: expert {expert_id} cannot be proposed: "
            f"expert {expert_id} audited the cluster"
        )
        assert NAME.encode() not in stored_bytes(life.app)


class TestSQLitePersonalText(PersonalTextContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return sqlite_env(tmp_path)


@pytest.mark.postgres
class TestPostgresPersonalText(PersonalTextContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()


def test_an_erased_key_leaves_no_copy_in_the_sqlite_files(tmp_path: Path) -> None:
    """The key's page is rewritten with its freed bytes zeroed, and the write-ahead log that held the page
    as it was is folded back and truncated: the files on disk no longer hold the key."""
    env = sqlite_env(tmp_path)
    life = Lifecycle(CertificationApp(env=env, clock=Clock()))
    expert_id = life.expert(name=NAME)
    key_bytes = life.app.mapper.keys.key_to_open(expert_id)[0]
    assert key_bytes is not None
    secret = base64.b64encode(key_bytes)
    files = sorted(tmp_path.glob("events.sqlite*"))
    assert any(secret in path.read_bytes() for path in files)

    life.app.erase_personal_text(expert_id)

    assert not [path.name for path in tmp_path.glob("events.sqlite*") if secret in path.read_bytes()]
    assert life.app.get_expert(expert_id).name == ERASED
