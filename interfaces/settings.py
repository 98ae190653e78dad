"""The one typed configuration object, read from CLUSTERLABEL_* environment variables at the edge.

Everything else (the event store's env, the Temporal connection) is derived from it, so no other
module reads os.environ.
"""

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from limits import parse
from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clusterlabel.activities.mail import SmtpServer, bare_address
from clusterlabel.interfaces.event_store_env import parse_postgres_url, pinned_ordering_keys, store_env

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_PUBLIC_RATE_LIMIT = "120/minute"
# Complaints anyone may lodge: each is a record the secretariat must answer, so far fewer than reads.
DEFAULT_COMPLAINT_RATE_LIMIT = "30/hour"
# Enough for a whole office behind one address to mistype now and then; far too few to spray a password.
DEFAULT_SIGNIN_FAILURE_LIMIT = "30/15minutes"
DEFAULT_ISSUER_NAME = "European Secretariat for Cluster Analysis (ESCA)"
DEFAULT_ISSUER_ADDRESS = "Berlin"
DEFAULT_ISSUER_COUNTRY = "DE"
DEFAULT_MAIL_FROM = "clusterlabel@localhost"
DEFAULT_WORKER_CACHED_WORKFLOWS = 1000  # Temporal's own default
DEFAULT_MAIL_RATE_LIMIT = "5/second"
DEFAULT_EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
# Whether a worker runs the workflow code in Temporal's sandbox (interfaces/worker.workflow_runner).
WorkflowSandbox = Literal["off", "checked"]
DEFAULT_WORKFLOW_SANDBOX: WorkflowSandbox = "off"
# Settings that work only together: one given alone is refused at start-up rather than silently ignored.
GIVEN_TOGETHER = (
    # mTLS needs both halves; one alone would connect without a client certificate.
    ("temporal_tls_cert", "temporal_tls_key"),
    # An endpoint without its bucket (or the reverse) would keep the files on local disk.
    ("files_s3_endpoint", "files_s3_bucket"),
)


