"""The composition root: the one place that builds, from settings, what every entrypoint runs on —
the application (write side), the read models, the HTTP layer's services with the stores beside the
event store, and the Temporal client.

`serve`, `worker`, `projections`, `verify` and the other CLI commands all call these; nothing else in
the service wires a store, a view or a client (the tools in tools/ build their own, on purpose: the
bench measures the parts one by one). The stores beside the event store (people, tokens, keys, ...) each
open in their own module; the entrypoints take those openers from here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InternalError
from temporalio.client import Client

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.catalogues import publish_folder
from clusterlabel.activities.documents.certificate import Party
from clusterlabel.activities.files import FileStore, LocalFileStore, S3FileStore
from clusterlabel.domain.catalogue_shelf import CataloguesRefused
from clusterlabel.domain.policy import Policy, default_policy
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_client import temporal_client_for
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.web.account_tokens import open_account_tokens as open_account_tokens
from clusterlabel.interfaces.web.assessment_drafts import open_assessment_drafts as open_assessment_drafts
from clusterlabel.interfaces.web.complainants import open_complainants as open_complainants
from clusterlabel.interfaces.web.credentials import open_credentials as open_credentials
from clusterlabel.interfaces.web.idempotency_keys import open_idempotency_keys as open_idempotency_keys
from clusterlabel.interfaces.web.inbox_reads import open_inbox_reads as open_inbox_reads
from clusterlabel.interfaces.web.people import open_people as open_people
from clusterlabel.interfaces.web.ratelimit import PublicRateLimit, SignInFailures
from clusterlabel.interfaces.web.services import Services
from clusterlabel.interfaces.web.tokens import open_token_store as open_token_store
from clusterlabel.interfaces.web.webhook_secrets import open_webhook_secrets as open_webhook_secrets
from clusterlabel.projections.chain_key import ChainKey, key_file
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels


class PolicyFileError(ValueError):
    """The policy file, or a catalogue of the catalogue folder, cannot be read or breaks a rule."""


def load_policy(settings: Settings) -> Policy:
    """The default policy, with the keys of the settings' policy file (if any) overriding it."""
    if settings.policy_file is None:
        return default_policy()
    try:
        return Policy.from_toml(settings.policy_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PolicyFileError(f"policy file {settings.policy_file}: {error}") from error


# Processes starting together on one PostgreSQL database each create the event store's tables "if not
# exists"; PostgreSQL may refuse all but one of those racing statements ("tuple concurrently updated").
# The loser tries again, and then finds the tables there.
CREATE_TABLE_ATTEMPTS = 5
CREATE_TABLE_PAUSE_SECONDS = 0.5


def publish_catalogues(settings: Settings) -> None:
    """The settings' catalogue folder published beside the shipped catalogues, before anything reads one
    (the application to assess, the views to compare): each process sees the same versions."""
    if settings.catalogue_dir is not None:
        _publish_once(settings.catalogue_dir.resolve())


@cache
def _publish_once(folder: Path) -> None:
    """The folder read and published once per process (build_app and open_views both ask for it)."""
    try:
        publish_folder(folder)
    except CataloguesRefused as error:
        raise PolicyFileError(f"catalogue folder {folder}: {error}") from error


def build_app(settings: Settings) -> CertificationApp:
    settings.ensure_data_dir()
    publish_catalogues(settings)
    policy = load_policy(settings)
    for attempt in range(1, CREATE_TABLE_ATTEMPTS + 1):
        try:
            return CertificationApp(env=settings.eventsourcing_env(), policy=policy)
        except InternalError as error:
            if "concurrently" not in str(error) or attempt == CREATE_TABLE_ATTEMPTS:
                raise
            time.sleep(CREATE_TABLE_PAUSE_SECONDS * attempt)
    raise AssertionError("unreachable")


def open_views(settings: Settings, app: CertificationApp | None = None, **options: Any) -> ReadModels:
    """The read models over the settings' event store. With the application, they follow its saves
    in this process; without it, they open the event store through a plain application of the same
    name (projections.factory.StoredLog), never the write side."""
    publish_catalogues(settings)
    return open_read_models(settings.eventsourcing_env(), app, chain_key=chain_key(settings), **options)


def chain_key(settings: Settings) -> ChainKey:
    """The key of the chain's links: CLUSTERLABEL_CHAIN_KEY, or in development one generated once into
    the data directory (outside the database; processes sharing a PostgreSQL store must share a key)."""
    if settings.chain_key:
        return ChainKey(settings.chain_key)
    settings.ensure_data_dir()
    return key_file(settings.chain_key_file())


def open_file_store(settings: Settings) -> FileStore:
    """Where evidence documents are kept: the S3-compatible store the settings name, else the data directory."""
    if settings.files_s3_endpoint and settings.files_s3_bucket:
        return S3FileStore.connect(
            settings.files_s3_endpoint,
            settings.files_s3_bucket,
            settings.files_s3_access_key_id,
            settings.files_s3_secret_access_key,
            settings.files_s3_region,
        )
    return LocalFileStore(settings.files_dir())


def open_services(
    settings: Settings,
    app: CertificationApp,
    models: ReadModels,
    readiness: Callable[[], Awaitable[dict[str, str]]],
) -> Services:
    """What the HTTP layer works with, every store beside the event store opened from the settings
    (Services.close_stores() closes them)."""
    return Services(
        app,
        models,
        open_token_store(settings),
        settings.task_queue,
        open_idempotency_keys(settings),
        open_people(settings),
        open_account_tokens(settings),
        readiness=readiness,
        public_url=settings.public_url,
        public_limit=PublicRateLimit(settings.public_rate_limit),
        complaint_limit=PublicRateLimit(settings.complaint_rate_limit),
        signin_failures=SignInFailures(settings.signin_failure_limit),
        issuer=Party(name=settings.issuer_name, address=settings.issuer_address, country=settings.issuer_country),
        credentials=open_credentials(settings),
        webhook_secrets=open_webhook_secrets(settings),
        inbox_reads=open_inbox_reads(settings),
        complainants=open_complainants(settings),
        metrics_token=settings.metrics_token,
        assessment_drafts=open_assessment_drafts(settings),
        files=open_file_store(settings),
        evidence_max_bytes=settings.evidence_max_bytes,
    )


async def connect_temporal(settings: Settings) -> tuple[Client, EmbeddedTemporal | None]:
    """The Temporal client (and the embedded server it started, for the caller to stop)."""
    return await temporal_client_for(settings)
