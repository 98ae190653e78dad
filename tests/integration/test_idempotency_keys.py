"""Idempotency keys kept beside the event store: which request each key stands for, in a SQLite file or a
table every API process shares. Two stores opened on the same settings stand for two API processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.idempotency import canonical_body, fingerprint
from clusterlabel.interfaces.web.idempotency_keys import KEYS_FILE, KEYS_TABLE, IdempotencyKeys, open_idempotency_keys
from tests.stores import postgres_schema, race, schema_url

OpenKeys = Callable[[], IdempotencyKeys]
FIRST, OTHER = "a" * 64, "b" * 64


class IdempotencyKeysContract:
    """What both backends must do; subclasses provide `settings`."""

    @pytest.fixture
    def open_keys(self, settings: Settings) -> Iterator[OpenKeys]:
        opened: list[IdempotencyKeys] = []

        def one_process() -> IdempotencyKeys:
            opened.append(open_idempotency_keys(settings))
            return opened[-1]

        yield one_process
        for keys in opened:
            keys.close()

    def test_a_free_key_is_claimed_and_the_same_request_may_claim_it_again(self, open_keys: OpenKeys) -> None:
        keys = open_keys()
        assert keys.claim("k-1", FIRST)
        assert keys.claim("k-1", FIRST)
        keys.succeeded("k-1", FIRST)
        assert keys.claim("k-1", FIRST)

    def test_a_key_held_for_one_request_refuses_another_while_it_runs_and_after_it_succeeded(
        self, open_keys: OpenKeys
    ) -> None:
        keys = open_keys()
        keys.claim("k-2", FIRST)
        assert not keys.claim("k-2", OTHER)
        keys.succeeded("k-2", FIRST)
        assert not keys.claim("k-2", OTHER)

    def test_a_key_released_after_a_refusal_is_free_for_another_request(self, open_keys: OpenKeys) -> None:
        keys = open_keys()
        keys.claim("k-3", FIRST)
        keys.release("k-3", FIRST)
        assert keys.claim("k-3", OTHER)

    def test_a_key_that_succeeded_is_never_released(self, open_keys: OpenKeys) -> None:
        keys = open_keys()
        keys.claim("k-4", FIRST)
        keys.succeeded("k-4", FIRST)
        keys.release("k-4", FIRST)  # a retry of the same request, refused this time
        keys.release("k-4", OTHER)
        assert not keys.claim("k-4", OTHER)

    def test_a_success_after_its_twin_was_refused_keeps_the_key(self, open_keys: OpenKeys) -> None:
        keys = open_keys()
        keys.claim("k-5", FIRST)
        keys.claim("k-5", FIRST)  # the same request, retried while the first still runs
        keys.release("k-5", FIRST)  # the first is refused
        keys.succeeded("k-5", FIRST)  # the retry is carried out
        assert not keys.claim("k-5", OTHER)

    def test_a_key_kept_by_one_process_is_refused_by_another_for_another_request(self, open_keys: OpenKeys) -> None:
        one, another = open_keys(), open_keys()
        one.claim("k-6", FIRST)
        one.succeeded("k-6", FIRST)
        assert not another.claim("k-6", OTHER)
        assert another.claim("k-6", FIRST)

    def test_of_different_requests_racing_for_one_key_from_two_processes_exactly_one_holds_it(
        self, open_keys: OpenKeys
    ) -> None:
        processes = (open_keys(), open_keys())
        requests = [f"{index:064x}" for index in range(8)]
        claimed = race([partial(processes[index % 2].claim, "k-7", request) for index, request in enumerate(requests)])
        assert claimed.count(True) == 1


class TestIdempotencyKeysInTheSQLiteFile(IdempotencyKeysContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data", database_url=None)

    def test_the_keys_live_in_a_file_of_their_own_in_the_data_directory(
        self, settings: Settings, open_keys: OpenKeys
    ) -> None:
        assert open_keys().location == str(settings.data_dir / KEYS_FILE)


@pytest.mark.postgres
class TestIdempotencyKeysInThePostgreSQLTable(IdempotencyKeysContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        for env in postgres_schema():
            yield Settings(data_dir=tmp_path / "data", database_url=schema_url(env))

    def test_the_keys_live_in_the_event_store_schema_and_not_in_the_data_directory(
        self, settings: Settings, open_keys: OpenKeys
    ) -> None:
        keys = open_keys()
        assert f"{settings.eventsourcing_env()['POSTGRES_SCHEMA']}.{KEYS_TABLE}" in keys.location
        assert not (settings.data_dir / KEYS_FILE).exists()


# ---- what counts as the same request -------------------------------------------------------------


def request(body: bytes, content_type: bytes = b"application/json", **scope: object) -> dict[str, object]:
    headers = [(b"authorization", b"Bearer caller-1"), (b"content-type", content_type)]
    return {"type": "http", "method": "POST", "path": "/applications", "query_string": b"", "headers": headers, **scope}


def test_json_whitespace_and_key_order_do_not_make_another_request() -> None:
    spread = b'{\n  "level": "bronze",\n  "cluster_id": "c-1"\n}'
    assert fingerprint(request(spread), spread) == fingerprint(request(b""), b'{"cluster_id":"c-1","level":"bronze"}')


def test_another_body_path_caller_or_query_is_another_request() -> None:
    body = b'{"cluster_id": "c-1"}'
    first = fingerprint(request(body), body)
    assert fingerprint(request(b""), b'{"cluster_id": "c-2"}') != first
    assert fingerprint(request(body, path="/clusters"), body) != first
    other_caller = [(b"authorization", b"Bearer caller-2"), (b"content-type", b"application/json")]
    assert fingerprint(request(body, headers=other_caller), body) != first
    assert fingerprint(request(body, query_string=b"level=gold"), body) != first


def test_form_posts_count_by_their_fields_and_anything_else_by_its_bytes() -> None:
    form = "application/x-www-form-urlencoded"
    assert canonical_body(form, b"b=2&a=1") == canonical_body(form, b"a=1&b=2")
    assert canonical_body(form, b"a=1&a=2") != canonical_body(form, b"a=2&a=1")
    assert canonical_body("application/json", b"[" * 100_000) == canonical_body("text/plain", b"[" * 100_000)
    assert canonical_body("application/json", b"{") != canonical_body("application/json", b"}")
