"""What a command is: a model of what the sender asks for, and the envelope that travels beside it; and
what the commands on several subjects share (an appeal, on a case or on a label).

Every command the engine accepts is listed in domain/commands.py (COMMANDS). The same model is the core of
its HTTP request's body (interfaces/web/schemas.py), the argument of the workflow update that orders it,
the input of the activity that runs it and the input of its handler (activities/handlers.py maps each
type to one). Who sends it, under which idempotency key and when travel beside it in an `Envelope`,
never inside it.

Commands ignore unknown fields: they are stored in Temporal histories for years and read by older and
newer workers during a rolling deploy. The HTTP bodies built from them refuse unknown fields instead, so
that a client's typo is a 422 rather than a silently ignored answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.text import Flag, Prose

SHORT_TEXT = 2_000
LONG_TEXT = 50_000
# What a command must say in words, never empty: a reason (short), or a report, rationale, grounds or finding (long).
ShortProse = Annotated[Prose, Field(min_length=1, max_length=SHORT_TEXT)]
LongProse = Annotated[Prose, Field(min_length=1, max_length=LONG_TEXT)]


def command_key(*parts: object) -> str:
    """The one idempotency-key scheme: the parts that name one occurrence of a command, joined by ':'.

    - a step on a case or label: ("case" | "label", its id, the step, the occurrence); the occurrence
      is the caller's Idempotency-Key, a fresh uuid when they gave none, or for an automatic step the
      domain data that makes it unique (an expert id, a due instant) — never a Temporal activity id,
      which restarts after continue-as-new;
    - a command that creates a record over HTTP: ("http", what it creates, the Idempotency-Key or a
      fresh uuid);
    - a page's form stands in for the Idempotency-Key with "form/<its sender>/<the key the page rendered
      into it>", which no Idempotency-Key can spell (interfaces/web/office_forms.key_of_form).
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

    def instant(self) -> datetime:
        """When the command is taken; the handlers see only stamped envelopes (activities/handlers.handle)."""
        if self.at is None:
            raise ValueError("the envelope has no instant yet: handle() stamps it")
        return self.at

    def who(self) -> tuple[str, str]:
        """The actor and the key, as every aggregate method records them."""
        return self.actor, self.key

    def when(self) -> tuple[datetime, str, str]:
        """The instant, the actor and the key, as every aggregate method that records a time takes them."""
        return self.instant(), self.actor, self.key


class Command(BaseModel):
    """A command: what the sender asks for. Subclasses name the aggregate they address and, for a
    human step, the domain's step (CASE_STEPS, LABEL_STEPS) whose state rules it must pass, as keywords
    of the class statement: `class Screen(CaseCommand, domain_step="screen")`."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    subject: ClassVar[str] = ""
    domain_step: ClassVar[str] = ""

    def __init_subclass__(cls, *, subject: str | None = None, domain_step: str | None = None, **kwargs: Any) -> None:
        """A keyword left out keeps what the bases say (DecideAppeal's step is AppealDecision's)."""
        super().__init_subclass__(**kwargs)
        if subject is not None:
            cls.subject = subject
        if domain_step is not None:
            cls.domain_step = domain_step


# What the commands on each aggregate extend; without docstrings, which would become their schemas' descriptions.
class CaseCommand(Command, subject="case"):
    pass


class LabelCommand(Command, subject="label"):
    pass


class ClusterCommand(Command, subject="cluster"):
    pass


class ExpertCommand(Command, subject="expert"):
    pass


class AccountCommand(Command, subject="account"):
    pass


class Appeal(Command, domain_step="lodge_appeal"):
    """An appeal's step and its grounds, alike on a case (against its decision) and on a label (against its
    suspension or withdrawal): LodgeAppeal and LodgeLabelAppeal add the subject they address. Not a command
    of its own (COMMANDS lists those two)."""

    grounds: LongProse


class AppealDecision(Command, domain_step="decide_appeal"):
    """The decision on an appeal, alike on a case and on a label: upheld or dismissed; the envelope's actor
    decides. DecideAppeal and DecideLabelAppeal name it first among their bases, so that they keep their
    fields' order (a case's rationale comes from Decision, before `upheld`). Not a command of its own."""

    upheld: Flag
