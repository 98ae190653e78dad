"""What every aggregate shares: typed errors, the levels, and idempotent commands.

Each command's event carries the acting principal (`actor`) and the command's
idempotency key (`command_key`); the aggregate remembers the keys it has applied so
that the application can answer a repeated command with the first result instead of
recording it twice (Temporal retries activities, clients retry requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://clusterlabel.invalid/ids")
# How many of an aggregate's latest command keys its views carry (RecordedAggregate.recent_command_keys):
# enough for the steps one workflow task may take, few enough to keep each view small in the histories.
RECENT_COMMAND_KEYS = 4


def derived_id(*parts: object) -> UUID:
    """A deterministic id, so that retrying a create finds the first one."""
    return uuid5(ID_NAMESPACE, "/".join(str(part) for part in parts))


@dataclass(frozen=True)
class Problem:
    """One reason a command was refused, and where in the command it lies (empty: the whole command)."""

    msg: str
    loc: tuple[str | int, ...] = ()
    type: str = "invalid_input"

    def __str__(self) -> str:
        return self.msg


class DomainError(Exception):
    """A command refused by a rule; the message is meant for a secretariat user.

    It crosses process boundaries (activity → workflow → API) as `details()` and comes back as the
    same class through `DomainError.from_details`, so every layer sees the domain's own type.
    """

    def __init__(self, message: str, problems: Sequence[str | Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems or [message]]

    def details(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "problems": [{"msg": p.msg, "loc": list(p.loc), "type": p.type} for p in self.problems],
        }

    @staticmethod
    def from_details(details: dict[str, Any]) -> DomainError:
        kind = DOMAIN_ERRORS.get(str(details.get("error")), DomainError)
        problems = [
            Problem(p["msg"], tuple(p.get("loc", ())), p.get("type", "invalid_input"))
            for p in details.get("problems", [])
        ]
        return kind(str(details.get("message", "")), problems or None)


class InvalidInput(DomainError):
    """The command's data breaks a rule (ineligible cluster, missing indicators, ...)."""


class StepNotAllowed(DomainError):
    """The step does not fit the current state (screening an awarded case, ...)."""


class ImpartialityViolation(DomainError):
    """The actor is not impartial for this step (deciding on a case they audited, ...)."""


class NotFound(DomainError):
    """No cluster, expert, case or label has that id."""


class ConcurrencyConflict(DomainError):
    """Another command changed the same record first; reload and try again."""


DOMAIN_ERRORS: dict[str, type[DomainError]] = {
    kind.__name__: kind for kind in (InvalidInput, StepNotAllowed, ImpartialityViolation, NotFound, ConcurrencyConflict)
}


class Level(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class RecordedAggregate(Aggregate):
    """An aggregate whose events carry an actor and an idempotency key.

    How an event changes. Stored events are never rewritten, so every event stored once must
    read for ever: its topic (`domain.<module>:<Aggregate>.<Event>`) must resolve, and its stored
    fields must become the fields the class has now. tests/golden/events/ holds a record of each
    event type as first stored; tests/golden/ fails when one no longer decodes, replays or reads.

    - Never rename or move an aggregate or an event class (that changes the topic). If one must
      move, register the old topic: `eventsourcing.utils.register_topic(old_topic, new_class)`.
    - Never remove a field, rename one, or change its type in place, and never add one without
      an upcast: old records would lack it, or hold the old shape.
    - Instead, declare the event as a class of the same name nested in the aggregate, give it
      `class_version = N + 1` (no class_version means 1) and a static method
      `upcast_vN_vN+1(state)` that turns the stored dict of a version-N record into version N + 1,
      in place; name the class in the decorator. The mapper runs the upcasts in turn on every
      older record before building the event, and stores new events with their class_version:

          class Delivered(RecordedAggregate.Event):  # was @event("Delivered") with `channel: str`
              class_version = 2
              channels: list[str]
              actor: str
              command_key: str

              @staticmethod
              def upcast_v1_v2(state: dict[str, Any]) -> None:
                  state["channels"] = [state.pop("channel")]

          @event(Delivered)
          def _delivered(self, channels: list[str], actor: str, command_key: str) -> None: ...

      An added field gets the value the old facts imply (or None where nothing is implied).
    - Keep the golden records as they are: they are the old versions the upcasts must read. A new
      event type needs a golden record: extend tests/golden/story.py and run
      `python -m tests.golden.generate`, which writes only the histories that are missing.

    The views read an event that needs an upcast through the mapper instead of its stored JSON
    (projections/stored_fields.py); tests/golden/test_upcasting.py shows all of it on a golden record.
    """

    command_keys: set[str]
    # The keys of its latest commands, oldest first: a view carries them, so that a workflow can tell a
    # step it is asked to take again (its worker died after writing it) from one out of turn.
    recent_command_keys: tuple[str, ...] = ()
    # Its id derives from the key of the command that creates it (`id_kind:key`), so that a retried
    # creation finds the record it made; a record with another identity overrides create_id.
    id_kind: ClassVar[str] = ""

    @classmethod
    def create_id(cls, command_key: str) -> UUID:
        return derived_id(cls.id_kind, command_key)

    def __base_init__(self, originator_id: Any, originator_version: int, timestamp: datetime) -> None:
        # Every aggregate starts with no command applied; here, so that no __init__ (the fields of a
        # Created event) has to say so. Its Created event's own key is added as the event is applied.
        super().__base_init__(originator_id, originator_version, timestamp)
        self.command_keys = set()

    class Event(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            key = getattr(self, "command_key", None)
            if key is not None:
                aggregate.command_keys.add(key)
                recent = getattr(aggregate, "recent_command_keys", ())
                if key not in recent:
                    aggregate.recent_command_keys = (*recent, key)[-RECENT_COMMAND_KEYS:]

    class Created(Event, Aggregate.Created):
        pass

    def has_applied(self, command_key: str) -> bool:
        return command_key in self.command_keys
