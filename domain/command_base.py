"""What every command is, apart from what it asks for: the base class of the commands (domain/commands.py
and the modules of newer aggregates' commands, such as webhook_commands.py), the envelope that travels
beside one, the one idempotency-key scheme, and the table of every command by name (COMMANDS, filled by
domain/commands.py, which imports every command module).

A module of its own so that the command modules and the table that lists them import it, not each other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

# Every command the engine accepts, by name (domain/commands.py fills it).
COMMANDS: dict[str, type[Command]] = {}
SHORT_TEXT = 2_000
LONG_TEXT = 50_000


def command_key(*parts: object) -> str:
    """The one idempotency-key scheme: the parts that name one occurrence of a command, joined by ':'.

    - a step on a case or label: ("case" | "label", its id, the step, the occurrence); the occurrence
      is the caller's Idempotency-Key, a fresh uuid when they gave none, or for an automatic step the
      domain data that makes it unique (an expert id, a due instant) — never a Temporal activity id,
      which restarts after continue-as-new;
    - a command that creates a record over HTTP: ("http", what it creates, the Idempotency-Key or a
      fresh uuid).
    The same key is the Temporal update id of a human step, so a retried request is answered once by
    the workflow, and the `command_key` of the events it records, so a retry records nothing twice.
    """
    return ":".join(str(part) for part in parts)


def fresh_occurrence(given: str | None) -> str:
    """The caller's Idempotency-Key, or a new one: a request without a key is a new command."""
    return given or uuid.uuid4().hex


class Envelope(BaseModel):
    """Who sends a command, under which idempotency key, and when (business time; the workflow's clock)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    actor: str = Field(min_length=1, description="who takes the step, e.g. secretariat or expert:<id>")
    key: str = Field(min_length=1, description="the idempotency key (see command_key)")
    at: datetime | None = Field(default=None, description="when; None means the application's clock")

    def stamped(self, at: datetime) -> Envelope:
        return self.model_copy(update={"at": at})


class Command(BaseModel):
    """A command: what the sender asks for. Subclasses name the aggregate they address and, for a
    human step, the domain's step (CASE_STEPS, LABEL_STEPS) whose state rules it must pass."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    subject: ClassVar[str] = ""
    domain_step: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        """The command's name as it travels: an HTTP body that extends a command travels as it."""
        for kind in cls.__mro__:
            if kind.__name__ in COMMANDS:
                return kind.__name__
        raise TypeError(f"{cls.__name__} is not a command of COMMANDS (a body must extend one to travel as it)")