class Settings(BaseSettings):
    """Runtime configuration; defaults give a self-contained development setup in ./.clusterlabel."""

    # An empty variable means "use the default", so `CLUSTERLABEL_DATABASE_URL=` falls back to SQLite.
    # Errors never echo the input: a rejected database URL or token may hold a password.
    model_config = SettingsConfigDict(
        env_prefix="CLUSTERLABEL_", env_ignore_empty=True, extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Path(".clusterlabel")
    database_url: str | None = Field(default=None, repr=False)
    # Connections each process keeps to PostgreSQL, and how many more it may open under load.
    postgres_pool_size: int = Field(default=5, ge=1)
    postgres_max_overflow: int = Field(default=10, ge=0)
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    task_queue: str = "clusterlabel"
    # Workflows a worker keeps in memory between their steps (Temporal's sticky cache, least recently used
    # evicted). It bounds the worker's memory: each costs 0.3-0.4 MiB (README's settings); one
    # evicted replays its history on its next step, which a step taken at human pace never notices.
    # At least 100, the workflow tasks a worker runs at once (Temporal's default): a cache smaller than the
    # workflows in flight evicts them mid-step, and Temporal's core then cancels the step's local activity
    # (a test with a cache of one and two cases in flight wedged once in two runs); soaks ran with 100 and 1000.
    worker_cached_workflows: int = Field(default=DEFAULT_WORKER_CACHED_WORKFLOWS, ge=100)
    # "off": the workflow code is imported once per worker and runs outside Temporal's sandbox; "checked":
    # afresh for every workflow run, in the sandbox (interfaces/worker.workflow_runner says which costs what).
    workflow_sandbox: WorkflowSandbox = DEFAULT_WORKFLOW_SANDBOX
    # Temporal's own Web UI, for operators: the embedded server serves it (on this port; unset, a free
    # one) and prints its address; with a cluster, its UI's address lets the pages link to each workflow.
    temporal_ui: bool = True
    temporal_ui_port: int | None = Field(default=None, ge=1, le=65535)
    temporal_ui_url: str | None = None
    # /metrics (Prometheus' text format): open when unset; with a token, only to `Authorization: Bearer <it>`.
    metrics_token: str | None = Field(default=None, repr=False)
    # Where the worker serves the Temporal SDK's own metrics, and a separate `projections run` its /metrics
    # (Prometheus' format, on every interface of the host: a scraper reaches it); unset, not served.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    projections_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # OpenTelemetry's standard variable (no CLUSTERLABEL_ prefix): set, every process exports its traces
    # over OTLP/HTTP there (interfaces/tracing.py); unset, no trace leaves the process.
    otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint")
    )
    # How often the Temporal Schedule runs the reconciler (every open record has its workflow running);
    # seconds or ISO 8601 ("PT10M"). Workers create the schedule at start-up and run it once then.
    reconcile_every: timedelta = Field(default=timedelta(minutes=10), ge=timedelta(seconds=10))
    # The secretariat's digest (overdue cases, labels expiring, messages not delivered): a Temporal Schedule
    # sends it every `digest_every` (a day), `digest_at` after midnight UTC (07:00); seconds or ISO 8601.
    digest_every: timedelta = Field(default=timedelta(days=1), ge=timedelta(seconds=1))
    digest_at: timedelta = Field(default=timedelta(hours=7), ge=timedelta(0))
    admin_token: str | None = Field(default=None, repr=False)
    # The key of the tamper-evidence chain's links (HMAC-SHA256), kept outside the database it protects.
    # Unset in development: generated once into <data_dir>/chain.key. Production requires it.
    chain_key: str | None = Field(default=None, repr=False)
    # The event table is append-only for this role (deploy/postgres/events-append-only.sql): its owner
    # created it, so the application must not try to create or index it.
    event_table_append_only: bool = False
    policy_file: Path | None = None
    # A folder of indicator catalogues published beside the shipped ones (activities/catalogues.py).
    catalogue_dir: Path | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    environment: Literal["development", "production"] = "development"
    # Where the public reaches this server: the badge's link and the certificate's URLs are built from
    # it, never from the request's Host header, which any caller can set.
    public_url: str = DEFAULT_PUBLIC_URL
    # The certification body that issues the labels, as every certificate names it (ISO/IEC 17065 §7.7).
    issuer_name: str = Field(default=DEFAULT_ISSUER_NAME, min_length=1, max_length=200)
    issuer_address: str = Field(default=DEFAULT_ISSUER_ADDRESS, min_length=1, max_length=300)
    issuer_country: str = Field(default=DEFAULT_ISSUER_COUNTRY, pattern="^[A-Z]{2}$")
    # Reads of the public registry, verification and badge per client address, in the `limits`
    # package's notation ("120/minute", "10/second").
    public_rate_limit: str = DEFAULT_PUBLIC_RATE_LIMIT
    # Complaints lodged per client address (API and form), in the same notation; they count against
    # public_rate_limit as well.
    complaint_rate_limit: str = DEFAULT_COMPLAINT_RATE_LIMIT
    # Failed sign-ins to the pages per client address (any accounts), in the same notation; over it the
    # address waits, while each account's own lockout still counts its failures.
    signin_failure_limit: str = DEFAULT_SIGNIN_FAILURE_LIMIT
    # The proxies whose X-Forwarded-For names the client (uvicorn's forwarded_allow_ips: addresses, networks
    # or "*"). Behind a load balancer set it to the balancer's addresses, or every client has the balancer's
    # address and the per-address limits above count the whole world as one client.
    forwarded_allow_ips: str = "127.0.0.1"
    # Staff (admin, officer, decider, appeals) signing in to the pages with a password must also give a
    # one-time code (TOTP). Unset: required in production, not in development.
    require_totp_for_staff: bool | None = None
    # Where messages go out: smtp://[user:pass@]host:port, with ?starttls=true for STARTTLS (smtps:// for
    # TLS from the first byte). Unset: each message is written to a Maildir, <data_dir>/maildir/. It may
    # hold a password: kept out of repr, logs and error messages.
    smtp_url: str | None = Field(default=None, repr=False)
    # The From of every message, and the secretariat's team address (unset: the active officers' addresses).
    mail_from: str = DEFAULT_MAIL_FROM
    secretariat_email: str | None = None
    # Messages each worker process sends at most, in the `limits` notation of public_rate_limit.
    mail_rate_limit: str = DEFAULT_MAIL_RATE_LIMIT
    # Evidence documents: the largest file a case takes, and where files are kept. Without an S3 endpoint
    # they live in <data_dir>/files/; with one (and its bucket, which must exist) in that object store.
    evidence_max_bytes: int = Field(default=DEFAULT_EVIDENCE_MAX_BYTES, ge=1, le=1024**3)
    files_s3_endpoint: str | None = None
    files_s3_bucket: str | None = None
    files_s3_region: str = "us-east-1"
    # Unset: boto3 finds credentials its own way (environment, instance profile).
    files_s3_access_key_id: str | None = Field(default=None, repr=False)
    files_s3_secret_access_key: str | None = Field(default=None, repr=False)

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgresql(cls, url: str | None) -> str | None:
        # Parse now so a typo fails at start-up, not at the first event written.
        if url is not None:
            parse_postgres_url(url)
        return url

    @field_validator("reconcile_every", "digest_every", "digest_at", mode="before")
    @classmethod
    def _seconds_are_a_duration(cls, every: Any) -> Any:
        # pydantic reads an ISO 8601 string or a number; an environment variable is always a string.
        return float(every) if isinstance(every, str) and every.strip().replace(".", "", 1).isdigit() else every

    @field_validator("log_level")
    @classmethod
    def _log_level_is_known(cls, level: str) -> str:
        name = level.strip().upper()
        if name not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return name

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_base_url(cls, url: str) -> str:
        return public_base_url(url)

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_is_not_empty(cls, token: str | None) -> str | None:
        # An empty token would let an empty bearer through: set means a real token, unset means open.
        return token if token and token.strip() else None

    @field_validator("temporal_ui_url")
    @classmethod
    def _temporal_ui_url_is_a_base_url(cls, url: str | None) -> str | None:
        return None if url is None else public_base_url(url, "temporal_ui_url")

    @field_validator("public_rate_limit", "complaint_rate_limit", "mail_rate_limit", "signin_failure_limit")
    @classmethod
    def _rate_limit_is_parsable(cls, limit: str, info: ValidationInfo) -> str:
        try:
            parse(limit)
        except ValueError:
            raise ValueError(f"{info.field_name} must read like 120/minute or 10/second, got {limit!r}") from None
        return limit

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_parsable(cls, url: str | None) -> str | None:
        if url is not None:
            SmtpServer.from_url(url)
        return url

    @field_validator("mail_from", "secretariat_email")
    @classmethod
    def _is_an_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            bare_address(value, info.field_name or "address")
        return value

    @model_validator(mode="after")
    def _pairs_are_complete(self) -> "Settings":
        for first, second in GIVEN_TOGETHER:
            if (getattr(self, first) is None) != (getattr(self, second) is None):
                raise ValueError(
                    f"{first} and {second} must be given together "
                    f"(CLUSTERLABEL_{first.upper()} and CLUSTERLABEL_{second.upper()})"
                )
        return self

    @model_validator(mode="after")
    def _digest_hour_is_inside_its_period(self) -> "Settings":
        # Temporal refuses an interval's offset as long as the interval; say so at start-up instead.
        if self.digest_at >= self.digest_every:
            raise ValueError(
                f"digest_at ({self.digest_at}) must be shorter than digest_every ({self.digest_every}): "
                "the time of day the digest goes out, within its period"
            )
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> "Settings":
        if self.environment != "production":
            return self
        if not (self.admin_token and self.admin_token.strip()):
            raise ValueError("production requires an admin token: set CLUSTERLABEL_ADMIN_TOKEN")
        _check_admin_token_is_strong(self.admin_token)
        if self.temporal_address is None:
            raise ValueError(
                "production must not use the embedded Temporal dev server: "
                "set CLUSTERLABEL_TEMPORAL_ADDRESS to a Temporal cluster (host:port)"
            )
        if not (self.chain_key and self.chain_key.strip()):
            raise ValueError(
                "production requires a key for the tamper-evidence chain, kept outside the database: "
                "set CLUSTERLABEL_CHAIN_KEY (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if self.smtp_url is None:
            raise ValueError(
                "production requires a mail server, since a Maildir in a container goes with it: "
                "set CLUSTERLABEL_SMTP_URL (smtp://user:pass@host:587?starttls=true)"
            )
        return self

    def totp_required_for_staff(self) -> bool:
        """Whether staff need a second factor on the pages: as set, else on in production only."""
        if self.require_totp_for_staff is None:
            return self.environment == "production"
        return self.require_totp_for_staff

    def store(self) -> Literal["sqlite", "postgres"]:
        """Which event store backend the settings select."""
        return "sqlite" if self.database_url is None else "postgres"

    def sqlite_path(self) -> Path:
        """Absolute path of the SQLite event store (used when database_url is unset)."""
        return (self.data_dir / "events.sqlite").resolve()

    def eventsourcing_env(self) -> dict[str, str]:
        """The env for eventsourcing.application.Application(env=...) selecting this event store.

        The keys the log's order rests on are pinned: os.environ cannot override them."""
        store = store_env(self.database_url, self.sqlite_path(), self.postgres_pool_size, self.postgres_max_overflow)
        if self.event_table_append_only:
            store["CREATE_TABLE"] = "n"  # eventsourcing's switch: the owner made the table, the role cannot
        return {**store, **pinned_ordering_keys(store["PERSISTENCE_MODULE"])}

    def maildir(self) -> Path:
        """Where messages are written when no SMTP server is configured."""
        return (self.data_dir / "maildir").resolve()

    def files_dir(self) -> Path:
        """Where files are kept (evidence documents, frozen reports) when no object store is configured."""
        return (self.data_dir / "files").resolve()

    def chain_key_file(self) -> Path:
        """Where development keeps the chain's generated key when CLUSTERLABEL_CHAIN_KEY is unset."""
        return (self.data_dir / "chain.key").resolve()

    def ensure_data_dir(self) -> Path:
        """Create data_dir (SQLite files, Temporal's db and log live there) and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


def public_base_url(url: str, name: str = "public_url") -> str:
    """An http(s) scheme and host, perhaps a port and path; no query, fragment or credentials; no trailing /."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - urllib checks the port only when asked
    except ValueError:
        raise ValueError(f"{name} has an invalid port: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s)://host[:port][/path] URL, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password or any(c in url for c in "\"'<> "):
        raise ValueError(f"{name} must be a plain base URL without query, fragment, credentials or quotes: {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


# The machine administrator's token opens every account: in production it must be long and not one of
# the examples this project or its deployment files show.
MIN_ADMIN_TOKEN_CHARS = 32
KNOWN_PLACEHOLDERS = frozenset(
    {"replace-with-a-long-random-token", "changeme", "change-me", "secret", "admin", "token", "dev-admin-token"}
)


def _check_admin_token_is_strong(token: str) -> None:
    if token.strip().lower() in KNOWN_PLACEHOLDERS:
        raise ValueError("CLUSTERLABEL_ADMIN_TOKEN is an example placeholder; set a long random token")
    if len(token.strip()) < MIN_ADMIN_TOKEN_CHARS:
        raise ValueError(
            f"CLUSTERLABEL_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_CHARS} characters in production "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
