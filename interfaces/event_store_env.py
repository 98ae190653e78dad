"""The event store's environment: the keys eventsourcing reads to open the SQLite or PostgreSQL store
the settings (interfaces/settings.py) chose, with the keys the log's order rests on pinned."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_POSTGRES_PORT = 5432
# Shorter than an activity's start-to-close timeout (workflows.common.ACTIVITY_TIMEOUT, 10 s): a write
# that waits this long for SQLite's lock fails and its activity is retried, instead of the activity
# timing out while the write may still go through.
SQLITE_LOCK_TIMEOUT_SECONDS = 5
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

# The views follow the log by notification id and never look back below the last id they
# applied, so they rely on ids being committed in order. eventsourcing keeps that order on
# PostgreSQL by taking `LOCK TABLE ... IN EXCLUSIVE MODE` in every inserting transaction; these
# keys would lose it, so no environment variable may change them:
# - POSTGRES_ENABLE_DB_FUNCTIONS=y inserts through a database function that takes no table
#   lock: two transactions can commit their ids out of order and a view skips the lower one
#   for good.
# - APPLICATION_RECORDER_TOPIC names another recorder class, which need not lock (empty: the
#   persistence module's own recorder).
# - PERSISTENCE_MODULE is the store the settings chose; CLUSTERLABEL_PERSISTENCE_MODULE must
#   not swap it for another (or for memory).
# POSTGRES_LOCK_TIMEOUT stays configurable: a timeout makes a waiting insert fail (and retry),
# it never lets it commit out of order.
ORDERING_KEYS = {"POSTGRES_ENABLE_DB_FUNCTIONS": "n", "APPLICATION_RECORDER_TOPIC": ""}
# eventsourcing reads a key as CLUSTERLABEL_<KEY> before <KEY> (the application is named
# clusterlabel), and the env given to the application overrides os.environ key by key: a key
# is pinned only when that env holds both spellings.
APP_ENV_PREFIX = "CLUSTERLABEL_"


def store_env(database_url: str | None, sqlite_path: Path, pool_size: int, max_overflow: int) -> dict[str, str]:
    """eventsourcing's keys for the SQLite file, or for the PostgreSQL server at database_url."""
    if database_url is None:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(sqlite_path),
            "SQLITE_LOCK_TIMEOUT": str(SQLITE_LOCK_TIMEOUT_SECONDS),
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        **parse_postgres_url(database_url),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(max_overflow),
    }


def pinned_ordering_keys(persistence_module: str) -> dict[str, str]:
    """The keys the order of the log rests on, in both spellings eventsourcing reads (see ORDERING_KEYS)."""
    keys = {"PERSISTENCE_MODULE": persistence_module, **ORDERING_KEYS}
    return {**keys, **{APP_ENV_PREFIX + key: value for key, value in keys.items()}}


def parse_postgres_url(url: str) -> dict[str, str]:
    """Turn postgresql://user:pass@host:port/dbname[?schema=s] into eventsourcing's POSTGRES_* keys."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"database_url must be a postgresql://user:pass@host:port/dbname URL, got scheme "
            f"{parts.scheme!r}; leave CLUSTERLABEL_DATABASE_URL unset to use SQLite in data_dir"
        )
    try:
        port = parts.port or DEFAULT_POSTGRES_PORT
    except ValueError as error:  # urllib raises on a non-numeric or out-of-range port
        raise ValueError(f"database_url has an invalid port: {error}") from None
    env = {
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or ""),
        # eventsourcing insists the key exists; an empty password is fine with trust authentication.
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    missing = [name for name, key in _REQUIRED_URL_PARTS.items() if not env[key]]
    if missing:
        raise ValueError(f"database_url lacks the {', '.join(missing)}: expected {_URL_SHAPE}")
    schema = parse_qs(parts.query).get("schema", [""])[0]
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


_URL_SHAPE = "postgresql://user:pass@host:port/dbname[?schema=name]"
_REQUIRED_URL_PARTS = {"user": "POSTGRES_USER", "host": "POSTGRES_HOST", "database name": "POSTGRES_DBNAME"}


def postgres_connection_args(env: Mapping[str, str]) -> dict[str, Any]:
    """psycopg's connection arguments from eventsourcing's POSTGRES_* keys (eventsourcing_env())."""
    return {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "user": env["POSTGRES_USER"],
        "password": env.get("POSTGRES_PASSWORD", ""),
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
        "autocommit": True,  # each statement is its own transaction unless a block opens one
    }
