"""Assemble the application from settings: the one place that wires policy and store."""

from __future__ import annotations

from domain.policy import Policy, default_policy
from activities.application import CertificationApp
from interfaces.settings import Settings


class PolicyFileError(ValueError):
    """The policy file cannot be read or breaks a policy rule."""


def load_policy(settings: Settings) -> Policy:
    """The default policy, with the keys of the settings' policy file (if any) overriding it."""
    if settings.policy_file is None:
        return default_policy()
    try:
        return Policy.from_toml(settings.policy_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PolicyFileError(f"policy file {settings.policy_file}: {error}") from error


def build_app(settings: Settings) -> CertificationApp:
    settings.ensure_data_dir()
    return CertificationApp(env=settings.eventsourcing_env(), policy=load_policy(settings))
